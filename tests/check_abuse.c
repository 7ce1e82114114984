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

/* Without WORKPLAN_RATE_LIMIT a token gets 100 requests a second in
 * bursts of 200: the bucket starts full (200), refills at 100/s, and the
 * first 429 comes once it is empty, however fast or slow this machine
 * sends. */
START_TEST(the_default_rate_is_100_a_second_in_bursts_of_200)
{
	struct server s;
	struct resp *r = NULL;
	int ok = 0;
	long long t0;
	double elapsed_s;
	char *retry;

	t_server_start(&s, db);
	t0 = t_ms();
	for (int i = 0; i < 5000; i++) {
		r = t_get(&s, "/v1/pillars", viewer);
		if (r->status != 200)
			break;
		ok++;
		t_resp_free(r);
		r = NULL;
	}
	elapsed_s = (t_ms() - t0) / 1000.0;
	ck_assert_msg(r != NULL, "5000 requests in %.1f s and no 429", elapsed_s);
	t_assert_problem(r, 429, "rate-limited");
	retry = t_header(r, "Retry-After");
	ck_assert_ptr_nonnull(retry);
	ck_assert_int_eq(atoi(retry), 1);
	free(retry);
	t_resp_free(r);
	printf("default rate: %d answered in %.2f s before the first 429 (at most 200 + 100/s: %.0f)\n",
	       ok, elapsed_s, 200 + 100 * elapsed_s);
	ck_assert_int_ge(ok, 200);
	ck_assert_int_le(ok, 200 + (int)(100 * elapsed_s) + 1);
	t_server_stop(&s);
}
END_TEST

/* A caller without a token is limited by its address: one address over
 * its rate gets 429 on a public route, another address does not, nor a
 * member calling from the limited address. */
START_TEST(callers_without_a_token_are_limited_per_address)
{
	static const char *const env[] = { "WORKPLAN_RATE_LIMIT=20", NULL };
	struct server s;
	struct resp *r;
	int ok = 0, limited = 0;
	long long t0;
	double elapsed_s;

	t_server_start_env(&s, db, env);
	t0 = t_ms();
	for (int i = 0; i < 100; i++) {
		r = t_http_from(&s, "127.0.0.5", "GET", "/v1/health", NULL, NULL, NULL, 0, NULL);
		if (r->status == 200)
			ok++;
		else {
			t_assert_problem(r, 429, "rate-limited");
			ck_assert_ptr_nonnull(strstr(r->headers, "Retry-After: "));
			limited++;
		}
		t_resp_free(r);
	}
	elapsed_s = (t_ms() - t0) / 1000.0;
	printf("rate without a token: 100 requests from 127.0.0.5 at 20/s in %.2f s: %d answered,"
	       " %d refused with 429\n", elapsed_s, ok, limited);
	ck_assert_int_ge(ok, 40);
	ck_assert_int_le(ok, 40 + (int)(20 * elapsed_s) + 1);
	ck_assert_int_ge(limited, 1);
	r = t_http_from(&s, "127.0.0.6", "GET", "/v1/health", NULL, NULL, NULL, 0, NULL);
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	r = t_http_from(&s, "127.0.0.5", "GET", "/v1/pillars", viewer, NULL, NULL, 0, NULL);
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	t_server_stop(&s);
}
END_TEST

/* Behind a load balancer (SPEC 15) every request comes from its address:
 * from one named in WORKPLAN_TRUSTED_PROXIES, the client is the last
 * address of the last X-Forwarded-For (the one the balancer added), so one
 * client past its budget of failed tokens is refused (429) and the others
 * behind the balancer are not (401: looked up); what a client writes in
 * the header itself changes nothing, and from any other address the header
 * is ignored. At 10 failures a minute the budget refills every 6 s, far
 * longer than the test takes. */
static int failed_from(const struct server *s, const char *from, const char *xff, int i)
{
	char token[64], auth[96];
	const char *const headers[] = { auth, xff, NULL };
	struct resp *r;
	int status;

	snprintf(token, sizeof token, "wpt_%043d", i);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	r = t_http_headers(s, from, "GET", "/v1/pillars", NULL, 0, headers);
	status = (int)r->status;
	t_resp_free(r);
	return status;
}

