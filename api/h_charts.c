/* GET /v1/charts/{kind}.{svg,png,pdf,json}: charts of the progress data
 * (SPEC section 6). The data comes from the same sums as /v1/progress; the
 * image is drawn by a worker and stored once under the hash of its kind,
 * format, parameters, templates and data, so a URL answers the same bytes
 * until the data changes, and a new update gives a new image at once.
 * A chart not drawn yet is queued (one job however many ask) and the
 * request is suspended, holding no thread, until the job ends or 10 s
 * pass (api/chartwait.c); then the handler runs again and answers. */
#include "chart.h"
#include "chartwait.h"
#include "handlers.h"
#include "jspec.h"
#include "period.h"
#include "query.h"
#include "queue.h"
#include "log.h"
#include "metrics.h"
#include "util.h"
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Serving an image notes that somebody asked for it, so the retention
 * sweep keeps it (workers/retention.c); at most once an hour per image,
 * so reads do not turn into writes. */
DB_STMT(stmt_artifact_get,
	"WITH a AS (SELECT key, sha256, media_type, bytes, last_used_at FROM artifact"
	"  WHERE key = $1::bytea"
	"), touch AS ("
	"  UPDATE artifact SET last_used_at = now() FROM a WHERE artifact.key = a.key"
	"    AND (a.last_used_at IS NULL OR a.last_used_at < now() - interval '1 hour')"
	") SELECT encode(sha256, 'hex'), media_type, bytes FROM a");
DB_STMT(stmt_job_error, "SELECT last_error FROM job WHERE id = $1::bigint");
/* one member's chart requests queue one at a time (6368617: this lock's class) */
DB_STMT(stmt_chart_member_lock, "SELECT pg_advisory_xact_lock(6368617, hashint8($1::bigint))");
DB_STMT(stmt_chart_queue_state,
	"SELECT (SELECT id FROM job WHERE kind = 'render_chart' AND key = $1"
	"         AND state IN ('queued', 'running')),"
	"       (SELECT count(*) FROM job WHERE requested_by = $2::bigint AND kind = 'render_chart'"
	"         AND state IN ('queued', 'running'))");

struct chart_req {
	const struct chart_kind *kind;
	enum chart_format format;
	json_t *params; /* canonical: what was asked, defaults filled in */
	char *data;     /* JSON text */
};

/* Parses the query for this kind and fetches the data. Returns -1 to go
 * on, else the reply already queued. */
static int chart_data(struct request *rq, struct chart_req *c)
{
	int as_of = -1, from = -1, to = -1, first = 0;
	long long pillar = 0;
	const char *cycle_param = NULL;
	bool has_pillar = false, has_from = false;
	bool status = !strcmp(c->kind->name, "status-by-pillar");
	bool burnup = !strcmp(c->kind->name, "pillar-burnup");
	const struct q_field status_spec[] = {
		{ .name = "as_of", .type = Q_PERIOD, .out = &as_of },
		{ .name = "cycle", .type = Q_TEXT, .max = 9, .out = &cycle_param },
		{ 0 },
	};
	const struct q_field range_spec[] = {
		{ .name = "from", .type = Q_PERIOD, .out = &from, .present = &has_from },
		{ .name = "to", .type = Q_PERIOD, .out = &to },
		{ .name = "pillar", .type = Q_INT, .min = 1, .max = 8, .out = &pillar, .present = &has_pillar },
		{ 0 },
	};
	json_t *errors = json_array();
	char cycle[16], per[PERIOD_STRLEN];
	enum db_rc rc = DB_OK;

	if (!query_parse(rq, status ? status_spec : range_spec, NULL, errors))
		return reply_invalid(rq, errors);
	if (status) {
		if (!progress_scope(rq, &as_of, "as_of", cycle_param, cycle, errors, &rc, NULL))
			goto invalid;
		period_format(as_of, per);
		c->params = json_pack("{s:s, s:s}", "as_of", per, "cycle", cycle);
		rc = chart_fetch(request_db(rq), c->kind, as_of, 0, cycle, 0, &c->data);
	} else {
		if (burnup && !has_pillar)
			js_error(errors, "pillar", "is required for a burn-up chart");
		if (!strcmp(c->kind->name, "reporting-heatmap") && has_pillar)
			js_error(errors, "pillar", "is not a parameter of this chart");
		if (json_array_size(errors) ||
		    !progress_scope(rq, &to, "to", NULL, cycle, errors, &rc, &first))
			goto invalid;
		if (!has_from)
			from = first;
		if (!progress_scope(rq, &from, "from", NULL, cycle, errors, &rc, NULL))
			goto invalid;
		if (from > to) {
			js_error(errors, "from", "must not be after to");
			goto invalid;
		}
		c->params = json_object();
		period_format(from, per);
		json_object_set_new(c->params, "from", json_string(per));
		period_format(to, per);
		json_object_set_new(c->params, "to", json_string(per));
		if (has_pillar)
			json_object_set_new(c->params, "pillar", json_integer(pillar));
		rc = chart_fetch(request_db(rq), c->kind, from, to, NULL, (int)pillar, &c->data);
	}
	json_decref(errors);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	return -1;
invalid:
	if (rc != DB_OK) {
		json_decref(errors);
		return reply_db_failure(rq, rc);
	}
	return reply_invalid(rq, errors);
}

