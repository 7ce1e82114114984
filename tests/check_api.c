/* workplan-api end to end: the real binary over HTTP against a real
 * database. Health, authentication and roles, pillars, caching headers,
 * the problem responses of the skeleton, metrics, draining on SIGTERM, and
 * recovery from a PostgreSQL outage. */
#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct server srv;
static char db[64];
static char *cochair, *lead, *viewer;

static void setup(void)
{
	t_db_create(db, sizeof db, true);
	cochair = t_member_token(db, "cochair@ohchr.org", "cochair", "OHCHR");
	lead = t_member_token(db, "lead@who.int", "lead", "WHO");
	viewer = t_member_token(db, "viewer@unicef.org", "viewer", "UNICEF");
	t_server_start(&srv, db);
}

static void teardown(void)
{
	t_server_stop(&srv);
	free(cochair);
	free(lead);
	free(viewer);
}

static struct resp *patch(const char *path, const char *token, const char *if_match,
			  const char *body)
{
	char h[128] = "";

	if (if_match)
		snprintf(h, sizeof h, "If-Match: %s", if_match);
	return t_http(&srv, "PATCH", path, token, "application/json", body, strlen(body),
		      if_match ? h : NULL);
}

START_TEST(health_is_public_and_reports_the_database)
{
	struct resp *r = t_get(&srv, "/v1/health", NULL);

	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "ok");
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "database")), "ok");
	t_resp_free(r);
}
END_TEST

START_TEST(member_routes_need_a_valid_token)
{
	struct resp *r = t_get(&srv, "/v1/pillars", NULL);
	char *h = t_header(r, "WWW-Authenticate");

	t_assert_problem(r, 401, "unauthorized");
	ck_assert_str_eq(h, "Bearer");
	free(h);
	t_resp_free(r);
	r = t_get(&srv, "/v1/pillars", "wpt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	t_assert_problem(r, 401, "unauthorized");
	t_resp_free(r);
	r = t_http(&srv, "GET", "/v1/pillars", NULL, NULL, NULL, 0, "Authorization: Basic dXNlcjpwYXNz");
	t_assert_problem(r, 401, "unauthorized");
	t_resp_free(r);
}
END_TEST

START_TEST(revoked_token_is_refused)
{
	char *token = t_member_token(db, "gone@undp.org", "viewer", "UNDP"), *out;
	struct resp *r = t_get(&srv, "/v1/pillars", token);
	char id[32];

	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	snprintf(id, sizeof id, "%ld", t_sql_long(db, "SELECT t.id FROM api_token t JOIN member m"
						  " ON m.id = t.member_id WHERE m.email = 'gone@undp.org'"));
	ck_assert_int_eq(t_admin(db, &out, NULL, "token", "revoke", "--id", id, NULL), 0);
	free(out);
	/* revoked in another process: refused as soon as its notification
	 * reaches the API's cache (docs/security.md, API2) */
	r = t_get_until(&srv, "/v1/pillars", token, 401, 3000);
	ck_assert_msg(r != NULL, "the revoked token still works after 3 s");
	t_assert_problem(r, 401, "unauthorized");
	t_resp_free(r);
	free(token);
}
END_TEST

START_TEST(pillars_list_the_work_plan_with_leads)
{
	struct resp *r = t_get(&srv, "/v1/pillars", viewer);
	json_t *items = json_object_get(r->json, "items"), *p5, *p6, *p7;

	ck_assert_int_eq(r->status, 200);
	ck_assert_int_eq(json_array_size(items), 8);
	ck_assert(json_is_null(json_object_get(r->json, "next")));
	p5 = json_array_get(items, 4);
	p6 = json_array_get(items, 5);
	p7 = json_array_get(items, 6);
	ck_assert_int_eq(json_integer_value(json_object_get(p5, "number")), 5);
	ck_assert_str_eq(json_string_value(json_object_get(p5, "name")), "Communications");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(p5, "leads"), 0)), "DGC");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(p5, "leads"), 1)), "UNFPA");
	/* the seed's key actions are of cycle 2021: counted in actions; by_status
	 * counts the current cycle's (check_progress compares it with progress) */
	ck_assert_int_eq(json_integer_value(json_object_get(p6, "actions")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(p6, "by_status"),
							    "not_started")), 0);
	ck_assert_str_eq(json_string_value(json_object_get(p7, "status")), "inactive");
	ck_assert_int_eq(json_array_size(json_object_get(p7, "leads")), 0);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(p7, "inactive_reason")),
				     "Task Force on Addressing Racism"));
	t_resp_free(r);
	r = t_get(&srv, "/v1/pillars?limit=5", viewer);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 5);
	{
		char path[128];
		struct resp *rest;

		snprintf(path, sizeof path, "/v1/pillars?after=%s",
			 json_string_value(json_object_get(r->json, "next")));
		rest = t_get(&srv, path, viewer);
		ck_assert_int_eq(json_array_size(json_object_get(rest->json, "items")), 3);
		ck_assert_int_eq(json_integer_value(json_object_get(
					 json_array_get(json_object_get(rest->json, "items"), 0), "number")), 6);
		t_resp_free(rest);
	}
	t_resp_free(r);
	r = t_get(&srv, "/v1/pillars/8", lead);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "name")), "Network Development");
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "leads")), 2);
	t_resp_free(r);
}
END_TEST

