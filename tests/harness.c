/* The e2e harness. scripts/test.sh starts a throwaway cluster and passes
 * WORKPLAN_TEST_CONNINFO (without dbname), WORKPLAN_TEST_PGDIR and
 * WORKPLAN_BIN; it also creates the seeded template database. */
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *env_var(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v && *v, "%s is not set: run the tests with make test", name);
	return v;
}

const char *t_conninfo(const char *dbname)
{
	static __thread char ci[1024];

	snprintf(ci, sizeof ci, "%s dbname=%s", env_var("WORKPLAN_TEST_CONNINFO"), dbname);
	return ci;
}

char *t_sql(const char *dbname, const char *sql)
{
	PGconn *c = PQconnectdb(t_conninfo(dbname));
	PGresult *r;
	char *v = NULL;

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
	r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK,
		      "%s: %s", sql, PQerrorMessage(c));
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return v;
}

long t_sql_long(const char *dbname, const char *sql)
{
	char *v = t_sql(dbname, sql);
	long n;

	ck_assert_msg(v != NULL, "%s returned nothing", sql);
	n = atol(v);
	free(v);
	return n;
}

void t_db_create(char *dbname, size_t n, bool seeded)
{
	static int counter;
	char sql[256];

	snprintf(dbname, n, "t_%d_%d_%ld", (int)getpid(), ++counter, (long)time(NULL) % 100000);
	snprintf(sql, sizeof sql, "CREATE DATABASE %s%s", dbname,
		 seeded ? " TEMPLATE workplan_template" : "");
	free(t_sql("postgres", sql));
}

static char *read_all(int fd)
{
	size_t len = 0, cap = 4096;
	char *s = malloc(cap);
	ssize_t k;

	while ((k = read(fd, s + len, cap - len - 1)) > 0) {
		len += k;
		if (cap - len < 2)
			s = realloc(s, cap *= 2);
	}
	s[len] = '\0';
	return s;
}

/* In a forked child about to exec: close every descriptor but 0, 1 and 2,
 * so no program we start holds check's message file. Between fork and
 * exec a child must not call check (no ck_assert, nothing that asserts):
 * check records even a passing assertion in that file, and a child's
 * record written alongside the test's garbled check's messages. */
static void close_inherited(void)
{
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
}

FILE *t_popen(const char *cmd)
{
	/* check's own files stay with this process, not with what cmd runs
	 * (LibreOffice wrote into one and garbled check's messages) */
	for (int fd = 3; fd < 1024; fd++) {
		int flags = fcntl(fd, F_GETFD);

		if (flags >= 0)
			fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	}
	return popen(cmd, "r");
}

int t_admin(const char *dbname, char **out, char **err, ...)
{
	char *argv[32], path[512], conninfo[1024];
	int po[2], pe[2], status, argc = 1;
	char *o, *e;
	va_list ap;
	pid_t pid;

	snprintf(path, sizeof path, "%s/workplan-admin", env_var("WORKPLAN_BIN"));
	argv[0] = path;
	va_start(ap, err);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	snprintf(conninfo, sizeof conninfo, "%s", t_conninfo(dbname));
	ck_assert(pipe(po) == 0 && pipe(pe) == 0);
	pid = fork();
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close_inherited();
		setenv("DATABASE_URL", conninfo, 1);
		execv(path, argv);
		_exit(127);
	}
	ck_assert(pid >= 0);
	close(po[1]);
	close(pe[1]);
	/* outputs are small: read stdout fully, then stderr */
	o = read_all(po[0]);
	e = read_all(pe[0]);
	close(po[0]);
	close(pe[0]);
	waitpid(pid, &status, 0);
	if (out)
		*out = o;
	else
		free(o);
	if (err)
		*err = e;
	else
		free(e);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

char *t_member_token(const char *dbname, const char *email, const char *role,
		     const char *entity)
{
	char *out, *err, *last, *nl;
	int rc;

	rc = t_admin(dbname, NULL, &err, "member", "add", "--name", "Test Member", "--email", email,
		     "--entity", entity, "--role", role, NULL);
	ck_assert_msg(rc == 0, "member add failed: %s", err);
	free(err);
	rc = t_admin(dbname, &out, &err, "token", "create", "--email", email, NULL);
	ck_assert_msg(rc == 0, "token create failed: %s", err);
	free(err);
	nl = strrchr(out, '\n');
	if (nl && !nl[1])
		*nl = '\0';
	last = strrchr(out, '\n');
	last = strdup(last ? last + 1 : out);
	free(out);
	return last;
}

