/* Progress analytics against an independent, obviously-correct SQL
 * computation straight from the key actions and status updates, on demo
 * data from several seeds, for quarters at cycle boundaries, quarters with
 * no updates and an inactive pillar; and after live changes through the
 * API, the incremental sums equal a rebuild from scratch. */
#include "harness.h"
#include "period.h"

#include <libpq-fe.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Progress of quarter $1 (text) for the actions of cycle $2, as a document
 * shaped like the API's pillars and totals. $3: the quarter before. */
static const char progress_sql[] =
	"WITH a AS (SELECT id, pillar FROM action WHERE cycle = $2 AND NOT archived),"
	" u AS (SELECT s.* FROM status_update s JOIN a ON a.id = s.action_id"
	"       WHERE s.review_state <> 'returned' AND s.period <= $1),"
	" st AS (SELECT a.id, a.pillar, coalesce(c.status, 'not_started') AS status,"
	"        coalesce(c.percent_complete, 0) AS pc,"
	"        NOT EXISTS (SELECT 1 FROM u WHERE u.action_id = a.id AND u.period IN ($1, $3)) AS stale,"
	"        (SELECT max(created_at) FROM u WHERE u.action_id = a.id) AS last_at"
	"   FROM a LEFT JOIN LATERAL (SELECT status, percent_complete FROM u WHERE u.action_id = a.id"
	"     ORDER BY period DESC, created_at DESC, id DESC LIMIT 1) c ON true),"
	" agg AS (SELECT p.number, count(st.id) AS actions,"
	"   json_build_object('not_started', count(*) FILTER (WHERE st.status = 'not_started'),"
	"     'on_track', count(*) FILTER (WHERE st.status = 'on_track'),"
	"     'at_risk', count(*) FILTER (WHERE st.status = 'at_risk'),"
	"     'delayed', count(*) FILTER (WHERE st.status = 'delayed'),"
	"     'completed', count(*) FILTER (WHERE st.status = 'completed'),"
	"     'cancelled', count(*) FILTER (WHERE st.status = 'cancelled')) AS by_status,"
	"   coalesce(round(avg(st.pc), 1), 0.0) AS mean, count(*) FILTER (WHERE st.status = 'completed') AS completed,"
	"   count(*) FILTER (WHERE st.stale) AS stale, max(st.last_at) AS last_at"
	"   FROM pillar p LEFT JOIN st ON st.pillar = p.number GROUP BY p.number)"
	" SELECT json_build_object('pillars', (SELECT json_agg(json_build_object('number', number,"
	"   'actions', actions, 'by_status', by_status, 'mean_percent', mean, 'completed', completed,"
	"   'stale', stale, 'last_update_at', utc_text(last_at)) ORDER BY number) FROM agg),"
	"  'totals', (SELECT json_build_object('actions', count(*),"
	"   'by_status', json_build_object('not_started', count(*) FILTER (WHERE status = 'not_started'),"
	"     'on_track', count(*) FILTER (WHERE status = 'on_track'),"
	"     'at_risk', count(*) FILTER (WHERE status = 'at_risk'),"
	"     'delayed', count(*) FILTER (WHERE status = 'delayed'),"
	"     'completed', count(*) FILTER (WHERE status = 'completed'),"
	"     'cancelled', count(*) FILTER (WHERE status = 'cancelled')),"
	"   'mean_percent', coalesce(round(avg(pc), 1), 0.0),"
	"   'completed', count(*) FILTER (WHERE status = 'completed'),"
	"   'stale', count(*) FILTER (WHERE stale)) FROM st))::text";

/* Reporting for quarter $1, cycle $2, previous quarter $3, deadline $4. */
static const char reporting_sql[] =
	"WITH a AS (SELECT a.id, a.pillar FROM action a JOIN pillar p ON p.number = a.pillar"
	"   WHERE p.status = 'active' AND a.cycle = $2 AND NOT a.archived),"
	" prev AS (SELECT a.id, (SELECT s.status FROM status_update s WHERE s.action_id = a.id"
	"   AND s.review_state <> 'returned' AND s.period <= $3"
	"   ORDER BY s.period DESC, s.created_at DESC, s.id DESC LIMIT 1) AS status FROM a),"
	" e AS (SELECT a.* FROM a JOIN prev USING (id)"
	"   WHERE coalesce(prev.status, 'not_started') NOT IN ('completed', 'cancelled')),"
	" r AS (SELECT e.id, bool_or((s.created_at AT TIME ZONE 'UTC')::date <= $4::date) AS on_time"
	"   FROM e JOIN status_update s ON s.action_id = e.id AND s.period = $1"
	"   AND s.review_state <> 'returned' GROUP BY e.id)"
	" SELECT json_build_object('deadline', $4, 'pillars', (SELECT json_agg(json_build_object("
	"   'number', p.number,"
	"   'expected', (SELECT count(*) FROM e WHERE e.pillar = p.number),"
	"   'reported', (SELECT count(*) FROM e JOIN r USING (id) WHERE e.pillar = p.number),"
	"   'on_time', (SELECT count(*) FROM e JOIN r USING (id) WHERE e.pillar = p.number AND r.on_time),"
	"   'missing', (SELECT count(*) FROM e WHERE e.pillar = p.number AND e.id NOT IN (SELECT id FROM r)),"
	"   'missing_actions', coalesce((SELECT json_agg(e.id ORDER BY e.id) FROM e WHERE e.pillar = p.number"
	"      AND e.id NOT IN (SELECT id FROM r)), '[]')) ORDER BY p.number) FROM pillar p),"
	"  'entities', (SELECT coalesce(json_agg(x ORDER BY x.code), '[]') FROM (SELECT l.entity AS code,"
	"     count(*) AS expected, count(r.id) AS reported, count(*) FILTER (WHERE r.on_time) AS on_time"
	"     FROM e JOIN action_lead l ON l.action_id = e.id LEFT JOIN r ON r.id = e.id"
	"     GROUP BY l.entity) x))::text";