/* Under /v1 (outside it, the web app answers: tests/check_web.c). */
START_TEST(unknown_pillars_and_paths_are_404)
{
	static const char *const paths[] = { "/v1/pillars/0", "/v1/pillars/9", "/v1/pillars/x",
					     "/v1/pillars/1x", "/v1/pillars/01", "/v1/nothing",
					     "/v1/pillars/1/2", "/v1/" };

	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		struct resp *r = t_get(&srv, paths[i], viewer);

		t_assert_problem(r, 404, "not-found");
		t_resp_free(r);
	}
}
END_TEST

START_TEST(wrong_method_is_405_with_allow)
{
	struct resp *r = t_http(&srv, "DELETE", "/v1/pillars/1", cochair, NULL, NULL, 0, NULL);
	char *allow = t_header(r, "Allow");

	t_assert_problem(r, 405, "method-not-allowed");
	ck_assert_str_eq(allow, "GET, PATCH");
	free(allow);
	t_resp_free(r);
	r = t_http(&srv, "TRACE", "/v1/health", NULL, NULL, NULL, 0, NULL);
	t_assert_problem(r, 405, "method-not-allowed");
	t_resp_free(r);
}
END_TEST

START_TEST(get_has_a_strong_etag_and_honours_if_none_match)
{
	struct resp *r = t_get(&srv, "/v1/pillars", viewer), *again;
	char *etag = t_header(r, "ETag"), h[128];

	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_nonnull(etag);
	ck_assert(etag[0] == '"');
	snprintf(h, sizeof h, "If-None-Match: %s", etag);
	again = t_http(&srv, "GET", "/v1/pillars", viewer, NULL, NULL, 0, h);
	ck_assert_int_eq(again->status, 304);
	ck_assert_uint_eq(again->len, 0);
	t_resp_free(again);
	again = t_http(&srv, "GET", "/v1/pillars", viewer, NULL, NULL, 0, "If-None-Match: \"other\"");
	ck_assert_int_eq(again->status, 200);
	t_resp_free(again);
	free(etag);
	t_resp_free(r);
}
END_TEST

START_TEST(cochair_edits_a_pillar_with_if_match)
{
	struct resp *r = t_get(&srv, "/v1/pillars/4", viewer), *p;
	char *etag = t_header(r, "ETag");
	long audit_before = t_sql_long(db, "SELECT count(*) FROM audit");

	t_resp_free(r);
	p = patch("/v1/pillars/4", cochair, etag, "{\"leads\":[\"UNAIDS\",\"UNWOMEN\"]}");
	ck_assert_int_eq(p->status, 200);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(p->json, "leads"), 1)),
			 "UNWOMEN");
	ck_assert_str_eq(json_string_value(json_object_get(p->json, "version")), "2");
	t_resp_free(p);
	/* the same ETag is now stale */
	p = patch("/v1/pillars/4", cochair, etag, "{\"name\":\"Intersectionality!\"}");
	t_assert_problem(p, 412, "precondition-failed");
	t_resp_free(p);
	/* the version works as If-Match too */
	p = patch("/v1/pillars/4", cochair, "\"2\"", "{\"status\":\"inactive\",\"inactive_reason\":\"Paused for review\"}");
	ck_assert_int_eq(p->status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(p->json, "status")), "inactive");
	t_resp_free(p);
	p = patch("/v1/pillars/4", cochair, "\"3\"", "{\"status\":\"active\"}");
	ck_assert_int_eq(p->status, 200);
	ck_assert(json_is_null(json_object_get(p->json, "inactive_reason")));
	t_resp_free(p);
	ck_assert_int_gt(t_sql_long(db, "SELECT count(*) FROM audit"), audit_before);
	ck_assert_int_gt(t_sql_long(db, "SELECT count(*) FROM audit WHERE table_name = 'pillar'"
				    " AND actor LIKE 'member:%'"), 0);
	free(etag);
}
END_TEST

