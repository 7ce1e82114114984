/* Chart requests that wait for a worker hold no API thread: with the
 * worker stopped, a flood of first views leaves health and reads
 * answering; one member's waits and queued charts are bounded (429); the
 * same chart asked by many is one job; a client that hangs up is let go;
 * SIGTERM answers every waiting request and exits cleanly. The chart
 * requests run concurrently on one libcurl multi handle, so the tests can
 * see which are still outstanding while other requests are answered. */
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CALLS 32
/* how long a test waits for something it expects to happen */
#define PATIENCE_MS 60000

struct call {
	CURL *h;
	struct curl_slist *headers;
	struct resp r;
	char path[160];
	bool done;
};

static size_t on_body(char *data, size_t size, size_t n, void *cls)
{
	struct resp *r = cls;

	r->body = realloc(r->body, r->len + size * n + 1);
	memcpy(r->body + r->len, data, size * n);
	r->len += size * n;
	r->body[r->len] = '\0';
	return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *cls)
{
	struct resp *r = cls;
	size_t have = strlen(r->headers);

	if (have + size * n < sizeof r->headers) {
		memcpy(r->headers + have, data, size * n);
		r->headers[have + size * n] = '\0';
	}
	return size * n;
}

static void call_start(CURLM *m, struct call *c, const struct server *s, const char *path,
		       const char *token)
{
	char url[256], auth[256];

	memset(c, 0, sizeof *c);
	snprintf(c->path, sizeof c->path, "%s", path);
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->port, path);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	c->headers = curl_slist_append(NULL, auth);
	c->h = curl_easy_init();
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &c->r);
	curl_easy_setopt(c->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->h, CURLOPT_HEADERDATA, &c->r);
	curl_easy_setopt(c->h, CURLOPT_PRIVATE, c);
	ck_assert_int_eq(curl_multi_add_handle(m, c->h), CURLM_OK);
}

/* Moves the transfers on for up to ms and returns how many are done. */
static int pump(CURLM *m, struct call *calls, int n, int ms)
{
	int running, left, done = 0;
	CURLMsg *msg;

	curl_multi_perform(m, &running);
	if (ms > 0) {
		curl_multi_poll(m, NULL, 0, ms, NULL);
		curl_multi_perform(m, &running);
	}
	while ((msg = curl_multi_info_read(m, &left))) {
		struct call *c;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		c->done = true;
		if (msg->data.result == CURLE_OK)
			curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &c->r.status);
		else
			c->r.status = -1;
		if (c->r.body)
			c->r.json = json_loadb(c->r.body, c->r.len, 0, NULL);
	}
	for (int i = 0; i < n; i++)
		done += calls[i].done;
	return done;
}

static void calls_free(CURLM *m, struct call *calls, int n)
{
	for (int i = 0; i < n; i++) {
		curl_multi_remove_handle(m, calls[i].h);
		curl_easy_cleanup(calls[i].h);
		curl_slist_free_all(calls[i].headers);
		json_decref(calls[i].r.json);
		free(calls[i].r.body);
	}
	curl_multi_cleanup(m);
}

/* A gauge from /metrics. */
static long metric(const struct server *s, const char *name)
{
	struct resp *r = t_get(s, "/metrics", NULL);
	char line[128];
	const char *p;
	long v = -1;

	ck_assert_int_eq(r->status, 200);
	snprintf(line, sizeof line, "\n%s ", name);
	p = strstr(r->body, line);
	if (p)
		v = atol(p + strlen(line));
	t_resp_free(r);
	return v;
}

static long chart_jobs(const char *db)
{
	return t_sql_long(db, "SELECT count(*) FROM job WHERE kind = 'render_chart'");
}

static const char *media_type(const char *path)
{
	return strstr(path, ".svg") ? "image/svg+xml" : strstr(path, ".png") ? "image/png"
									      : "application/pdf";
}

/* A waiting request's answer: its image, or come back later. */
static void assert_image_or_come_back(const struct call *c)
{
	char *ct = t_header(&c->r, "Content-Type"), *retry = t_header(&c->r, "Retry-After");

	ck_assert_msg(c->r.status == 200 || c->r.status == 202, "%s: %ld %s", c->path, c->r.status,
		      c->r.body ? c->r.body : "");
	if (c->r.status == 200) {
		ck_assert_str_eq(ct, media_type(c->path));
		ck_assert_uint_gt(c->r.len, 100);
	} else {
		ck_assert_ptr_nonnull(retry);
		ck_assert_str_eq(json_string_value(json_object_get(c->r.json, "state")), "queued");
	}
	free(ct);
	free(retry);
}

