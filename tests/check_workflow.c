/* The work of a quarter, end to end over HTTP: reference reads and lists,
 * key actions (create, edit, archive), status updates posted by leads with
 * idempotency keys, reviews by co-chairs, the feed, the CSV export and the
 * audit trail. Every rejection is checked to change nothing. Every request
 * goes through Stoplight Prism's validating proxy, which judges each answer
 * by api/openapi.json: the document states what the server does. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct server api, srv; /* srv: Prism in front of api */
static char db[64];
static char *cochair, *who_lead, *unodc_lead, *dgc_lead, *viewer;

static void setup(void)
{
	t_db_create(db, sizeof db, true);
	cochair = t_member_token(db, "cochair@ohchr.org", "cochair", "OHCHR");
	who_lead = t_member_token(db, "focal@who.int", "lead", "WHO");
	unodc_lead = t_member_token(db, "focal@unodc.org", "lead", "UNODC");
	dgc_lead = t_member_token(db, "focal@un.org", "lead", "DGC");
	viewer = t_member_token(db, "staff@unicef.org", "viewer", "UNICEF");
	t_server_start(&api, db);
	t_prism_start(&srv, &api);
}

static void teardown(void)
{
	t_prism_stop(&srv);
	t_server_stop(&api);
	free(cochair);
	free(who_lead);
	free(unodc_lead);
	free(dgc_lead);
	free(viewer);
}

/* One request through Prism, which must find nothing wrong with the answer;
 * bad marks a request that breaks the document on purpose. */
static struct resp *http_(bool bad, const char *method, const char *path, const char *token,
			  const char *content_type, const char *body, size_t len, const char *header)
{
	struct resp *r = t_http(&srv, method, path, token, content_type, body, len, header);

	t_assert_no_violations(r, bad);
	return r;
}

static struct resp *http(const char *method, const char *path, const char *token,
			 const char *header)
{
	return http_(false, method, path, token, NULL, NULL, 0, header);
}

static struct resp *get(const char *path, const char *token)
{
	return http_(false, "GET", path, token, NULL, NULL, 0, NULL);
}

static struct resp *get_bad(const char *path, const char *token)
{
	return http_(true, "GET", path, token, NULL, NULL, 0, NULL);
}

static struct resp *send_(bool bad, const char *method, const char *path, const char *token,
			  const char *body, const char *header)
{
	return http_(bad, method, path, token, body ? "application/json" : NULL, body,
		     body ? strlen(body) : 0, header);
}

static struct resp *send(const char *method, const char *path, const char *token,
			 const char *body, const char *header)
{
	return send_(false, method, path, token, body, header);
}

static struct resp *send_bad(const char *method, const char *path, const char *token,
			     const char *body, const char *header)
{
	return send_(true, method, path, token, body, header);
}

static long rows(const char *sql)
{
	return t_sql_long(db, sql);
}

/* The id of the first seeded action of a pillar. */
static long action_of_pillar(int pillar)
{
	char sql[128];

	snprintf(sql, sizeof sql, "SELECT min(id) FROM action WHERE pillar = %d", pillar);
	return rows(sql);
}

static struct resp *post_update_(bool bad, const char *token, long action, const char *body,
				 const char *key)
{
	char path[64], h[256];

	snprintf(path, sizeof path, "/v1/actions/%ld/updates", action);
	if (key)
		snprintf(h, sizeof h, "Idempotency-Key: %s", key);
	return send_(bad, "POST", path, token, body, key ? h : NULL);
}

static struct resp *post_update(const char *token, long action, const char *body, const char *key)
{
	return post_update_(false, token, action, body, key);
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static long long num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* ---- reads and lists ---- */

START_TEST(reference_lists_show_the_network)
{
	struct resp *r = get("/v1/entities?limit=500", viewer);
	json_t *items = json_object_get(r->json, "items");

	ck_assert_int_eq(r->status, 200);
	ck_assert_int_eq(json_array_size(items), 23);
	t_resp_free(r);
	r = get("/v1/cochairs?year=2021", viewer);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 2);
	t_resp_free(r);
	r = get("/v1/cochairs?year=2023", viewer);
	items = json_object_get(r->json, "items");
	ck_assert_int_eq(json_array_size(items), 1);
	ck_assert_str_eq(str(json_array_get(items, 0), "entity"), "OHCHR");
	ck_assert_str_eq(str(json_array_get(items, 0), "kind"), "permanent");
	t_resp_free(r);
	r = get("/v1/cycles", viewer);
	items = json_object_get(r->json, "items");
	ck_assert_int_eq(json_array_size(items), 3);
	ck_assert_str_eq(str(json_array_get(items, 1), "label"), "2022-2023");
	t_resp_free(r);
	r = get("/v1/workplans", viewer);
	ck_assert_str_eq(str(json_array_get(json_object_get(r->json, "items"), 0), "title"),
			 "Network Work Plan 2021+");
	t_resp_free(r);
	r = get("/v1/events", viewer);
	ck_assert_str_eq(str(json_array_get(json_object_get(r->json, "items"), 0), "date"), "2021-09-21");
	t_resp_free(r);
	r = get("/v1/consultations", viewer);
	ck_assert_str_eq(str(json_array_get(json_object_get(r->json, "items"), 0), "subject_must_contain"),
			 "Work Plan");
	t_resp_free(r);
}
END_TEST

START_TEST(lists_page_with_limit_and_cursor)
{
	char path[128];
	const char *next;
	struct resp *r = get("/v1/entities?limit=10", viewer), *r2, *r3;
	json_t *seen = json_object();

	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 10);
	next = str(r->json, "next");
	ck_assert_ptr_nonnull(next);
	snprintf(path, sizeof path, "/v1/entities?limit=10&after=%s", next);
	r2 = get(path, viewer);
	ck_assert_int_eq(json_array_size(json_object_get(r2->json, "items")), 10);
	snprintf(path, sizeof path, "/v1/entities?limit=10&after=%s", str(r2->json, "next"));
	r3 = get(path, viewer);
	ck_assert_int_eq(json_array_size(json_object_get(r3->json, "items")), 3);
	ck_assert(json_is_null(json_object_get(r3->json, "next")));
	/* 23 distinct entities over the three pages */
	for (int p = 0; p < 3; p++) {
		json_t *items = json_object_get((p == 0 ? r : p == 1 ? r2 : r3)->json, "items");

		for (size_t i = 0; i < json_array_size(items); i++)
			json_object_set_new(seen, str(json_array_get(items, i), "code"), json_true());
	}
	ck_assert_int_eq(json_object_size(seen), 23);
	json_decref(seen);
	t_resp_free(r);
	t_resp_free(r2);
	t_resp_free(r3);
	r = get("/v1/actions", viewer);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 12);
	ck_assert(json_is_null(json_object_get(r->json, "next")));
	t_resp_free(r);
}
END_TEST

/* A cursor is good only for the list that made it: edited, forged or
 * taken to another list, it is a 422 naming after. */
