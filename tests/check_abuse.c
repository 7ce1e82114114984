/* Abuse: a caller over its rate gets 429 with Retry-After and others do
 * not notice; a slow-loris from one address holds at most its share of
 * connections while other clients are served; a saturated database gives
 * 503 at once; odd methods get 405; nothing of a request's token or body
 * reaches the log. */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char db[64];
static char *cochair, *viewer;

static void setup(void)
{
	t_db_create(db, sizeof db, true);
	cochair = t_member_token(db, "cochair@ohchr.org", "cochair", "OHCHR");
	viewer = t_member_token(db, "staff@unicef.org", "viewer", "UNICEF");
}

static void teardown(void)
{
	free(cochair);
	free(viewer);
}

START_TEST(a_caller_over_its_rate_gets_429_and_others_do_not)
{
	static const char *const env[] = { "WORKPLAN_RATE_LIMIT=20", NULL };
	struct server s;
	struct resp *r;
	int ok = 0, limited = 0;
	char *retry = NULL;

	t_server_start_env(&s, db, env);
	/* a burst of twice the rate passes, then the bucket is empty */
	for (int i = 0; i < 100; i++) {
		r = t_get(&s, "/v1/pillars", viewer);
		if (r->status == 200)
			ok++;
		else {
			t_assert_problem(r, 429, "rate-limited");
			if (!retry)
				retry = t_header(r, "Retry-After");
			limited++;
		}
		t_resp_free(r);
	}
	printf("rate: 100 requests from one token at 20/s: %d answered, %d refused with 429\n", ok,
	       limited);
	ck_assert_int_ge(ok, 40);
	ck_assert_int_le(ok, 60); /* 40 + what refills while the loop runs */
	ck_assert_int_ge(limited, 40);
	ck_assert_ptr_nonnull(retry);
	ck_assert_int_ge(atoi(retry), 1);
	/* another token is not affected */
	r = t_get(&s, "/v1/pillars", cochair);
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	/* and after Retry-After the first one is served again */
	sleep((unsigned)atoi(retry));
	r = t_get(&s, "/v1/pillars", viewer);
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	free(retry);
	t_server_stop(&s);
}
END_TEST

