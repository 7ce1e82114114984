/* The request line and header fields as a hostile peer sends them: the
 * building blocks of request smuggling are refused with 400 and the
 * connection closed before anything is read as a second request; a NUL
 * byte or an encoded '/' never reaches the router; parser limits answer
 * with problem documents; a flood of invented tokens is limited per
 * address before any lookup; authenticated answers are private, and
 * documents a browser could run carry a restrictive policy. */
#include "harness.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct server srv;
static char db[64];
static char *cochair, *viewer;

static void setup(void)
{
	t_db_create(db, sizeof db, true);
	cochair = t_member_token(db, "cochair@ohchr.org", "cochair", "OHCHR");
	viewer = t_member_token(db, "staff@unicef.org", "viewer", "UNICEF");
	t_server_start(&srv, db);
}

static void teardown(void)
{
	t_server_stop(&srv);
	free(cochair);
	free(viewer);
}

/* What a raw exchange gave: every byte the server sent, and whether it
 * closed the connection (within 5 s). */
struct raw {
	char data[65536];
	size_t len;
	bool closed;
};

/* Sends len bytes to server s on a new connection from 'from', then
 * reads until the server closes it or 5 s pass. */
static void raw_to(const struct server *s, const char *from, const char *req, size_t len,
		   struct raw *out)
{
	int fd = t_connect(s, from, NULL);
	size_t sent = 0;

	ck_assert_int_ge(fd, 0);
	while (sent < len) {
		ssize_t n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);

		if (n <= 0)
			break; /* the server may close before it read everything */
		sent += (size_t)n;
	}
	out->len = t_recv(fd, out->data, sizeof out->data, 5000, &out->closed);
	close(fd);
}

static void raw(const char *req, size_t len, struct raw *out)
{
	raw_to(&srv, "127.0.0.1", req, len, out);
}

/* How many responses the bytes hold: status lines at the start of a line. */
static int responses(const struct raw *r)
{
	int n = 0;

	for (const char *p = r->data; (p = strstr(p, "HTTP/1.")); p++)
		if (p == r->data || p[-1] == '\n')
			n++;
	return n;
}

static int status_of(const struct raw *r)
{
	int st = 0;

	sscanf(r->data, "HTTP/1.%*d %d", &st);
	return st;
}

static const char *body_of(const struct raw *r)
{
	const char *b = strstr(r->data, "\r\n\r\n");

	return b ? b + 4 : "";
}

/* One problem document answered, then the connection closed: nothing
 * after it was read as a request. */
static void assert_refused_and_closed(const struct raw *r, int status, const char *slug)
{
	char type[64];

	ck_assert_msg(responses(r) == 1, "expected one response, got %d:\n%s", responses(r), r->data);
	ck_assert_int_eq(status_of(r), status);
	ck_assert_msg(r->closed, "the connection stayed open:\n%s", r->data);
	if (slug) {
		snprintf(type, sizeof type, "\"type\":\"/problems/%s\"", slug);
		ck_assert_msg(strcasestr(r->data, "application/problem+json") && strstr(body_of(r), type),
			      "not a %s problem:\n%s", slug, r->data);
	}
}

/* A body that itself holds a second request: if the server reads the
 * first with a different length than a proxy would, it answers two. */
#define SMUGGLED "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"

START_TEST(two_content_lengths_are_refused_and_close_the_connection)
{
	struct raw r;
	const char req[] = "POST /v1/actions/1/updates HTTP/1.1\r\nHost: x\r\n"
			   "Content-Type: application/json\r\n"
			   "Content-Length: 0\r\nContent-Length: 37\r\n\r\n" SMUGGLED;

	raw(req, sizeof req - 1, &r);
	assert_refused_and_closed(&r, 400, "bad-request");
	/* the same value twice is refused too: a repeat is never needed */
	raw("GET /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n"
	    SMUGGLED, strlen("GET /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n" SMUGGLED), &r);
	assert_refused_and_closed(&r, 400, "bad-request");
}
END_TEST

START_TEST(content_length_with_chunked_is_refused_and_closes_the_connection)
{
	struct raw r;
	const char req[] = "POST /v1/actions/1/updates HTTP/1.1\r\nHost: x\r\n"
			   "Content-Type: application/json\r\nContent-Length: 5\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" SMUGGLED;
	const char gzip[] = "POST /v1/actions/1/updates HTTP/1.1\r\nHost: x\r\n"
			    "Content-Type: application/json\r\n"
			    "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" SMUGGLED;

	raw(req, sizeof req - 1, &r);
	assert_refused_and_closed(&r, 400, "bad-request");
	raw(gzip, sizeof gzip - 1, &r);
	assert_refused_and_closed(&r, 400, "bad-request");
}
END_TEST