START_TEST(cursors_are_bound_to_their_list)
{
	struct resp *r = get("/v1/entities?limit=5", viewer), *g;
	char path[256], forged[128];
	const char *next = str(r->json, "next"), *dot = strchr(next, '.');
	static const char *const lists[] = { "/v1/audit", "/v1/updates", "/v1/actions/1/updates" };

	ck_assert_ptr_nonnull(dot);
	for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
		snprintf(path, sizeof path, "%s?after=%s", lists[i], next);
		g = get(path, cochair);
		t_assert_problem(g, 422, "validation");
		ck_assert_str_eq(str(json_array_get(json_object_get(g->json, "errors"), 0), "field"), "after");
		t_resp_free(g);
	}
	/* the sort key changed, the MAC kept: "WHO" in base64url */
	snprintf(forged, sizeof forged, "V0hP%s", dot);
	snprintf(path, sizeof path, "/v1/entities?after=%s", forged);
	g = get(path, viewer);
	t_assert_problem(g, 422, "validation");
	t_resp_free(g);
	/* a bigint the database would have refused with its own words */
	g = get("/v1/updates?after=YWJj", viewer);
	t_assert_problem(g, 422, "validation");
	ck_assert_ptr_null(strstr(g->body, "bigint"));
	t_resp_free(g);
	/* the real one still works */
	snprintf(path, sizeof path, "/v1/entities?limit=5&after=%s", next);
	g = get(path, viewer);
	ck_assert_int_eq(g->status, 200);
	t_resp_free(g);
	t_resp_free(r);
}
END_TEST

/* Times are RFC 3339; what PostgreSQL would refuse in its own words is a
 * 422 naming the parameter. */
START_TEST(bad_times_are_422_naming_them_in_our_words)
{
	static const char *const bad[] = { "2024-01-01T00:00:00%2B99:00", "2024-13-01",
					   "2024-01-01T25:00:00Z", "2024-01-01T00:00:00",
					   "2024-01-01T00:00:00.Z", "2024-01-01%2000:00:00Z" };
	char path[128];

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct resp *g;

		snprintf(path, sizeof path, "/v1/updates?since=%s", bad[i]);
		g = get_bad(path, viewer);
		t_assert_problem(g, 422, "validation");
		ck_assert_str_eq(str(json_array_get(json_object_get(g->json, "errors"), 0), "field"), "since");
		ck_assert_ptr_null(strstr(g->body, "displacement"));
		t_resp_free(g);
	}
	{
		struct resp *g = get("/v1/updates?since=2024-01-01T00:00:00.5%2B14:00", viewer);

		ck_assert_int_eq(g->status, 200);
		t_resp_free(g);
	}
}
END_TEST

/* Every JSON answer in one form, judged by Python's parser rather than
 * ours (tests/tools/json_form.py): compact, UTF-8, times in UTC with Z,
 * means with one decimal. */
static void assert_json_form(const char *path, const char *token)
{
	struct resp *r = get(path, token);
	char file[256], cmd[512], out[4096];
	size_t n;
	FILE *f;
	int st;

	ck_assert_msg(r->status == 200, "%s: %ld", path, r->status);
	/* Prism judged that answer; the bytes judged here come straight from
	 * the api, since Prism sends its own serialisation of the JSON */
	t_resp_free(r);
	r = t_get(&api, path, token);
	ck_assert_msg(r->status == 200, "%s: %ld", path, r->status);
	snprintf(file, sizeof file, "%s/json-form.json", getenv("WORKPLAN_TEST_LOGDIR"));
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fwrite(r->body, 1, r->len, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "python3 tests/tools/json_form.py %s 2>&1", file);
	f = t_popen(cmd);
	n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	st = pclose(f);
	ck_assert_msg(st == 0, "%s: %s", path, out);
	t_resp_free(r);
}

START_TEST(every_answer_is_compact_json_with_utc_times)
{
	long action = action_of_pillar(6);
	struct resp *r = post_update(cochair, action,
		"{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":33,"
		"\"narrative\":\"Plateforme partagée : accès ouvert à tous les membres.\","
		"\"evidence\":[{\"title\":\"Site\",\"url\":\"https://example.org/hub\"}]}", NULL);
	char path[64];

	ck_assert_int_eq(r->status, 201);
	t_resp_free(r);
	r = post_update(cochair, action_of_pillar(1),
		"{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":34,"
		"\"narrative\":\"Modules drafted.\"}", NULL);
	t_resp_free(r);
	snprintf(path, sizeof path, "/v1/actions/%ld", action);
	assert_json_form(path, viewer);
	snprintf(path, sizeof path, "/v1/actions/%ld/updates", action);
	assert_json_form(path, viewer);
	assert_json_form("/v1/actions", viewer);
	assert_json_form("/v1/pillars", viewer);
	assert_json_form("/v1/pillars/6", viewer);
	assert_json_form("/v1/updates", viewer);
	assert_json_form("/v1/progress?as_of=2021-Q3", viewer);
	assert_json_form("/v1/progress/trend?from=2021-Q1&to=2021-Q4", viewer);
	assert_json_form("/v1/reporting?period=2021-Q3", viewer);
	assert_json_form("/v1/audit", cochair);
	assert_json_form("/v1/entities", viewer);
	assert_json_form("/v1/cochairs?year=2021", viewer);
	assert_json_form("/v1/consultations", viewer);
	assert_json_form("/v1/health", NULL);
}
END_TEST

START_TEST(bad_list_parameters_are_422_naming_them)
{
	static const struct { const char *path, *field; } cases[] = {
		{ "/v1/entities?limit=0", "limit" },
		{ "/v1/entities?limit=501", "limit" },
		{ "/v1/entities?limit=ten", "limit" },
		{ "/v1/entities?after=!!!", "after" },
		{ "/v1/entities?colour=red", "colour" },
		{ "/v1/actions?pillar=1&pillar=2", "pillar" },
		{ "/v1/actions?pillar=9", "pillar" },
		{ "/v1/actions?status=finished", "status" },
		{ "/v1/actions?year=twenty", "year" },
		{ "/v1/updates?period=2021-Q5", "period" },
		{ "/v1/updates?since=yesterday", "since" },
		{ "/v1/updates?review_state=lost", "review_state" },
		{ "/v1/cochairs?year=1", "year" },
		{ "/v1/export.csv", "period" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct resp *r = get_bad(cases[i].path, viewer);
		json_t *e = json_array_get(json_object_get(r->json, "errors"), 0);

		t_assert_problem(r, 422, "validation");
		ck_assert_msg(e && !strcmp(str(e, "field"), cases[i].field), "%s: %s", cases[i].path, r->body);
		t_resp_free(r);
	}
}
END_TEST

START_TEST(actions_filter_by_pillar_cycle_year_lead_status_and_text)
{
	static const struct { const char *query; int count; } cases[] = {
		{ "pillar=6", 3 },
		{ "pillar=7", 0 },
		{ "cycle=2021", 12 },
		{ "cycle=2022-2023", 0 },
		{ "year=2021&pillar=4", 2 },
		{ "lead=UNFPA", 2 },
		{ "lead=DGC&pillar=5", 2 },
		{ "lead=WFP", 0 },
		{ "status=not_started", 12 },
		{ "status=completed", 0 },
		{ "q=webinars", 1 },
		{ "q=Durban%20Declaration", 1 },
		{ "q=intersectionality", 2 },
		{ "q=%27%3B%20DROP%20TABLE%20action%3B%20--", 0 },
		{ "q=%25", 0 },
	};
	char path[256];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct resp *r;

		snprintf(path, sizeof path, "/v1/actions?%s", cases[i].query);
		r = get(path, viewer);
		ck_assert_msg(r->status == 200, "%s: %ld %s", path, r->status, r->body);
		ck_assert_msg((int)json_array_size(json_object_get(r->json, "items")) == cases[i].count,
			      "%s: %zu items, expected %d", path,
			      json_array_size(json_object_get(r->json, "items")), cases[i].count);
		t_resp_free(r);
	}
	ck_assert_int_eq(rows("SELECT count(*) FROM action"), 12);
}
END_TEST