static json_t *sql_json(const char *db, const char *sql, const char *const *params, int n)
{
	PGconn *c = PQconnectdb(t_conninfo(db));
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	json_t *doc;

	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
	doc = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
	ck_assert_ptr_nonnull(doc);
	PQclear(r);
	PQfinish(c);
	return doc;
}

/* Compares every member of want with the same member of got. */
static void assert_same(json_t *want, json_t *got, const char *where)
{
	char path[512];
	const char *key;
	json_t *w;

	if (json_is_object(want)) {
		ck_assert_msg(json_is_object(got), "%s: not an object", where);
		json_object_foreach(want, key, w) {
			snprintf(path, sizeof path, "%s.%s", where, key);
			assert_same(w, json_object_get(got, key), path);
		}
	} else if (json_is_array(want)) {
		ck_assert_msg(json_is_array(got) && json_array_size(got) == json_array_size(want),
			      "%s: arrays differ in length (%zu, want %zu)", where, json_array_size(got),
			      json_array_size(want));
		for (size_t i = 0; i < json_array_size(want); i++) {
			snprintf(path, sizeof path, "%s[%zu]", where, i);
			assert_same(json_array_get(want, i), json_array_get(got, i), path);
		}
	} else if (json_is_number(want)) {
		ck_assert_msg(json_is_number(got) && json_number_value(got) == json_number_value(want),
			      "%s: %g, want %g", where, json_number_value(got), json_number_value(want));
	} else {
		ck_assert_msg(json_equal(want, got), "%s: values differ", where);
	}
}

static void cycle_of(int p, char out[16])
{
	int y = period_year(p);

	snprintf(out, 16, "%s", y == 2021 ? "2021" : y <= 2023 ? "2022-2023" : "2024-2025");
}

static void check_progress_at(const struct server *s, const char *token, int p, const char *cycle_param)
{
	char per[PERIOD_STRLEN], prev[PERIOD_STRLEN], cycle[16], path[128], where[64];
	struct resp *r;
	json_t *want;

	period_format(p, per);
	period_format(p - 1, prev);
	if (cycle_param)
		snprintf(cycle, sizeof cycle, "%s", cycle_param);
	else
		cycle_of(p, cycle);
	snprintf(path, sizeof path, "/v1/progress?as_of=%s%s%s", per, cycle_param ? "&cycle=" : "",
		 cycle_param ? cycle_param : "");
	r = t_get(s, path, token);
	ck_assert_msg(r->status == 200, "%s: %ld %s", path, r->status, r->body);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "as_of")), per);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "cycle")), cycle);
	want = sql_json(s->dbname, progress_sql, (const char *const[]){ per, cycle, prev }, 3);
	snprintf(where, sizeof where, "progress %s %s", per, cycle);
	assert_same(want, r->json, where);
	json_decref(want);
	t_resp_free(r);
}

static void check_reporting_at(const struct server *s, const char *token, int p)
{
	char per[PERIOD_STRLEN], prev[PERIOD_STRLEN], cycle[16], path[64], dl[DATE_STRLEN], where[64];
	struct resp *r;
	json_t *want;

	period_format(p, per);
	period_format(p - 1, prev);
	period_deadline(p, dl);
	cycle_of(p, cycle);
	snprintf(path, sizeof path, "/v1/reporting?period=%s", per);
	r = t_get(s, path, token);
	ck_assert_msg(r->status == 200, "%s: %ld %s", path, r->status, r->body);
	want = sql_json(s->dbname, reporting_sql, (const char *const[]){ per, cycle, prev, dl }, 4);
	snprintf(where, sizeof where, "reporting %s", per);
	assert_same(want, r->json, where);
	json_decref(want);
	t_resp_free(r);
}

static void check_trend(const struct server *s, const char *token, int from, int to, int pillar)
{
	char f[PERIOD_STRLEN], t[PERIOD_STRLEN], path[128];
	struct resp *r;
	json_t *items;

	period_format(from, f);
	period_format(to, t);
	snprintf(path, sizeof path, "/v1/progress/trend?from=%s&to=%s&pillar=%d", f, t, pillar);
	r = t_get(s, path, token);
	ck_assert_msg(r->status == 200, "%s: %ld %s", path, r->status, r->body);
	items = json_object_get(r->json, "items");
	ck_assert_int_eq(json_array_size(items), to - from + 1);
	for (int p = from; p <= to; p++) {
		json_t *item = json_array_get(items, p - from), *want, *pl;
		char per[PERIOD_STRLEN], prev[PERIOD_STRLEN], cycle[16], where[64];

		period_format(p, per);
		period_format(p - 1, prev);
		cycle_of(p, cycle);
		ck_assert_str_eq(json_string_value(json_object_get(item, "period")), per);
		want = sql_json(s->dbname, progress_sql, (const char *const[]){ per, cycle, prev }, 3);
		pl = json_array_get(json_object_get(want, "pillars"), pillar - 1);
		json_object_del(pl, "number");
		json_object_del(pl, "completed");
		json_object_del(pl, "stale");
		json_object_del(pl, "last_update_at");
		snprintf(where, sizeof where, "trend %s pillar %d", per, pillar);
		assert_same(pl, item, where);
		json_decref(want);
	}
	t_resp_free(r);
}