/* A paragraph a screen-reader user would want instead of the picture. */
static char *chart_alt(const struct chart_req *c, json_t *data)
{
	json_t *row, *v;
	struct buf b;
	size_t i, k;

	buf_init(&b, 64 << 10);
	if (!strcmp(c->kind->name, "status-by-pillar")) {
		buf_printf(&b, "Stacked bar chart of the status of the key actions of cycle %s in each"
			       " pillar as of %s.", json_string_value(json_object_get(data, "cycle")),
			   json_string_value(json_object_get(data, "period")));
		json_array_foreach(json_object_get(data, "pillars"), i, row) {
			long long n = json_integer_value(json_object_get(row, "actions"));
			bool any = false;

			buf_printf(&b, " Pillar %lld, %s: ", json_integer_value(json_object_get(row, "number")),
				   json_string_value(json_object_get(row, "name")));
			if (!n) {
				buf_adds(&b, "no key actions.");
				continue;
			}
			buf_printf(&b, "%lld key action%s", n, n == 1 ? "" : "s");
			for (k = 0; k < STATUS_COUNT; k++) {
				json_int_t m = json_integer_value(json_object_get(json_object_get(row, "by_status"), status_names[k]));
				char words[STATUS_WORDS_MAX];

				if (m)
					buf_printf(&b, "%s%lld %s", any ? ", " : " (", (long long)m,
						   status_words(status_names[k], words, false));
				any |= m != 0;
			}
			buf_adds(&b, ").");
		}
	} else if (!strcmp(c->kind->name, "pillar-burnup")) {
		json_t *points = json_object_get(data, "points"), *last;

		last = json_array_get(points, json_array_size(points) - 1);
		buf_printf(&b, "Line chart of the key actions of pillar %lld, %s, planned and completed"
			       " from %s to %s.",
			   json_integer_value(json_object_get(json_object_get(data, "pillar"), "number")),
			   json_string_value(json_object_get(json_object_get(data, "pillar"), "name")),
			   json_string_value(json_object_get(c->params, "from")),
			   json_string_value(json_object_get(c->params, "to")));
		if (last)
			buf_printf(&b, " In %s, %lld of %lld planned key actions were completed.",
				   json_string_value(json_object_get(last, "period")),
				   json_integer_value(json_object_get(last, "completed")),
				   json_integer_value(json_object_get(last, "planned")));
	} else {
		bool trend = !strcmp(c->kind->name, "progress-trend");
		json_t *periods = json_object_get(data, "periods");

		buf_printf(&b, trend ? "Line chart of the mean percent complete of each pillar's key"
				       " actions, quarter by quarter, from %s to %s."
				     : "Heat map of the share of expected key actions reported on time,"
				       " by pillar and quarter, from %s to %s.",
			   json_string_value(json_object_get(c->params, "from")),
			   json_string_value(json_object_get(c->params, "to")));
		json_array_foreach(json_object_get(data, trend ? "series" : "pillars"), i, row) {
			double lo = 1e9, hi = -1;
			const char *lo_at = NULL, *hi_at = NULL;

			json_array_foreach(json_object_get(row, "values"), k, v) {
				if (!json_is_number(v))
					continue;
				if (json_number_value(v) < lo)
					lo = json_number_value(v), lo_at = json_string_value(json_array_get(periods, k));
				if (json_number_value(v) > hi)
					hi = json_number_value(v), hi_at = json_string_value(json_array_get(periods, k));
			}
			buf_printf(&b, " Pillar %lld, %s: ", json_integer_value(json_object_get(row, "number")),
				   json_string_value(json_object_get(row, "name")));
			if (!lo_at)
				buf_adds(&b, trend ? "no key actions." : "nothing expected.");
			else
				buf_printf(&b, "from %.0f%% (lowest, %s) to %.0f%% (highest, %s).",
					   trend ? lo : lo * 100, lo_at, trend ? hi : hi * 100, hi_at);
		}
	}
	return buf_steal(&b, NULL);
}