int t_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	ck_assert(fd >= 0);
	ck_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
	ck_assert(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

void t_server_start(struct server *s, const char *dbname)
{
	t_server_start_env(s, dbname, NULL);
}

void t_server_start_env(struct server *s, const char *dbname, const char *const *env)
{
	snprintf(s->dbname, sizeof s->dbname, "%s", dbname);
	s->port = t_free_port();
	s->faults = false;
	t_server_restart(s, env);
}

void t_server_start_faults(struct server *s, const char *dbname, const char *const *env)
{
	snprintf(s->dbname, sizeof s->dbname, "%s", dbname);
	s->port = t_free_port();
	s->faults = true;
	t_server_restart(s, env);
}

void t_server_restart(struct server *s, const char *const *env)
{
	char path[512], listen[64], log[600], conninfo[1024];
	const char *dbname = s->dbname;
	struct resp *r = NULL;

	if (s->faults)
		snprintf(path, sizeof path, "%s", env_var("WORKPLAN_FAULT_API"));
	else
		snprintf(path, sizeof path, "%s/workplan-api", env_var("WORKPLAN_BIN"));
	snprintf(listen, sizeof listen, "127.0.0.1:%d", s->port);
	snprintf(log, sizeof log, "%s/api-%s.log", env_var("WORKPLAN_TEST_LOGDIR"), dbname);
	snprintf(conninfo, sizeof conninfo, "%s", t_conninfo(dbname));
	s->pid = fork();
	if (s->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0)
			dup2(fd, 2);
		close_inherited();
		setenv("DATABASE_URL", conninfo, 1);
		setenv("WORKPLAN_LISTEN", listen, 1);
		for (; env && *env; env++)
			putenv((char *)*env);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	ck_assert(s->pid >= 0);
	for (int i = 0; i < 200; i++) {
		usleep(25000);
		r = t_get(s, "/v1/health", NULL);
		if (r->status == 200)
			break;
		t_resp_free(r);
		r = NULL;
	}
	ck_assert_msg(r != NULL, "workplan-api did not become healthy (log: %s)", log);
	t_resp_free(r);
}

/* Each worker's log, by pid, for t_worker_log_has. */
static struct {
	pid_t pid;
	char log[600];
} worker_logs[64];

bool t_worker_log_has(pid_t pid, const char *text, int ms)
{
	const char *log = NULL;
	long long deadline = t_ms() + ms;

	for (size_t i = 0; i < sizeof worker_logs / sizeof *worker_logs; i++)
		if (worker_logs[i].pid == pid)
			log = worker_logs[i].log;
	ck_assert_msg(log != NULL, "no log known for worker %d", (int)pid);
	for (;;) {
		int fd = open(log, O_RDONLY);
		char *s = fd >= 0 ? read_all(fd) : NULL;
		bool found = s && strstr(s, text);

		if (fd >= 0)
			close(fd);
		free(s);
		if (found)
			return true;
		if (t_ms() >= deadline)
			return false;
		usleep(20000);
	}
}

pid_t t_worker_start(const char *dbname, const char *const *env)
{
	static int n;
	char path[512], log[600], conninfo[1024];
	pid_t pid;

	snprintf(path, sizeof path, "%s/workplan-worker", env_var("WORKPLAN_BIN"));
	snprintf(log, sizeof log, "%s/worker-%s-%d.log", env_var("WORKPLAN_TEST_LOGDIR"), dbname, ++n);
	snprintf(conninfo, sizeof conninfo, "%s", t_conninfo(dbname));
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0)
			dup2(fd, 2);
		close_inherited();
		setenv("DATABASE_URL", conninfo, 1);
		for (; env && *env; env++)
			putenv((char *)*env);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	ck_assert(pid >= 0);
	worker_logs[n % 64].pid = pid;
	snprintf(worker_logs[n % 64].log, sizeof worker_logs[n % 64].log, "%s", log);
	return pid;
}

int t_worker_stop(pid_t pid, int sig)
{
	int status = 0;

	kill(pid, sig ? sig : SIGTERM);
	waitpid(pid, &status, 0);
	return status;
}

void t_server_stop(struct server *s)
{
	int status;

	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	waitpid(s->pid, &status, 0);
	s->pid = 0;
}

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

	/* a new status line (after 100 Continue) starts the headers over */
	if (!strncmp(data, "HTTP/", 5))
		have = r->headers[0] = '\0';
	if (have + size * n < sizeof r->headers) {
		memcpy(r->headers + have, data, size * n);
		r->headers[have + size * n] = '\0';
	} else {
		r->headers_cut = true;
	}
	return size * n;
}