START_TEST(an_invalid_content_length_is_refused_and_closes_the_connection)
{
	const char *const bad[] = { "5x", "-5", "0x10", "5 5", "+5" };
	char req[512];
	struct raw r;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int n = snprintf(req, sizeof req,
				 "POST /v1/actions/1/updates HTTP/1.1\r\nHost: x\r\n"
				 "Content-Type: application/json\r\nContent-Length: %s\r\n\r\n"
				 "{}\r\n" SMUGGLED, bad[i]);

		raw(req, (size_t)n, &r);
		/* libmicrohttpd 0.9.75 refuses these itself before any callback
		 * of ours runs, and sends its 400 status line and headers twice
		 * (docs/security.md); what matters holds: 400, the connection
		 * closed, and the request in the body never answered */
		ck_assert_int_eq(status_of(&r), 400);
		ck_assert(r.closed);
		ck_assert_ptr_null(strstr(r.data, "200 OK"));
		ck_assert_ptr_null(strstr(r.data, "\"status\":\"ok\""));
	}
}
END_TEST

START_TEST(repeated_authorization_idempotency_key_or_origin_is_400)
{
	char req[1024];
	struct raw r;
	int n;

	n = snprintf(req, sizeof req, "GET /v1/pillars HTTP/1.1\r\nHost: x\r\n"
		     "Authorization: Bearer %s\r\nAuthorization: Bearer %s\r\n\r\n", viewer, cochair);
	raw(req, (size_t)n, &r);
	assert_refused_and_closed(&r, 400, "bad-request");
	ck_assert_ptr_nonnull(strstr(body_of(&r), "Authorization"));
	n = snprintf(req, sizeof req, "POST /v1/actions/1/updates HTTP/1.1\r\nHost: x\r\n"
		     "Authorization: Bearer %s\r\nIdempotency-Key: a\r\nIdempotency-Key: b\r\n"
		     "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", cochair);
	raw(req, (size_t)n, &r);
	assert_refused_and_closed(&r, 400, "bad-request");
	ck_assert_ptr_nonnull(strstr(body_of(&r), "Idempotency-Key"));
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM status_update WHERE action_id = 1"), 0);
	/* a cookie write's Origin is checked (SPEC 10): one only, or which? */
	n = snprintf(req, sizeof req, "POST /v1/actions/1/updates HTTP/1.1\r\nHost: x\r\n"
		     "Authorization: Bearer %s\r\nOrigin: http://x\r\nOrigin: https://evil.example\r\n"
		     "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", cochair);
	raw(req, (size_t)n, &r);
	assert_refused_and_closed(&r, 400, "bad-request");
	ck_assert_ptr_nonnull(strstr(body_of(&r), "Origin"));
}
END_TEST

START_TEST(http_1_1_without_host_is_400_and_http_1_0_is_served)
{
	struct raw r;

	raw("GET /v1/health HTTP/1.1\r\n\r\n", strlen("GET /v1/health HTTP/1.1\r\n\r\n"), &r);
	assert_refused_and_closed(&r, 400, "bad-request");
	raw("GET /v1/health HTTP/1.0\r\n\r\n", strlen("GET /v1/health HTTP/1.0\r\n\r\n"), &r);
	ck_assert_int_eq(status_of(&r), 200);
	ck_assert_ptr_nonnull(strstr(body_of(&r), "\"status\":\"ok\""));
}
END_TEST

START_TEST(a_nul_byte_anywhere_is_400)
{
	char req[1024];
	struct raw r;
	struct resp *g;
	int n;

	/* encoded in the path: it would have cut the name short */
	g = t_get(&srv, "/v1/reports/1/files/report.csv%00.html", viewer);
	t_assert_problem(g, 400, "bad-request");
	t_resp_free(g);
	g = t_get(&srv, "/v1/actions?q=abc%00def", viewer);
	t_assert_problem(g, 400, "bad-request");
	t_resp_free(g);
	/* raw, after a valid token: it used to authenticate */
	n = snprintf(req, sizeof req, "GET /v1/pillars HTTP/1.1\r\nHost: x\r\n"
		     "Authorization: Bearer %s", viewer);
	memcpy(req + n, "\0junk\r\n\r\n", 9);
	raw(req, (size_t)n + 9, &r);
	assert_refused_and_closed(&r, 400, "bad-request");
	ck_assert_ptr_null(strstr(body_of(&r), "\"items\""));
	/* raw, in the request line */
	raw("GET /v1/health\0junk HTTP/1.1\r\nHost: x\r\n\r\n", 41, &r);
	assert_refused_and_closed(&r, 400, "bad-request");
}
END_TEST