/* If-Match compares strongly (RFC 9110 13.1.1): a weak tag is never a
 * match, even of the current version; the bare version works as the
 * README shows it. */
START_TEST(if_match_is_strong_and_takes_the_bare_version)
{
	struct resp *r = t_get(&srv, "/v1/pillars/6", viewer), *p;
	char *etag = t_header(r, "ETag"), weak[64];
	const char *version = json_string_value(json_object_get(r->json, "version"));
	char bare[32];

	snprintf(weak, sizeof weak, "W/%s", etag);
	snprintf(bare, sizeof bare, "%s", version);
	t_resp_free(r);
	p = patch("/v1/pillars/6", cochair, weak, "{\"name\":\"Knowledge Hub\"}");
	t_assert_problem(p, 412, "precondition-failed");
	t_resp_free(p);
	p = patch("/v1/pillars/6", cochair, "W/\"1\"", "{\"name\":\"Knowledge Hub\"}");
	t_assert_problem(p, 412, "precondition-failed");
	t_resp_free(p);
	p = patch("/v1/pillars/6", cochair, bare, "{\"name\":\"Knowledge Hub (shared)\"}");
	ck_assert_int_eq(p->status, 200);
	t_resp_free(p);
	free(etag);
}
END_TEST

/* The pillar and its leads, to prove a rejection changed nothing. */
static char *pillar_state(int n)
{
	char sql[256];

	snprintf(sql, sizeof sql, "SELECT p::text || (SELECT string_agg(entity, ',') FROM pillar_lead"
		 " WHERE pillar = p.number) FROM pillar p WHERE number = %d", n);
	return t_sql(db, sql);
}

static void assert_unchanged_after(struct resp *r, const char *before, long status,
				   const char *slug)
{
	char *after = pillar_state(1);

	t_assert_problem(r, status, slug);
	ck_assert_str_eq(after, before);
	free(after);
	t_resp_free(r);
}

START_TEST(rejected_pillar_edits_change_nothing)
{
	char *before = pillar_state(1), big[70000];
	struct resp *r;

	assert_unchanged_after(patch("/v1/pillars/1", lead, "*", "{\"name\":\"Mine\"}"), before, 403, "forbidden");
	assert_unchanged_after(patch("/v1/pillars/1", viewer, "*", "{\"name\":\"Mine\"}"), before, 403, "forbidden");
	assert_unchanged_after(patch("/v1/pillars/1", NULL, "*", "{\"name\":\"Mine\"}"), before, 401, "unauthorized");
	assert_unchanged_after(patch("/v1/pillars/1", cochair, NULL, "{\"name\":\"X\"}"), before, 428, "precondition-required");
	assert_unchanged_after(patch("/v1/pillars/1", cochair, "*", "{\"name\":"), before, 400, "malformed-json");
	assert_unchanged_after(patch("/v1/pillars/1", cochair, "*", "{\"name\":\"a\",\"name\":\"b\"}"), before, 400, "malformed-json");
	assert_unchanged_after(patch("/v1/pillars/1", cochair, "*", "[1,2]"), before, 422, "validation");
	assert_unchanged_after(patch("/v1/pillars/1", cochair, "*", "{\"name\":\"\"}"), before, 422, "validation");
	assert_unchanged_after(patch("/v1/pillars/1", cochair, "*", "{\"name\":7}"), before, 422, "validation");
	assert_unchanged_after(patch("/v1/pillars/1", cochair, "*", "{\"name\":\"x'); DROP TABLE pillar; --\",\"colour\":\"red\"}"), before, 422, "validation");
	assert_unchanged_after(patch("/v1/pillars/1", cochair, "*", "{\"status\":\"paused\"}"), before, 422, "validation");
	assert_unchanged_after(patch("/v1/pillars/1", cochair, "*", "{\"status\":\"inactive\"}"), before, 422, "validation");
	assert_unchanged_after(patch("/v1/pillars/1", cochair, "*", "{\"name\":\"New name\",\"leads\":[\"WHO\",\"NOPE\"]}"), before, 422, "validation");
	assert_unchanged_after(patch("/v1/pillars/1", cochair, "*", "{\"leads\":[\"WHO\",\"WHO\"]}"), before, 422, "validation");
	assert_unchanged_after(patch("/v1/pillars/1", cochair, "*", "{\"name\":\"bad \\u0001 char\"}"), before, 422, "validation");
	r = t_http(&srv, "PATCH", "/v1/pillars/1", cochair, "application/json", "{\"name\":\"\xff\xfe\"}", 12, "If-Match: *");
	assert_unchanged_after(r, before, 400, "malformed-json");
	r = t_http(&srv, "PATCH", "/v1/pillars/1", cochair, "text/plain", "{\"name\":\"X\"}", 12, "If-Match: *");
	assert_unchanged_after(r, before, 415, "unsupported-media-type");
	memset(big, ' ', sizeof big);
	memcpy(big, "{\"name\":\"X\"}", 12);
	r = t_http(&srv, "PATCH", "/v1/pillars/1", cochair, "application/json", big, sizeof big, "If-Match: *");
	assert_unchanged_after(r, before, 413, "payload-too-large");
	r = t_http(&srv, "PATCH", "/v1/pillars/1", cochair, "application/json", big, sizeof big,
		   "Transfer-Encoding: chunked");
	assert_unchanged_after(r, before, 413, "payload-too-large");
	free(before);
}
END_TEST