/* /v1/pillars: actions counts the key actions not archived of every
 * cycle; by_status those of the current cycle by their state at the
 * current quarter, as the recomputation of /v1/progress's default finds. */
static void check_pillars(const struct server *s, const char *token)
{
	struct resp *r = t_get(s, "/v1/progress", token);
	char per[PERIOD_STRLEN], prev[PERIOD_STRLEN], cycle[16];
	json_t *want, *items;
	long in_scope = 0, all = 0;
	int p;

	ck_assert_int_eq(r->status, 200);
	ck_assert(period_parse(json_string_value(json_object_get(r->json, "as_of")), &p));
	snprintf(cycle, sizeof cycle, "%s", json_string_value(json_object_get(r->json, "cycle")));
	t_resp_free(r);
	period_format(p, per);
	period_format(p - 1, prev);
	want = sql_json(s->dbname, progress_sql, (const char *const[]){ per, cycle, prev }, 3);
	r = t_get(s, "/v1/pillars", token);
	ck_assert_int_eq(r->status, 200);
	items = json_object_get(r->json, "items");
	ck_assert_int_eq(json_array_size(items), json_array_size(json_object_get(want, "pillars")));
	for (size_t i = 0; i < json_array_size(items); i++) {
		json_t *got = json_array_get(items, i), *w = json_array_get(json_object_get(want, "pillars"), i);
		char sql[128], where[64];
		long actions;

		snprintf(where, sizeof where, "pillars[%zu].by_status", i);
		assert_same(json_object_get(w, "by_status"), json_object_get(got, "by_status"), where);
		snprintf(sql, sizeof sql, "SELECT count(*) FROM action WHERE pillar = %zu AND NOT archived", i + 1);
		actions = t_sql_long(s->dbname, sql);
		ck_assert_int_eq(json_integer_value(json_object_get(got, "actions")), actions);
		in_scope += json_integer_value(json_object_get(w, "actions"));
		all += actions;
	}
	/* the data holds key actions of the current cycle and of others */
	ck_assert_int_gt(in_scope, 0);
	ck_assert_int_lt(in_scope, all);
	json_decref(want);
	t_resp_free(r);
}

/* Quarters worth checking: the first, cycle boundaries, the last. */
static const char *const quarters[] = { "2021-Q1", "2021-Q3", "2021-Q4", "2022-Q1", "2023-Q2",
					"2023-Q4", "2024-Q1", "2025-Q3", "2025-Q4" };

static void check_everything(const struct server *s, const char *token)
{
	int p, first, last;

	for (size_t i = 0; i < sizeof quarters / sizeof quarters[0]; i++) {
		ck_assert(period_parse(quarters[i], &p));
		check_progress_at(s, token, p, NULL);
		check_reporting_at(s, token, p);
	}
	/* another cycle's actions, seen from a later quarter */
	ck_assert(period_parse("2023-Q1", &p));
	check_progress_at(s, token, p, "2021");
	ck_assert(period_parse("2021-Q2", &first));
	ck_assert(period_parse("2024-Q2", &last));
	check_trend(s, token, first, last, 6);
	check_trend(s, token, first, last, 7);
	check_pillars(s, token);
}

static void with_demo(long seed, const char *actions, const char *updates, bool inactive)
{
	char db[64], seed_s[16], *out, *err;
	struct server s;
	char *token;

	t_db_create(db, sizeof db, true);
	snprintf(seed_s, sizeof seed_s, "%ld", seed);
	ck_assert_msg(t_admin(db, &out, &err, "demo", "--actions", actions, "--updates", updates,
			      "--seed", seed_s, NULL) == 0, "demo failed: %s", err);
	ck_assert_ptr_nonnull(strstr(out, "progress rebuilt"));
	free(out);
	free(err);
	if (inactive)
		free(t_sql(db, "UPDATE pillar SET status = 'inactive', inactive_reason = 'Paused' WHERE number = 4"));
	token = t_member_token(db, "viewer@un.org", "viewer", "UNDP");
	t_server_start(&s, db);
	check_everything(&s, token);
	t_server_stop(&s);
	free(token);
}

START_TEST(endpoints_agree_with_recomputation_seed_1)
{
	with_demo(1, "300", "6000", false);
}
END_TEST

START_TEST(endpoints_agree_with_recomputation_seed_42_inactive_pillar)
{
	with_demo(42, "250", "3000", true);
}
END_TEST

START_TEST(endpoints_agree_with_recomputation_sparse_history)
{
	/* fewer updates than quarters: many quarters without any */
	with_demo(7, "200", "150", false);
}
END_TEST

START_TEST(demo_is_deterministic_for_a_seed)
{
	char a[64], b[64], *x, *y;
	const char *fingerprint =
		"SELECT md5(string_agg(concat_ws('|', a.title, a.pillar, a.cycle, a.year, s.period,"
		" s.status, s.percent_complete, s.review_state, s.visibility, s.created_at), ','"
		" ORDER BY a.title, s.created_at, s.period)) FROM action a"
		" JOIN status_update s ON s.action_id = a.id";

	t_db_create(a, sizeof a, true);
	t_db_create(b, sizeof b, true);
	ck_assert_int_eq(t_admin(a, NULL, NULL, "demo", "--actions", "120", "--updates", "900", "--seed", "5", NULL), 0);
	ck_assert_int_eq(t_admin(b, NULL, NULL, "demo", "--actions", "120", "--updates", "900", "--seed", "5", NULL), 0);
	x = t_sql(a, fingerprint);
	y = t_sql(b, fingerprint);
	ck_assert_str_eq(x, y);
	free(y);
	ck_assert_int_eq(t_admin(b, NULL, NULL, "demo", "--actions", "120", "--updates", "900", "--seed", "6", NULL), 0);
	ck_assert_int_eq(t_sql_long(b, "SELECT count(*) FROM status_update"), 1800);
	ck_assert_int_eq(t_sql_long(b, "SELECT count(DISTINCT review_state) FROM status_update"), 3);
	ck_assert_int_gt(t_sql_long(b, "SELECT count(*) FROM status_update WHERE visibility = 'public'"), 0);
	ck_assert_int_gt(t_sql_long(b, "SELECT count(*) FROM status_update WHERE"
				    " (created_at AT TIME ZONE 'UTC')::date > period_deadline(period_idx(period))"), 0);
	free(x);
	ck_assert_int_eq(t_admin(b, NULL, NULL, "demo", "--actions", "x", "--updates", "1", NULL), 2);
}
END_TEST