START_TEST(one_action_has_latest_version_and_etag)
{
	char path[64], h[128], *etag;
	struct resp *r, *again;

	snprintf(path, sizeof path, "/v1/actions/%ld", action_of_pillar(2));
	r = get(path, viewer);
	ck_assert_int_eq(r->status, 200);
	ck_assert_int_eq(num(r->json, "pillar"), 2);
	ck_assert_str_eq(str(r->json, "cycle"), "2021");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r->json, "leads"), 0)), "UNODC");
	ck_assert(json_is_null(json_object_get(r->json, "latest")));
	ck_assert(json_is_string(json_object_get(r->json, "version")));
	etag = t_header(r, "ETag");
	snprintf(h, sizeof h, "If-None-Match: %s", etag);
	again = http("GET", path, viewer, h);
	ck_assert_int_eq(again->status, 304);
	t_resp_free(again);
	free(etag);
	t_resp_free(r);
	r = get("/v1/actions/999999", viewer);
	t_assert_problem(r, 404, "not-found");
	t_resp_free(r);
	r = get_bad("/v1/actions/abc", viewer);
	t_assert_problem(r, 404, "not-found");
	t_resp_free(r);
}
END_TEST

/* ---- key actions ---- */

START_TEST(cochair_creates_an_action_led_by_the_pillar_by_default)
{
	struct resp *r = send("POST", "/v1/actions", cochair,
			      "{\"pillar\":5,\"cycle\":\"2022-2023\",\"year\":2022,"
			      "\"title\":\"Campaign for the International Day for the Elimination of Racial Discrimination\","
			      "\"tags\":[\"21 March\"],\"due_date\":\"2022-03-21\"}", NULL);
	char *loc = t_header(r, "Location"), expect[64];
	struct resp *got;

	ck_assert_int_eq(r->status, 201);
	snprintf(expect, sizeof expect, "/v1/actions/%lld", num(r->json, "id"));
	ck_assert_str_eq(loc, expect);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r->json, "leads"), 0)), "DGC");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r->json, "leads"), 1)), "UNFPA");
	ck_assert_str_eq(str(r->json, "due_date"), "2022-03-21");
	got = get(loc, viewer);
	ck_assert_int_eq(got->status, 200);
	ck_assert_str_eq(str(got->json, "title"), str(r->json, "title"));
	t_resp_free(got);
	free(loc);
	t_resp_free(r);
	r = send("POST", "/v1/actions", cochair,
		 "{\"pillar\":1,\"cycle\":\"2024-2025\",\"year\":2025,\"title\":\"Joint guidance\","
		 "\"leads\":[\"WHO\",\"UNICEF\"]}", NULL);
	ck_assert_int_eq(r->status, 201);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "leads")), 2);
	t_resp_free(r);
}
END_TEST

START_TEST(rejected_action_writes_change_nothing)
{
	static const struct { const char *body; long status; const char *slug, *field; } cases[] = {
		{ "{\"pillar\":9,\"cycle\":\"2021\",\"year\":2021,\"title\":\"x\"}", 422, "validation", "pillar" },
		{ "{\"pillar\":1,\"cycle\":\"2030\",\"year\":2030,\"title\":\"x\"}", 422, "validation", "cycle" },
		{ "{\"pillar\":1,\"cycle\":\"2021\",\"year\":2022,\"title\":\"x\"}", 422, "validation", "year" },
		{ "{\"pillar\":1,\"cycle\":\"2021\",\"year\":2021,\"title\":\"x\",\"leads\":[\"NOPE\"]}", 422, "validation", "leads" },
		{ "{\"pillar\":1,\"cycle\":\"2021\",\"year\":2021,\"title\":\"x\",\"leads\":[\"WHO\",\"WHO\"]}", 422, "validation", "leads" },
		{ "{\"pillar\":1,\"cycle\":\"2021\",\"year\":2021}", 422, "validation", "title" },
		{ "{\"pillar\":\"1\",\"cycle\":\"2021\",\"year\":2021,\"title\":\"x\"}", 422, "validation", "pillar" },
		{ "{\"pillar\":1,\"cycle\":\"2021\",\"year\":2021,\"title\":\"x\",\"owner\":\"me\"}", 422, "validation", "owner" },
		{ "{\"pillar\":1,\"cycle\":\"2021\",\"year\":2021,\"title\":\"x\",\"due_date\":\"2021-02-30\"}", 422, "validation", "due_date" },
		{ "{\"pillar\":1,", 400, "malformed-json", NULL },
	};
	long before = rows("SELECT count(*) FROM action"), audit = rows("SELECT count(*) FROM audit");

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		/* what is not JSON goes straight to the api: Prism cannot parse it to forward it */
		struct resp *r = cases[i].status == 400
			? t_http(&api, "POST", "/v1/actions", cochair, "application/json", cases[i].body,
				 strlen(cases[i].body), NULL)
			: send_bad("POST", "/v1/actions", cochair, cases[i].body, NULL);

		t_assert_problem(r, cases[i].status, cases[i].slug);
		if (cases[i].field)
			ck_assert_msg(!strcmp(str(json_array_get(json_object_get(r->json, "errors"), 0), "field"),
					      cases[i].field), "%s: %s", cases[i].body, r->body);
		t_resp_free(r);
	}
	for (int i = 0; i < 3; i++) {
		const char *token = i == 0 ? who_lead : i == 1 ? viewer : NULL;
		struct resp *r = send_(!token, "POST", "/v1/actions", token,
				      "{\"pillar\":1,\"cycle\":\"2021\",\"year\":2021,\"title\":\"x\"}", NULL);

		t_assert_problem(r, token ? 403 : 401, token ? "forbidden" : "unauthorized");
		t_resp_free(r);
	}
	ck_assert_int_eq(rows("SELECT count(*) FROM action"), before);
	ck_assert_int_eq(rows("SELECT count(*) FROM audit"), audit);
}
END_TEST

START_TEST(editing_an_action_needs_its_current_version)
{
	long id = action_of_pillar(4);
	char path[64], *etag, h[128];
	struct resp *r, *p;

	snprintf(path, sizeof path, "/v1/actions/%ld", id);
	r = get(path, viewer);
	etag = t_header(r, "ETag");
	t_resp_free(r);
	p = send_bad("PATCH", path, cochair, "{\"title\":\"Guidance note\"}", NULL);
	t_assert_problem(p, 428, "precondition-required");
	t_resp_free(p);
	p = send("PATCH", path, cochair, "{\"title\":\"Guidance note\"}", "If-Match: \"99\"");
	t_assert_problem(p, 412, "precondition-failed");
	t_resp_free(p);
	snprintf(h, sizeof h, "If-Match: %s", etag);
	p = send("PATCH", path, cochair, "{\"title\":\"Guidance note on intersectionality\",\"tags\":[\"guidance\"],\"leads\":[\"UNAIDS\",\"UNWOMEN\"]}", h);
	ck_assert_int_eq(p->status, 200);
	ck_assert_str_eq(str(p->json, "title"), "Guidance note on intersectionality");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(p->json, "leads"), 1)), "UNWOMEN");
	ck_assert_str_ne(str(p->json, "version"), "1");
	t_resp_free(p);
	/* the old ETag is stale now */
	p = send("PATCH", path, cochair, "{\"title\":\"Again\"}", h);
	t_assert_problem(p, 412, "precondition-failed");
	t_resp_free(p);
	p = send("PATCH", path, who_lead, "{\"title\":\"Mine\"}", "If-Match: *");
	t_assert_problem(p, 403, "forbidden");
	t_resp_free(p);
	ck_assert_int_eq(rows("SELECT count(*) FROM audit WHERE table_name = 'action' AND op = 'UPDATE'"
			      " AND actor LIKE 'member:%'"), 1);
	free(etag);
}
END_TEST