START_TEST(a_flood_of_first_views_leaves_the_api_answering)
{
	static const char *const env[] = { "WORKPLAN_THREADS=4", NULL };
	static const char *const formats[] = { "svg", "png", "pdf" };
	struct server api, replica;
	struct call calls[24];
	CURLM *m = curl_multi_init();
	char db[64], *viewer, path[160];
	int n = 0, refused = 0, done;
	struct resp *r;
	pid_t worker;

	t_db_create(db, sizeof db, true);
	viewer = t_member_token(db, "viewer@unicef.org", "viewer", "UNICEF");
	t_server_start_env(&api, db, env);
	t_server_start_env(&replica, db, env);
	/* 24 distinct charts, none drawn, no worker: 8 quarters, 3 formats */
	for (int q = 0; q < 8; q++)
		for (int f = 0; f < 3; f++) {
			snprintf(path, sizeof path, "/v1/charts/status-by-pillar.%s?as_of=%d-Q%d",
				 formats[f], 2022 + q / 4, q % 4 + 1);
			call_start(m, &calls[n++], &api, path, viewer);
		}
	/* every request has been taken in: answered, or its job queued */
	for (int waited = 0;; waited += 20) {
		done = pump(m, calls, n, 20);
		if (done + chart_jobs(db) >= n)
			break;
		ck_assert_msg(waited < PATIENCE_MS, "%d answered, %ld queued", done, chart_jobs(db));
	}
	/* while all the admitted ones wait, health and a read answer */
	r = t_get(&api, "/v1/health", NULL);
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	r = t_get(&api, "/v1/pillars", viewer);
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	ck_assert_int_eq(pump(m, calls, n, 0), done);
	for (int waited = 0; metric(&api, "workplan_chart_requests_waiting") != n - done; waited += 20) {
		ck_assert_int_eq(pump(m, calls, n, 20), done);
		ck_assert_msg(waited < PATIENCE_MS, "the admitted requests are not all waiting");
	}
	ck_assert_int_eq(n - done, 8);
	/* the member's bound: 8 charts queued, the rest told to slow down */
	for (int i = 0; i < n; i++) {
		char *retry;

		if (!calls[i].done)
			continue;
		t_assert_problem(&calls[i].r, 429, "rate-limited");
		retry = t_header(&calls[i].r, "Retry-After");
		ck_assert_ptr_nonnull(retry);
		free(retry);
		refused++;
	}
	ck_assert_int_eq(refused, 16);
	ck_assert_int_eq(chart_jobs(db), 8);
	/* also through another API process: the bound is on queued jobs */
	r = t_get(&replica, "/v1/charts/status-by-pillar.svg?as_of=2021-Q4", viewer);
	t_assert_problem(r, 429, "rate-limited");
	t_resp_free(r);
	ck_assert_int_eq(chart_jobs(db), 8);
	/* a worker comes: every waiting request gets its image, or come back */
	worker = t_worker_start(db, NULL);
	for (int waited = 0; pump(m, calls, n, 20) < n; waited += 20)
		ck_assert_msg(waited < PATIENCE_MS, "chart requests still waiting");
	for (int i = 0; i < n; i++)
		if (calls[i].r.status != 429)
			assert_image_or_come_back(&calls[i]);
	for (int waited = 0;
	     t_sql_long(db, "SELECT count(*) FROM job WHERE kind = 'render_chart' AND state <> 'done'");
	     waited += 20) {
		ck_assert_msg(waited < PATIENCE_MS, "chart jobs not done");
		usleep(20000);
	}
	for (int i = 0; i < n; i++) {
		if (calls[i].r.status == 429)
			continue;
		r = t_get(&api, calls[i].path, viewer);
		ck_assert_int_eq(r->status, 200);
		t_resp_free(r);
	}
	t_worker_stop(worker, SIGTERM);
	calls_free(m, calls, n);
	t_server_stop(&replica);
	t_server_stop(&api);
	free(viewer);
}
END_TEST

START_TEST(the_same_chart_asked_by_many_is_drawn_once)
{
	static const char *const path = "/v1/charts/status-by-pillar.png?as_of=2023-Q1";
	struct server api;
	struct call calls[18];
	CURLM *m = curl_multi_init();
	char db[64], *tokens[3], email[64];
	const struct call *first = NULL;
	long job;
	pid_t worker;
	int n = 0;

	t_db_create(db, sizeof db, true);
	for (int i = 0; i < 3; i++) {
		snprintf(email, sizeof email, "viewer%d@unicef.org", i);
		tokens[i] = t_member_token(db, email, "viewer", "UNICEF");
	}
	t_server_start(&api, db);
	for (int i = 0; i < 18; i++)
		call_start(m, &calls[n++], &api, path, tokens[i % 3]);
	for (int waited = 0; metric(&api, "workplan_chart_requests_waiting") < n; waited += 20) {
		ck_assert_msg(pump(m, calls, n, 20) == 0, "a request was answered before any drawing");
		ck_assert_msg(waited < PATIENCE_MS, "the requests did not all wait");
	}
	ck_assert_int_eq(chart_jobs(db), 1);
	job = t_sql_long(db, "SELECT id FROM job WHERE kind = 'render_chart'");
	worker = t_worker_start(db, NULL);
	for (int waited = 0; pump(m, calls, n, 20) < n; waited += 20)
		ck_assert_msg(waited < PATIENCE_MS, "chart requests still waiting");
	for (int i = 0; i < n; i++) {
		assert_image_or_come_back(&calls[i]);
		if (calls[i].r.status == 202)
			ck_assert_int_eq(json_integer_value(json_object_get(calls[i].r.json, "job")), job);
		else if (!first)
			first = &calls[i];
		else
			ck_assert(first->r.len == calls[i].r.len &&
				  !memcmp(first->r.body, calls[i].r.body, first->r.len));
	}
	ck_assert_int_eq(chart_jobs(db), 1);
	t_worker_stop(worker, SIGTERM);
	calls_free(m, calls, n);
	t_server_stop(&api);
	for (int i = 0; i < 3; i++)
		free(tokens[i]);
}
END_TEST

