/* Status updates: pillar leads (and co-chairs) post them on key actions,
 * co-chairs review them, members read the history and the feed. Updates
 * are append-only; a POST may carry an Idempotency-Key, stored with the
 * update in the same transaction, so a retry gets the same answer. */
#include "clock.h"
#include "fault.h"
#include "handlers.h"
#include "updates.h"
#include "jspec.h"
#include "period.h"
#include "query.h"
#include "sha256.h"
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

DB_STMT(stmt_idem_get,
	"SELECT request_hash = $3::bytea AS same_request, status, location, response FROM idempotency_key"
	" WHERE member_id = $1::bigint AND key = $2 AND created_at > now() - interval '48 hours'");
DB_STMT(stmt_idem_put,
	"INSERT INTO idempotency_key (member_id, key, request_hash, status, location, response)"
	" VALUES ($1::bigint, $2, $3::bytea, $4::int, $5, $6)"
	" ON CONFLICT (member_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash,"
	"   status = EXCLUDED.status, location = EXCLUDED.location, response = EXCLUDED.response,"
	"   created_at = now()"
	" WHERE idempotency_key.created_at <= now() - interval '48 hours'");
DB_STMT(stmt_idem_expire,
	"DELETE FROM idempotency_key WHERE created_at < now() - interval '48 hours'");
/* The action, locked against archiving, with what the checks need. */
DB_STMT(stmt_update_target,
	"SELECT a.archived, w.start_year AS plan_start, w.end_year AS plan_end,"
	"  c.start_year AS cycle_start, c.end_year AS cycle_end, c.label AS cycle,"
	"  EXISTS (SELECT 1 FROM action_lead l WHERE l.action_id = a.id AND l.entity = $2) AS led"
	" FROM action a JOIN cycle c ON c.label = a.cycle JOIN workplan w ON w.id = c.workplan_id"
	" WHERE a.id = $1::bigint FOR SHARE OF a");
DB_STMT(stmt_update_insert,
	"WITH u AS (INSERT INTO status_update (action_id, period, status, percent_complete,"
	"   narrative, public_summary, visibility, evidence, author_id)"
	" VALUES ($1::bigint, $2, $3, $4::smallint, $5, $6, $7, coalesce($8::jsonb, '[]'), $9::bigint)"
	" RETURNING *)"
	" SELECT u.id::text, update_json(u)::text FROM u");
DB_STMT(stmt_update_get,
	"SELECT update_json(u)::text FROM status_update u WHERE u.id = $1::bigint");
DB_STMT(stmt_update_review,
	"WITH u AS (UPDATE status_update SET review_state = $2, review_comment = $3,"
	"   reviewed_by = $4::bigint, reviewed_at = now()"
	" WHERE id = $1::bigint AND review_state = 'submitted' RETURNING *)"
	" SELECT update_json(u)::text FROM u");
DB_STMT(stmt_action_exists, "SELECT 1 FROM action WHERE id = $1::bigint");
DB_STMT(stmt_action_history,
	"SELECT update_json(u)::text, u.id::text AS cursor FROM status_update u"
	" WHERE u.action_id = $3::bigint AND ($1::text IS NULL OR u.id < $1::bigint)"
	" ORDER BY u.id DESC LIMIT $2");
DB_STMT(stmt_updates_feed,
	"SELECT update_json(u)::text, u.id::text AS cursor FROM status_update u"
	" JOIN action a ON a.id = u.action_id"
	" WHERE ($1::text IS NULL OR u.id > $1::bigint)"
	"   AND ($3::timestamptz IS NULL OR u.created_at >= $3::timestamptz)"
	"   AND ($4::int IS NULL OR a.pillar = $4::int)"
	"   AND ($5::text IS NULL OR u.period = $5)"
	"   AND ($6::text IS NULL OR u.review_state = $6)"
	" ORDER BY u.id LIMIT $2");
DB_STMT(stmt_export,
	"SELECT u.id, u.action_id, a.pillar, a.cycle, a.title, u.period, u.status,"
	"  u.percent_complete, u.visibility, u.review_state, m.entity, m.name,"
	"  utc_text(u.created_at), u.narrative,"
	"  coalesce(u.public_summary, ''), coalesce(u.review_comment, ''),"
	"  coalesce((SELECT string_agg(e->>'url', ' ') FROM jsonb_array_elements(u.evidence) e), '')"
	" FROM status_update u JOIN action a ON a.id = u.action_id JOIN member m ON m.id = u.author_id"
	" WHERE u.period = $1 ORDER BY a.pillar, u.action_id, u.id");