START_TEST(archived_actions_leave_lists_and_take_no_updates)
{
	struct resp *r = send("POST", "/v1/actions", cochair,
			      "{\"pillar\":6,\"cycle\":\"2021\",\"year\":2021,\"title\":\"Pilot webinar series\"}", NULL);
	long id = num(r->json, "id");
	char path[64], h[64];
	struct resp *d;

	t_resp_free(r);
	snprintf(path, sizeof path, "/v1/actions/%ld", id);
	d = send_bad("DELETE", path, cochair, NULL, NULL);
	t_assert_problem(d, 428, "precondition-required");
	t_resp_free(d);
	snprintf(h, sizeof h, "If-Match: \"1\"");
	d = send("DELETE", path, cochair, NULL, h);
	ck_assert_int_eq(d->status, 200);
	ck_assert(json_is_true(json_object_get(d->json, "archived")));
	t_resp_free(d);
	/* still there, never deleted */
	ck_assert_int_eq(rows("SELECT count(*) FROM action WHERE archived"), 1);
	r = get("/v1/actions?pillar=6", viewer);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 3);
	t_resp_free(r);
	r = get("/v1/actions?pillar=6&archived=true", viewer);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 1);
	t_resp_free(r);
	r = post_update(cochair, id, "{\"period\":\"2021-Q4\",\"status\":\"on_track\",\"percent_complete\":10,\"narrative\":\"Planned.\"}", NULL);
	t_assert_problem(r, 409, "conflict");
	t_resp_free(r);
	/* and it can be restored */
	d = send("PATCH", path, cochair, "{\"archived\":false}", "If-Match: *");
	ck_assert_int_eq(d->status, 200);
	ck_assert(json_is_false(json_object_get(d->json, "archived")));
	t_resp_free(d);
}
END_TEST

/* ---- status updates ---- */

START_TEST(lead_posts_an_update_on_its_own_action)
{
	long id = action_of_pillar(1);
	struct resp *r = post_update(who_lead, id,
				     "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":40,"
				     "\"narrative\":\"Module one is online in English and French.\","
				     "\"visibility\":\"public\",\"public_summary\":\"The first module is online.\","
				     "\"evidence\":[{\"title\":\"Course page\",\"url\":\"https://www.who.int/course\"}]}",
				     NULL);
	char *loc = t_header(r, "Location");
	struct resp *got;
	char path[64];

	ck_assert_int_eq(r->status, 201);
	ck_assert_str_eq(str(r->json, "period"), "2021-Q3");
	ck_assert_str_eq(str(r->json, "review_state"), "submitted");
	ck_assert_str_eq(str(json_object_get(r->json, "author"), "entity"), "WHO");
	ck_assert_int_eq(str(r->json, "created_at")[strlen(str(r->json, "created_at")) - 1], 'Z');
	got = get(loc, viewer);
	ck_assert_int_eq(got->status, 200);
	ck_assert_int_eq(num(got->json, "id"), num(r->json, "id"));
	t_resp_free(got);
	snprintf(path, sizeof path, "/v1/actions/%ld", id);
	got = get(path, viewer);
	ck_assert_int_eq(num(json_object_get(got->json, "latest"), "id"), num(r->json, "id"));
	t_resp_free(got);
	free(loc);
	t_resp_free(r);
}
END_TEST

START_TEST(leads_never_write_to_other_pillars)
{
	/* each lead against one action of every active pillar with actions */
	static const struct { int pillar; const char *entity; } leads_of[] = {
		{ 1, "WHO" }, { 2, "UNODC" }, { 5, "DGC" },
	};
	const char *tokens[] = { who_lead, unodc_lead, dgc_lead };
	long before = rows("SELECT count(*) FROM status_update");
	int created = 0;

	for (int l = 0; l < 3; l++) {
		for (int pillar = 1; pillar <= 6; pillar++) {
			struct resp *r = post_update(tokens[l], action_of_pillar(pillar),
				"{\"period\":\"2021-Q2\",\"status\":\"at_risk\",\"percent_complete\":5,\"narrative\":\"Matrix.\"}",
				NULL);

			if (pillar == leads_of[l].pillar) {
				ck_assert_msg(r->status == 201, "%s on pillar %d: %ld", leads_of[l].entity, pillar, r->status);
				created++;
			} else {
				t_assert_problem(r, 403, "forbidden");
			}
			t_resp_free(r);
		}
	}
	ck_assert_int_eq(rows("SELECT count(*) FROM status_update"), before + created);
	/* co-chairs report anywhere; viewers nowhere */
	{
		struct resp *r = post_update(cochair, action_of_pillar(3),
			"{\"period\":\"2021-Q2\",\"status\":\"on_track\",\"percent_complete\":20,\"narrative\":\"Co-chair note.\"}", NULL);

		ck_assert_int_eq(r->status, 201);
		t_resp_free(r);
		r = post_update(viewer, action_of_pillar(3),
			"{\"period\":\"2021-Q2\",\"status\":\"on_track\",\"percent_complete\":20,\"narrative\":\"x\"}", NULL);
		t_assert_problem(r, 403, "forbidden");
		t_resp_free(r);
		r = post_update_(true, NULL, action_of_pillar(3),
			"{\"period\":\"2021-Q2\",\"status\":\"on_track\",\"percent_complete\":20,\"narrative\":\"x\"}", NULL);
		t_assert_problem(r, 401, "unauthorized");
		t_resp_free(r);
		r = post_update(who_lead, 999999,
			"{\"period\":\"2021-Q2\",\"status\":\"on_track\",\"percent_complete\":20,\"narrative\":\"x\"}", NULL);
		t_assert_problem(r, 404, "not-found");
		t_resp_free(r);
	}
}
END_TEST

/* n words of w, or n Chinese characters when w is NULL, into out. */
static void words(char *out, size_t size, int n, const char *w)
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < n && len + 8 < size; i++)
		len += (size_t)snprintf(out + len, size - len, w ? "%s%s" : "%s网", w && i ? " " : "", w ? w : "");
}