struct resp *t_http(const struct server *s, const char *method, const char *path,
		    const char *token, const char *content_type, const char *body,
		    size_t body_len, const char *extra_header)
{
	return t_http_from(s, NULL, method, path, token, content_type, body, body_len,
			   extra_header);
}

struct resp *t_http_from(const struct server *s, const char *from, const char *method,
			 const char *path, const char *token, const char *content_type,
			 const char *body, size_t body_len, const char *extra_header)
{
	struct resp *r = calloc(1, sizeof *r);
	struct curl_slist *h = NULL;
	char url[16384], line[256], iface[64];
	CURL *c = curl_easy_init();
	CURLcode rc;

	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (from) {
		snprintf(iface, sizeof iface, "host!%s", from);
		curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (token) {
		snprintf(line, sizeof line, "Authorization: Bearer %s", token);
		h = curl_slist_append(h, line);
	}
	if (content_type) {
		snprintf(line, sizeof line, "Content-Type: %s", content_type);
		h = curl_slist_append(h, line);
	}
	h = curl_slist_append(h, "Expect:");
	if (extra_header)
		h = curl_slist_append(h, extra_header);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	else
		r->status = -1; /* no answer at all */
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (r->body)
		r->json = json_loadb(r->body, r->len, 0, NULL);
	return r;
}

struct resp *t_get(const struct server *s, const char *path, const char *token)
{
	return t_http(s, "GET", path, token, NULL, NULL, 0, NULL);
}

char *t_header(const struct resp *r, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = r->headers; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1, *end;

			while (*v == ' ')
				v++;
			end = v + strcspn(v, "\r\n");
			return strndup(v, end - v);
		}
	}
	return NULL;
}

struct resp *t_get_until(const struct server *s, const char *path, const char *token,
			 long status, int ms)
{
	for (int waited = 0;; waited += 20) {
		struct resp *r = t_get(s, path, token);

		if (r->status == status)
			return r;
		t_resp_free(r);
		if (waited >= ms)
			return NULL;
		usleep(20000);
	}
}

void t_resp_free(struct resp *r)
{
	if (!r)
		return;
	json_decref(r->json);
	free(r->body);
	free(r);
}

void t_assert_problem(const struct resp *r, long status, const char *slug)
{
	char type[128], *ct = t_header(r, "Content-Type");

	ck_assert_msg(r->status == status, "status %ld, expected %ld; body: %s", r->status, status,
		      r->body ? r->body : "");
	ck_assert_msg(ct && !strcmp(ct, "application/problem+json"), "content type %s",
		      ct ? ct : "(none)");
	free(ct);
	ck_assert_msg(r->json != NULL, "problem body is not JSON: %s", r->body);
	snprintf(type, sizeof type, "/problems/%s", slug);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "type")), type);
	ck_assert_int_eq(json_integer_value(json_object_get(r->json, "status")), status);
	ck_assert(json_is_string(json_object_get(r->json, "title")));
	ck_assert(json_is_string(json_object_get(r->json, "detail")));
	ck_assert(json_is_array(json_object_get(r->json, "errors")));
}

long long t_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

int t_connect(const struct server *s, const char *from, const char *to)
{
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert(inet_pton(AF_INET, from ? from : "127.0.0.1", &src.sin_addr) == 1);
	ck_assert(inet_pton(AF_INET, to ? to : "127.0.0.1", &dst.sin_addr) == 1);
	dst.sin_port = htons((unsigned short)s->port);
	ck_assert_msg(bind(fd, (struct sockaddr *)&src, sizeof src) == 0, "bind %s: %s",
		      from ? from : "127.0.0.1", strerror(errno));
	if (connect(fd, (struct sockaddr *)&dst, sizeof dst)) {
		close(fd);
		return -1;
	}
	return fd;
}

size_t t_recv(int fd, char *buf, size_t n, int ms, bool *closed)
{
	long long deadline = t_ms() + ms;
	size_t len = 0;

	*closed = false;
	while (len < n - 1 && t_ms() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&p, 1, (int)(deadline - t_ms())) <= 0)
			continue;
		k = recv(fd, buf + len, n - 1 - len, 0);
		if (k <= 0) {
			*closed = k == 0 || errno == ECONNRESET;
			break;
		}
		len += (size_t)k;
	}
	buf[len] = '\0';
	return len;
}

#define PRISM "tests/openapi/node_modules/.bin/prism"