/* How many rows of the sums the triggers keep differ from the same sums
 * rebuilt from scratch (in a transaction of c's, rolled back). */
static long rebuild_diff(PGconn *c)
{
	const char *diff =
		"BEGIN;"
		"CREATE TEMP TABLE live_state AS SELECT * FROM action_period_state;"
		"CREATE TEMP TABLE live_agg AS SELECT * FROM progress_agg WHERE actions <> 0;"
		"CREATE TEMP TABLE live_ent AS SELECT * FROM entity_agg WHERE expected <> 0 OR reported <> 0;"
		"SELECT progress_rebuild();"
		"SELECT (SELECT count(*) FROM ((TABLE live_state EXCEPT TABLE action_period_state) UNION ALL"
		"  (TABLE action_period_state EXCEPT TABLE live_state)) x)"
		" + (SELECT count(*) FROM ((TABLE live_agg EXCEPT SELECT * FROM progress_agg WHERE actions <> 0)"
		"  UNION ALL (SELECT * FROM progress_agg WHERE actions <> 0 EXCEPT TABLE live_agg)) y)"
		" + (SELECT count(*) FROM ((TABLE live_ent EXCEPT SELECT * FROM entity_agg WHERE expected <> 0 OR reported <> 0)"
		"  UNION ALL (SELECT * FROM entity_agg WHERE expected <> 0 OR reported <> 0 EXCEPT TABLE live_ent)) z)";
	PGresult *r = PQexec(c, diff);
	long n;

	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
	n = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQclear(PQexec(c, "ROLLBACK"));
	return n;
}

/* The sums the triggers keep, next to the same sums rebuilt from scratch. */
static void assert_sums_match_rebuild(const char *db)
{
	PGconn *c = PQconnectdb(t_conninfo(db));
	long n = rebuild_diff(c);

	ck_assert_msg(n == 0, "%ld rows differ from a rebuild", n);
	PQfinish(c);
}

static struct resp *post(const struct server *s, const char *token, const char *path,
			 const char *body, const char *header)
{
	return t_http(s, "POST", path, token, "application/json", body, strlen(body), header);
}

START_TEST(live_changes_keep_the_sums_exact)
{
	char db[64], path[96], body[256];
	struct server s;
	char *cochair, *lead;
	struct resp *r;
	long a1, a2, a3, returned = 0;

	t_db_create(db, sizeof db, true);
	ck_assert_int_eq(t_admin(db, NULL, NULL, "demo", "--actions", "60", "--updates", "500", "--seed", "3", NULL), 0);
	cochair = t_member_token(db, "cc@ohchr.org", "cochair", "OHCHR");
	lead = t_member_token(db, "lead@unhcr.org", "lead", "UNHCR");
	t_server_start(&s, db);
	a1 = t_sql_long(db, "SELECT min(id) FROM action WHERE pillar = 6 AND cycle = '2022-2023'");
	a2 = t_sql_long(db, "SELECT max(id) FROM action WHERE pillar = 6 AND cycle = '2022-2023'");
	a3 = t_sql_long(db, "SELECT min(id) FROM action WHERE cycle = '2024-2025'");
	/* updates in the past, a later correction, same-quarter ties */
	for (int i = 0; i < 6; i++) {
		snprintf(path, sizeof path, "/v1/actions/%ld/updates", i % 2 ? a2 : a1);
		snprintf(body, sizeof body, "{\"period\":\"2022-Q%d\",\"status\":\"%s\",\"percent_complete\":%d,\"narrative\":\"Live %d.\"}",
			 1 + i % 4, i == 5 ? "completed" : "at_risk", i == 5 ? 100 : 10 * i, i);
		r = post(&s, lead, path, body, NULL);
		ck_assert_msg(r->status == 201, "%s", r->body);
		if (i == 2)
			returned = json_integer_value(json_object_get(r->json, "id"));
		t_resp_free(r);
	}
	/* a return, an archive, a restore, new leads, a new action */
	snprintf(path, sizeof path, "/v1/updates/%ld/review", returned);
	r = post(&s, cochair, path, "{\"decision\":\"return\",\"comment\":\"Check the figure.\"}", NULL);
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	snprintf(path, sizeof path, "/v1/actions/%ld", a3);
	r = t_http(&s, "DELETE", path, cochair, NULL, NULL, 0, "If-Match: *");
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	snprintf(path, sizeof path, "/v1/actions/%ld", a2);
	{
		const char *leads = "{\"leads\":[\"UNHCR\",\"UNDP\"]}";

		r = t_http(&s, "PATCH", path, cochair, "application/json", leads, strlen(leads), "If-Match: *");
	}
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	r = post(&s, cochair, "/v1/actions", "{\"pillar\":2,\"cycle\":\"2022-2023\",\"year\":2023,\"title\":\"New live action\"}", NULL);
	ck_assert_int_eq(r->status, 201);
	t_resp_free(r);
	assert_sums_match_rebuild(db);
	check_everything(&s, cochair);
	t_server_stop(&s);
	free(cochair);
	free(lead);
}
END_TEST