START_TEST(an_encoded_slash_never_separates_segments)
{
	struct resp *g = t_get(&srv, "/v1/pillars%2F1", viewer);

	t_assert_problem(g, 400, "bad-request");
	t_resp_free(g);
	g = t_get(&srv, "/v1%2fpillars", viewer);
	t_assert_problem(g, 400, "bad-request");
	t_resp_free(g);
	/* in a query value it is only a character */
	g = t_get(&srv, "/v1/actions?q=a%2Fb", viewer);
	ck_assert_int_eq(g->status, 200);
	t_resp_free(g);
}
END_TEST

START_TEST(parser_limits_answer_with_problem_documents)
{
	static char req[300000], url[20000];
	struct raw r;
	size_t n = 0;
	int len;

	/* a 7 KB target of 1 000 parameters */
	n += (size_t)snprintf(url, sizeof url, "/v1/actions?");
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(url + n, sizeof url - n, "a=%d&", i % 10);
	len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
		       url, viewer);
	raw(req, (size_t)len, &r);
	assert_refused_and_closed(&r, 414, "uri-too-long");
	/* a 9 KB path */
	memset(url, 'a', 9000);
	memcpy(url, "/v1/", 4);
	url[9000] = '\0';
	len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", url);
	raw(req, (size_t)len, &r);
	assert_refused_and_closed(&r, 414, "uri-too-long");
	/* 20 KB of header fields */
	len = snprintf(req, sizeof req, "GET /v1/health HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 20; i++) {
		len += snprintf(req + len, sizeof req - (size_t)len, "X-Filler-%d: ", i);
		memset(req + len, 'f', 1000);
		len += 1000;
		len += snprintf(req + len, sizeof req - (size_t)len, "\r\n");
	}
	len += snprintf(req + len, sizeof req - (size_t)len, "\r\n");
	raw(req, (size_t)len, &r);
	assert_refused_and_closed(&r, 431, "header-fields-too-large");
	/* far beyond what the server keeps in memory for one request: still
	 * refused with the right status, by libmicrohttpd itself */
	len = snprintf(req, sizeof req, "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Huge: ");
	memset(req + len, 'h', 250000);
	len += 250000;
	len += snprintf(req + len, sizeof req - (size_t)len, "\r\n\r\n");
	raw(req, (size_t)len, &r);
	ck_assert_int_eq(status_of(&r), 431);
	ck_assert(r.closed);
}
END_TEST

/* GET /v1/pillars with that token from that address: the status. */
static int pillars_from(const struct server *s, const char *from, const char *token)
{
	char req[512];
	struct raw r;
	int n = snprintf(req, sizeof req, "GET /v1/pillars HTTP/1.1\r\nHost: x\r\n"
			 "Authorization: Bearer %s\r\nConnection: close\r\n\r\n", token);

	raw_to(s, from, req, (size_t)n, &r);
	if (status_of(&r) == 429)
		ck_assert_ptr_nonnull(strcasestr(r.data, "\r\nRetry-After: "));
	return status_of(&r);
}

/* Distinct invented tokens used to get a fresh rate bucket each, and cost
 * a database lookup each. Now an address gets its budget of failures,
 * then 429 before any lookup; other addresses, and members whose token is
 * already known, are not affected. */
START_TEST(invented_token_floods_are_limited_per_address)
{
	struct server s;
	const char *const env[] = { "WORKPLAN_AUTH_FAILURES=10", NULL };
	char token[64];
	int refused = 0, limited = 0;

	t_server_start_env(&s, db, env);
	t_cache_listening(&s);
	ck_assert_int_eq(pillars_from(&s, "127.0.0.3", viewer), 200);
	for (int i = 0; i < 40; i++) {
		int st;

		snprintf(token, sizeof token, "wpt_%043d", i);
		st = pillars_from(&s, "127.0.0.3", token);
		refused += st == 401;
		limited += st == 429;
	}
	ck_assert_int_eq(refused, 10);
	ck_assert_int_eq(limited, 30);
	ck_assert_int_eq(t_metric(&s, "workplan_auth_failures_total"), 10);
	ck_assert_int_eq(t_metric(&s, "workplan_auth_limited_total"), 30);
	/* a token seen before, from the limited address: answered from memory */
	ck_assert_int_eq(pillars_from(&s, "127.0.0.3", viewer), 200);
	/* a token not yet known needs a lookup: refused there for now */
	ck_assert_int_eq(pillars_from(&s, "127.0.0.3", cochair), 429);
	/* another address is not affected */
	ck_assert_int_eq(pillars_from(&s, "127.0.0.4", cochair), 200);
	snprintf(token, sizeof token, "wpt_%043d", 1);
	ck_assert_int_eq(pillars_from(&s, "127.0.0.4", token), 401);
	t_server_stop(&s);
}
END_TEST