/* A TCP connection to the server from a given loopback address. */
static int connect_from(const char *from, int port)
{
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	inet_pton(AF_INET, from, &src.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	dst.sin_port = htons((unsigned short)port);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&src, sizeof src), 0);
	if (connect(fd, (struct sockaddr *)&dst, sizeof dst)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Is the connection still open after the server had time to refuse it? */
static bool still_open(int fd)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	char c;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	/* timed out: nothing came, not even a close or a reset */
	return recv(fd, &c, 1, 0) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

START_TEST(a_slow_loris_from_one_address_does_not_deny_others)
{
	static const char *const env[] = { "WORKPLAN_MAX_PER_IP=4", "WORKPLAN_MAX_CONNECTIONS=64",
					   NULL };
	struct server s;
	int fds[40], held = 0;
	char auth[128];

	t_server_start_env(&s, db, env);
	snprintf(auth, sizeof auth, "GET /v1/pillars HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n",
		 viewer);
	/* 40 connections from 127.0.0.2, each sending its headers a little at a
	 * time and never finishing them */
	for (int i = 0; i < 40; i++) {
		fds[i] = connect_from("127.0.0.2", s.port);
		if (fds[i] >= 0)
			send(fds[i], auth, 20, MSG_NOSIGNAL);
	}
	for (int i = 0; i < 40; i++)
		if (fds[i] >= 0 && still_open(fds[i]))
			held++;
	ck_assert_int_le(held, 4);
	ck_assert_int_ge(held, 1);
	printf("slow-loris: 40 connections from 127.0.0.2, %d held (limit 4), the rest closed;"
	       " 20 of 20 requests from 127.0.0.1 answered within a second meanwhile\n", held);
	/* meanwhile everyone else is served, promptly */
	for (int i = 0; i < 20; i++) {
		time_t t0 = time(NULL);
		struct resp *r = t_get(&s, "/v1/pillars", viewer);

		ck_assert_int_eq(r->status, 200);
		ck_assert_int_le(time(NULL) - t0, 1);
		t_resp_free(r);
	}
	for (int i = 0; i < 40; i++) {
		if (fds[i] < 0)
			continue;
		send(fds[i], auth + 20, strlen(auth) - 20, MSG_NOSIGNAL);
		close(fds[i]);
	}
	t_server_stop(&s);
}
END_TEST

START_TEST(a_saturated_database_gives_503_at_once_and_recovers)
{
	static const char *const env[] = { "WORKPLAN_CACHE_MB=0", NULL };
	PGconn *held[300];
	int n = 0, refused = 0;
	struct server s;
	struct resp *r;
	char *retry;
	time_t t0;

	t_server_start_env(&s, db, env);
	/* take every connection the database has left */
	while (n < 300) {
		held[n] = PQconnectdb(t_conninfo(db));
		if (PQstatus(held[n]) != CONNECTION_OK) {
			PQfinish(held[n]);
			break;
		}
		n++;
	}
	ck_assert_int_lt(n, 300);
	t0 = time(NULL);
	for (int i = 0; i < 20; i++) {
		r = t_get(&s, "/v1/actions?pillar=2", viewer);
		if (r->status == 503) {
			refused++;
			t_assert_problem(r, 503, "unavailable");
			retry = t_header(r, "Retry-After");
			ck_assert_ptr_nonnull(retry);
			free(retry);
		} else {
			/* a thread that had its connection before */
			ck_assert_int_eq(r->status, 200);
		}
		t_resp_free(r);
	}
	ck_assert_int_le(time(NULL) - t0, 2);
	ck_assert_int_ge(refused, 1);
	printf("saturated database (%d connections taken): %d of 20 requests 503 with Retry-After,"
	       " the rest answered, all within %ld s\n", n, refused, (long)(time(NULL) - t0));
	while (n > 0)
		PQfinish(held[--n]);
	r = t_get_until(&s, "/v1/actions?pillar=2", viewer, 200, 5000);
	ck_assert_msg(r != NULL, "the API did not recover");
	t_resp_free(r);
	t_server_stop(&s);
}
END_TEST

START_TEST(a_query_past_statement_timeout_is_503_not_a_hang)
{
	static const char *const env[] = { "WORKPLAN_STATEMENT_TIMEOUT_MS=300", "WORKPLAN_CACHE_MB=0",
					   NULL };
	PGconn *locker = PQconnectdb(t_conninfo(db));
	PGresult *res;
	struct server s;
	struct resp *r;
	time_t t0;

	t_server_start_env(&s, db, env);
	t_resp_free(t_get(&s, "/v1/actions/1", viewer)); /* the token check is not what waits */
	/* an administrator's long transaction holds the table */
	res = PQexec(locker, "BEGIN; LOCK TABLE action IN ACCESS EXCLUSIVE MODE");
	ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	t0 = time(NULL);
	r = t_get(&s, "/v1/actions/1", viewer);
	t_assert_problem(r, 503, "unavailable");
	ck_assert_ptr_nonnull(strstr(r->headers, "Retry-After"));
	t_resp_free(r);
	ck_assert_int_le(time(NULL) - t0, 2);
	PQclear(PQexec(locker, "ROLLBACK"));
	PQfinish(locker);
	r = t_get(&s, "/v1/actions/1", viewer);
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	t_server_stop(&s);
}
END_TEST

START_TEST(odd_methods_get_405_and_no_internals)
{
	static const char *const methods[] = { "TRACE", "OPTIONS", "CONNECT", "PUT", "BREW" };
	struct server s;

	t_server_start(&s, db);
	for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
		struct resp *r = t_http(&s, methods[i], "/v1/pillars", viewer, NULL, NULL, 0, NULL);

		ck_assert_msg(r->status == 405 || r->status == 400 || r->status == 501,
			      "%s: %ld", methods[i], r->status);
		if (r->status == 405)
			t_assert_problem(r, 405, "method-not-allowed");
		/* no echo of the request (TRACE), no stack, no versions */
		ck_assert_ptr_null(r->body ? strstr(r->body, "Bearer") : NULL);
		ck_assert_ptr_null(strcasestr(r->headers, "X-Powered-By"));
		t_resp_free(r);
	}
	t_server_stop(&s);
}
END_TEST

START_TEST(query_strings_of_any_bytes_get_422_naming_the_parameter)
{
	static const struct { const char *path, *field; } cases[] = {
		{ "/v1/actions?q=%F0", "q" },                   /* cut short */
		{ "/v1/actions?q=caf%C3%A9%ED%A0%80", "q" },    /* a surrogate */
		{ "/v1/actions?%AFx=1", "(unprintable)" },      /* found by fuzzing */
		{ "/v1/updates?since=2024-01-01T00:00:00Z'%3B--", "since" },
		{ "/v1/actions?limit=501", "limit" },
	};
	struct server s;

	t_server_start(&s, db);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct resp *r = t_get(&s, cases[i].path, viewer);
		json_t *e = json_array_get(json_object_get(r->json, "errors"), 0);

		t_assert_problem(r, 422, "validation");
		ck_assert_msg(e && !strcmp(json_string_value(json_object_get(e, "field")), cases[i].field),
			      "%s: %s", cases[i].path, r->body);
		t_resp_free(r);
	}
	t_server_stop(&s);
}
END_TEST