/* A stored answer to this member's key: whether it was given to the same
 * request (method, path, body: hash), its status, location and body. */
enum db_rc idem_lookup(struct db *db, long long member_id, const char *key,
		       const unsigned char hash[SHA256_LEN], struct idem_answer *a)
{
	char member[24];
	enum db_rc rc;
	PGresult *r;

	a->found = false;
	snprintf(member, sizeof member, "%lld", member_id);
	rc = db_query_params(db, &stmt_idem_get, 3,
			     (const char *const[]){ member, key, (const char *)hash },
			     (const int[]){ 0, 0, SHA256_LEN }, (const int[]){ 0, 0, 1 }, &r);
	if (rc != DB_OK || PQntuples(r) == 0) {
		PQclear(r);
		return rc;
	}
	a->found = true;
	a->same_request = db_bool(r, 0, "same_request");
	a->status = (int)db_int(r, 0, "status");
	snprintf(a->location, sizeof a->location, "%s", db_col(r, 0, "location"));
	a->response = strdup(db_col(r, 0, "response"));
	PQclear(r);
	return DB_OK;
}

enum db_rc idem_store(struct db *db, long long member_id, const char *key,
		      const unsigned char hash[SHA256_LEN], int status, const char *location,
		      const char *response)
{
	char member[24], code[8];
	enum db_rc rc;
	PGresult *r;

	/* keys are kept 48 hours; clear expired ones now and then */
	if (rand() % 64 == 0) {
		rc = db_query(db, &stmt_idem_expire, 0, NULL, &r);
		if (rc != DB_OK)
			return rc;
		PQclear(r);
	}
	snprintf(member, sizeof member, "%lld", member_id);
	snprintf(code, sizeof code, "%d", status);
	rc = db_query_params(db, &stmt_idem_put, 6,
			     (const char *const[]){ member, key, (const char *)hash, code, location,
						    response },
			     (const int[]){ 0, 0, SHA256_LEN, 0, 0, 0 }, (const int[]){ 0, 0, 1, 0, 0, 0 },
			     &r);
	if (rc != DB_OK)
		return rc;
	/* no row: the same key was stored by a concurrent request meanwhile */
	if (!atoi(PQcmdTuples(r))) {
		PQclear(r);
		return DB_RETRY;
	}
	PQclear(r);
	return DB_OK;
}

bool update_fields_check(const json_t *body, struct update_fields *f, json_t *errors)
{
	const struct js_field evidence_spec[] = {
		{ .name = "title", .type = JS_STRING, .flags = JS_REQUIRED, .min = 1, .max = 200 },
		{ .name = "url", .type = JS_URL, .flags = JS_REQUIRED },
		{ 0 },
	};
	const struct js_field spec[] = {
		{ .name = "period", .type = JS_PERIOD, .flags = JS_REQUIRED, .out = &f->period },
		{ .name = "status", .type = JS_ENUM, .flags = JS_REQUIRED, .choices = status_names, .out = &f->status },
		{ .name = "percent_complete", .type = JS_INT, .flags = JS_REQUIRED, .min = 0, .max = 100,
		  .out = &f->percent },
		/* beside each word limit, one of characters (9 a word), so that
		 * words joined by hyphens cannot pass for one */
		{ .name = "narrative", .type = JS_TEXT, .flags = JS_REQUIRED, .min = 1, .max = 2700,
		  .max_words = 300, .out = &f->narrative },
		{ .name = "public_summary", .type = JS_TEXT, .flags = JS_NULLABLE, .min = 1, .max = 900,
		  .max_words = 100, .out = &f->summary },
		{ .name = "visibility", .type = JS_ENUM, .choices = visibility_names, .out = &f->visibility },
		{ .name = "evidence", .type = JS_OBJECTS, .max = 20, .sub = evidence_spec, .out = &f->evidence },
		{ 0 },
	};
	size_t before = json_array_size(errors);

	memset(f, 0, sizeof *f);
	if (js_validate(body, spec, errors)) {
		/* rules across fields */
		if ((f->percent == 100) != (f->status == STATUS_COMPLETED))
			js_error_code(errors, "percent_complete", "percent_completed", NULL,
				      "is 100 if and only if the status is completed");
		if (f->visibility == VISIBILITY_PUBLIC && !f->summary)
			js_error_code(errors, "public_summary", "summary_for_public", NULL,
				      "is required when visibility is public");
		if (f->period > period_of_time(clock_now()))
			js_error_code(errors, "period", "period_future", NULL, "must not be after the current quarter");
	}
	return json_array_size(errors) == before;
}

static enum db_rc update_abort(struct update_result *o, enum problem problem, const char *detail)
{
	o->problem = problem;
	o->detail = detail;
	return DB_ABORT;
}