/* A token looked up and not found is remembered: while the token table
 * is locked (a lookup would wait, then 503), the same token is still
 * answered 401 at once, and an unseen one shows what a lookup costs. */
START_TEST(a_missed_token_is_remembered_and_costs_no_lookup)
{
	static const char *const env[] = { "WORKPLAN_STATEMENT_TIMEOUT_MS=300", NULL };
	PGconn *locker = PQconnectdb(t_conninfo(db));
	char seen[64], unseen[64];
	struct server s;
	PGresult *res;

	snprintf(seen, sizeof seen, "wpt_%043d", 7);
	snprintf(unseen, sizeof unseen, "wpt_%043d", 8);
	t_server_start_env(&s, db, env);
	t_cache_listening(&s);
	ck_assert_int_eq(pillars_from(&s, "127.0.0.5", seen), 401);
	res = PQexec(locker, "BEGIN; LOCK TABLE api_token IN ACCESS EXCLUSIVE MODE");
	ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	ck_assert_int_eq(pillars_from(&s, "127.0.0.5", seen), 401);
	ck_assert_int_eq(pillars_from(&s, "127.0.0.5", unseen), 503);
	PQclear(PQexec(locker, "ROLLBACK"));
	PQfinish(locker);
	t_server_stop(&s);
}
END_TEST

START_TEST(member_answers_are_private_and_documents_carry_a_policy)
{
	struct resp *r = t_get(&srv, "/v1/pillars", viewer);
	char *cc = t_header(r, "Cache-Control");

	ck_assert_str_eq(cc, "private, no-cache");
	free(cc);
	t_resp_free(r);
	r = t_get(&srv, "/v1/health", NULL);
	cc = t_header(r, "Cache-Control");
	ck_assert_str_eq(cc, "no-cache");
	free(cc);
	t_resp_free(r);
	/* an SVG could run script if it held any: the policy says no */
	{
		pid_t w = t_worker_start(db, NULL);
		char *csp;

		r = t_get_until(&srv, "/v1/charts/status-by-pillar.svg?as_of=2021-Q4", viewer, 200, 30000);
		ck_assert_ptr_nonnull(r);
		csp = t_header(r, "Content-Security-Policy");
		ck_assert_ptr_nonnull(csp);
		ck_assert_ptr_nonnull(strstr(csp, "default-src 'none'"));
		ck_assert_ptr_nonnull(strstr(csp, "sandbox"));
		ck_assert_ptr_null(strstr(csp, "script"));
		free(csp);
		t_resp_free(r);
		t_worker_stop(w, 15);
		/* JSON needs none */
		r = t_get(&srv, "/v1/openapi.json", NULL);
		ck_assert_ptr_null(strcasestr(r->headers, "Content-Security-Policy"));
		t_resp_free(r);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("http");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, two_content_lengths_are_refused_and_close_the_connection);
	tcase_add_test(tc, content_length_with_chunked_is_refused_and_closes_the_connection);
	tcase_add_test(tc, an_invalid_content_length_is_refused_and_closes_the_connection);
	tcase_add_test(tc, repeated_authorization_idempotency_key_or_origin_is_400);
	tcase_add_test(tc, http_1_1_without_host_is_400_and_http_1_0_is_served);
	tcase_add_test(tc, a_nul_byte_anywhere_is_400);
	tcase_add_test(tc, an_encoded_slash_never_separates_segments);
	tcase_add_test(tc, parser_limits_answer_with_problem_documents);
	tcase_add_test(tc, invented_token_floods_are_limited_per_address);
	tcase_add_test(tc, a_missed_token_is_remembered_and_costs_no_lookup);
	tcase_add_test(tc, member_answers_are_private_and_documents_carry_a_policy);
	suite_add_tcase(s, tc);
	return t_run(s);
}