START_TEST(every_invalid_update_is_refused_and_writes_nothing)
{
	static char body[20000], text[16000];
	static const struct { const char *body, *field; } cases[] = {
		{ "{\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"x\"}", "period" },
		{ "{\"period\":\"2021-Q3\",\"percent_complete\":1,\"narrative\":\"x\"}", "status" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"narrative\":\"x\"}", "percent_complete" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":1}", "narrative" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"done\",\"percent_complete\":1,\"narrative\":\"x\"}", "status" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":101,\"narrative\":\"x\"}", "percent_complete" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":-1,\"narrative\":\"x\"}", "percent_complete" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":\"40\",\"narrative\":\"x\"}", "percent_complete" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":100,\"narrative\":\"x\"}", "percent_complete" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"completed\",\"percent_complete\":90,\"narrative\":\"x\"}", "percent_complete" },
		{ "{\"period\":\"2021Q3\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"x\"}", "period" },
		{ "{\"period\":\"2020-Q4\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"x\"}", "period" },
		{ "{\"period\":\"2027-Q1\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"x\"}", "period" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"x\",\"visibility\":\"public\"}", "public_summary" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"x\",\"visibility\":\"secret\"}", "visibility" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"x\",\"evidence\":[{\"title\":\"a\",\"url\":\"javascript:alert(1)\"}]}", "evidence[0].url" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"x\",\"evidence\":[{\"title\":\"a\",\"url\":\"ftp://un.org/x\"}]}", "evidence[0].url" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"bell \\u0007\"}", "narrative" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"x\",\"author\":\"someone else\"}", "author" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"x\",\"review_state\":\"approved\"}", "review_state" },
	};
	long action = action_of_pillar(1), before = rows("SELECT count(*) FROM status_update");
	struct resp *r;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r = post_update_(true, who_lead, action, cases[i].body, NULL);
		t_assert_problem(r, 422, "validation");
		ck_assert_msg(!strcmp(str(json_array_get(json_object_get(r->json, "errors"), 0), "field"),
				      cases[i].field), "%s: %s", cases[i].body, r->body);
		t_resp_free(r);
	}
	/* word limits, as a reader counts words, in Latin and Chinese script */
	words(text, sizeof text, 301, "word");
	snprintf(body, sizeof body, "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"%s\"}", text);
	r = post_update_(true, who_lead, action, body, NULL);
	t_assert_problem(r, 422, "validation");
	t_resp_free(r);
	words(text, sizeof text, 301, NULL);
	snprintf(body, sizeof body, "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"%s\"}", text);
	r = post_update_(true, who_lead, action, body, NULL);
	t_assert_problem(r, 422, "validation");
	t_resp_free(r);
	words(text, sizeof text, 101, "mot");
	snprintf(body, sizeof body, "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"x\",\"visibility\":\"public\",\"public_summary\":\"%s\"}", text);
	r = post_update_(true, who_lead, action, body, NULL);
	t_assert_problem(r, 422, "validation");
	t_resp_free(r);
	/* not JSON, not UTF-8 (straight to the api: Prism would decode the
	 * bytes and send its own JSON), not JSON media type */
	r = t_http(&api, "POST", "/v1/actions/1/updates", who_lead, "application/json", "{\"narrative\":\"\xc3\x28\"}", 17, NULL);
	t_assert_problem(r, 400, "malformed-json");
	t_resp_free(r);
	r = http_(true, "POST", "/v1/actions/1/updates", who_lead, "application/x-www-form-urlencoded", "period=2021-Q3", 14, NULL);
	t_assert_problem(r, 415, "unsupported-media-type");
	t_resp_free(r);
	/* deep nesting: within the parser's depth, a field of the wrong type;
	 * deeper (10 000 levels, 20 KB), not JSON we take; neither crashes */
	{
		static char deep[20200];
		size_t n = 0;

		n += (size_t)snprintf(deep, sizeof deep, "{\"period\":\"2021-Q3\",\"status\":\"on_track\","
				      "\"percent_complete\":1,\"narrative\":\"x\",\"evidence\":");
		for (int d = 0; d < 64; d++)
			deep[n++] = '[';
		for (int d = 0; d < 64; d++)
			deep[n++] = ']';
		deep[n++] = '}';
		r = post_update_(true, who_lead, action, deep, NULL);
		t_assert_problem(r, 422, "validation");
		ck_assert_str_eq(str(json_array_get(json_object_get(r->json, "errors"), 0), "field"),
				 "evidence[0]");
		t_resp_free(r);
		for (n = 0; n < 10000; n++)
			deep[n] = '[';
		for (; n < 20000; n++)
			deep[n] = ']';
		/* straight to the API: Prism's own parser fails on this (500) */
		r = t_http(&api, "POST", "/v1/actions/1/updates", who_lead, "application/json", deep,
			   20000, NULL);
		t_assert_problem(r, 400, "malformed-json");
		t_resp_free(r);
	}
	/* a huge body: 1 MB, refused by its Content-Length, and sent chunked */
	{
		size_t big = 1 << 20;
		char *huge = malloc(big);

		memset(huge, ' ', big);
		memcpy(huge, "{\"narrative\":\"", 14);
		memset(huge + 14, 'a', big - 16);
		memcpy(huge + big - 2, "\"}", 2);
		/* straight to the API: Prism would frame them its own way */
		r = t_http(&api, "POST", "/v1/actions/1/updates", who_lead, "application/json", huge,
			   big, NULL);
		t_assert_problem(r, 413, "payload-too-large");
		t_resp_free(r);
		r = t_http(&api, "POST", "/v1/actions/1/updates", who_lead, "application/json", huge,
			   big, "Transfer-Encoding: chunked");
		t_assert_problem(r, 413, "payload-too-large");
		t_resp_free(r);
		free(huge);
	}
	/* and the server is still here */
	r = t_get(&srv, "/v1/health", NULL);
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	ck_assert_int_eq(rows("SELECT count(*) FROM status_update"), before);
	/* exactly at the limits is fine */
	words(text, sizeof text, 300, "word");
	snprintf(body, sizeof body, "{\"period\":\"2021-Q3\",\"status\":\"completed\",\"percent_complete\":100,\"narrative\":\"%s\"}", text);
	r = post_update(who_lead, action, body, NULL);
	ck_assert_int_eq(r->status, 201);
	t_resp_free(r);
}
END_TEST

START_TEST(idempotency_key_replays_the_same_answer_once)
{
	const char *body = "{\"period\":\"2021-Q4\",\"status\":\"on_track\",\"percent_complete\":60,\"narrative\":\"Second module drafted.\"}";
	long action = action_of_pillar(2), before = rows("SELECT count(*) FROM status_update");
	struct resp *a = post_update(unodc_lead, action, body, "q4-unodc-1");
	struct resp *b = post_update(unodc_lead, action, body, "q4-unodc-1");
	char *la = t_header(a, "Location"), *lb = t_header(b, "Location");

	ck_assert_int_eq(a->status, 201);
	ck_assert_int_eq(b->status, 201);
	ck_assert_str_eq(a->body, b->body);
	ck_assert_str_eq(la, lb);
	ck_assert_int_eq(rows("SELECT count(*) FROM status_update"), before + 1);
	t_resp_free(b);
	b = post_update(unodc_lead, action,
			"{\"period\":\"2021-Q4\",\"status\":\"on_track\",\"percent_complete\":65,\"narrative\":\"Second module drafted.\"}",
			"q4-unodc-1");
	t_assert_problem(b, 409, "conflict");
	t_resp_free(b);
	ck_assert_int_eq(rows("SELECT count(*) FROM status_update"), before + 1);
	/* keys belong to one member: another caller's same key is another request */
	b = post_update(cochair, action, body, "q4-unodc-1");
	ck_assert_int_eq(b->status, 201);
	ck_assert_int_eq(rows("SELECT count(*) FROM status_update"), before + 2);
	free(la);
	free(lb);
	t_resp_free(a);
	t_resp_free(b);
}
END_TEST

/* A key answers only the request it first answered: the same key and body
 * on another action (or one the caller may not write, or none) is 409,
 * never the first action's update, and stores nothing. */
/* What the review found accepted: URIs outside RFC 3986, bidirectional
 * controls in one-line text, blank text, words joined by hyphens past
 * the limit, a period outside the action's cycle, a charset other than
 * UTF-8. Each is a 422 (or 415) naming its field, and writes nothing. */
#define U2 "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"x\"," \
	"\"evidence\":[{\"title\":\"a\",\"url\":\"https://[::1]:8443/caf%C3%A9/a;b=c?q=(1)&r=@x#top\"}]}"