enum db_rc update_target(struct db *db, const struct caller *who, const char *action,
			 int period, json_t *errors, struct update_result *o)
{
	int year = period_year(period);
	size_t before = json_array_size(errors);
	enum db_rc rc;
	PGresult *r;

	rc = db_query(db, &stmt_update_target, 2, (const char *const[]){ action, who->entity }, &r);
	if (rc != DB_OK)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return update_abort(o, PROBLEM_NOT_FOUND, "no such key action");
	}
	/* a lead reports only on actions their entity leads, checked here, in
	 * the transaction that writes */
	if (who->role != ROLE_COCHAIR && !db_bool(r, 0, "led")) {
		PQclear(r);
		return update_abort(o, PROBLEM_FORBIDDEN,
				    "only a lead entity of this key action may report on it");
	}
	if (db_bool(r, 0, "archived")) {
		PQclear(r);
		return update_abort(o, PROBLEM_CONFLICT, "the key action is archived");
	}
	if (year < db_int(r, 0, "plan_start") || year > db_int(r, 0, "plan_end"))
		js_error_code(errors, "period", "period_outside_plan", NULL, "must lie within the work plan's years");
	else if (year < db_int(r, 0, "cycle_start") || year > db_int(r, 0, "cycle_end")) {
		char why[96];

		/* progress counts an action only in its own cycle's quarters */
		snprintf(why, sizeof why, "must lie within the key action's cycle (%s)",
			 db_col(r, 0, "cycle"));
		js_error_code(errors, "period", "period_outside_cycle",
			      json_pack("{s:s}", "cycle", db_col(r, 0, "cycle")), why);
	}
	PQclear(r);
	if (json_array_size(errors) > before)
		return update_abort(o, PROBLEM_VALIDATION, NULL);
	return DB_OK;
}

enum db_rc update_insert(struct db *db, const struct caller *who, const char *action,
			 const struct update_fields *f, json_t *errors, struct update_result *o)
{
	char member[24], period[PERIOD_STRLEN], percent[8], *evidence = NULL;
	enum db_rc rc;
	PGresult *r;

	free(o->response);
	o->response = NULL;
	rc = update_target(db, who, action, f->period, errors, o);
	if (rc != DB_OK)
		return rc;
	period_format(f->period, period);
	snprintf(percent, sizeof percent, "%lld", f->percent);
	snprintf(member, sizeof member, "%lld", who->member_id);
	if (f->evidence)
		evidence = json_dumps(f->evidence, JSON_COMPACT);
	rc = db_query(db, &stmt_update_insert, 9,
		      (const char *const[]){ action, period, status_names[f->status], percent,
					     f->narrative, f->summary, visibility_names[f->visibility],
					     evidence, member },
		      &r);
	free(evidence);
	if (rc != DB_OK)
		return rc;
	snprintf(o->location, sizeof o->location, "/v1/updates/%s", PQgetvalue(r, 0, 0));
	o->response = strdup(PQgetvalue(r, 0, 1));
	PQclear(r);
	return DB_OK;
}

struct update_post {
	struct request *rq;
	char action[24];
	struct update_fields f;
	/* idempotency */
	const char *key;
	unsigned char request_hash[SHA256_LEN];
	/* outcome */
	struct update_result o;
	json_t *errors;
	int status_code;
};

static enum db_rc update_post_txn(struct db *db, void *cls)
{
	struct update_post *p = cls;
	struct caller *who = &p->rq->who;
	struct idem_answer a = { 0 };
	char actor[32];
	enum db_rc rc;

	free(p->o.response);
	p->o.response = NULL;
	request_actor(p->rq, actor);
	rc = db_set_actor(db, actor);
	if (rc == DB_OK && p->key)
		rc = idem_lookup(db, who->member_id, p->key, p->request_hash, &a);
	if (rc != DB_OK)
		return rc;
	if (a.found) {
		/* a stored answer to this key: the same request replays it; any
		 * other is 409 */
		if (!a.same_request) {
			free(a.response);
			return update_abort(&p->o, PROBLEM_CONFLICT,
					    "this Idempotency-Key was used for a different request");
		}
		p->status_code = a.status;
		snprintf(p->o.location, sizeof p->o.location, "%s", a.location);
		p->o.response = a.response;
		return DB_OK;
	}
	rc = update_insert(db, who, p->action, &p->f, p->errors, &p->o);
	if (rc != DB_OK)
		return rc;
	p->status_code = 201;
	if (!p->key)
		return DB_OK;
	return idem_store(db, who->member_id, p->key, p->request_hash, 201, p->o.location,
			  p->o.response);
}