START_TEST(validation_errors_name_every_field)
{
	struct resp *r = patch("/v1/pillars/2", cochair, "*", "{\"name\":1,\"status\":\"x\",\"owner\":\"me\"}");
	json_t *errors = json_object_get(r->json, "errors");
	char fields[128] = "";

	t_assert_problem(r, 422, "validation");
	for (size_t i = 0; i < json_array_size(errors); i++) {
		strcat(fields, json_string_value(json_object_get(json_array_get(errors, i), "field")));
		strcat(fields, ",");
	}
	ck_assert_str_eq(fields, "owner,name,status,");
	t_resp_free(r);
}
END_TEST

START_TEST(metrics_count_requests_on_loopback)
{
	struct resp *r;

	t_resp_free(t_get(&srv, "/v1/health", NULL));
	r = t_get(&srv, "/metrics", NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "workplan_http_requests_total{route=\"GET /v1/health\",status=\"200\"}"));
	ck_assert_ptr_nonnull(strstr(r->body, "workplan_http_request_duration_seconds_bucket{route=\"GET /v1/health\",le=\"+Inf\"}"));
	ck_assert_ptr_nonnull(strstr(r->body, "workplan_db_connections_open"));
	ck_assert_ptr_nonnull(strstr(r->body, "workplan_db_connections_in_use"));
	ck_assert_ptr_nonnull(strstr(r->body, "status=\"404\""));
	t_resp_free(r);
}
END_TEST

/* An IPv4 address of this machine other than 127/8, or false. */
static bool own_address(char *out, size_t n)
{
	struct ifaddrs *ifs, *i;
	bool found = false;

	ck_assert_int_eq(getifaddrs(&ifs), 0);
	for (i = ifs; i && !found; i = i->ifa_next) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)i->ifa_addr;

		if (a && a->sin_family == AF_INET && (ntohl(a->sin_addr.s_addr) >> 24) != 127)
			found = inet_ntop(AF_INET, &a->sin_addr, out, (socklen_t)n) != NULL;
	}
	freeifaddrs(ifs);
	return found;
}

/* One request on a raw connection from and to address a; the status. */
static int status_from(const struct server *s, const char *a, const char *path)
{
	char req[256], buf[8192];
	bool closed;
	int fd = t_connect(s, a, a);

	ck_assert_msg(fd >= 0, "cannot connect to %s:%d", a, s->port);
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
	ck_assert(send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req));
	t_recv(fd, buf, sizeof buf, 5000, &closed);
	close(fd);
	if (strstr(buf, "\"/problems/forbidden\""))
		ck_assert_ptr_nonnull(strstr(buf, "loopback"));
	return atoi(buf + 9);
}