START_TEST(precise_refusals_name_their_field_and_write_nothing)
{
	static char body[8000], joined[4000];
	static const struct { const char *body, *field; } cases[] = {
#define U(url) "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"x\",\"evidence\":[{\"title\":\"a\",\"url\":\"" url "\"}]}"
		{ U("http://example.org/caf\u00e9"), "evidence[0].url" },
		{ U("http://example.org/a|b"), "evidence[0].url" },
		{ U("http://example.org/{x}"), "evidence[0].url" },
		{ U("http://example.org/%zz"), "evidence[0].url" },
		{ U("http://user:pass@example.org/"), "evidence[0].url" },
		{ U("http://example.org:99999/"), "evidence[0].url" },
		{ U("http:///path"), "evidence[0].url" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"x\","
		  "\"evidence\":[{\"title\":\"report\u202egnp.exe\",\"url\":\"https://un.org/\"}]}", "evidence[0].title" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\" \\n\\t \\u3000\"}", "narrative" },
		{ "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"x\","
		  "\"visibility\":\"public\",\"public_summary\":\"   \"}", "public_summary" },
		{ "{\"period\":\"2022-Q1\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"x\"}", "period" },
#undef U
	};
	long action = action_of_pillar(1), before = rows("SELECT count(*) FROM status_update");
	struct resp *r;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r = post_update_(true, who_lead, action, cases[i].body, NULL);
		t_assert_problem(r, 422, "validation");
		ck_assert_msg(!strcmp(str(json_array_get(json_object_get(r->json, "errors"), 0), "field"),
				      cases[i].field), "%s: %s", cases[i].body, r->body);
		t_resp_free(r);
	}
	/* one "word" of 2 800 characters: within 300 words, past the characters */
	for (size_t i = 0; i < 2800; i += 4)
		memcpy(joined + i, "aaa-", 4);
	joined[2799] = 'a';
	joined[2800] = '\0';
	snprintf(body, sizeof body, "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":1,\"narrative\":\"%s\"}", joined);
	r = post_update_(true, who_lead, action, body, NULL);
	t_assert_problem(r, 422, "validation");
	ck_assert_str_eq(str(json_array_get(json_object_get(r->json, "errors"), 0), "field"), "narrative");
	t_resp_free(r);
	/* a body in another charset */
	r = t_http(&srv, "POST", "/v1/actions/1/updates", who_lead, "application/json; charset=iso-8859-1",
		   "{}", 2, NULL);
	t_assert_problem(r, 415, "unsupported-media-type");
	t_resp_free(r);
	ck_assert_int_eq(rows("SELECT count(*) FROM status_update"), before);
	/* what RFC 3986 allows, and UTF-8 said so */
	r = t_http(&srv, "POST", "/v1/actions/1/updates", who_lead, "application/json; charset=UTF-8",
		   U2, strlen(U2), NULL);
	ck_assert_msg(r->status == 201, "%s", r->body);
	t_assert_no_violations(r, false);
	t_resp_free(r);
	/* the export takes only a quarter of the plan */
	r = get_bad("/v1/export.csv?period=2030-Q1", viewer);
	t_assert_problem(r, 422, "validation");
	t_resp_free(r);
	r = get_bad("/v1/export.csv?period=2019-Q4", viewer);
	t_assert_problem(r, 422, "validation");
	t_resp_free(r);
}
END_TEST

/* PATCH {} changes nothing: no new version, no audit row; an archived
 * key action takes only its restoration. */
START_TEST(empty_patches_change_nothing_and_archived_actions_only_restore)
{
	long action = action_of_pillar(3), audit = rows("SELECT count(*) FROM audit");
	char path[64], *etag;
	struct resp *r;

	snprintf(path, sizeof path, "/v1/actions/%ld", action);
	r = t_get(&srv, path, cochair);
	etag = t_header(r, "ETag");
	t_resp_free(r);
	r = send_bad("PATCH", path, cochair, "{}", NULL);
	t_assert_problem(r, 428, "precondition-required");
	t_resp_free(r);
	{
		char h[128];

		snprintf(h, sizeof h, "If-Match: %s", etag);
		r = send("PATCH", path, cochair, "{}", h);
		ck_assert_int_eq(r->status, 200);
		ck_assert_str_eq(str(r->json, "version"), "1");
		t_resp_free(r);
		r = send("PATCH", "/v1/pillars/3", cochair, "{}", "If-Match: \"1\"");
		ck_assert_int_eq(r->status, 200);
		ck_assert_str_eq(str(r->json, "version"), "1");
		t_resp_free(r);
		ck_assert_int_eq(rows("SELECT count(*) FROM audit"), audit);
		/* archived, it takes no other change */
		r = send("DELETE", path, cochair, NULL, h);
		ck_assert_int_eq(r->status, 200);
		ck_assert_str_eq(str(r->json, "version"), "2");
		t_resp_free(r);
		r = send("PATCH", path, cochair, "{\"title\":\"Renamed while archived\"}", "If-Match: \"2\"");
		t_assert_problem(r, 409, "conflict");
		t_resp_free(r);
		r = send("PATCH", path, cochair, "{\"archived\":false}", "If-Match: \"2\"");
		ck_assert_int_eq(r->status, 200);
		ck_assert(json_is_false(json_object_get(r->json, "archived")));
		ck_assert_str_eq(str(r->json, "version"), "3");
		t_resp_free(r);
	}
	free(etag);
}
END_TEST

START_TEST(idempotency_key_is_bound_to_its_path)
{
	const char *body = "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":20,\"narrative\":\"Outline shared.\"}";
	long first = action_of_pillar(1), before = rows("SELECT count(*) FROM status_update");
	long second;
	char sql[160];
	struct resp *a = post_update(who_lead, first, body, "bound-1"), *b;

	snprintf(sql, sizeof sql, "SELECT min(id) FROM action WHERE pillar = 1 AND id <> %ld", first);
	second = rows(sql);
	ck_assert_int_eq(a->status, 201);
	b = post_update(who_lead, second, body, "bound-1");
	t_assert_problem(b, 409, "conflict");
	t_resp_free(b);
	/* an action of another pillar, and one that does not exist */
	b = post_update(who_lead, action_of_pillar(2), body, "bound-1");
	t_assert_problem(b, 409, "conflict");
	t_resp_free(b);
	b = post_update(who_lead, 999999, body, "bound-1");
	t_assert_problem(b, 409, "conflict");
	t_resp_free(b);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM status_update WHERE action_id = %ld", second);
	ck_assert_int_eq(rows(sql), 0);
	ck_assert_int_eq(rows("SELECT count(*) FROM status_update"), before + 1);
	/* the identical request is still answered by replay */
	b = post_update(who_lead, first, body, "bound-1");
	ck_assert_int_eq(b->status, 201);
	ck_assert_str_eq(a->body, b->body);
	t_resp_free(a);
	t_resp_free(b);
}
END_TEST