int h_updates_post(struct request *rq)
{
	struct update_post p = { .rq = rq };
	long long id;
	enum db_rc rc;
	int ret;

	if (!request_id(rq, 0, &id))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such key action", NULL);
	snprintf(p.action, sizeof p.action, "%lld", id);
	p.errors = json_array();
	update_fields_check(rq->json, &p.f, p.errors);
	p.key = request_header(rq, "Idempotency-Key");
	if (p.key && !idem_key_valid(p.key))
		js_error(p.errors, "Idempotency-Key", "must be 1 to 200 printable characters");
	if (json_array_size(p.errors))
		return reply_invalid(rq, p.errors);
	request_hash(rq, p.request_hash);

	rc = db_transaction(request_db(rq), update_post_txn, &p);
	if (rc == DB_OK) {
		fault_point("update-committed"); /* the crash test's window */
		json_decref(p.errors);
		ret = reply_full(rq, p.status_code, "application/json", p.o.response,
				 strlen(p.o.response),
				 (const char *const[]){ "Location", p.o.location, NULL });
	} else if (rc == DB_ABORT && p.o.problem == PROBLEM_VALIDATION) {
		ret = reply_invalid(rq, p.errors);
	} else {
		json_decref(p.errors);
		ret = rc == DB_ABORT ? reply_problem(rq, p.o.problem, p.o.detail, NULL)
				     : reply_rejected(rq, rc, NULL);
	}
	free(p.o.response);
	return ret;
}

bool idem_key_valid(const char *key)
{
	return !text_check(key, false) && *key && strlen(key) <= 200;
}

int h_update_get(struct request *rq)
{
	char id[24];
	long long n;

	if (!request_id(rq, 0, &n))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such update", NULL);
	snprintf(id, sizeof id, "%lld", n);
	request_cache_tag(rq, "U U%s", id);
	return reply_document(rq, &stmt_update_get, 1, (const char *const[]){ id }, "no such update");
}

struct review {
	struct request *rq;
	char id[24];
	int decision;
	const char *comment;
	enum problem problem;
	const char *detail;
	char *result;
};

static enum db_rc review_txn(struct db *db, void *cls)
{
	struct review *v = cls;
	char actor[32], member[24];
	enum db_rc rc;
	PGresult *r;

	request_actor(v->rq, actor);
	snprintf(member, sizeof member, "%lld", v->rq->who.member_id);
	rc = db_set_actor(db, actor);
	if (rc == DB_OK)
		rc = db_query(db, &stmt_update_review, 4,
			      (const char *const[]){ v->id, review_state_names[decision_review_state(v->decision)],
						     v->comment, member },
			      &r);
	if (rc != DB_OK)
		return rc;
	if (PQntuples(r) == 1) {
		v->result = strdup(PQgetvalue(r, 0, 0));
		PQclear(r);
		return DB_OK;
	}
	PQclear(r);
	rc = db_query(db, &stmt_update_get, 1, (const char *const[]){ v->id }, &r);
	if (rc != DB_OK)
		return rc;
	v->problem = PQntuples(r) ? PROBLEM_CONFLICT : PROBLEM_NOT_FOUND;
	v->detail = PQntuples(r) ? "this update was reviewed already" : "no such update";
	PQclear(r);
	return DB_ABORT;
}

