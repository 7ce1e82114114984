/* /v1/reports: co-chairs ask for a quarterly report or a side-event pack;
 * a worker builds it as a frozen snapshot in the formats asked for;
 * members download the files; once published, anyone can, under
 * /v1/public/reports. Only a public-audience report (public updates and
 * their public summaries only) can be published. A second request for the
 * same kind, audience, language, quarter, event, formats and data reuses the report
 * already built. */
#include "handlers.h"
#include "jspec.h"
#include "period.h"
#include "query.h"
#include "queue.h"
#include "util.h"
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DB_STMT(stmt_report_reuse,
	"SELECT r.id FROM report r WHERE r.kind = $1 AND r.period = $2"
	" AND coalesce(r.event_id, 0) = coalesce($3::bigint, 0) AND r.formats = $4::text[]"
	" AND r.audience = $5 AND r.language = $6 AND coalesce(r.consultation_id, 0) = coalesce($7::bigint, 0)"
	" AND r.data_version = current_data_version() AND r.state <> 'failed'");
DB_STMT(stmt_reports_building, "SELECT count(*) FROM report WHERE state IN ('queued', 'running')");
DB_STMT(stmt_report_insert,
	"INSERT INTO report (kind, period, event_id, formats, audience, language, data_version, created_by,"
	"                    consultation_id)"
	" VALUES ($1, $2, $3::bigint, $4::text[], $5, $7, current_data_version(), $6::bigint, $8::bigint)"
	" RETURNING id");
DB_STMT(stmt_report_job, "UPDATE report SET job_id = $2::bigint WHERE id = $1::bigint");
DB_STMT(stmt_report_get,
	"SELECT report_json(r, $2::bool)::text FROM report r WHERE r.id = $1::bigint"
	" AND (NOT $2::bool OR r.published)");
DB_STMT(stmt_reports_list,
	"SELECT report_json(r, $3::bool)::text, r.id::text AS cursor FROM report r"
	" WHERE ($1::text IS NULL OR r.id < $1::bigint) AND (NOT $3::bool OR r.published)"
	" ORDER BY r.id DESC LIMIT $2");
DB_STMT(stmt_report_file,
	"SELECT a.media_type, a.bytes, encode(a.sha256, 'hex') FROM report r"
	" JOIN report_artifact ra ON ra.report_id = r.id JOIN artifact a ON a.key = ra.artifact_key"
	" WHERE r.id = $1::bigint AND ra.name = $2 AND (NOT $3::bool OR r.published)");
DB_STMT(stmt_report_publish,
	"UPDATE report SET published = true, published_at = coalesce(published_at, now())"
	" WHERE id = $1::bigint AND state = 'done' AND audience = 'public'"
	" RETURNING report_json(report, false)::text");
DB_STMT(stmt_report_state, "SELECT state, audience FROM report WHERE id = $1::bigint");

static const struct constraint_field report_constraints[] = {
	{ "report_event_id_fkey", "event", "is not an event (see /v1/events)" },
	{ "report_consultation_id_fkey", "consultation", "is not a consultation (see /v1/consultations)" },
	{ 0 },
};

/* Reports being built at once, beyond which a new one must wait: each
 * costs a worker seconds of pandoc and gnuplot. */
#define REPORTS_BUILDING_MAX 8

struct report_new {
	struct request *rq;
	const char *kind, *period, *formats, *event, *audience, *language, *consultation;
	char id[24];
	char *result;
	bool busy; /* too many reports being built */
};

static enum db_rc report_create_txn(struct db *db, void *cls)
{
	struct report_new *n = cls;
	char actor[32], member[24], key[48], job_s[24];
	json_t *payload;
	const char *p[7] = { n->kind,	  n->period,   n->event,	  n->formats,
			     n->audience, n->language, n->consultation };
	long long job;
	enum db_rc rc;
	PGresult *r;