void t_prism_start(struct server *p, const struct server *api)
{
	char port[16], upstream[64], log[600];
	double deadline = (t_ms() / 1000.0) + 90;
	struct resp *r = NULL;
	int status;

	ck_assert_msg(access(PRISM, X_OK) == 0, "%s is missing: run the tests with make test", PRISM);
	snprintf(p->dbname, sizeof p->dbname, "%s", api->dbname);
	p->port = t_free_port();
	snprintf(port, sizeof port, "%d", p->port);
	snprintf(upstream, sizeof upstream, "http://127.0.0.1:%d", api->port);
	snprintf(log, sizeof log, "%s/prism-%s.log", env_var("WORKPLAN_TEST_LOGDIR"), p->dbname);
	p->pid = fork();
	if (p->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		/* a group of its own, for t_prism_stop; and gone with the suite
		 * even when the suite dies before its teardown */
		setsid();
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		close_inherited();
		/* without --errors Prism forwards every request, the ones that
		 * break the document too, and lists what it found wrong with the
		 * request and the answer in an sl-violations header */
		execl(PRISM, PRISM, "proxy", "--cors=false", "--host", "127.0.0.1", "--port", port,
		      "api/openapi.json", upstream, (char *)NULL);
		_exit(127);
	}
	ck_assert(p->pid >= 0);
	/* Prism needs a few seconds to load the document: poll its port */
	for (;;) {
		ck_assert_msg(waitpid(p->pid, &status, WNOHANG) == 0, "prism exited (log: %s)", log);
		r = t_get(p, "/v1/health", NULL);
		if (r->status == 200)
			break;
		t_resp_free(r);
		r = NULL;
		if ((t_ms() / 1000.0) > deadline) {
			t_prism_stop(p);
			ck_abort_msg("prism did not answer in 90 s (log: %s)", log);
		}
		usleep(50000);
	}
	t_resp_free(r);
}