int h_update_review(struct request *rq)
{
	struct review v = { .rq = rq };
	const struct js_field spec[] = {
		{ .name = "decision", .type = JS_ENUM, .flags = JS_REQUIRED, .choices = decision_names,
		  .out = &v.decision },
		{ .name = "comment", .type = JS_TEXT, .flags = JS_NULLABLE, .min = 1, .max = 2000,
		  .out = &v.comment },
		{ 0 },
	};
	json_t *errors = json_array();
	long long n;
	enum db_rc rc;
	int ret;

	if (!request_id(rq, 0, &n)) {
		json_decref(errors);
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such update", NULL);
	}
	snprintf(v.id, sizeof v.id, "%lld", n);
	if (js_validate(rq->json, spec, errors) && v.decision == DECISION_RETURN && !v.comment)
		js_error_code(errors, "comment", "comment_for_return", NULL, "is required when returning an update");
	if (json_array_size(errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	rc = db_transaction(request_db(rq), review_txn, &v);
	if (rc == DB_OK)
		ret = reply_json(rq, 200, v.result, strlen(v.result));
	else if (rc == DB_ABORT)
		ret = reply_problem(rq, v.problem, v.detail, NULL);
	else
		ret = reply_db_failure(rq, rc);
	free(v.result);
	return ret;
}

int h_action_updates(struct request *rq)
{
	struct page page;
	json_t *errors = json_array();
	char id[24], fetch[24];
	long long n;
	enum db_rc rc;
	PGresult *r;

	if (!query_parse(rq, NULL, &page, errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	if (!request_id(rq, 0, &n))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such key action", NULL);
	snprintf(id, sizeof id, "%lld", n);
	request_cache_tag(rq, "A A%s", id);
	rc = db_query(request_db(rq), &stmt_action_exists, 1, (const char *const[]){ id }, &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	n = PQntuples(r);
	PQclear(r);
	if (!n)
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such key action", NULL);
	page_fetch(&page, fetch);
	return reply_list(rq, &stmt_action_history, 3,
		      (const char *const[]){ page.after, fetch, id }, &page);
}

int h_updates_feed(struct request *rq)
{
	const char *since;
	long long pillar;
	int period, state;
	bool has_since, has_pillar, has_period, has_state;
	const struct q_field spec[] = {
		{ .name = "since", .type = Q_TIME, .out = &since, .present = &has_since },
		{ .name = "pillar", .type = Q_INT, .min = 1, .max = 8, .out = &pillar, .present = &has_pillar },
		{ .name = "period", .type = Q_PERIOD, .out = &period, .present = &has_period },
		{ .name = "review_state", .type = Q_ENUM, .choices = review_state_names, .out = &state,
		  .present = &has_state },
		{ 0 },
	};
	struct page page;
	json_t *errors = json_array();
	char fetch[24], p[24], per[PERIOD_STRLEN];

	if (!query_parse(rq, spec, &page, errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	page_fetch(&page, fetch);
	snprintf(p, sizeof p, "%lld", has_pillar ? pillar : 0);
	if (has_period)
		period_format(period, per);
	if (has_pillar)
		request_cache_tag(rq, "P P%lld", pillar);
	else
		request_cache_tag(rq, "L");
	return reply_list(rq, &stmt_updates_feed, 6,
		      (const char *const[]){ page.after, fetch, has_since ? since : NULL,
					     has_pillar ? p : NULL, has_period ? per : NULL,
					     has_state ? review_state_names[state] : NULL }, &page);
}

int h_export_csv(struct request *rq)
{
	static const char *const header[] = { "update_id", "action_id", "pillar", "cycle",
					      "action_title", "period", "status", "percent_complete",
					      "visibility", "review_state", "author_entity",
					      "author_name", "created_at", "narrative",
					      "public_summary", "review_comment", "evidence_urls" };
	/* columns holding free text */
	static const bool text[] = { 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1 };
	int period = 0;
	bool has_period;
	const struct q_field spec[] = {
		{ .name = "period", .type = Q_PERIOD, .out = &period, .present = &has_period },
		{ 0 },
	};
	json_t *errors = json_array();
	char per[PERIOD_STRLEN], disposition[80], cycle[16], *body;
	struct buf b;
	size_t len;
	enum db_rc rc = DB_OK;
	PGresult *r;
	int ret;

	if (query_parse(rq, spec, NULL, errors) && !has_period)
		js_error(errors, "period", "is required, as YYYY-Qn");
	/* a quarter of the plan, as every other period parameter */
	if (!json_array_size(errors))
		progress_scope(rq, &period, "period", NULL, cycle, errors, &rc, NULL);
	if (rc != DB_OK) {
		json_decref(errors);
		return reply_db_failure(rq, rc);
	}
	if (json_array_size(errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	period_format(period, per);
	request_cache_tag(rq, "L");
	rc = db_query(request_db(rq), &stmt_export, 1, (const char *const[]){ per }, &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	buf_init(&b, 256 << 20);
	for (size_t c = 0; c < sizeof header / sizeof header[0]; c++) {
		buf_adds(&b, c ? "," : "");
		buf_adds(&b, header[c]);
	}
	buf_adds(&b, "\r\n");
	for (int i = 0; i < PQntuples(r); i++) {
		for (int c = 0; c < PQnfields(r); c++) {
			buf_adds(&b, c ? "," : "");
			buf_csv(&b, PQgetvalue(r, i, c), text[c]);
		}
		buf_adds(&b, "\r\n");
	}
	PQclear(r);
	snprintf(disposition, sizeof disposition, "attachment; filename=\"updates-%s.csv\"", per);
	body = buf_steal(&b, &len);
	ret = reply_full(rq, 200, "text/csv; charset=utf-8; header=present", body, len,
			 (const char *const[]){ "Content-Disposition", disposition, NULL });
	free(body);
	return ret;
}