START_TEST(concurrent_retries_with_one_key_store_one_update)
{
	const char *body = "{\"period\":\"2021-Q1\",\"status\":\"delayed\",\"percent_complete\":15,\"narrative\":\"Waiting for translation.\"}";
	long action = action_of_pillar(5), before = rows("SELECT count(*) FROM status_update");
	pid_t kids[6];
	int status, out[6];
	char answer[6][4096], sql[128];

	/* each child writes what it got (status, Location, body) to a pipe;
	 * nothing that asserts runs in a child (see harness.c) */
	for (int i = 0; i < 6; i++) {
		int p[2];

		ck_assert_int_eq(pipe(p), 0);
		kids[i] = fork();
		if (kids[i] == 0) {
			/* no check calls in a child: what it got goes to the pipe,
			 * and whether Prism found it true to the document */
			char path[64], *loc, *v;
			struct resp *r;

			snprintf(path, sizeof path, "/v1/actions/%ld/updates", action);
			r = t_http(&srv, "POST", path, dgc_lead, "application/json", body, strlen(body),
				   "Idempotency-Key: burst-1");
			loc = t_header(r, "Location");
			v = t_header(r, "sl-violations");
			dprintf(p[1], "%ld %s %s", r->status, loc ? loc : "-", r->body ? r->body : "");
			_exit(!v && !r->headers_cut ? 0 : 1);
		}
		close(p[1]);
		out[i] = p[0];
	}
	for (int i = 0; i < 6; i++) {
		ssize_t n, len = 0;

		while ((n = read(out[i], answer[i] + len, sizeof answer[i] - 1 - len)) > 0)
			len += n;
		answer[i][len] = '\0';
		close(out[i]);
		waitpid(kids[i], &status, 0);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "a retry was not answered 201 true to the document");
	}
	/* one update stored; every answer is its 201, byte for byte */
	ck_assert_int_eq(rows("SELECT count(*) FROM status_update"), before + 1);
	snprintf(sql, sizeof sql, "SELECT max(id) FROM status_update WHERE action_id = %ld", action);
	{
		char expected[64];
		long id = rows(sql);

		json_t *j;

		snprintf(expected, sizeof expected, "201 /v1/updates/%ld ", id);
		for (int i = 0; i < 6; i++) {
			ck_assert_msg(!strncmp(answer[i], expected, strlen(expected)), "answer %d: %s",
				      i, answer[i]);
			ck_assert_str_eq(answer[i], answer[0]);
		}
		j = json_loads(answer[0] + strlen(expected), 0, NULL);
		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(num(j, "id"), id);
		ck_assert_str_eq(str(j, "narrative"), "Waiting for translation.");
		json_decref(j);
	}
}
END_TEST

START_TEST(cochairs_review_once_and_returned_updates_stop_counting)
{
	long action = action_of_pillar(4);
	struct resp *first = post_update(cochair, action,
		"{\"period\":\"2021-Q2\",\"status\":\"on_track\",\"percent_complete\":30,\"narrative\":\"Draft outline agreed.\"}", NULL);
	struct resp *second = post_update(cochair, action,
		"{\"period\":\"2021-Q3\",\"status\":\"at_risk\",\"percent_complete\":35,\"narrative\":\"Consultant contract delayed.\"}", NULL);
	char path[64], apath[64];
	struct resp *r;

	snprintf(path, sizeof path, "/v1/updates/%lld/review", num(second->json, "id"));
	snprintf(apath, sizeof apath, "/v1/actions/%ld", action);
	r = send("POST", path, who_lead, "{\"decision\":\"approve\"}", NULL);
	t_assert_problem(r, 403, "forbidden");
	t_resp_free(r);
	r = send_bad("POST", path, cochair, "{\"decision\":\"return\"}", NULL);
	t_assert_problem(r, 422, "validation");
	t_resp_free(r);
	r = send_bad("POST", path, cochair, "{\"decision\":\"maybe\"}", NULL);
	t_assert_problem(r, 422, "validation");
	t_resp_free(r);
	r = send("POST", path, cochair, "{\"decision\":\"return\",\"comment\":\"Please say what the new date is.\"}", NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(str(r->json, "review_state"), "returned");
	ck_assert_str_eq(str(r->json, "review_comment"), "Please say what the new date is.");
	t_resp_free(r);
	r = send("POST", path, cochair, "{\"decision\":\"approve\"}", NULL);
	t_assert_problem(r, 409, "conflict");
	t_resp_free(r);
	r = send("POST", "/v1/updates/999999/review", cochair, "{\"decision\":\"approve\"}", NULL);
	t_assert_problem(r, 404, "not-found");
	t_resp_free(r);
	/* the returned Q3 update no longer counts: latest is the Q2 one */
	r = get(apath, viewer);
	ck_assert_int_eq(num(json_object_get(r->json, "latest"), "id"), num(first->json, "id"));
	t_resp_free(r);
	r = get("/v1/actions?status=on_track&pillar=4", viewer);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 1);
	t_resp_free(r);
	ck_assert_int_eq(rows("SELECT count(*) FROM audit WHERE table_name = 'status_update'"
			      " AND after->>'review_state' = 'returned'"), 1);
	t_resp_free(first);
	t_resp_free(second);
}
END_TEST

START_TEST(history_is_newest_first_and_the_feed_filters)
{
	long action = action_of_pillar(6);
	char path[96];
	struct resp *r;
	json_t *items;

	for (int q = 1; q <= 3; q++) {
		char body[200];

		snprintf(body, sizeof body, "{\"period\":\"2021-Q%d\",\"status\":\"on_track\",\"percent_complete\":%d,\"narrative\":\"Quarter %d.\"}",
			 q, q * 20, q);
		r = post_update(cochair, action, body, NULL);
		ck_assert_int_eq(r->status, 201);
		t_resp_free(r);
	}
	snprintf(path, sizeof path, "/v1/actions/%ld/updates?limit=2", action);
	r = get(path, viewer);
	items = json_object_get(r->json, "items");
	ck_assert_int_eq(json_array_size(items), 2);
	ck_assert_str_eq(str(json_array_get(items, 0), "period"), "2021-Q3");
	ck_assert_str_eq(str(json_array_get(items, 1), "period"), "2021-Q2");
	ck_assert_ptr_nonnull(str(r->json, "next"));
	t_resp_free(r);
	r = get("/v1/actions/999999/updates", viewer);
	t_assert_problem(r, 404, "not-found");
	t_resp_free(r);
	r = get("/v1/updates?period=2021-Q2&pillar=6", viewer);
	items = json_object_get(r->json, "items");
	ck_assert_int_eq(json_array_size(items), 1);
	ck_assert_int_eq(num(json_array_get(items, 0), "percent_complete"), 40);
	t_resp_free(r);
	r = get("/v1/updates?since=2999-01-01", viewer);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 0);
	t_resp_free(r);
	r = get("/v1/updates?since=2000-01-01T00:00:00Z&review_state=submitted&pillar=6", viewer);
	ck_assert_int_ge(json_array_size(json_object_get(r->json, "items")), 3);
	t_resp_free(r);
}
END_TEST

START_TEST(export_is_rfc4180_csv_safe_for_spreadsheets)
{
	long action = action_of_pillar(3);
	struct resp *r = post_update(cochair, action,
		"{\"period\":\"2021-Q1\",\"status\":\"on_track\",\"percent_complete\":10,"
		"\"narrative\":\"=HYPERLINK(\\\"http://evil\\\")\\nsecond line, with \\\"quotes\\\"\"}", NULL);
	char *ct, *cd;

	ck_assert_int_eq(r->status, 201);
	t_resp_free(r);
	r = get("/v1/export.csv?period=2021-Q1", viewer);
	ck_assert_int_eq(r->status, 200);
	ct = t_header(r, "Content-Type");
	cd = t_header(r, "Content-Disposition");
	ck_assert_ptr_nonnull(strstr(ct, "text/csv"));
	ck_assert_ptr_nonnull(strstr(cd, "updates-2021-Q1.csv"));
	ck_assert(!strncmp(r->body, "update_id,action_id,pillar,", 27));
	ck_assert_ptr_nonnull(strstr(r->body, "\r\n"));
	/* quoted, quotes doubled, formula disarmed, newline kept inside quotes */
	ck_assert_ptr_nonnull(strstr(r->body, ",\"'=HYPERLINK(\"\"http://evil\"\")\nsecond line, with \"\"quotes\"\"\","));
	free(ct);
	free(cd);
	t_resp_free(r);
}
END_TEST

