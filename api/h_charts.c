/* GET /v1/charts/{kind}.{svg,png,pdf,json}: charts of the progress data
 * (SPEC section 6). The data comes from the same sums as /v1/progress; the
 * image is drawn by a worker and stored once under the hash of its kind,
 * format, parameters, templates and data, so a URL answers the same bytes
 * until the data changes, and a new update gives a new image at once. */
#include "chart.h"
#include "handlers.h"
#include "jspec.h"
#include "period.h"
#include "query.h"
#include "queue.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WAIT_US (10 * 1000000LL)

DB_STMT(stmt_artifact_get,
	"SELECT encode(sha256, 'hex'), media_type, bytes FROM artifact WHERE key = decode($1, 'hex')");
DB_STMT(stmt_job_state, "SELECT state, last_error FROM job WHERE id = $1::bigint");

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
		static const char *const st[] = { "not_started", "on_track", "at_risk", "delayed",
						  "completed", "cancelled" };
		static const char *const words[] = { "not started", "on track", "at risk", "delayed",
						     "completed", "cancelled" };

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
			for (k = 0; k < 6; k++) {
				json_int_t m = json_integer_value(json_object_get(json_object_get(row, "by_status"), st[k]));

				if (m)
					buf_printf(&b, "%s%lld %s", any ? ", " : " (", (long long)m, words[k]);
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
static bool serve_artifact(struct request *rq, const char *key, int *ret)
{
	char etag[80];
	unsigned char *bytes;
	size_t len;
	enum db_rc rc;
	PGresult *r;

	rc = db_query(request_db(rq), &stmt_artifact_get, 1, (const char *const[]){ key }, &r);
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

int h_chart(struct request *rq)
{
	struct chart_req c = { 0 };
	char name[ROUTE_PARAM_MAX], *dot, *params = NULL, *payload = NULL, hex[2 * SHA256_LEN + 1], ids[24];
	unsigned char key[SHA256_LEN];
	long long job = 0, deadline;
	enum db_rc rc;
	int ret;

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
	if (serve_artifact(rq, hex, &ret))
		goto out;
	payload = xasprintf("{\"kind\":\"%s\",\"format\":\"%s\",\"key\":\"%s\",\"params\":%s,\"data\":%s}",
			    c.kind->name, chart_format_name(c.format), hex, params, c.data);
	rc = queue_enqueue(request_db(rq), "render_chart", hex, payload, 3, &job);
	if (rc == DB_RETRY)
		rc = queue_enqueue(request_db(rq), "render_chart", hex, payload, 3, &job);
	if (rc != DB_OK) {
		ret = reply_db_failure(rq, rc);
		goto out;
	}
	/* wait for a worker, up to 10 s, then tell the caller to come back */
	deadline = now_us() + WAIT_US;
	snprintf(ids, sizeof ids, "%lld", job);
	while (now_us() < deadline) {
		PGresult *r;

		usleep(50000);
		if (serve_artifact(rq, hex, &ret))
			goto out;
		rc = db_query(request_db(rq), &stmt_job_state, 1, (const char *const[]){ ids }, &r);
		if (rc == DB_OK && PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "failed")) {
			log_warn("chart job %lld failed: %s", job, PQgetvalue(r, 0, 1));
			PQclear(r);
			ret = reply_problem(rq, PROBLEM_INTERNAL, "the chart could not be drawn", NULL);
			goto out;
		}
		PQclear(r);
	}
	{
		char body[96];

		snprintf(body, sizeof body, "{\"state\":\"queued\",\"job\":%lld}", job);
		ret = reply_full(rq, 202, "application/json", body, strlen(body),
				 (const char *const[]){ "Retry-After", "2", NULL });
	}
out:
	json_decref(c.params);
	free(c.data);
	free(params);
	free(payload);
	return ret;
}