START_TEST(report_requests_are_capped_while_reports_are_built)
{
	struct server s;
	char body[128];
	struct resp *r;

	/* no worker runs: requested reports stay queued */
	t_server_start(&s, db);
	for (int q = 0; q < 8; q++) {
		snprintf(body, sizeof body, "{\"kind\":\"quarterly\",\"period\":\"202%d-Q%d\"}",
			 1 + q / 4, 1 + q % 4);
		r = t_http(&s, "POST", "/v1/reports", cochair, "application/json", body, strlen(body),
			   NULL);
		ck_assert_msg(r->status == 202, "%s: %ld %s", body, r->status, r->body);
		t_resp_free(r);
	}
	snprintf(body, sizeof body, "{\"kind\":\"quarterly\",\"period\":\"2023-Q1\"}");
	r = t_http(&s, "POST", "/v1/reports", cochair, "application/json", body, strlen(body), NULL);
	t_assert_problem(r, 429, "rate-limited");
	ck_assert_ptr_nonnull(strstr(r->headers, "Retry-After: 60"));
	t_resp_free(r);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM report"), 8);
	/* asking again for one being built is no new work: it is answered */
	snprintf(body, sizeof body, "{\"kind\":\"quarterly\",\"period\":\"2021-Q1\"}");
	r = t_http(&s, "POST", "/v1/reports", cochair, "application/json", body, strlen(body), NULL);
	ck_assert_int_eq(r->status, 202);
	t_resp_free(r);
	t_server_stop(&s);
}
END_TEST

START_TEST(sql_metacharacters_are_data)
{
	static const char narrative[] = "Robert'); DROP TABLE status_update; -- ' OR '1'='1 $1 %s";
	struct server s;
	char body[300], *stored;
	struct resp *r;
	long before = t_sql_long(db, "SELECT count(*) FROM status_update");

	t_server_start(&s, db);
	snprintf(body, sizeof body, "{\"period\":\"2021-Q3\",\"status\":\"on_track\","
		 "\"percent_complete\":5,\"narrative\":\"%s\"}", narrative);
	r = t_http(&s, "POST", "/v1/actions/1/updates", cochair, "application/json", body,
		   strlen(body), NULL);
	ck_assert_int_eq(r->status, 201);
	t_resp_free(r);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM status_update"), before + 1);
	stored = t_sql(db, "SELECT narrative FROM status_update ORDER BY id DESC LIMIT 1");
	ck_assert_str_eq(stored, narrative);
	free(stored);
	/* in a search, the same text finds nothing and breaks nothing */
	r = t_get(&s, "/v1/actions?q=%27%20OR%201%3D1%20--", viewer);
	ck_assert_int_eq(r->status, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 0);
	t_resp_free(r);
	r = t_get(&s, "/v1/actions?lead=UNDP%27%3B%20DELETE%20FROM%20action%3B--", viewer);
	ck_assert(r->status == 200 || r->status == 422);
	t_resp_free(r);
	ck_assert_int_gt(t_sql_long(db, "SELECT count(*) FROM action"), 0);
	t_server_stop(&s);
	/* the log has the request, not its body nor its token */
	{
		char path[600], line[4096];
		FILE *f;
		bool seen = false;

		snprintf(path, sizeof path, "%s/api-%s.log", getenv("WORKPLAN_TEST_LOGDIR"), db);
		f = fopen(path, "r");
		ck_assert_ptr_nonnull(f);
		while (fgets(line, sizeof line, f)) {
			seen = seen || strstr(line, "POST /v1/actions/1/updates");
			ck_assert_ptr_null(strstr(line, "DROP TABLE"));
			ck_assert_ptr_null(strstr(line, cochair + 4));
		}
		fclose(f);
		ck_assert(seen);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("abuse");
	TCase *tc = tcase_create("limits");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_caller_over_its_rate_gets_429_and_others_do_not);
	tcase_add_test(tc, a_slow_loris_from_one_address_does_not_deny_others);
	tcase_add_test(tc, a_saturated_database_gives_503_at_once_and_recovers);
	tcase_add_test(tc, a_query_past_statement_timeout_is_503_not_a_hang);
	tcase_add_test(tc, odd_methods_get_405_and_no_internals);
	tcase_add_test(tc, query_strings_of_any_bytes_get_422_naming_the_parameter);
	tcase_add_test(tc, report_requests_are_capped_while_reports_are_built);
	tcase_add_test(tc, sql_metacharacters_are_data);
	suite_add_tcase(s, tc);
	return t_run(s);
}