void t_prism_stop(struct server *p)
{
	double deadline = (t_ms() / 1000.0) + 10;
	int status;

	if (p->pid <= 0)
		return;
	kill(-p->pid, SIGTERM);
	while (waitpid(p->pid, &status, WNOHANG) == 0) {
		if ((t_ms() / 1000.0) > deadline) {
			kill(-p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
			break;
		}
		usleep(10000);
	}
	/* anything it left behind in its group */
	kill(-p->pid, SIGKILL);
	p->pid = 0;
}

void t_assert_no_violations(const struct resp *r, bool bad_request)
{
	char *v = t_header(r, "sl-violations"), *ct = t_header(r, "Content-Type");
	json_t *list, *e;
	size_t i;

	ck_assert_msg(!r->headers_cut, "the answer's headers did not fit: %.200s", r->headers);
	ck_assert_msg(r->status > 0, "no answer through prism");
	/* ours are /problems/<slug>; Prism's own (FetchError, https://stoplight.io/...) are not */
	if (ct && !strcmp(ct, "application/problem+json")) {
		const char *type = json_string_value(json_object_get(r->json, "type"));

		ck_assert_msg(type && !strncmp(type, "/problems/", 10),
			      "prism answered itself: %ld %.1000s", r->status, r->body);
	}
	free(ct);
	if (!v)
		return;
	/* check's messages are short: the first violations tell enough */
	list = json_loads(v, 0, NULL);
	ck_assert_msg(bad_request && json_is_array(list), "prism: %ld %.1000s", r->status, v);
	json_array_foreach(list, i, e) {
		const char *where = json_string_value(json_array_get(json_object_get(e, "location"), 0));

		ck_assert_msg(where && !strcmp(where, "request"), "prism: %ld %.1000s", r->status, v);
	}
	json_decref(list);
	free(v);
}

void t_cluster(const char *action)
{
	char cmd[1024];

	snprintf(cmd, sizeof cmd, "scripts/pg.sh %s '%s' >/dev/null", action,
		 env_var("WORKPLAN_TEST_PGDIR"));
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
}

int t_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

double t_metric(const struct server *s, const char *name)
{
	struct resp *r = t_get(s, "/metrics", NULL);
	const char *p = r->body ? strstr(r->body, name) : NULL;
	size_t n = strlen(name);
	double v;

	ck_assert_msg(r->status == 200, "/metrics: %ld", r->status);
	/* the sample line "name value", not the HELP or TYPE line, nor a
	 * longer name that starts with this one */
	while (p && ((p != r->body && p[-1] != '\n') || p[n] != ' '))
		p = strstr(p + 1, name);
	ck_assert_msg(p != NULL, "no metric %s in /metrics", name);
	v = atof(p + n + 1);
	t_resp_free(r);
	return v;
}

void t_cache_listening(const struct server *s)
{
	for (int i = 0; i < 200 && t_metric(s, "workplan_cache_listening") != 1; i++)
		usleep(20000);
	ck_assert_int_eq(t_metric(s, "workplan_cache_listening"), 1);
}

struct resp *t_http_headers(const struct server *s, const char *from, const char *method,
			    const char *path, const char *body, size_t body_len,
			    const char *const *headers)
{
	struct resp *r = calloc(1, sizeof *r);
	struct curl_slist *h = curl_slist_append(NULL, "Expect:");
	char url[16384], iface[64];
	CURL *c = curl_easy_init();

	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (from) {
		snprintf(iface, sizeof iface, "host!%s", from);
		curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	for (; headers && *headers; headers++)
		h = curl_slist_append(h, *headers);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	else
		r->status = -1; /* no answer at all */
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (r->body)
		r->json = json_loadb(r->body, r->len, 0, NULL);
	return r;
}

/* The mail suites' SMTP server. */
void t_smtpd_start(struct smtpd *m, int port)
{
	static int n;
	char log[600], ready[600], portarg[16];

	m->port = port ? port : t_free_port();
	snprintf(m->dir, sizeof m->dir, "%s/smtpd-%d-%d-%d", env_var("WORKPLAN_TEST_LOGDIR"), (int)getpid(),
		 m->port, ++n);
	ck_assert_msg(mkdir(m->dir, 0755) == 0, "mkdir %s: %s", m->dir, strerror(errno));
	snprintf(log, sizeof log, "%s.log", m->dir);
	snprintf(ready, sizeof ready, "%s/ready", m->dir);
	snprintf(portarg, sizeof portarg, "%d", m->port);
	m->pid = fork();
	if (m->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		close_inherited();
		/* Debian's python3, which has python3-aiosmtpd */
		execl("/usr/bin/python3", "python3", "tests/tools/smtpd.py", portarg, m->dir, (char *)NULL);
		_exit(127);
	}
	ck_assert(m->pid > 0);
	for (int i = 0; i < 500 && access(ready, F_OK) != 0; i++)
		usleep(20000);
	ck_assert_msg(access(ready, F_OK) == 0, "the SMTP server did not start (see %s)", log);
}

void t_smtpd_stop(struct smtpd *m)
{
	int status;

	if (m->pid > 0) {
		kill(m->pid, SIGTERM);
		waitpid(m->pid, &status, 0);
	}
	m->pid = 0;
}

int t_smtpd_count(const struct smtpd *m)
{
	char path[600];
	int n = 0;

	for (;;) {
		snprintf(path, sizeof path, "%s/%04d.eml", m->dir, n + 1);
		if (access(path, F_OK) != 0)
			return n;
		n++;
	}
}

int t_smtpd_wait(const struct smtpd *m, int n, int ms)
{
	long long end = t_ms() + ms;

	while (t_smtpd_count(m) < n && t_ms() < end)
		usleep(20000);
	return t_smtpd_count(m);
}

static char *slurp(const char *path)
{
	int fd = open(path, O_RDONLY);

	char *s;

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	s = read_all(fd);
	close(fd);
	return s;
}

char *t_smtpd_raw(const struct smtpd *m, int i)
{
	char path[600];

	snprintf(path, sizeof path, "%s/%04d.eml", m->dir, i);
	return slurp(path);
}

char *t_smtpd_envelope(const struct smtpd *m, int i)
{
	char path[600];

	snprintf(path, sizeof path, "%s/%04d.env", m->dir, i);
	return slurp(path);
}

json_t *t_mail_parse(const char *path)
{
	char cmd[1200];
	json_error_t err;
	json_t *j;
	FILE *f;

	snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/tools/mailparse.py '%s'", path);
	f = t_popen(cmd);
	ck_assert(f != NULL);
	j = json_loadf(f, 0, &err);
	ck_assert_msg(pclose(f) == 0 && j, "mailparse.py %s failed: %s", path, err.text);
	return j;
}

json_t *t_smtpd_mail(const struct smtpd *m, int i)
{
	char path[600];

	snprintf(path, sizeof path, "%s/%04d.eml", m->dir, i);
	return t_mail_parse(path);
}

void t_smtpd_flag(const struct smtpd *m, const char *name, bool on)
{
	char path[600];

	snprintf(path, sizeof path, "%s/%s", m->dir, name);
	if (on)
		close(open(path, O_WRONLY | O_CREAT, 0644));
	else
		unlink(path);
}