/* /metrics answers loopback callers only. The API listens on every
 * address and is called through this machine's own non-loopback address
 * (the connection comes from that address too). */
START_TEST(metrics_are_refused_off_loopback)
{
	char a[INET_ADDRSTRLEN], listen[64];
	const char *env[] = { listen, NULL };
	struct server s = { .faults = false };

	ck_assert_msg(own_address(a, sizeof a), "this machine has no IPv4 address but 127/8:"
		      " the test cannot call from off loopback");
	snprintf(s.dbname, sizeof s.dbname, "%s", db);
	s.port = t_free_port();
	snprintf(listen, sizeof listen, "WORKPLAN_LISTEN=0.0.0.0:%d", s.port);
	t_server_restart(&s, env);
	ck_assert_int_eq(status_from(&s, a, "/metrics"), 403);
	/* the route's rule, not the address: other routes answer there */
	ck_assert_int_eq(status_from(&s, a, "/v1/health"), 200);
	ck_assert_int_eq(status_from(&s, "127.0.0.1", "/metrics"), 200);
	printf("metrics: 403 from %s, 200 from 127.0.0.1\n", a);
	t_server_stop(&s);
}
END_TEST

/* Every answer carries X-Content-Type-Options: nosniff: reads, cached
 * reads, 304s, problems, refusals decided from the headers alone, CSV. */
START_TEST(every_answer_says_nosniff)
{
	struct resp *r[9];
	char *etag, inm[128];
	char big[70000];

	memset(big, ' ', sizeof big);
	r[0] = t_get(&srv, "/v1/pillars", viewer);
	r[1] = t_get(&srv, "/v1/pillars", viewer); /* from the cache */
	etag = t_header(r[0], "ETag");
	snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
	free(etag);
	r[2] = t_http(&srv, "GET", "/v1/pillars", viewer, NULL, NULL, 0, inm);
	r[3] = t_get(&srv, "/v1/nothing", viewer);
	r[4] = t_get(&srv, "/v1/pillars", NULL);
	r[5] = t_http(&srv, "TRACE", "/v1/pillars", viewer, NULL, NULL, 0, NULL);
	r[6] = t_http(&srv, "PATCH", "/v1/pillars/1", cochair, "application/json", big, sizeof big,
		      "If-Match: *");
	r[7] = t_get(&srv, "/v1/export.csv?period=2021-Q3", viewer);
	r[8] = t_get(&srv, "/v1/health", NULL);
	ck_assert_int_eq(r[2]->status, 304);
	ck_assert_int_eq(r[6]->status, 413);
	for (size_t i = 0; i < 9; i++) {
		char *v = t_header(r[i], "X-Content-Type-Options");

		ck_assert_msg(v && !strcmp(v, "nosniff"), "answer %zu (%ld) lacks nosniff:\n%s", i,
			      r[i]->status, r[i]->headers);
		free(v);
		t_resp_free(r[i]);
	}
}
END_TEST

/* A failure that is our bug is a 500 problem that says only that: no SQL,
 * no database message, no file or line, no function name. Those go to
 * the log, with file and line. The database here lost a function the
 * API calls. */
START_TEST(internal_errors_are_a_generic_500)
{
	/* a bug must answer here, not abort as tests otherwise make it */
	static const char *const env[] = { "WORKPLAN_ABORT_ON_BUG", "WORKPLAN_CACHE_MB=0", NULL };
	static const char *const internals[] = { "update_json", "does not exist", "SELECT", ".c:",
						 "PostgreSQL", "ERROR", "function", "BUG" };
	char own[64], log[600], moved[800], dir[640], *text, *token;
	struct server s;
	struct resp *r;
	FILE *f;
	long n;

	t_db_create(own, sizeof own, true);
	token = t_member_token(own, "viewer@unicef.org", "viewer", "UNICEF");
	free(t_sql(own, "ALTER FUNCTION update_json(status_update) RENAME TO update_json_gone"));
	t_server_start_env(&s, own, env);
	r = t_get(&s, "/v1/updates/1", token);
	t_assert_problem(r, 500, "internal");
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "detail")),
			 "an internal error occurred");
	for (size_t i = 0; i < sizeof internals / sizeof *internals; i++)
		ck_assert_msg(!strstr(r->body, internals[i]) && !strstr(r->headers, internals[i]),
			      "the answer shows \"%s\":\n%s%s", internals[i], r->headers, r->body);
	t_resp_free(r);
	t_server_stop(&s);
	/* the log has it, where it happened */
	snprintf(log, sizeof log, "%s/api-%s.log", getenv("WORKPLAN_TEST_LOGDIR"), own);
	f = fopen(log, "r");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, n + 1);
	ck_assert_int_eq(fread(text, 1, n, f), n);
	fclose(f);
	ck_assert_msg(strstr(text, "BUG at lib/db.c:") && strstr(text, "update_json"), "%s", text);
	free(text);
	/* a bug on purpose: out of the logs make test searches for bugs */
	snprintf(dir, sizeof dir, "%s/expected-bugs", getenv("WORKPLAN_TEST_LOGDIR"));
	mkdir(dir, 0755);
	snprintf(moved, sizeof moved, "%s/api-%s.log", dir, own);
	ck_assert_int_eq(rename(log, moved), 0);
	free(token);
}
END_TEST