/* Random writes straight in SQL, as the API's statements make them:
 * updates for quarters before, at and after an action's others (and
 * several actions at several quarters in one statement), returns and
 * approvals, archiving and restoring, leads added and removed. After
 * each: the state rows and sums the triggers keep from the update's
 * quarter on (026) equal a rebuild of every quarter; and every cycle and
 * quarter whose progress or reporting changed is named in the tags the
 * write gave the API's cache (025), while some that did not change are
 * not (what 025 is for). */
#define PROP_WRITES 250

static uint64_t prop_rng = 0x2545F4914F6CDD1DULL; /* a fixed seed: the same writes every run */

static unsigned prop_rand(unsigned n)
{
	prop_rng ^= prop_rng >> 12;
	prop_rng ^= prop_rng << 25;
	prop_rng ^= prop_rng >> 27;
	return (unsigned)((prop_rng * 2685821657736338717ULL) >> 33) % n;
}

static PGresult *prop_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK,
		      "%s\n%s", PQerrorMessage(c), sql);
	return r;
}

/* The first value of a query's first row (-1 if none or NULL). */
static long prop_long(PGconn *c, const char *sql)
{
	PGresult *r = prop_exec(c, sql);
	long v = PQntuples(r) && !PQgetisnull(r, 0, 0) ? atol(PQgetvalue(r, 0, 0)) : -1;

	PQclear(r);
	return v;
}

/* What GET /v1/progress and /v1/reporting read of each cycle as of each
 * quarter of the work plan (h_progress.c), as a digest: the pillars' sums,
 * the entities', the actions missing. With the quarter's and the cycle's
 * tag. */
static const char prop_answers_sql[] =
	"SELECT 'Q' || c.label || '-' || q.p, 'Q' || c.label, md5(concat("
	" (SELECT string_agg(concat_ws(',', g.pillar, g.actions, g.not_started, g.on_track, g.at_risk,"
	"   g.delayed, g.completed, g.cancelled, g.percent_sum, g.stale, g.last_at, g.expected,"
	"   g.reported, g.on_time), ';' ORDER BY g.pillar) FROM progress_agg g"
	"   WHERE g.cycle = c.label AND g.period = q.p AND g.actions <> 0), '|',"
	" (SELECT string_agg(concat_ws(',', e.pillar, e.entity, e.expected, e.reported, e.on_time), ';'"
	"   ORDER BY e.pillar, e.entity) FROM entity_agg e"
	"   WHERE e.cycle = c.label AND e.period = q.p AND (e.expected <> 0 OR e.reported <> 0)), '|',"
	" (SELECT string_agg(s.pillar || ',' || s.action_id, ';' ORDER BY s.pillar, s.action_id)"
	"   FROM action_period_state s WHERE s.cycle = c.label AND s.period = q.p"
	"   AND s.expected AND NOT s.reported)))"
	" FROM cycle c JOIN workplan w ON w.id = c.workplan_id"
	" CROSS JOIN generate_series(w.start_year * 4, w.end_year * 4 + 3) AS q (p)"
	" ORDER BY c.label, q.p";

/* Is tag one of payload's space-separated tags? */
static bool prop_named(const char *payload, const char *tag)
{
	size_t n = strlen(tag);

	for (const char *s = payload; *s;) {
		size_t len = strcspn(s, " ");

		if (len == n && !memcmp(s, tag, n))
			return true;
		s += len + (s[len] == ' ');
	}
	return false;
}

/* A quarter of an action's cycle (lo..hi): before all of its updates, that
 * of one of them, after all of them, or any. */
static int prop_period(PGconn *c, long a, int lo, int hi)
{
	char sql[256];
	long n, min, max;
	PGresult *r;

	snprintf(sql, sizeof sql, "SELECT count(*), min(period_idx(period)), max(period_idx(period))"
		 " FROM status_update WHERE action_id = %ld", a);
	r = prop_exec(c, sql);
	n = atol(PQgetvalue(r, 0, 0));
	min = n ? atol(PQgetvalue(r, 0, 1)) : 0;
	max = n ? atol(PQgetvalue(r, 0, 2)) : 0;
	PQclear(r);
	switch (n ? prop_rand(4) : 3) {
	case 0:
		return min > lo ? lo + (int)prop_rand((unsigned)(min - lo)) : lo;
	case 1:
		snprintf(sql, sizeof sql, "SELECT period_idx(period) FROM status_update WHERE action_id = %ld"
			 " ORDER BY id OFFSET %u LIMIT 1", a, prop_rand((unsigned)n));
		return (int)prop_long(c, sql);
	case 2:
		return max < hi ? (int)max + 1 + (int)prop_rand((unsigned)(hi - max)) : hi;
	}
	return lo + (int)prop_rand((unsigned)(hi - lo + 1));
}

struct prop_action {
	long id;
	int lo, hi; /* its cycle's quarters */
};

/* A row of VALUES (action_id, period, status, percent_complete, narrative,
 * visibility, author_id, created_at) for a new update of action a: posted
 * from its quarter's first day to two months after the deadline, on the
 * deadline's last second or the next day's first, or at the time of an
 * update of the same quarter (a tie the id breaks). */