static int reply_chart_json(struct request *rq, struct chart_req *c)
{
	json_t *data = json_loads(c->data, 0, NULL), *doc;
	char *alt = chart_alt(c, data), *body;
	int ret;

	doc = json_pack("{s:s, s:O, s:s, s:o}", "kind", c->kind->name, "params", c->params, "alt",
			alt, "data", data);
	body = json_dumps(doc, JSON_COMPACT);
	ret = reply_json(rq, 200, body, strlen(body));
	json_decref(doc);
	free(body);
	free(alt);
	return ret;
}

/* The stored image for key, if there is one: *ret is the reply. */
static bool serve_artifact(struct request *rq, const unsigned char key[SHA256_LEN], int *ret)
{
	char etag[80];
	unsigned char *bytes;
	size_t len;
	enum db_rc rc;
	PGresult *r;

	rc = db_query_params(request_db(rq), &stmt_artifact_get, 1,
			     (const char *const[]){ (const char *)key }, (const int[]){ SHA256_LEN },
			     (const int[]){ 1 }, &r);
	if (rc != DB_OK) {
		*ret = reply_db_failure(rq, rc);
		return true;
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		return false;
	}
	bytes = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 2), &len);
	snprintf(etag, sizeof etag, "\"%s\"", PQgetvalue(r, 0, 0));
	*ret = reply_full(rq, 200, PQgetvalue(r, 0, 1), (const char *)bytes, len,
			  (const char *const[]){ "ETag", etag, NULL });
	PQfreemem(bytes);
	PQclear(r);
	return true;
}

/* A chart being drawn for this request: its state across the suspension. */
struct chart_pending {
	struct chart_wait *wait;
	long long job;
	unsigned char key[SHA256_LEN];
};

static void chart_pending_free(void *state)
{
	struct chart_pending *p = state;

	chartwait_free(p->wait);
	free(p);
}

struct chart_enqueue {
	long long member_id;
	const char *key;
	const json_t *payload;
	long long job;
	bool busy; /* the member has as many chart jobs queued as allowed */
};

/* Queues the drawing unless it is queued or running already (then that
 * job is the one to wait for). A member may have only so many new ones
 * queued at once; the advisory lock makes the count and the insert of one
 * member's concurrent requests happen one after the other. */
static enum db_rc chart_enqueue_txn(struct db *db, void *cls)
{
	struct chart_enqueue *e = cls;
	char member[24];
	enum db_rc rc;
	PGresult *r;

	e->busy = false;
	snprintf(member, sizeof member, "%lld", e->member_id);
	if (e->member_id) {
		rc = db_query(db, &stmt_chart_member_lock, 1, (const char *const[]){ member }, &r);
		if (rc != DB_OK)
			return rc;
		PQclear(r);
		rc = db_query(db, &stmt_chart_queue_state, 2, (const char *const[]){ e->key, member }, &r);
		if (rc != DB_OK)
			return rc;
		if (!PQgetisnull(r, 0, 0)) {
			e->job = atoll(PQgetvalue(r, 0, 0));
			PQclear(r);
			return DB_OK;
		}
		e->busy = atoll(PQgetvalue(r, 0, 1)) >= chartwait_per_member();
		PQclear(r);
		if (e->busy)
			return DB_ABORT;
	}
	/* DB_RETRY when another request queued the same key meanwhile: the
	 * transaction runs again and finds that job */
	return queue_enqueue_for(db, "render_chart", e->key, e->payload, 3, e->member_id, &e->job);
}

static int reply_come_back(struct request *rq, long long job)
{
	json_t *doc = json_pack("{s:s, s:I}", "state", "queued", "job", (json_int_t)job);
	char *body = json_dumps(doc, JSON_COMPACT);
	int ret = reply_full(rq, 202, "application/json", body, strlen(body),
			     (const char *const[]){ "Retry-After", "2", NULL });

	free(body);
	json_decref(doc);
	return ret;
}

static int reply_too_many(struct request *rq)
{
	char detail[160];

	snprintf(detail, sizeof detail,
		 "you have %d charts being drawn already; ask again once they are done",
		 chartwait_per_member());
	return reply_problem_with(rq, PROBLEM_RATE_LIMITED, detail, NULL,
				  (const char *const[]){ "Retry-After", "5", NULL });
}