	request_actor(n->rq, actor);
	snprintf(member, sizeof member, "%lld", n->rq->who.member_id);
	rc = db_set_actor(db, actor);
	if (rc == DB_OK)
		rc = db_query(db, &stmt_report_reuse, 7, p, &r);
	if (rc != DB_OK)
		return rc;
	if (PQntuples(r)) {
		snprintf(n->id, sizeof n->id, "%s", PQgetvalue(r, 0, 0));
		PQclear(r);
	} else {
		PQclear(r);
		rc = db_query(db, &stmt_reports_building, 0, NULL, &r);
		if (rc != DB_OK)
			return rc;
		n->busy = atoi(PQgetvalue(r, 0, 0)) >= REPORTS_BUILDING_MAX;
		PQclear(r);
		if (n->busy)
			return DB_ABORT;
		rc = db_query(db, &stmt_report_insert, 8,
			      (const char *const[]){ n->kind, n->period, n->event, n->formats, n->audience,
						     member, n->language, n->consultation },
			      &r);
		/* the same report asked for at the same moment: run again, reuse it */
		if (rc == DB_CONSTRAINT && !strcmp(db_error_constraint(db), "report_once"))
			return DB_RETRY;
		if (rc != DB_OK)
			return rc;
		snprintf(n->id, sizeof n->id, "%s", PQgetvalue(r, 0, 0));
		PQclear(r);
		snprintf(key, sizeof key, "report-%s", n->id);
		payload = json_pack("{s:I}", "report", (json_int_t)atoll(n->id));
		rc = queue_enqueue(db, "build_report", key, payload, 3, &job);
		json_decref(payload);
		if (rc != DB_OK)
			return rc;
		snprintf(job_s, sizeof job_s, "%lld", job);
		rc = db_query(db, &stmt_report_job, 2, (const char *const[]){ n->id, job_s }, &r);
		if (rc != DB_OK)
			return rc;
		PQclear(r);
	}
	rc = db_query(db, &stmt_report_get, 2, (const char *const[]){ n->id, "false" }, &r);
	if (rc != DB_OK)
		return rc;
	n->result = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return DB_OK;
}

int h_report_create(struct request *rq)
{
	struct report_new n = { .rq = rq };
	int kind = 0, period = -1, audience = -1, language = LANGUAGE_EN;
	long long event = 0, consultation = 0;
	bool has_event = false, has_period = false, has_consultation = false;
	json_t *fmts = NULL, *v;
	const struct js_field spec[] = {
		{ .name = "kind", .type = JS_ENUM, .flags = JS_REQUIRED, .choices = report_kind_names,
		  .out = &kind },
		{ .name = "period", .type = JS_PERIOD, .out = &period, .present = &has_period },
		{ .name = "formats", .type = JS_STRINGS, .min = 1, .max = REPORT_FORMAT_COUNT,
		  .out = &fmts },
		{ .name = "event", .type = JS_INT, .flags = JS_NULLABLE, .min = 1, .max = 1LL << 62,
		  .out = &event, .present = &has_event },
		{ .name = "audience", .type = JS_ENUM, .choices = audience_names, .out = &audience },
		/* the language of its fixed texts */
		{ .name = "language", .type = JS_ENUM, .choices = language_names, .out = &language },
		{ .name = "consultation", .type = JS_INT, .min = 1, .max = 1LL << 62, .out = &consultation,
		  .present = &has_consultation },
		{ 0 },
	};
	json_t *errors = json_array();
	char per[PERIOD_STRLEN], cycle[16], ev[24], call[24], location[64];
	bool chosen[REPORT_FORMAT_COUNT] = { false };
	struct buf list;
	enum db_rc rc = DB_OK;
	size_t i;
	int ret;

	if (!js_validate(rq->json, spec, errors))
		return reply_invalid(rq, errors);
	json_array_foreach(fmts, i, v) {
		int k = vocab_find(report_format_names, json_string_value(v));

		if (k < 0)
			js_error(errors, "formats", "must be among html, md, csv, json, docx");
		else
			chosen[k] = true;
	}
	if (kind != REPORT_KIND_SIDE_EVENT && has_event && event)
		js_error(errors, "event", "names the event of a side-event pack only");
	/* a side-event pack goes to member states: always public */
	if (kind == REPORT_KIND_SIDE_EVENT && audience == AUDIENCE_INTERNAL)
		js_error(errors, "audience", "a side-event pack is always public");
	/* a consultation report holds nothing private (no contact, no note):
	 * always public, as of the current quarter unless one is named */
	if (kind == REPORT_KIND_CONSULTATION && audience == AUDIENCE_INTERNAL)
		js_error(errors, "audience", "a consultation report is always public");
	if (kind == REPORT_KIND_CONSULTATION && !has_consultation)
		js_error(errors, "consultation", "is required: the id of the call (see /v1/consultations)");
	if (kind != REPORT_KIND_CONSULTATION && has_consultation)
		js_error(errors, "consultation", "names the call of a consultation report only");
	if (kind != REPORT_KIND_CONSULTATION && !has_period)
		js_error(errors, "period", "is required");
	if (audience < 0)
		audience = kind == REPORT_KIND_QUARTERLY ? AUDIENCE_INTERNAL : AUDIENCE_PUBLIC;
	if (json_array_size(errors))
		return reply_invalid(rq, errors);
	if (!progress_scope(rq, &period, "period", NULL, cycle, errors, &rc, NULL)) {
		if (rc != DB_OK) {
			json_decref(errors);
			return reply_db_failure(rq, rc);
		}
		return reply_invalid(rq, errors);
	}
	json_decref(errors);
	/* formats in a fixed order, so the same set is the same request */
	buf_init(&list, 64);
	buf_adds(&list, "{");
	for (int k = 0; k < REPORT_FORMAT_COUNT; k++)
		if (chosen[k] || !fmts)
			buf_printf(&list, "%s%s", list.len > 1 ? "," : "", report_format_names[k]);
	buf_adds(&list, "}");
	period_format(period, per);
	snprintf(ev, sizeof ev, "%lld", event);
	snprintf(call, sizeof call, "%lld", consultation);
	n.kind = report_kind_names[kind];
	n.period = per;
	n.formats = list.data;
	n.event = has_event && event ? ev : NULL;
	n.audience = audience_names[audience];
	n.language = language_names[language];
	n.consultation = has_consultation ? call : NULL;
	rc = db_transaction(request_db(rq), report_create_txn, &n);
	buf_free(&list);
	if (n.busy)
		return reply_problem_with(rq, PROBLEM_RATE_LIMITED,
					  "8 reports are being built already; ask again in a minute", NULL,
					  (const char *const[]){ "Retry-After", "60", NULL });
	if (rc != DB_OK)
		return reply_rejected(rq, rc, report_constraints);
	snprintf(location, sizeof location, "/v1/reports/%s", n.id);
	ret = reply_full(rq, 202, "application/json", n.result, strlen(n.result),
			 (const char *const[]){ "Location", location, NULL });
	free(n.result);
	return ret;
}