static void prop_row(PGconn *c, const struct prop_action *a, long author, int k, char *out, size_t size)
{
	static const char *const statuses[] = { "not_started", "on_track", "at_risk",
						"delayed", "completed", "cancelled" };
	int p = prop_period(c, a->id, a->lo, a->hi);
	const char *st = statuses[prop_rand(6)];
	int pc = !strcmp(st, "completed") ? 100 : !strcmp(st, "not_started") ? 0 : (int)prop_rand(100);
	char at[320];

	switch (prop_rand(6)) {
	case 0:
		snprintf(at, sizeof at, "(period_deadline(%d) + interval '23:59:59') AT TIME ZONE 'UTC'", p);
		break;
	case 1:
		snprintf(at, sizeof at, "(period_deadline(%d) + 1)::timestamp AT TIME ZONE 'UTC'", p);
		break;
	case 2:
		snprintf(at, sizeof at, "coalesce((SELECT max(created_at) FROM status_update"
			 " WHERE action_id = %ld AND period = period_text(%d)),"
			 " make_date(%d, %d, 1) AT TIME ZONE 'UTC')", a->id, p, p / 4, p % 4 * 3 + 1);
		break;
	default:
		snprintf(at, sizeof at, "(make_date(%d, %d, 1) + %u * interval '1 second') AT TIME ZONE 'UTC'",
			 p / 4, p % 4 * 3 + 1, prop_rand(150 * 86400));
	}
	snprintf(out, size, "(%ld, period_text(%d), '%s', %d, 'Property write %d.', 'internal', %ld, %s)",
		 a->id, p, st, pc, k, author, at);
}

/* The SQL of random write number k into sql. */
static void prop_write(PGconn *c, const struct prop_action *acts, int nacts, long author, int k,
		       char *sql, size_t size)
{
	unsigned kind = prop_rand(100);
	long a = acts[prop_rand((unsigned)nacts)].id, n, id = 0, same;
	char q[512];
	size_t len;

	if (kind >= 60 && kind < 75) {
		/* a co-chair's review: one update returned or approved (now and then several) */
		n = prop_long(c, "SELECT count(*) FROM status_update WHERE review_state = 'submitted'");
		if (n > 0) {
			const char *verdict = prop_rand(4) ? "returned" : "approved";
			unsigned rows = prop_rand(5) ? 1 : 2 + prop_rand(3);

			len = (size_t)snprintf(sql, size, "UPDATE status_update SET review_state = '%s',"
					       " review_comment = 'Property review.', reviewed_by = %ld,"
					       " reviewed_at = now() WHERE review_state = 'submitted' AND id IN (0",
					       verdict, author);
			/* several: of several actions, or of the same one as the one before */
			for (unsigned i = 0; i < rows; i++) {
				if (i > 0 && prop_rand(2)) {
					snprintf(q, sizeof q, "SELECT count(*) FROM status_update"
						 " WHERE review_state = 'submitted' AND action_id ="
						 " (SELECT action_id FROM status_update WHERE id = %ld)", id);
					same = prop_long(c, q);
					snprintf(q, sizeof q, "SELECT id FROM status_update"
						 " WHERE review_state = 'submitted' AND action_id ="
						 " (SELECT action_id FROM status_update WHERE id = %ld)"
						 " ORDER BY id OFFSET %u LIMIT 1", id, prop_rand((unsigned)same));
				} else {
					snprintf(q, sizeof q, "SELECT id FROM status_update"
						 " WHERE review_state = 'submitted' ORDER BY id OFFSET %u LIMIT 1",
						 prop_rand((unsigned)n));
				}
				id = prop_long(c, q);
				len += (size_t)snprintf(sql + len, size - len, ", %ld", id);
			}
			snprintf(sql + len, size - len, ")");
			return;
		}
	} else if (kind >= 75 && kind < 83) {
		snprintf(sql, size, "UPDATE action SET archived = NOT archived, version = version + 1,"
			 " updated_at = now() WHERE id = %ld", a);
		return;
	} else if (kind >= 83) {
		/* a lead removed, or one added after the others */
		snprintf(q, sizeof q, "SELECT count(*) FROM action_lead WHERE action_id = %ld", a);
		n = prop_long(c, q);
		if (n > 0 && prop_rand(2)) {
			snprintf(sql, size, "DELETE FROM action_lead WHERE action_id = %ld AND entity ="
				 " (SELECT entity FROM action_lead WHERE action_id = %ld ORDER BY position"
				 " OFFSET %u LIMIT 1)", a, a, prop_rand((unsigned)n));
		} else {
			snprintf(sql, size, "INSERT INTO action_lead (action_id, entity, position)"
				 " SELECT %ld, (SELECT code FROM entity WHERE code NOT IN (SELECT entity"
				 " FROM action_lead WHERE action_id = %ld) ORDER BY code OFFSET %u LIMIT 1),"
				 " coalesce(max(position), 0) + 1 FROM action_lead WHERE action_id = %ld",
				 a, a, prop_rand(4), a);
		}
		return;
	}
	/* updates posted: one, or several at several quarters, of one action
	 * (then the earliest counts) or several */
	n = kind >= 45 && kind < 60 ? 2 + prop_rand(4) : 1;
	len = (size_t)snprintf(sql, size, "INSERT INTO status_update (action_id, period, status,"
			       " percent_complete, narrative, visibility, author_id, created_at) VALUES ");
	for (long i = 0, j = prop_rand((unsigned)nacts); i < n; i++) {
		if (prop_rand(2))
			j = prop_rand((unsigned)nacts);
		prop_row(c, &acts[j], author, k, q, sizeof q);
		len += (size_t)snprintf(sql + len, size - len, "%s%s", i ? ", " : "", q);
	}
}