/* A stand-in for PostgreSQL that refuses every connection at once, and
 * counts the attempts. */
struct refuser {
	int fd, port;
	atomic_int attempts;
	atomic_bool stop;
	pthread_t thread;
};

static void *refuse_all(void *arg)
{
	struct refuser *f = arg;

	while (!atomic_load(&f->stop)) {
		int c = accept(f->fd, NULL, NULL);

		if (c >= 0) {
			atomic_fetch_add(&f->attempts, 1);
			close(c);
		} else
			usleep(1000);
	}
	return NULL;
}

static void refuser_start(struct refuser *f)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;

	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert(bind(f->fd, (struct sockaddr *)&a, sizeof a) == 0);
	ck_assert(listen(f->fd, 64) == 0);
	ck_assert(getsockname(f->fd, (struct sockaddr *)&a, &len) == 0);
	fcntl(f->fd, F_SETFL, O_NONBLOCK);
	f->port = ntohs(a.sin_port);
	atomic_store(&f->attempts, 0);
	atomic_store(&f->stop, false);
	ck_assert_int_eq(pthread_create(&f->thread, NULL, refuse_all, f), 0);
}

/* While the database cannot be reached, the API tries to connect at most
 * once per 250 ms, whichever thread asks; the requests in between answer
 * 503 at once. Requests here come one after another, so the count is
 * exact: at most one attempt per 250 ms of the burst, plus the first. */
START_TEST(a_down_database_is_tried_at_most_every_250_ms)
{
	struct refuser f;
	char url[160];
	/* hundreds of requests from one address: no rate limit here */
	const char *env[] = { url, "WORKPLAN_CACHE_MB=0", "WORKPLAN_THREADS=4",
			      "WORKPLAN_RATE_LIMIT=0", NULL };
	struct server s = { .faults = false };
	struct resp *r;
	int before, attempts, requests;
	long long t0, elapsed;

	refuser_start(&f);
	snprintf(url, sizeof url, "DATABASE_URL=hostaddr=127.0.0.1 port=%d dbname=x user=x"
		 " sslmode=disable gssencmode=disable", f.port);
	snprintf(s.dbname, sizeof s.dbname, "%s", db);
	s.port = t_free_port();
	/* t_server_restart waits for a healthy API: start it by hand */
	{
		char log[600], path[512], listen[64];

		snprintf(path, sizeof path, "%s/workplan-api", getenv("WORKPLAN_BIN"));
		snprintf(listen, sizeof listen, "WORKPLAN_LISTEN=127.0.0.1:%d", s.port);
		snprintf(log, sizeof log, "%s/api-refused-%d.log", getenv("WORKPLAN_TEST_LOGDIR"), f.port);
		s.pid = fork();
		if (s.pid == 0) {
			int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

			if (fd >= 0)
				dup2(fd, 2);
			for (int k = 3; k < 1024; k++)
				close(k);
			for (const char *const *e = env; *e; e++)
				putenv((char *)*e);
			putenv(listen);
			execl(path, path, (char *)NULL);
			_exit(127);
		}
	}
	r = t_get_until(&s, "/v1/health", NULL, 503, 10000);
	ck_assert_ptr_nonnull(r);
	t_resp_free(r);
	before = atomic_load(&f.attempts);
	ck_assert_int_ge(before, 1);
	t0 = t_ms();
	/* at least 40 requests and 600 ms: the API must try again meanwhile */
	for (requests = 0; requests < 40 || t_ms() - t0 < 600; requests++) {
		char *retry;

		r = t_get(&s, "/v1/health", NULL);
		ck_assert_int_eq(r->status, 503);
		retry = t_header(r, "Retry-After");
		ck_assert_str_eq(retry, "1");
		free(retry);
		t_resp_free(r);
	}
	elapsed = t_ms() - t0;
	attempts = atomic_load(&f.attempts) - before;
	printf("database unreachable: %d requests in %lld ms, %d connection attempts"
	       " (at most %lld)\n", requests, elapsed, attempts, 1 + elapsed / 250);
	ck_assert_int_ge(attempts, 1);
	ck_assert_int_le(attempts, 1 + elapsed / 250);
	ck_assert_int_lt(attempts, requests);
	t_server_stop(&s);
	atomic_store(&f.stop, true);
	pthread_join(f.thread, NULL);
	close(f.fd);
}
END_TEST