/* The handler again, once the wait is over: the image, the failure, or
 * come back later. */
static int chart_resumed(struct request *rq, struct chart_pending *p)
{
	enum chartwait_outcome o = chartwait_outcome(p->wait);
	char ids[24];
	PGresult *r;
	int ret;

	if (o == CHARTWAIT_PENDING) {
		BUG("a chart request ran again while it was still waiting");
		return reply_problem(rq, PROBLEM_INTERNAL, "an internal error occurred", NULL);
	}
	if (o == CHARTWAIT_GONE)
		return reply_come_back(rq, p->job); /* nobody is listening: no work */
	if (serve_artifact(rq, p->key, &ret))
		return ret;
	if (o != CHARTWAIT_FAILED)
		return reply_come_back(rq, p->job);
	snprintf(ids, sizeof ids, "%lld", p->job);
	if (db_query(request_db(rq), &stmt_job_error, 1, (const char *const[]){ ids }, &r) == DB_OK) {
		if (PQntuples(r) == 1)
			log_warn("chart job %lld failed: %s", p->job, PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	return reply_problem(rq, PROBLEM_INTERNAL, "the chart could not be drawn", NULL);
}

int h_chart(struct request *rq)
{
	struct chart_req c = { 0 };
	char name[ROUTE_PARAM_MAX], *dot, *params = NULL, hex[2 * SHA256_LEN + 1];
	json_t *payload = NULL;
	unsigned char key[SHA256_LEN];
	struct chart_enqueue e = { .member_id = rq->who.member_id };
	struct chart_wait *wait = NULL;
	struct chart_pending *p;
	enum db_rc rc;
	int ret;

	if (rq->handler_state)
		return chart_resumed(rq, rq->handler_state);
	snprintf(name, sizeof name, "%s", rq->match.params[0]);
	dot = strrchr(name, '.');
	if (dot)
		*dot++ = '\0';
	c.kind = chart_kind_find(name);
	if (!c.kind || !dot || !chart_format_parse(dot, &c.format))
		return reply_problem(rq, PROBLEM_NOT_FOUND,
				     "charts are status-by-pillar, progress-trend, reporting-heatmap"
				     " and pillar-burnup, as .svg, .png, .pdf or .json", NULL);
	ret = chart_data(rq, &c);
	if (ret >= 0)
		goto out;
	if (c.format == CHART_JSON) {
		ret = reply_chart_json(rq, &c);
		goto out;
	}
	params = json_dumps(c.params, JSON_COMPACT | JSON_SORT_KEYS);
	chart_key(c.kind, c.format, params, c.data, key);
	sha256_hex(key, hex);
	if (serve_artifact(rq, key, &ret))
		goto out;
	/* a place to wait in first: past its bound a member queues nothing;
	 * with every place taken the job is still queued, without a wait */
	if (chartwait_reserve(rq->who.member_id, &wait) == CHARTWAIT_MEMBER_FULL) {
		ret = reply_too_many(rq);
		goto out;
	}
	payload = json_pack("{s:s, s:s, s:s, s:O, s:o}", "kind", c.kind->name, "format",
			    chart_format_name(c.format), "key", hex, "params", c.params, "data",
			    json_loads(c.data, 0, NULL));
	e.key = hex;
	e.payload = payload;
	rc = db_transaction(request_db(rq), chart_enqueue_txn, &e);
	if (e.busy || rc != DB_OK) {
		chartwait_free(wait);
		ret = e.busy ? reply_too_many(rq) : reply_db_failure(rq, rc);
		goto out;
	}
	if (!wait) {
		ret = reply_come_back(rq, e.job);
		goto out;
	}
	p = xcalloc(1, sizeof *p);
	p->wait = wait;
	p->job = e.job;
	memcpy(p->key, key, sizeof p->key);
	rq->handler_state = p;
	rq->handler_state_free = chart_pending_free;
	if (!chartwait_suspend(wait, rq->conn, e.job)) {
		ret = reply_come_back(rq, e.job); /* the server is stopping */
		goto out;
	}
	/* suspended: no reply yet, and no database connection held meanwhile */
	if (rq->db_busy) {
		rq->db_busy = false;
		metrics_db_busy(-1);
	}
	ret = MHD_YES;
out:
	json_decref(c.params);
	free(c.data);
	free(params);
	json_decref(payload);
	return ret;
}