START_TEST(behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget)
{
	static const char *const env[] = { "WORKPLAN_AUTH_FAILURES=10", "WORKPLAN_TRUSTED_PROXIES=127.0.0.7", NULL };
	struct server s;
	int limited = 0;

	t_server_start_env(&s, db, env);
	for (int i = 0; i < 20; i++)
		limited += failed_from(&s, "127.0.0.7", "X-Forwarded-For: 198.51.100.1", i) == 429;
	ck_assert_int_eq(limited, 10);
	/* another client behind the same balancer */
	ck_assert_int_eq(failed_from(&s, "127.0.0.7", "X-Forwarded-For: 198.51.100.2", 100), 401);
	/* the limited client naming another address before its own */
	ck_assert_int_eq(failed_from(&s, "127.0.0.7", "X-Forwarded-For: 198.51.100.2, 198.51.100.1", 101), 429);
	{
		const char *const two[] = { "Authorization: Bearer wpt_0000000000000000000000000000000000000000102",
					    "X-Forwarded-For: 198.51.100.2", "X-Forwarded-For: 198.51.100.1", NULL };
		struct resp *r = t_http_headers(&s, "127.0.0.7", "GET", "/v1/pillars", NULL, 0, two);

		ck_assert_int_eq(r->status, 429);
		t_resp_free(r);
	}
	/* an address not trusted: the header is ignored, however it varies */
	limited = 0;
	for (int i = 0; i < 20; i++) {
		char h[64];

		snprintf(h, sizeof h, "X-Forwarded-For: 203.0.113.%d", i + 1);
		limited += failed_from(&s, "127.0.0.8", h, 200 + i) == 429;
	}
	ck_assert_int_eq(limited, 10);
	t_server_stop(&s);
}
END_TEST