START_TEST(log_has_one_line_per_request_and_no_token)
{
	char path[600], *log;
	FILE *f;
	long n;

	t_resp_free(t_get(&srv, "/v1/pillars/3", cochair));
	usleep(100000);
	snprintf(path, sizeof path, "%s/api-%s.log", getenv("WORKPLAN_TEST_LOGDIR"), db);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	log = calloc(1, n + 1);
	ck_assert_int_eq(fread(log, 1, n, f), n);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(log, "GET /v1/pillars/3 [/v1/pillars/{n}] 200 "));
	ck_assert_ptr_null(strstr(log, cochair + 4));
	ck_assert_ptr_null(strstr(log, lead + 4));
	free(log);
}
END_TEST

START_TEST(sigterm_drains_and_exits_cleanly)
{
	struct server s;
	int status;
	long long t0;

	t_server_start(&s, db);
	kill(s.pid, SIGTERM);
	t0 = time(NULL);
	ck_assert_int_eq(waitpid(s.pid, &status, 0), s.pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_le(time(NULL) - t0, 3);
}
END_TEST

START_TEST(taken_listen_port_is_a_clear_error)
{
	char path[512], listen[64], log[600], conninfo[1024], *text;
	int status;
	FILE *f;
	pid_t pid;

	snprintf(path, sizeof path, "%s/workplan-api", getenv("WORKPLAN_BIN"));
	snprintf(listen, sizeof listen, "127.0.0.1:%d", srv.port);
	snprintf(log, sizeof log, "%s/api-taken-port.log", getenv("WORKPLAN_TEST_LOGDIR"));
	/* nothing that asserts between fork and exec (see harness.c) */
	snprintf(conninfo, sizeof conninfo, "%s", t_conninfo(db));
	pid = fork();
	if (pid == 0) {
		if (!freopen(log, "w", stderr))
			_exit(126);
		setenv("DATABASE_URL", conninfo, 1);
		setenv("WORKPLAN_LISTEN", listen, 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	f = fopen(log, "r");
	ck_assert_ptr_nonnull(f);
	text = calloc(1, 4096);
	ck_assert_uint_gt(fread(text, 1, 4095, f), 0);
	fclose(f);
	ck_assert_msg(strstr(text, "cannot listen on 127.0.0.1:"), "%s", text);
	free(text);
}
END_TEST

/* A NOTIFY on the jobs channel makes the worker look for work now: a job
 * that became due without a notification (as a retry after its backoff
 * does) is taken at once, though the worker's own poll is 10 minutes
 * away. And SIGTERM stops it cleanly. */
START_TEST(a_notify_wakes_the_worker_and_sigterm_stops_it)
{
	static const char *const env[] = { "WORKPLAN_POLL_MS=600000", NULL };
	int status;
	pid_t pid;

	/* this quarter's report scheduled already, and not due: the worker
	 * has nothing else to do */
	free(t_sql(db, "SELECT schedule_quarterly_report(now())"));
	free(t_sql(db, "UPDATE job SET run_after = now() + interval '1 day' RETURNING 1"));
	pid = t_worker_start(db, env);
	ck_assert(t_worker_log_has(pid, "connected; listening on workplan_jobs", 10000));
	/* queued (its own notification wakes the worker, too early), due 2 s later */
	free(t_sql(db, "INSERT INTO job (kind, key, payload, run_after) VALUES ('noop', 'woken',"
		       " '{}', now() + interval '2 s') RETURNING 1"));
	for (int i = 0; i < 500 && t_sql_long(db, "SELECT (run_after > now())::int FROM job"
						  " WHERE key = 'woken'"); i++)
		usleep(20000);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM job WHERE key = 'woken'"
				    " AND state = 'queued'"), 1);
	free(t_sql(db, "NOTIFY workplan_jobs, 'ping'"));
	for (int i = 0; i < 250 && !t_sql_long(db, "SELECT count(*) FROM job WHERE key = 'woken'"
						   " AND state = 'done'"); i++)
		usleep(20000);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM job WHERE key = 'woken'"
				    " AND state = 'done'"), 1);
	ck_assert_int_eq(waitpid(pid, &status, WNOHANG), 0);
	status = t_worker_stop(pid, SIGTERM);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* Runs last: stops the whole test cluster and starts it again. */