START_TEST(random_writes_keep_the_sums_exact_and_name_their_quarters)
{
	struct prop_action acts[128];
	char db[64], sql[4096];
	int nacts, changed = 0, unnamed = 0;
	PGresult *r, *before, *after;
	PGconn *c;
	long author;

	t_db_create(db, sizeof db, true);
	ck_assert_int_eq(t_admin(db, NULL, NULL, "demo", "--actions", "40", "--updates", "300", "--seed", "11", NULL), 0);
	c = PQconnectdb(t_conninfo(db));
	ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
	/* JIT would compile the digests' query at every call: 0.3 s each */
	PQclear(prop_exec(c, "SET jit = off"));
	r = prop_exec(c, "SELECT a.id, y.start_year * 4, y.end_year * 4 + 3 FROM action a"
		      " JOIN cycle y ON y.label = a.cycle ORDER BY a.id");
	nacts = PQntuples(r);
	ck_assert(nacts >= 40 && nacts <= 128);
	for (int i = 0; i < nacts; i++)
		acts[i] = (struct prop_action){ .id = atol(PQgetvalue(r, i, 0)),
						.lo = atoi(PQgetvalue(r, i, 1)),
						.hi = atoi(PQgetvalue(r, i, 2)) };
	PQclear(r);
	author = prop_long(c, "SELECT min(id) FROM member");
	ck_assert_int_gt(author, 0);
	before = prop_exec(c, prop_answers_sql);
	for (int k = 0; k < PROP_WRITES; k++) {
		const char *tags;
		long diff;

		prop_write(c, acts, nacts, author, k, sql, sizeof sql);
		PQclear(prop_exec(c, "BEGIN; SELECT set_config('workplan.cache_changed', '', false)"));
		PQclear(prop_exec(c, sql));
		r = prop_exec(c, "SELECT coalesce(current_setting('workplan.cache_changed', true), '')");
		PQclear(prop_exec(c, "COMMIT"));
		tags = PQgetvalue(r, 0, 0);
		diff = rebuild_diff(c);
		ck_assert_msg(diff == 0, "write %d: %ld rows of the sums differ from a rebuild after\n%s", k,
			      diff, sql);
		after = prop_exec(c, prop_answers_sql);
		ck_assert_int_eq(PQntuples(after), PQntuples(before));
		for (int i = 0; i < PQntuples(after); i++) {
			const char *q = PQgetvalue(after, i, 0);
			bool named = prop_named(tags, q) || prop_named(tags, PQgetvalue(after, i, 1)) ||
				     prop_named(tags, "C") || prop_named(tags, "*");

			if (strcmp(PQgetvalue(before, i, 2), PQgetvalue(after, i, 2))) {
				ck_assert_msg(named, "write %d changed %s without naming it (named: %s)\n%s", k,
					      q, tags, sql);
				changed++;
			} else if (!named) {
				unnamed++;
			}
		}
		PQclear(r);
		PQclear(before);
		before = after;
	}
	/* neither half holds vacuously */
	ck_assert_int_gt(changed, PROP_WRITES / 2);
	ck_assert_int_gt(unnamed, PROP_WRITES);
	PQclear(before);
	PQfinish(c);
}
END_TEST

/* One definition of an action's current update at a quarter (SQL
 * action_current): the newest by period, then by time of posting, then
 * by id; returned updates ignored; its public variant. The state rows
 * progress sums agree with it quarter by quarter. */
START_TEST(current_update_by_period_then_time_then_id)
{
	/* period, status, created_at, review state, visibility */
	static const char *const rows[][5] = {
		{ "2021-Q2", "on_track", "2021-07-01", "approved", "public" },
		{ "2021-Q2", "at_risk", "2021-07-05", "submitted", "internal" }, /* later in Q2 */
		{ "2021-Q1", "delayed", "2021-12-01", "approved", "public" },    /* posted late, for Q1 */
		{ "2021-Q3", "completed", "2021-10-02", "returned", "public" },  /* returned */
		{ "2021-Q4", "on_track", "2022-01-03", "submitted", "internal" }, /* a tie on time ... */
		{ "2021-Q4", "delayed", "2022-01-03", "submitted", "internal" },  /* ... the later id wins */
	};
	static const struct { const char *at, *current, *public; } want[] = {
		{ "2020-Q4", NULL, NULL },
		{ "2021-Q1", "delayed", "delayed" },
		{ "2021-Q2", "at_risk", "on_track" },
		{ "2021-Q3", "at_risk", "on_track" },
		{ "2021-Q4", "delayed", "on_track" },
		{ "2025-Q4", "delayed", "on_track" },
	};
	char db[64], sql[512], *v;
	long action;

	t_db_create(db, sizeof db, true);
	action = t_sql_long(db, "SELECT min(id) FROM action WHERE cycle = '2021'");
	free(t_sql(db, "INSERT INTO member (name, email, entity, role)"
		       " VALUES ('Lead', 'lead@who.int', 'WHO', 'lead')"));
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		snprintf(sql, sizeof sql,
			 "INSERT INTO status_update (action_id, period, status, percent_complete, narrative,"
			 " public_summary, visibility, author_id, created_at, review_state, reviewed_at)"
			 " SELECT %ld, '%s', '%s', %d, 'n', 's', '%s', m.id, '%s', '%s',"
			 " CASE WHEN '%s' <> 'submitted' THEN now() END FROM member m WHERE m.email = 'lead@who.int'",
			 action, rows[i][0], rows[i][1], strcmp(rows[i][1], "completed") ? 10 : 100,
			 rows[i][4], rows[i][2], rows[i][3], rows[i][3]);
		free(t_sql(db, sql));
	}
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		snprintf(sql, sizeof sql, "SELECT status FROM action_current(%ld, period_idx('%s'))", action,
			 want[i].at);
		v = t_sql(db, sql);
		ck_assert_msg(want[i].current ? v && !strcmp(v, want[i].current) : !v, "at %s: %s, want %s",
			      want[i].at, v ? v : "none", want[i].current ? want[i].current : "none");
		free(v);
		snprintf(sql, sizeof sql, "SELECT status FROM action_current(%ld, period_idx('%s'), true)",
			 action, want[i].at);
		v = t_sql(db, sql);
		ck_assert_msg(want[i].public ? v && !strcmp(v, want[i].public) : !v, "public at %s: %s",
			      want[i].at, v ? v : "none");
		free(v);
		if (strcmp(want[i].at, "2021-Q1") < 0)
			continue;
		snprintf(sql, sizeof sql, "SELECT status FROM action_period_state"
			 " WHERE action_id = %ld AND period = period_idx('%s')", action, want[i].at);
		v = t_sql(db, sql);
		ck_assert_msg(v && !strcmp(v, want[i].current), "state at %s: %s", want[i].at, v ? v : "none");
		free(v);
	}
	/* latest: whatever the period */
	snprintf(sql, sizeof sql, "SELECT status FROM action_current(%ld)", action);
	v = t_sql(db, sql);
	ck_assert_str_eq(v, "delayed");
	free(v);
	assert_sums_match_rebuild(db);
}
END_TEST