static bool report_id(struct request *rq, char out[24])
{
	long long id;

	if (!request_id(rq, 0, &id))
		return false;
	snprintf(out, 24, "%lld", id);
	return true;
}

static bool public_route(struct request *rq)
{
	return !strncmp(rq->match.route->pattern, "/v1/public/", 11);
}

int h_reports_list(struct request *rq)
{
	return reply_plain_list(rq, &stmt_reports_list, public_route(rq) ? "true" : "false");
}

int h_report_get(struct request *rq)
{
	char id[24];

	if (!report_id(rq, id))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such report", NULL);
	return reply_document(rq, &stmt_report_get, 2,
			      (const char *const[]){ id, public_route(rq) ? "true" : "false" },
			      "no such report");
}

int h_report_file(struct request *rq)
{
	char id[24], etag[80], disposition[200];
	unsigned char *bytes;
	size_t len;
	enum db_rc rc;
	PGresult *r;
	int ret;

	if (!report_id(rq, id))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such report", NULL);
	rc = db_query(request_db(rq), &stmt_report_file, 3,
		      (const char *const[]){ id, rq->match.params[1], public_route(rq) ? "true" : "false" },
		      &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	if (PQntuples(r) != 1) {
		PQclear(r);
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such file in this report", NULL);
	}
	bytes = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 1), &len);
	snprintf(etag, sizeof etag, "\"%s\"", PQgetvalue(r, 0, 2));
	/* the name matched a stored one, which only holds [A-Za-z0-9._-] */
	snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", rq->match.params[1]);
	ret = reply_full(rq, 200, PQgetvalue(r, 0, 0), (const char *)bytes, len,
			 (const char *const[]){ "ETag", etag, "Content-Disposition", disposition, NULL });
	PQfreemem(bytes);
	PQclear(r);
	return ret;
}

int h_report_publish(struct request *rq)
{
	char id[24];
	enum db_rc rc;
	PGresult *r;
	int ret;

	if (!report_id(rq, id))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such report", NULL);
	rc = db_query(request_db(rq), &stmt_report_publish, 1, (const char *const[]){ id }, &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	if (PQntuples(r) == 1) {
		ret = reply_json(rq, 200, PQgetvalue(r, 0, 0), PQgetlength(r, 0, 0));
		PQclear(r);
		return ret;
	}
	PQclear(r);
	rc = db_query(request_db(rq), &stmt_report_state, 1, (const char *const[]){ id }, &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	if (!PQntuples(r))
		ret = reply_problem(rq, PROBLEM_NOT_FOUND, "no such report", NULL);
	else if (vocab_find(audience_names, db_col(r, 0, "audience")) != AUDIENCE_PUBLIC)
		ret = reply_problem(rq, PROBLEM_CONFLICT,
				    "an internal report cannot be published; ask for the same report with"
				    " \"audience\":\"public\" and publish that one", NULL);
	else
		ret = reply_problem(rq, PROBLEM_CONFLICT, "only a finished report can be published", NULL);
	PQclear(r);
	return ret;
}