static void send_all(int fd, const char *s)
{
	ck_assert_int_eq(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

#define HEALTH "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"

/* WORKPLAN_MAX_CONNECTIONS open connections (each shown live by one
 * answered request, then idle): one more is not served until one of them
 * closes. */
START_TEST(connections_beyond_the_cap_wait_until_one_closes)
{
	static const char *const env[] = { "WORKPLAN_MAX_CONNECTIONS=4", "WORKPLAN_THREADS=2",
					   "WORKPLAN_MAX_PER_IP=64", NULL };
	struct server s;
	char buf[4096];
	int held[4], extra;
	bool closed;

	t_server_start_env(&s, db, env);
	for (int i = 0; i < 4; i++) {
		held[i] = t_connect(&s, "127.0.0.7", NULL);
		ck_assert_int_ge(held[i], 0);
		send_all(held[i], HEALTH);
		t_recv(held[i], buf, sizeof buf, 200, &closed);
		/* the first connections may wait for the start-up check's to be
		 * cleared; each must be answered within a few seconds */
		for (long long end = t_ms() + 5000; !strstr(buf, "\r\n\r\n") && t_ms() < end;)
			t_recv(held[i], buf + strlen(buf), sizeof buf - strlen(buf), 200, &closed);
		ck_assert_msg(!strncmp(buf, "HTTP/1.1 200", 12), "connection %d: %s", i, buf);
	}
	extra = t_connect(&s, "127.0.0.8", NULL);
	ck_assert_int_ge(extra, 0); /* the kernel takes it; the server does not */
	send_all(extra, HEALTH);
	t_recv(extra, buf, sizeof buf, 1000, &closed);
	ck_assert_msg(buf[0] == '\0' && !closed, "the connection over the cap was answered: %s", buf);
	close(held[0]);
	t_recv(extra, buf, sizeof buf, 5000, &closed);
	ck_assert_msg(!strncmp(buf, "HTTP/1.1 200", 12), "not served once a connection closed: %s", buf);
	close(extra);
	for (int i = 1; i < 4; i++)
		close(held[i]);
	t_server_stop(&s);
}
END_TEST

/* A connection that sends nothing is closed after the idle timeout
 * (WORKPLAN_IDLE_TIMEOUT_S, 15 s unless set; shortened here), and only
 * then: one that keeps sending is not idle. */
START_TEST(an_idle_connection_is_closed_after_the_idle_timeout)
{
	static const char *const env[] = { "WORKPLAN_IDLE_TIMEOUT_S=1", NULL };
	struct server s;
	char buf[4096];
	bool closed;
	long long t0;
	int fd;

	t_server_start_env(&s, db, env);
	fd = t_connect(&s, NULL, NULL);
	ck_assert_int_ge(fd, 0);
	t0 = t_ms();
	t_recv(fd, buf, sizeof buf, 10000, &closed);
	ck_assert_msg(closed, "an idle connection was still open after 10 s");
	ck_assert_str_eq(buf, "");
	/* not before the timeout (MHD counts whole seconds: at least 1 s) */
	ck_assert_int_ge(t_ms() - t0, 900);
	printf("idle timeout 1 s: an idle connection closed after %lld ms\n", t_ms() - t0);
	close(fd);
	/* after an answer, a kept-alive connection idles out the same way */
	fd = t_connect(&s, NULL, NULL);
	send_all(fd, HEALTH);
	t_recv(fd, buf, sizeof buf, 10000, &closed);
	ck_assert_msg(!strncmp(buf, "HTTP/1.1 200", 12) && closed, "%s", buf);
	close(fd);
	t_server_stop(&s);
}
END_TEST

/* With one thread, a client that never finishes its request and one that
 * never reads its answers do not stop anybody else being served: they
 * hold sockets, not the thread. Were the thread held, the request below
 * would wait out curl's 30 s (the idle timeout is a minute here). */
START_TEST(a_slow_client_never_holds_a_thread)
{
	static const char *const env[] = { "WORKPLAN_THREADS=1", "WORKPLAN_IDLE_TIMEOUT_S=60",
					   "WORKPLAN_RATE_LIMIT=0", NULL };
	static const char pipelined[] = "GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n";
	struct server s;
	struct resp *r;
	int writer, reader, small = 4096;
	size_t queued = 0;
	char half[256];

	t_server_start_env(&s, db, env);
	/* half a request, the rest never comes */
	writer = t_connect(&s, NULL, NULL);
	snprintf(half, sizeof half, "POST /v1/actions/1/updates HTTP/1.1\r\nHost: x\r\n"
		 "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
		 "Content-Length: 500\r\n\r\n{\"period\":", cochair);
	send_all(writer, half);
	/* requests for 84 KB answers, pipelined, never read: the server's
	 * send buffer fills and stays full */
	reader = t_connect(&s, NULL, NULL);
	setsockopt(reader, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	for (int i = 0; i < 200; i++) {
		ssize_t n = send(reader, pipelined, strlen(pipelined), MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n <= 0)
			break;
		queued += (size_t)n;
	}
	ck_assert_uint_gt(queued, 0);
	for (int i = 0; i < 20; i++) {
		r = t_get(&s, "/v1/pillars", viewer);
		ck_assert_msg(r->status == 200, "request %d: %ld while slow clients were connected", i,
			      r->status);
		t_resp_free(r);
	}
	close(writer);
	close(reader);
	t_server_stop(&s);
}
END_TEST

/* Raw: headers that announce a 10 MB body, and no body at all. The
 * answer must come anyway: the route, the caller, the role, the size and
 * the media type are all decided from the headers. */
static void assert_refused_before_the_body(const struct server *s, const char *token,
					   const char *content_type, long length, int status,
					   const char *slug)
{
	char req[512], buf[4096], type[64], auth[128] = "";
	bool closed;
	int fd = t_connect(s, NULL, NULL);

	if (token)
		snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", token);
	snprintf(req, sizeof req, "POST /v1/actions/1/updates HTTP/1.1\r\nHost: x\r\n%s"
		 "Content-Type: %s\r\nContent-Length: %ld\r\n\r\n", auth, content_type, length);
	send_all(fd, req);
	t_recv(fd, buf, sizeof buf, 5000, &closed);
	close(fd);
	snprintf(type, sizeof type, "\"type\":\"/problems/%s\"", slug);
	ck_assert_msg(atoi(buf + 9) == status && strstr(buf, type),
		      "%s: expected %d %s before any body was sent, got: %s", token ? "caller" : "anonymous",
		      status, slug, buf);
}

START_TEST(refusals_come_before_the_body_is_read)
{
	struct server s;
	char *lead = t_member_token(db, "focal@who.int", "lead", "WHO");

	t_server_start(&s, db);
	assert_refused_before_the_body(&s, NULL, "application/json", 10000000, 401, "unauthorized");
	assert_refused_before_the_body(&s, viewer, "application/json", 10000000, 403, "forbidden");
	assert_refused_before_the_body(&s, cochair, "application/json", 10000000, 413,
				       "payload-too-large");
	assert_refused_before_the_body(&s, lead, "application/json", 65537, 413, "payload-too-large");
	assert_refused_before_the_body(&s, lead, "text/plain", 100, 415, "unsupported-media-type");
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM status_update"), 0);
	free(lead);
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

/* Every method the route table does not name for a path is 405 with the
 * methods it does name, as a problem: no echo of the request (TRACE), no
 * stack, no versions. */
START_TEST(odd_methods_get_405_and_no_internals)
{
	static const char *const methods[] = { "TRACE", "OPTIONS", "CONNECT", "PUT", "BREW", "DELETE",
					       "PATCH", "POST" };
	struct server s;

	t_server_start(&s, db);
	for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
		struct resp *r = t_http(&s, methods[i], "/v1/pillars", viewer, NULL, NULL, 0, NULL);
		char *allow = t_header(r, "Allow");

		ck_assert_msg(r->status == 405, "%s: %ld %s", methods[i], r->status, r->body);
		t_assert_problem(r, 405, "method-not-allowed");
		ck_assert_msg(allow && !strcmp(allow, "GET"), "%s: Allow %s", methods[i], allow);
		free(allow);
		ck_assert_ptr_null(strstr(r->body, "Bearer"));
		ck_assert_ptr_null(strstr(r->body, viewer + 4));
		ck_assert_ptr_null(strcasestr(r->headers, "X-Powered-By"));
		ck_assert_ptr_null(strcasestr(r->headers, "\nServer:"));
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

/* Text that would change a statement spliced into SQL is stored, answered
 * and searched for as the text it is; every table is still there. */
START_TEST(sql_metacharacters_are_data)
{
	static const char narrative[] = "Robert'); DROP TABLE status_update; -- ' OR '1'='1 $1 %s";
	static const char title[] = "O'Brien review'; DELETE FROM action; --";
	struct server s;
	char body[400], *stored, *location, *cycle;
	struct resp *r;
	long before = t_sql_long(db, "SELECT count(*) FROM status_update");
	long actions = t_sql_long(db, "SELECT count(*) FROM action");

	t_server_start(&s, db);
	snprintf(body, sizeof body, "{\"period\":\"2021-Q3\",\"status\":\"on_track\","
		 "\"percent_complete\":5,\"narrative\":\"%s\"}", narrative);
	r = t_http(&s, "POST", "/v1/actions/1/updates", cochair, "application/json", body,
		   strlen(body), NULL);
	ck_assert_int_eq(r->status, 201);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "narrative")), narrative);
	location = t_header(r, "Location");
	t_resp_free(r);
	/* read back as it was written */
	r = t_get(&s, location, viewer);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "narrative")), narrative);
	t_resp_free(r);
	free(location);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM status_update"), before + 1);
	stored = t_sql(db, "SELECT narrative FROM status_update ORDER BY id DESC LIMIT 1");
	ck_assert_str_eq(stored, narrative);
	free(stored);
	/* in a search, a tautology finds nothing: it is words to look for */
	r = t_get(&s, "/v1/actions?q=%27%20OR%201%3D1%20--", viewer);
	ck_assert_int_eq(r->status, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 0);
	t_resp_free(r);
	r = t_get(&s, "/v1/actions?lead=UNDP%27%20OR%20%271%27%3D%271", viewer);
	ck_assert_int_eq(r->status, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 0);
	t_resp_free(r);
	/* too long for an entity code: refused by name, not run */
	r = t_get(&s, "/v1/actions?lead=UNDP%27%3B%20DELETE%20FROM%20action%3B--", viewer);
	t_assert_problem(r, 422, "validation");
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(r->json, "errors"), 0), "field")), "lead");
	t_resp_free(r);
	/* an action titled with metacharacters is found by them, and only it */
	cycle = t_sql(db, "SELECT cycle FROM action WHERE id = 1");
	snprintf(body, sizeof body, "{\"pillar\":1,\"cycle\":\"%s\",\"year\":%ld,\"title\":\"%s\"}",
		 cycle, t_sql_long(db, "SELECT year FROM action WHERE id = 1"), title);
	free(cycle);
	r = t_http(&s, "POST", "/v1/actions", cochair, "application/json", body, strlen(body), NULL);
	ck_assert_msg(r->status == 201, "%ld %s", r->status, r->body);
	t_resp_free(r);
	r = t_get(&s, "/v1/actions?q=review%27%3B%20DELETE%20FROM%20action%3B%20--", viewer);
	ck_assert_int_eq(r->status, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(r->json, "items"), 0), "title")),
			 title);
	t_resp_free(r);
	/* every table intact */
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM action"), actions + 1);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM status_update"), before + 1);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
				    " AND tablename IN ('action', 'status_update')"), 2);
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
	tcase_add_test(tc, the_default_rate_is_100_a_second_in_bursts_of_200);
	tcase_add_test(tc, callers_without_a_token_are_limited_per_address);
	tcase_add_test(tc, behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget);
	tcase_add_test(tc, connections_beyond_the_cap_wait_until_one_closes);
	tcase_add_test(tc, an_idle_connection_is_closed_after_the_idle_timeout);
	tcase_add_test(tc, a_slow_client_never_holds_a_thread);
	tcase_add_test(tc, refusals_come_before_the_body_is_read);
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