START_TEST(database_outage_gives_503_fast_and_recovers_without_restart)
{
	struct resp *r;
	long long t0, took;
	char *retry;

	t_cluster("stop");
	/* "within a second" is the promise, per request; a refused
	 * connection takes milliseconds, so the second is all margin */
	for (int i = 0; i < 5; i++) {
		t0 = t_ms();
		r = t_get(&srv, "/v1/health", NULL);
		took = t_ms() - t0;
		ck_assert_int_eq(r->status, 503);
		ck_assert_str_eq(json_string_value(json_object_get(r->json, "database")), "down");
		retry = t_header(r, "Retry-After");
		ck_assert_str_eq(retry, "1");
		free(retry);
		t_resp_free(r);
		ck_assert_msg(took < 1000, "health answered 503 after %lld ms", took);
		t0 = t_ms();
		r = t_get(&srv, "/v1/actions?pillar=3", viewer);
		took = t_ms() - t0;
		t_assert_problem(r, 503, "unavailable");
		retry = t_header(r, "Retry-After");
		ck_assert_str_eq(retry, "1");
		free(retry);
		t_resp_free(r);
		ck_assert_msg(took < 1000, "a read answered 503 after %lld ms", took);
	}
	t_cluster("start");
	r = t_get_until(&srv, "/v1/health", NULL, 200, 5000);
	ck_assert_msg(r != NULL, "the API did not recover");
	t_resp_free(r);
	r = t_get(&srv, "/v1/pillars", viewer);
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("api"), *outage = tcase_create("outage");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, health_is_public_and_reports_the_database);
	tcase_add_test(tc, member_routes_need_a_valid_token);
	tcase_add_test(tc, revoked_token_is_refused);
	tcase_add_test(tc, pillars_list_the_work_plan_with_leads);
	tcase_add_test(tc, unknown_pillars_and_paths_are_404);
	tcase_add_test(tc, wrong_method_is_405_with_allow);
	tcase_add_test(tc, get_has_a_strong_etag_and_honours_if_none_match);
	tcase_add_test(tc, cochair_edits_a_pillar_with_if_match);
	tcase_add_test(tc, if_match_is_strong_and_takes_the_bare_version);
	tcase_add_test(tc, rejected_pillar_edits_change_nothing);
	tcase_add_test(tc, validation_errors_name_every_field);
	tcase_add_test(tc, metrics_count_requests_on_loopback);
	tcase_add_test(tc, metrics_are_refused_off_loopback);
	tcase_add_test(tc, every_answer_says_nosniff);
	tcase_add_test(tc, internal_errors_are_a_generic_500);
	tcase_add_test(tc, a_down_database_is_tried_at_most_every_250_ms);
	tcase_add_test(tc, log_has_one_line_per_request_and_no_token);
	tcase_add_test(tc, sigterm_drains_and_exits_cleanly);
	tcase_add_test(tc, taken_listen_port_is_a_clear_error);
	tcase_add_test(tc, a_notify_wakes_the_worker_and_sigterm_stops_it);
	suite_add_tcase(s, tc);
	tcase_add_unchecked_fixture(outage, setup, teardown);
	tcase_add_test(outage, database_outage_gives_503_fast_and_recovers_without_restart);
	suite_add_tcase(s, outage);
	return t_run(s);
}