START_TEST(audit_trail_is_for_cochairs)
{
	struct resp *r = get("/v1/audit?limit=500", cochair);
	json_t *items = json_object_get(r->json, "items");
	bool seed = false;

	ck_assert_int_eq(r->status, 200);
	ck_assert_int_gt(json_array_size(items), 20);
	for (size_t i = 0; i < json_array_size(items); i++)
		seed |= !strcmp(str(json_array_get(items, i), "actor"), "seed");
	ck_assert(seed);
	t_resp_free(r);
	r = get("/v1/audit", who_lead);
	t_assert_problem(r, 403, "forbidden");
	t_resp_free(r);
	r = get("/v1/audit", viewer);
	t_assert_problem(r, 403, "forbidden");
	t_resp_free(r);
	r = get("/v1/audit?since=2999-01-01T00:00:00Z", cochair);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 0);
	t_resp_free(r);
}
END_TEST

/* ---- what any answer may be, judged by Prism ---- */

/* The public documents honour If-None-Match like every GET; /metrics
 * changes with each request it counts, so its tag moves on. */
START_TEST(public_documents_answer_304_to_their_etag)
{
	static const char *const paths[] = { "/v1/health", "/v1/openapi.json", "/metrics" };

	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
		struct resp *r = get(paths[i], NULL), *again;
		char *etag = t_header(r, "ETag"), *cc = t_header(r, "Cache-Control"), h[128];

		ck_assert_msg(r->status == 200 && etag, "%s: %ld", paths[i], r->status);
		ck_assert_str_eq(cc, "no-cache");
		snprintf(h, sizeof h, "If-None-Match: %s", etag);
		again = http("GET", paths[i], NULL, h);
		if (strcmp(paths[i], "/metrics")) {
			ck_assert_msg(again->status == 304, "%s: %ld", paths[i], again->status);
			ck_assert_uint_eq(again->len, 0);
		} else {
			char *now = t_header(again, "ETag");

			ck_assert_int_eq(again->status, 200);
			ck_assert_str_ne(now, etag);
			free(now);
		}
		free(etag);
		free(cc);
		t_resp_free(again);
		t_resp_free(r);
	}
}
END_TEST

/* What a write of an action or a pillar answers carries the new state's
 * ETag, the same a GET gives, and the next edit sends it as If-Match. */
START_TEST(writes_answer_the_etag_the_next_edit_sends)
{
	struct resp *r = send("POST", "/v1/actions", cochair,
			      "{\"pillar\":3,\"cycle\":\"2024-2025\",\"year\":2025,\"title\":\"Regional dialogue\"}",
			      NULL);
	char path[64], h[128], *tag = t_header(r, "ETag"), *got, *cc;
	struct resp *g;

	ck_assert_int_eq(r->status, 201);
	ck_assert_ptr_nonnull(tag);
	cc = t_header(r, "Cache-Control");
	ck_assert_str_eq(cc, "private, no-cache");
	free(cc);
	snprintf(path, sizeof path, "/v1/actions/%lld", num(r->json, "id"));
	t_resp_free(r);
	for (int step = 0; step < 3; step++) {
		static const char *const bodies[] = { "{\"title\":\"Regional dialogues\"}", NULL,
						      "{\"archived\":false}" };

		snprintf(h, sizeof h, "If-Match: %s", tag);
		r = send(step == 1 ? "DELETE" : "PATCH", path, cochair, bodies[step], h);
		ck_assert_msg(r->status == 200, "step %d: %ld %s", step, r->status, r->body);
		free(tag);
		tag = t_header(r, "ETag");
		ck_assert_ptr_nonnull(tag);
		t_resp_free(r);
		g = get(path, viewer);
		got = t_header(g, "ETag");
		ck_assert_str_eq(got, tag);
		free(got);
		t_resp_free(g);
	}
	free(tag);
	g = get("/v1/pillars/3", viewer);
	tag = t_header(g, "ETag");
	snprintf(h, sizeof h, "If-Match: %s", tag);
	free(tag);
	{
		char body[512];

		snprintf(body, sizeof body, "{\"name\":\"%s\"}", str(g->json, "name"));
		r = send("PATCH", "/v1/pillars/3", cochair, body, h);
	}
	t_resp_free(g);
	ck_assert_int_eq(r->status, 200);
	tag = t_header(r, "ETag");
	t_resp_free(r);
	g = get("/v1/pillars/3", viewer);
	got = t_header(g, "ETag");
	ck_assert_str_eq(got, tag);
	free(got);
	free(tag);
	t_resp_free(g);
}
END_TEST

/* Refused before routing, and still an answer the document states. */
START_TEST(an_overlong_target_is_414)
{
	static char path[8400];
	struct resp *r;
	int n = snprintf(path, sizeof path, "/v1/actions/");

	memset(path + n, '1', sizeof path - n - 1);
	r = get_bad(path, viewer);
	t_assert_problem(r, 414, "uri-too-long");
	t_resp_free(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("workflow");
	TCase *tc = tcase_create("workflow");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reference_lists_show_the_network);
	tcase_add_test(tc, lists_page_with_limit_and_cursor);
	tcase_add_test(tc, bad_list_parameters_are_422_naming_them);
	tcase_add_test(tc, actions_filter_by_pillar_cycle_year_lead_status_and_text);
	tcase_add_test(tc, one_action_has_latest_version_and_etag);
	tcase_add_test(tc, cochair_creates_an_action_led_by_the_pillar_by_default);
	tcase_add_test(tc, rejected_action_writes_change_nothing);
	tcase_add_test(tc, editing_an_action_needs_its_current_version);
	tcase_add_test(tc, archived_actions_leave_lists_and_take_no_updates);
	tcase_add_test(tc, lead_posts_an_update_on_its_own_action);
	tcase_add_test(tc, leads_never_write_to_other_pillars);
	tcase_add_test(tc, every_invalid_update_is_refused_and_writes_nothing);
	tcase_add_test(tc, idempotency_key_replays_the_same_answer_once);
	tcase_add_test(tc, idempotency_key_is_bound_to_its_path);
	tcase_add_test(tc, precise_refusals_name_their_field_and_write_nothing);
	tcase_add_test(tc, empty_patches_change_nothing_and_archived_actions_only_restore);
	tcase_add_test(tc, cursors_are_bound_to_their_list);
	tcase_add_test(tc, bad_times_are_422_naming_them_in_our_words);
	tcase_add_test(tc, every_answer_is_compact_json_with_utc_times);
	tcase_add_test(tc, concurrent_retries_with_one_key_store_one_update);
	tcase_add_test(tc, cochairs_review_once_and_returned_updates_stop_counting);
	tcase_add_test(tc, history_is_newest_first_and_the_feed_filters);
	tcase_add_test(tc, export_is_rfc4180_csv_safe_for_spreadsheets);
	tcase_add_test(tc, audit_trail_is_for_cochairs);
	tcase_add_test(tc, public_documents_answer_304_to_their_etag);
	tcase_add_test(tc, an_overlong_target_is_414);
	/* last: it adds an action */
	tcase_add_test(tc, writes_answer_the_etag_the_next_edit_sends);
	suite_add_tcase(s, tc);
	return t_run(s);
}