START_TEST(empty_history_and_defaults)
{
	char db[64], *token;
	struct server s;
	struct resp *r;
	json_t *totals;
	int p;

	t_db_create(db, sizeof db, true);
	token = t_member_token(db, "v@un.org", "viewer", "UNDP");
	t_server_start(&s, db);
	/* the seeded work plan, nothing reported yet */
	r = t_get(&s, "/v1/progress?as_of=2021-Q2", token);
	ck_assert_int_eq(r->status, 200);
	totals = json_object_get(r->json, "totals");
	ck_assert_int_eq(json_integer_value(json_object_get(totals, "actions")), 12);
	ck_assert_int_eq(json_integer_value(json_object_get(totals, "stale")), 12);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "pillars")), 8);
	ck_assert(json_is_null(json_object_get(json_array_get(json_object_get(r->json, "pillars"), 0), "last_update_at")));
	t_resp_free(r);
	ck_assert(period_parse("2021-Q2", &p));
	check_progress_at(&s, token, p, NULL);
	check_reporting_at(&s, token, p);
	/* the default quarter: now, or the plan's last once it ended */
	r = t_get(&s, "/v1/progress", token);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "as_of")), "2025-Q4");
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "cycle")), "2024-2025");
	t_resp_free(r);
	r = t_get(&s, "/v1/reporting?period=2021-Q3", token);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "deadline")), "2021-10-15");
	t_resp_free(r);
	r = t_get(&s, "/v1/progress/trend?to=2021-Q4", token);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 4);
	t_resp_free(r);
	t_server_stop(&s);
	free(token);
}
END_TEST

START_TEST(bad_quarters_and_cycles_are_422)
{
	static const struct { const char *path, *field; } cases[] = {
		{ "/v1/progress?as_of=2020-Q4", "as_of" },
		{ "/v1/progress?as_of=2027-Q1", "as_of" },
		{ "/v1/progress?as_of=2021-Q5", "as_of" },
		{ "/v1/progress?cycle=1999", "cycle" },
		{ "/v1/progress?as_of=2021-Q1&extra=1", "extra" },
		{ "/v1/progress/trend?from=2023-Q1&to=2022-Q1", "from" },
		{ "/v1/progress/trend?from=2019-Q1&to=2022-Q1", "from" },
		{ "/v1/progress/trend?pillar=9", "pillar" },
		{ "/v1/reporting?period=2026-Q1", "period" },
		{ "/v1/reporting?period=soon", "period" },
	};
	char db[64], *token;
	struct server s;

	t_db_create(db, sizeof db, true);
	token = t_member_token(db, "v@un.org", "viewer", "UNDP");
	t_server_start(&s, db);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct resp *r = t_get(&s, cases[i].path, token);
		json_t *e = json_array_get(json_object_get(r->json, "errors"), 0);

		t_assert_problem(r, 422, "validation");
		ck_assert_msg(e && !strcmp(json_string_value(json_object_get(e, "field")), cases[i].field),
			      "%s: %s", cases[i].path, r->body);
		t_resp_free(r);
	}
	{
		struct resp *r = t_get(&s, "/v1/progress", NULL);

		t_assert_problem(r, 401, "unauthorized");
		t_resp_free(r);
	}
	t_server_stop(&s);
	free(token);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("progress");
	TCase *tc = tcase_create("progress");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, endpoints_agree_with_recomputation_seed_1);
	tcase_add_test(tc, endpoints_agree_with_recomputation_seed_42_inactive_pillar);
	tcase_add_test(tc, endpoints_agree_with_recomputation_sparse_history);
	tcase_add_test(tc, demo_is_deterministic_for_a_seed);
	tcase_add_test(tc, live_changes_keep_the_sums_exact);
	tcase_add_test(tc, random_writes_keep_the_sums_exact_and_name_their_quarters);
	tcase_add_test(tc, current_update_by_period_then_time_then_id);
	tcase_add_test(tc, empty_history_and_defaults);
	tcase_add_test(tc, bad_quarters_and_cycles_are_422);
	suite_add_tcase(s, tc);
	return t_run(s);
}