/* Sends a chart request on a socket of its own, and returns the socket. */
static int raw_request(const struct server *s, const char *path, const char *token)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(s->port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char req[512];
	int len;

	ck_assert(fd >= 0);
	ck_assert(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
	len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer %s\r\n\r\n",
		       path, token);
	ck_assert(write(fd, req, len) == len);
	return fd;
}

START_TEST(a_client_that_hangs_up_is_let_go)
{
	struct server api;
	struct call calls[1];
	CURLM *m = curl_multi_init();
	char db[64], *viewer;
	int fd;

	t_db_create(db, sizeof db, true);
	viewer = t_member_token(db, "viewer@unicef.org", "viewer", "UNICEF");
	t_server_start(&api, db);
	call_start(m, &calls[0], &api, "/v1/charts/progress-trend.svg?from=2022-Q1&to=2023-Q4", viewer);
	for (int waited = 0; metric(&api, "workplan_chart_requests_waiting") < 1; waited += 20) {
		pump(m, calls, 1, 20);
		ck_assert_msg(waited < PATIENCE_MS, "the first request did not wait");
	}
	fd = raw_request(&api, "/v1/charts/progress-trend.pdf?from=2022-Q1&to=2023-Q4", viewer);
	for (int waited = 0; metric(&api, "workplan_chart_requests_waiting") < 2; waited += 20) {
		pump(m, calls, 1, 20);
		ck_assert_msg(waited < PATIENCE_MS, "the second request did not wait");
	}
	close(fd);
	/* the one that left goes, while the older one still waits */
	for (int waited = 0; metric(&api, "workplan_chart_requests_waiting") > 1; waited += 20) {
		pump(m, calls, 1, 20);
		ck_assert_msg(waited < PATIENCE_MS, "a request whose client left still waits");
	}
	ck_assert_int_eq(pump(m, calls, 1, 0), 0);
	calls_free(m, calls, 1);
	t_server_stop(&api);
	free(viewer);
}
END_TEST

START_TEST(stopping_the_api_answers_every_waiting_request)
{
	struct server api;
	struct call calls[6];
	CURLM *m = curl_multi_init();
	char db[64], *viewer, path[160];
	int status;

	t_db_create(db, sizeof db, true);
	viewer = t_member_token(db, "viewer@unicef.org", "viewer", "UNICEF");
	t_server_start(&api, db);
	for (int i = 0; i < 6; i++) {
		snprintf(path, sizeof path, "/v1/charts/pillar-burnup.svg?pillar=%d&from=2022-Q1&to=2023-Q4",
			 i + 1);
		call_start(m, &calls[i], &api, path, viewer);
	}
	for (int waited = 0; metric(&api, "workplan_chart_requests_waiting") < 6; waited += 20) {
		ck_assert_int_eq(pump(m, calls, 6, 20), 0);
		ck_assert_msg(waited < PATIENCE_MS, "the requests did not all wait");
	}
	kill(api.pid, SIGTERM);
	for (int waited = 0; pump(m, calls, 6, 20) < 6; waited += 20)
		ck_assert_msg(waited < PATIENCE_MS, "waiting requests were not answered on SIGTERM");
	for (int i = 0; i < 6; i++) {
		ck_assert_msg(calls[i].r.status == 202, "%s: %ld", calls[i].path, calls[i].r.status);
		assert_image_or_come_back(&calls[i]);
	}
	ck_assert_int_eq(waitpid(api.pid, &status, 0), api.pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the API ended with status %d",
		      status);
	api.pid = 0;
	calls_free(m, calls, 6);
	free(viewer);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("chartwait");
	TCase *tc = tcase_create("chartwait");

	curl_global_init(CURL_GLOBAL_ALL);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, a_flood_of_first_views_leaves_the_api_answering);
	tcase_add_test(tc, the_same_chart_asked_by_many_is_drawn_once);
	tcase_add_test(tc, a_client_that_hangs_up_is_let_go);
	tcase_add_test(tc, stopping_the_api_answers_every_waiting_request);
	suite_add_tcase(s, tc);
	return t_run(s);
}
