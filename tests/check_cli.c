/* bin/workplan, the command-line client (SPEC 14), run as a user runs it
 * against the real API and a real worker: every sub-command, --json
 * parsed, the config file's mode and the token kept out of argv, exit
 * statuses 1, 2 and 3, a connection lost mid-update retried without a
 * second update (a proxy in this file drops the first answer), reports as
 * a co-chair and as a lead, charts, and the man page checked by man. */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct server srv;
static char db[64];
static char *cochair, *lead, *viewer;
static pid_t worker;
static long who_action, unodc_action; /* key actions of pillars 1 (WHO) and 2 (UNODC) */

static void setup(void)
{
	t_db_create(db, sizeof db, true);
	cochair = t_member_token(db, "cochair@ohchr.org", "cochair", "OHCHR");
	lead = t_member_token(db, "focal.point@who.int", "lead", "WHO");
	viewer = t_member_token(db, "reader@unicef.org", "viewer", "UNICEF");
	t_server_start(&srv, db);
	worker = t_worker_start(db, NULL);
	who_action = t_sql_long(db, "SELECT min(id) FROM action WHERE pillar = 1");
	unodc_action = t_sql_long(db, "SELECT min(id) FROM action WHERE pillar = 2");
}

static void teardown(void)
{
	t_worker_stop(worker, SIGTERM);
	t_server_stop(&srv);
	free(cochair);
	free(lead);
	free(viewer);
}

/* ---- running the client ---- */

struct run {
	pid_t pid;
	int in, out, err; /* our ends of its standard input, output and error */
};

struct result {
	int status; /* exit status, or 128 + signal */
	char *out, *err;
};

/* A folder of our own for HOME and the config file. */
static char *home_new(void)
{
	char *dir = strdup("/tmp/check_cli_XXXXXX");

	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static void url_of(const struct server *s, char *buf, size_t n)
{
	snprintf(buf, n, "http://127.0.0.1:%d", s->port);
}

/* Starts bin/workplan with args (NULL-ended) in home; env: "NAME=value"
 * settings added to a clean environment (NULL-ended, may be NULL). */
static struct run cli_start(const char *home, const char *const *env, const char *const *args)
{
	char path[512], h[600], x[600];
	const char *argv[32];
	int pi[2], po[2], pe[2], n = 1;
	struct run r;

	snprintf(path, sizeof path, "%s/workplan", getenv("WORKPLAN_BIN"));
	argv[0] = path;
	for (; args[n - 1] && n < 31; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	snprintf(h, sizeof h, "HOME=%s", home);
	snprintf(x, sizeof x, "XDG_CONFIG_HOME=%s/cfg", home);
	ck_assert(pipe(pi) == 0 && pipe(po) == 0 && pipe(pe) == 0);
	r.pid = fork();
	ck_assert(r.pid >= 0);
	if (r.pid == 0) {
		/* no check calls here (see harness.c) */
		const char *asan = getenv("ASAN_OPTIONS"), *ubsan = getenv("UBSAN_OPTIONS");
		char a[600], u[600];

		dup2(pi[0], 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		snprintf(a, sizeof a, "ASAN_OPTIONS=%s", asan ? asan : "");
		snprintf(u, sizeof u, "UBSAN_OPTIONS=%s", ubsan ? ubsan : "");
		clearenv();
		putenv(h);
		putenv(x);
		putenv("PATH=/usr/bin:/bin");
		putenv("LC_ALL=C.UTF-8");
		putenv(a);
		putenv(u);
		for (; env && *env; env++)
			putenv((char *)*env);
		execv(path, (char **)argv);
		_exit(127);
	}
	close(pi[0]);
	close(po[1]);
	close(pe[1]);
	r.in = pi[1];
	r.out = po[0];
	r.err = pe[0];
	return r;
}

static void add(char **s, size_t *len, const char *data, size_t n)
{
	*s = realloc(*s, *len + n + 1);
	memcpy(*s + *len, data, n);
	*len += n;
	(*s)[*len] = '\0';
}

/* Writes input (may be NULL) to its standard input, closes it, reads both
 * outputs to the end, waits. */
static struct result cli_finish(struct run r, const char *input)
{
	struct result res = { 0 };
	size_t lo = 0, le = 0;
	struct pollfd p[2] = { { r.out, POLLIN, 0 }, { r.err, POLLIN, 0 } };
	int open_fds = 2, st;
	char buf[4096];

	res.out = strdup("");
	res.err = strdup("");
	if (input)
		ck_assert(write(r.in, input, strlen(input)) == (ssize_t)strlen(input));
	close(r.in);
	while (open_fds > 0) {
		ck_assert(poll(p, 2, 120000) > 0);
		for (int i = 0; i < 2; i++) {
			ssize_t k;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			k = read(p[i].fd, buf, sizeof buf);
			if (k <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
			} else if (i == 0) {
				add(&res.out, &lo, buf, k);
			} else {
				add(&res.err, &le, buf, k);
			}
		}
	}
	ck_assert(waitpid(r.pid, &st, 0) == r.pid);
	res.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return res;
}

static struct result cli_run(const char *home, const char *const *env, const char *input,
			     const char *const *args)
{
	return cli_finish(cli_start(home, env, args), input);
}

/* The client as a member: WORKPLAN_URL and WORKPLAN_TOKEN for srv. */
static struct result cli_as(const char *home, const char *token, const char *const *args)
{
	char u[64], url[80], tok[600];

	url_of(&srv, u, sizeof u);
	snprintf(url, sizeof url, "WORKPLAN_URL=%s", u);
	snprintf(tok, sizeof tok, "WORKPLAN_TOKEN=%s", token);
	return cli_run(home, (const char *const[]){ url, tok, NULL }, NULL, args);
}

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

#define ck_exit(r, want)                                                                  \
	ck_assert_msg((r).status == (want), "exit %d, expected %d\nstdout: %s\nstderr: %s", \
		      (r).status, (want), (r).out, (r).err)

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	ck_assert_msg(j != NULL, "not JSON (%s): %s", e.text, text);
	return j;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc(n + 1);
	ck_assert(fread(s, 1, n, f) == (size_t)n);
	s[n] = '\0';
	fclose(f);
	if (len)
		*len = n;
	return s;
}

static void rm_rf(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert(system(cmd) == 0);
}

/* ---- login and the config file ---- */

START_TEST(login_keeps_url_and_token_in_a_file_only_its_owner_reads)
{
	char *home = home_new(), u[64], path[600], dir[600], cmdline[4096], proc[64], line[700];
	struct result r;
	struct run run;
	struct stat st;
	char *text;
	int fd;
	ssize_t n;

	url_of(&srv, u, sizeof u);
	/* while login waits for the token on its standard input, its
	 * command line holds the URL alone */
	run = cli_start(home, NULL, (const char *const[]){ "login", u, NULL });
	snprintf(proc, sizeof proc, "/proc/%d/cmdline", (int)run.pid);
	/* until the child has become workplan (exec done) */
	for (long long deadline = t_ms() + 10000;;) {
		fd = open(proc, O_RDONLY);
		ck_assert_int_ge(fd, 0);
		n = read(fd, cmdline, sizeof cmdline - 1);
		close(fd);
		ck_assert_int_ge(n, 0);
		for (ssize_t i = 0; i < n; i++)
			if (!cmdline[i])
				cmdline[i] = ' ';
		cmdline[n] = '\0';
		if (strstr(cmdline, "workplan login") || t_ms() > deadline)
			break;
		usleep(20000);
	}
	ck_assert_msg(strstr(cmdline, "workplan login"), "cmdline: %s", cmdline);
	ck_assert_ptr_null(strstr(cmdline, lead));
	snprintf(line, sizeof line, "%s\n", lead);
	r = cli_finish(run, line);
	ck_exit(r, 0);
	ck_assert_msg(strstr(r.out, "Signed in") && strstr(r.out, "WHO"), "%s", r.out);
	result_free(&r);

	snprintf(path, sizeof path, "%s/cfg/workplan/config", home);
	snprintf(dir, sizeof dir, "%s/cfg/workplan", home);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	text = slurp(path, NULL);
	ck_assert_ptr_nonnull(strstr(text, lead));
	ck_assert_ptr_nonnull(strstr(text, u));
	free(text);

	/* the file alone is enough now */
	r = cli_run(home, NULL, NULL, (const char *const[]){ "actions", "--mine", NULL });
	ck_exit(r, 0);
	result_free(&r);

	/* a file others may read is refused, and login makes it private again */
	ck_assert_int_eq(chmod(path, 0644), 0);
	r = cli_run(home, NULL, NULL, (const char *const[]){ "actions", NULL });
	ck_exit(r, 2);
	ck_assert_msg(strstr(r.err, "chmod 600") && strstr(r.err, "644"), "%s", r.err);
	ck_assert_str_eq(r.out, "");
	result_free(&r);
	r = cli_run(home, NULL, line, (const char *const[]){ "login", u, NULL });
	ck_exit(r, 0);
	result_free(&r);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);

	/* the token on the command line is refused before anything is sent */
	r = cli_run(home, NULL, NULL, (const char *const[]){ "login", u, viewer, NULL });
	ck_exit(r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "standard input"));
	result_free(&r);
	/* a token the service does not know is refused and not kept */
	r = cli_run(home, NULL, "wpt_not_a_real_token\n", (const char *const[]){ "login", u, NULL });
	ck_exit(r, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "login"));
	result_free(&r);
	text = slurp(path, NULL);
	ck_assert_ptr_nonnull(strstr(text, lead));
	ck_assert_ptr_null(strstr(text, "wpt_not_a_real_token"));
	free(text);
	/* the environment overrides the file */
	{
		char tok[600];

		snprintf(tok, sizeof tok, "WORKPLAN_TOKEN=%s", viewer);
		r = cli_run(home, (const char *const[]){ tok, NULL }, NULL,
			    (const char *const[]){ "update", "1", "--period", "2021-Q3", "--status",
						   "on_track", "--percent", "10", "--narrative", "x", NULL });
		ck_exit(r, 1); /* a viewer may not post */
		ck_assert_ptr_nonnull(strstr(r.err, "403"));
		result_free(&r);
	}
	rm_rf(home);
	free(home);
}
END_TEST

/* ---- actions ---- */

START_TEST(actions_lists_every_action_and_mine_those_of_my_entity)
{
	char *home = home_new();
	struct result r;
	struct resp *api;
	json_t *j, *v, *me, *l;
	size_t i, k;

	/* --mine: exactly the actions GET /v1/me says the lead may post on */
	r = cli_as(home, lead, (const char *const[]){ "actions", "--mine", "--json", NULL });
	ck_exit(r, 0);
	j = parse(r.out);
	api = t_get(&srv, "/v1/me", lead);
	me = json_object_get(api->json, "actions");
	ck_assert_int_gt(json_array_size(me), 0);
	ck_assert_int_eq(json_array_size(json_object_get(j, "items")), json_array_size(me));
	json_array_foreach(json_object_get(j, "items"), i, v) {
		bool who = false;

		ck_assert(json_equal(json_object_get(v, "id"), json_array_get(me, i)));
		json_array_foreach(json_object_get(v, "leads"), k, l)
			who |= !strcmp(json_string_value(l), "WHO");
		ck_assert(who);
	}
	t_resp_free(api);
	json_decref(j);
	result_free(&r);

	/* --pillar: what the API lists for that pillar, every page of it */
	r = cli_as(home, viewer, (const char *const[]){ "--json", "actions", "--pillar", "6", NULL });
	ck_exit(r, 0);
	j = parse(r.out);
	api = t_get(&srv, "/v1/actions?pillar=6&limit=500", viewer);
	ck_assert(json_equal(json_object_get(j, "items"), json_object_get(api->json, "items")));
	ck_assert_int_gt(json_array_size(json_object_get(j, "items")), 0);
	t_resp_free(api);
	json_decref(j);
	result_free(&r);

	/* for people: a header and a line per action */
	r = cli_as(home, viewer, (const char *const[]){ "actions", "--pillar", "6", NULL });
	ck_exit(r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "TITLE"));
	ck_assert_ptr_nonnull(strstr(r.out, "Thematic webinars"));
	result_free(&r);
	rm_rf(home);
	free(home);
}
END_TEST

/* ---- update ---- */

static long updates_of(long action, const char *narrative)
{
	char sql[512];

	snprintf(sql, sizeof sql,
		 "SELECT count(*) FROM status_update WHERE action_id = %ld AND narrative = '%s'", action,
		 narrative);
	return t_sql_long(db, sql);
}

START_TEST(update_posts_once_and_problems_come_one_line_per_field)
{
	char *home = home_new(), action[24], other[24], file[600];
	struct result r;
	json_t *j;
	long id;
	FILE *f;

	snprintf(action, sizeof action, "%ld", who_action);
	snprintf(other, sizeof other, "%ld", unodc_action);
	r = cli_as(home, lead, (const char *const[]){ "update", action, "--period", "2021-Q3",
						      "--status", "on_track", "--percent", "40",
						      "--narrative", "Training modules drafted.",
						      "--json", NULL });
	ck_exit(r, 0);
	j = parse(r.out);
	id = (long)json_integer_value(json_object_get(j, "id"));
	ck_assert_int_gt(id, 0);
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "on_track");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "percent_complete")), 40);
	json_decref(j);
	result_free(&r);
	/* the same command again: the same update, not a second one */
	r = cli_as(home, lead, (const char *const[]){ "update", action, "--period", "2021-Q3",
						      "--status", "on_track", "--percent", "40",
						      "--narrative", "Training modules drafted.",
						      "--json", NULL });
	ck_exit(r, 0);
	j = parse(r.out);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "id")), id);
	json_decref(j);
	result_free(&r);
	ck_assert_int_eq(updates_of(who_action, "Training modules drafted."), 1);

	/* the narrative from a file, a public summary, shown publicly */
	snprintf(file, sizeof file, "%s/narrative.txt", home);
	f = fopen(file, "w");
	fputs("Modules piloted in two country teams.\n", f);
	fclose(f);
	r = cli_as(home, lead, (const char *const[]){ "update", action, "--period", "2021-Q3",
						      "--status", "at_risk", "--percent", "45",
						      "--narrative-file", file, "--public-summary",
						      "Training piloted.", "--public", NULL });
	ck_exit(r, 0);
	ck_assert_msg(strstr(r.out, "at_risk") && strstr(r.out, "45%"), "%s", r.out);
	result_free(&r);
	ck_assert_int_eq(updates_of(who_action, "Modules piloted in two country teams."), 1);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM status_update WHERE visibility = 'public'"
					" AND public_summary = 'Training piloted.'"), 1);

	/* refused: one line per field, named as the command's options */
	r = cli_as(home, lead, (const char *const[]){ "update", action, "--period", "2021-Q3",
						      "--status", "finished", "--percent", "150",
						      "--narrative", "Nope.", NULL });
	ck_exit(r, 1);
	ck_assert_msg(strstr(r.err, "\n  --status: ") && strstr(r.err, "\n  --percent: ") &&
			      strstr(r.err, "422"),
		      "%s", r.err);
	ck_assert_str_eq(r.out, "");
	result_free(&r);
	r = cli_as(home, lead, (const char *const[]){ "update", action, "--period", "2021-Q3",
						      "--status", "completed", "--percent", "50",
						      "--narrative", "Nope.", "--json", NULL });
	ck_exit(r, 1);
	ck_assert_msg(strstr(r.err, "  --percent: is 100 if and only if the status is completed"), "%s",
		      r.err);
	/* --json: the problem document as is, for scripts */
	j = parse(r.out);
	ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "/problems/validation");
	json_decref(j);
	result_free(&r);
	/* another pillar's action */
	r = cli_as(home, lead, (const char *const[]){ "update", other, "--period", "2021-Q3",
						      "--status", "on_track", "--percent", "10",
						      "--narrative", "Not mine.", NULL });
	ck_exit(r, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "403"));
	result_free(&r);
	ck_assert_int_eq(updates_of(who_action, "Nope."), 0);
	ck_assert_int_eq(updates_of(unodc_action, "Not mine."), 0);
	rm_rf(home);
	free(home);
}
END_TEST

/* ---- a connection lost mid-update ---- */

/* A TCP proxy in front of srv. It forwards each request whole to the API
 * (with Connection: close) and the answer back, except that with
 * drop_first it closes the first connection once the API has answered,
 * without passing the answer on: the update is stored, the client never
 * hears of it. It also keeps the first request it saw. */
struct proxy {
	int listen_fd, port, upstream;
	bool drop_first;
	const char *answer; /* answer this to every request, forwarding none */
	int connections;
	char first[65536];
	size_t first_len;
	volatile bool stop;
	pthread_t thread;
};

/* One HTTP message (headers and Content-Length body) from fd, or up to
 * the peer's close when eof; returns its length. */
static size_t read_message(int fd, char *buf, size_t n, bool eof)
{
	size_t len = 0;
	char *end;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t k;

		if (poll(&p, 1, 30000) <= 0)
			return len;
		k = read(fd, buf + len, n - len - 1);
		if (k <= 0)
			return len;
		len += k;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!eof && end) {
			char *cl = strcasestr(buf, "\r\nContent-Length:");
			size_t body = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;

			if (len >= (size_t)(end + 4 - buf) + body)
				return len;
		}
		if (len == n - 1)
			return len;
	}
}

static int connect_to(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, s, n);

		if (k <= 0)
			return;
		s += k;
		n -= k;
	}
}

/* no check calls in this thread */
static void *proxy_main(void *cls)
{
	struct proxy *p = cls;
	enum { REQ_MAX = 1 << 20, ANS_MAX = 4 << 20 };
	char *req = malloc(REQ_MAX), *ans = malloc(ANS_MAX);

	while (!p->stop) {
		struct pollfd pl = { p->listen_fd, POLLIN, 0 };
		size_t rl, al;
		char *eol;
		int c, u;

		if (poll(&pl, 1, 100) <= 0)
			continue;
		c = accept(p->listen_fd, NULL, NULL);
		if (c < 0)
			continue;
		p->connections++;
		rl = read_message(c, req, REQ_MAX, false);
		if (p->connections == 1) {
			p->first_len = rl < sizeof p->first ? rl : sizeof p->first - 1;
			memcpy(p->first, req, p->first_len);
		}
		if (p->answer) {
			write_all(c, p->answer, strlen(p->answer));
			close(c);
			continue;
		}
		u = connect_to(p->upstream);
		eol = memchr(req, '\n', rl);
		if (u >= 0 && eol) {
			write_all(u, req, eol + 1 - req);
			write_all(u, "Connection: close\r\n", 19);
			write_all(u, eol + 1, rl - (eol + 1 - req));
			al = read_message(u, ans, ANS_MAX, true);
			if (!(p->drop_first && p->connections == 1))
				write_all(c, ans, al);
		}
		if (u >= 0)
			close(u);
		close(c);
	}
	free(req);
	free(ans);
	return NULL;
}

static void proxy_start(struct proxy *p, bool drop_first, const char *answer)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;

	memset(p, 0, sizeof *p);
	p->drop_first = drop_first;
	p->answer = answer;
	p->upstream = srv.port;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert(p->listen_fd >= 0);
	ck_assert(bind(p->listen_fd, (struct sockaddr *)&a, sizeof a) == 0);
	ck_assert(listen(p->listen_fd, 8) == 0);
	ck_assert(getsockname(p->listen_fd, (struct sockaddr *)&a, &len) == 0);
	p->port = ntohs(a.sin_port);
	ck_assert(pthread_create(&p->thread, NULL, proxy_main, p) == 0);
}

static void proxy_stop(struct proxy *p)
{
	p->stop = true;
	pthread_join(p->thread, NULL);
	close(p->listen_fd);
}

START_TEST(a_connection_lost_mid_update_is_retried_without_doubling)
{
	char *home = home_new(), action[24], url[80], tok[600];
	static struct proxy p;
	struct result r;
	json_t *j;
	long id;

	snprintf(action, sizeof action, "%ld", who_action);
	proxy_start(&p, true, NULL);
	snprintf(url, sizeof url, "WORKPLAN_URL=http://127.0.0.1:%d", p.port);
	snprintf(tok, sizeof tok, "WORKPLAN_TOKEN=%s", lead);
	r = cli_run(home, (const char *const[]){ url, tok, NULL }, NULL,
		    (const char *const[]){ "update", action, "--period", "2021-Q2", "--status",
					   "delayed", "--percent", "20", "--narrative",
					   "Recruitment of trainers slipped.", "--json", NULL });
	proxy_stop(&p);
	ck_exit(r, 0);
	/* the first answer was lost after the API stored the update; the
	 * client said so, sent it again under the same key, and got it */
	ck_assert_int_ge(p.connections, 2);
	ck_assert_msg(strstr(r.err, "trying again"), "%s", r.err);
	ck_assert_ptr_nonnull(strstr(p.first, "\r\nIdempotency-Key: wpcli-"));
	j = parse(r.out);
	id = (long)json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	ck_assert_int_eq(updates_of(who_action, "Recruitment of trainers slipped."), 1);
	{
		char sql[256];

		snprintf(sql, sizeof sql,
			 "SELECT id FROM status_update WHERE narrative = 'Recruitment of trainers slipped.'");
		ck_assert_int_eq(t_sql_long(db, sql), id);
	}
	result_free(&r);
	rm_rf(home);
	free(home);
}
END_TEST

/* ---- exit statuses ---- */

START_TEST(usage_errors_exit_2_and_every_command_has_help)
{
	static const char *const commands[] = { "login", "actions", "update", "template", "import",
						"reporting", "report", "chart", NULL };
	const char *const *const bad[] = {
		(const char *const[]){ NULL },
		(const char *const[]){ "frobnicate", NULL },
		(const char *const[]){ "actions", "--bogus", NULL },
		(const char *const[]){ "actions", "--pillar", "nine", NULL },
		(const char *const[]){ "update", "12", "--status", "on_track", "--percent", "5",
				       "--narrative", "x", NULL },
		(const char *const[]){ "update", "12", "--period", "2021-Q3", "--status", "on_track",
				       "--percent", "5", "--narrative", "x", "--narrative-file", "f", NULL },
		(const char *const[]){ "update", "12", "--period", "2021-Q3", "--status", "on_track",
				       "--percent", "many", "--narrative", "x", NULL },
		(const char *const[]){ "update", "../me", "--period", "2021-Q3", "--status", "on_track",
				       "--percent", "5", "--narrative", "x", NULL },
		(const char *const[]){ "import", "updates.txt", "--period", "2021-Q3", NULL },
		(const char *const[]){ "import", "updates.csv", NULL },
		(const char *const[]){ "report", "annual", "2021-Q3", "-o", "r.docx", NULL },
		(const char *const[]){ "report", "quarterly", "2021-Q3", NULL },
		(const char *const[]){ "chart", "status-by-pillar", NULL },
		(const char *const[]){ "chart", "../../etc", "-o", "x.svg", NULL },
		NULL,
	};
	char *home = home_new();
	struct result r;

	for (int i = 0; bad[i]; i++) {
		r = cli_as(home, lead, bad[i]);
		ck_assert_msg(r.status == 2, "case %d: exit %d\n%s", i, r.status, r.err);
		ck_assert_msg(strstr(r.err, "workplan"), "case %d: %s", i, r.err);
		result_free(&r);
	}
	for (int i = 0; commands[i]; i++) {
		char usage[64];

		r = cli_as(home, lead, (const char *const[]){ commands[i], "--help", NULL });
		ck_exit(r, 0);
		snprintf(usage, sizeof usage, "Usage: workplan %s", commands[i]);
		ck_assert_msg(strstr(r.out, usage), "%s --help: %s", commands[i], r.out);
		result_free(&r);
	}
	r = cli_as(home, lead, (const char *const[]){ "--help", NULL });
	ck_exit(r, 0);
	for (int i = 0; commands[i]; i++)
		ck_assert_ptr_nonnull(strstr(r.out, commands[i]));
	result_free(&r);
	/* a token or URL that would break out of its header line */
	{
		char u[64], url[80];

		url_of(&srv, u, sizeof u);
		snprintf(url, sizeof url, "WORKPLAN_URL=%s", u);
		r = cli_run(home, (const char *const[]){ url, "WORKPLAN_TOKEN=wpt_x\r\nX-Role: cochair",
							 NULL },
			    NULL, (const char *const[]){ "actions", NULL });
		ck_exit(r, 2);
		ck_assert_ptr_nonnull(strstr(r.err, "WORKPLAN_TOKEN"));
		result_free(&r);
		r = cli_run(home, (const char *const[]){ "WORKPLAN_URL=http://a b/", "WORKPLAN_TOKEN=wpt_x",
							 NULL },
			    NULL, (const char *const[]){ "actions", NULL });
		ck_exit(r, 2);
		ck_assert_ptr_nonnull(strstr(r.err, "WORKPLAN_URL"));
		result_free(&r);
		r = cli_run(home, NULL, "wpt_a b\n", (const char *const[]){ "login", u, NULL });
		ck_exit(r, 2);
		result_free(&r);
	}
	/* nothing configured at all */
	r = cli_run(home, NULL, NULL, (const char *const[]){ "actions", NULL });
	ck_exit(r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "workplan login"));
	result_free(&r);
	rm_rf(home);
	free(home);
}
END_TEST

/* A redirect would carry the token to another host: not followed. */
START_TEST(a_redirect_is_not_followed)
{
	char *home = home_new(), url[80], tok[600], answer[256];
	static struct proxy p, elsewhere;
	struct result r;

	proxy_start(&elsewhere, false, NULL);
	snprintf(answer, sizeof answer,
		 "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:%d/v1/actions\r\n"
		 "Content-Length: 0\r\nConnection: close\r\n\r\n", elsewhere.port);
	proxy_start(&p, false, answer);
	snprintf(url, sizeof url, "WORKPLAN_URL=http://127.0.0.1:%d", p.port);
	snprintf(tok, sizeof tok, "WORKPLAN_TOKEN=%s", lead);
	r = cli_run(home, (const char *const[]){ url, tok, NULL }, NULL,
		    (const char *const[]){ "actions", NULL });
	proxy_stop(&p);
	proxy_stop(&elsewhere);
	ck_exit(r, 1);
	ck_assert_msg(strstr(r.err, "not followed"), "%s", r.err);
	ck_assert_int_eq(p.connections, 1);
	ck_assert_int_eq(elsewhere.connections, 0);
	result_free(&r);
	rm_rf(home);
	free(home);
}
END_TEST

/* A file's address comes from the service's answer and goes after the
 * configured URL: "@host/x" there must not make another host of it (nor
 * send it the token). */
START_TEST(a_file_address_from_an_answer_never_leaves_the_service)
{
	char *home = home_new(), url[80], tok[600], body[400], answer[600];
	static struct proxy p, elsewhere;
	struct result r;

	proxy_start(&elsewhere, false, NULL);
	snprintf(body, sizeof body,
		 "{\"role\":\"lead\",\"items\":[{\"id\":1,\"kind\":\"quarterly\",\"period\":\"2021-Q3\","
		 "\"state\":\"done\",\"artifacts\":[{\"format\":\"md\",\"bytes\":1,"
		 "\"url\":\"@127.0.0.1:%d/x.md\"}]}]}", elsewhere.port);
	snprintf(answer, sizeof answer,
		 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n%s", strlen(body), body);
	proxy_start(&p, false, answer);
	snprintf(url, sizeof url, "WORKPLAN_URL=http://127.0.0.1:%d", p.port);
	snprintf(tok, sizeof tok, "WORKPLAN_TOKEN=%s", lead);
	r = cli_run(home, (const char *const[]){ url, tok, NULL }, NULL,
		    (const char *const[]){ "report", "quarterly", "2021-Q3", "--format", "md", "-o", "out.md", NULL });
	proxy_stop(&p);
	proxy_stop(&elsewhere);
	ck_exit(r, 1);
	ck_assert_msg(strstr(r.err, "not a path on it"), "%s", r.err);
	ck_assert_int_eq(elsewhere.connections, 0);
	result_free(&r);
	rm_rf(home);
	free(home);
}
END_TEST

START_TEST(an_unreachable_service_exits_3)
{
	char *home = home_new(), url[80], tok[600];
	struct result r;

	/* a port nobody listens on */
	snprintf(url, sizeof url, "WORKPLAN_URL=http://127.0.0.1:%d", t_free_port());
	snprintf(tok, sizeof tok, "WORKPLAN_TOKEN=%s", lead);
	r = cli_run(home, (const char *const[]){ url, tok, NULL }, NULL,
		    (const char *const[]){ "actions", NULL });
	ck_exit(r, 3);
	ck_assert_msg(strstr(r.err, "cannot reach"), "%s", r.err);
	ck_assert_str_eq(r.out, "");
	result_free(&r);
	rm_rf(home);
	free(home);
}
END_TEST

/* ---- reporting ---- */

START_TEST(reporting_shows_who_has_not_reported)
{
	char *home = home_new();
	struct result r;
	struct resp *api;
	json_t *j;

	r = cli_as(home, viewer, (const char *const[]){ "reporting", "--period", "2021-Q3", "--json", NULL });
	ck_exit(r, 0);
	j = parse(r.out);
	api = t_get(&srv, "/v1/reporting?period=2021-Q3", viewer);
	ck_assert(json_equal(j, api->json));
	t_resp_free(api);
	json_decref(j);
	result_free(&r);
	r = cli_as(home, viewer, (const char *const[]){ "reporting", "--period", "2021-Q3", NULL });
	ck_exit(r, 0);
	ck_assert_msg(strstr(r.out, "Reporting for 2021-Q3 (deadline 2021-10-15)") &&
			      strstr(r.out, "MISSING ACTIONS") && strstr(r.out, "\nUNHCR "),
		      "%s", r.out);
	result_free(&r);
	r = cli_as(home, viewer, (const char *const[]){ "reporting", "--period", "2031-Q5", NULL });
	ck_exit(r, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "  --period: "));
	result_free(&r);
	rm_rf(home);
	free(home);
}
END_TEST

/* ---- reports ---- */

static bool starts_with(const char *path, const char *magic, size_t n)
{
	char buf[8] = { 0 };
	FILE *f = fopen(path, "rb");
	bool ok = f && fread(buf, 1, n, f) == n && !memcmp(buf, magic, n);

	if (f)
		fclose(f);
	return ok;
}

START_TEST(a_cochair_builds_a_report_with_progress_and_a_lead_gets_it)
{
	char *home = home_new(), out[600], lead_out[600], cmd[700], u[64], cfg[700];
	char *a, *b;
	size_t la, lb;
	long reports;
	struct result r;
	json_t *j;
	FILE *f;

	/* the co-chair signed in by the file: no token in the environment */
	url_of(&srv, u, sizeof u);
	snprintf(cfg, sizeof cfg, "%s\n", cochair);
	r = cli_run(home, NULL, cfg, (const char *const[]){ "login", u, NULL });
	ck_exit(r, 0);
	result_free(&r);
	snprintf(out, sizeof out, "%s/q3.docx", home);
	r = cli_run(home, NULL, NULL,
		    (const char *const[]){ "report", "quarterly", "2021-Q3", "-o", out, NULL });
	ck_exit(r, 0);
	/* progress on stderr until done, then the file */
	ck_assert_msg(strstr(r.err, "Report ") && strstr(r.err, "quarterly 2021-Q3") &&
			      strstr(r.err, ": done"),
		      "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "Wrote"));
	result_free(&r);
	/* a real Word file: a ZIP holding word/document.xml */
	ck_assert(starts_with(out, "PK\3\4", 4));
	snprintf(cmd, sizeof cmd, "unzip -l '%s' | grep -c word/document.xml", out);
	f = t_popen(cmd);
	ck_assert_int_eq(fgetc(f), '1');
	pclose(f);

	/* a lead gets the newest finished one: the same bytes, nothing built */
	reports = t_sql_long(db, "SELECT count(*) FROM report");
	snprintf(lead_out, sizeof lead_out, "%s/lead.docx", home);
	r = cli_as(home, lead, (const char *const[]){ "report", "quarterly", "2021-Q3", "--format",
						      "docx", "-o", lead_out, "--json", NULL });
	ck_exit(r, 0);
	j = parse(r.out);
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")), "done");
	json_decref(j);
	result_free(&r);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM report"), reports);
	a = slurp(out, &la);
	b = slurp(lead_out, &lb);
	ck_assert(la == lb && !memcmp(a, b, la));
	free(a);
	free(b);
	/* none for that quarter: said, exit 1, no file */
	snprintf(lead_out, sizeof lead_out, "%s/q1.docx", home);
	r = cli_as(home, lead, (const char *const[]){ "report", "quarterly", "2021-Q1", "-o", lead_out,
						      NULL });
	ck_exit(r, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "no finished quarterly report for 2021-Q1"));
	ck_assert_int_ne(access(lead_out, F_OK), 0);
	result_free(&r);
	rm_rf(home);
	free(home);
}
END_TEST

/* ---- charts ---- */

START_TEST(chart_writes_an_svg_and_a_pdf)
{
	char *home = home_new(), svg[600], pdf[600], *text;
	struct result r;
	json_t *j;

	snprintf(svg, sizeof svg, "%s/status.svg", home);
	r = cli_as(home, viewer, (const char *const[]){ "chart", "status-by-pillar", "--as-of",
							"2021-Q3", "-o", svg, NULL });
	ck_exit(r, 0);
	result_free(&r);
	text = slurp(svg, NULL);
	ck_assert_msg(strstr(text, "<svg") && strstr(text, "</svg>"), "%.200s", text);
	free(text);
	snprintf(pdf, sizeof pdf, "%s/trend", home);
	r = cli_as(home, viewer, (const char *const[]){ "chart", "progress-trend", "--from", "2021-Q1",
							"--to", "2021-Q4", "--format", "pdf", "-o",
							pdf, "--json", NULL });
	ck_exit(r, 0);
	j = parse(r.out);
	ck_assert_str_eq(json_string_value(json_object_get(j, "content_type")), "application/pdf");
	ck_assert_int_gt(json_integer_value(json_object_get(j, "bytes")), 1000);
	json_decref(j);
	result_free(&r);
	ck_assert(starts_with(pdf, "%PDF-", 5));
	/* a bad parameter: its own line, and no file */
	snprintf(svg, sizeof svg, "%s/bad.svg", home);
	r = cli_as(home, viewer, (const char *const[]){ "chart", "progress-trend", "--from", "2021-Q9",
							"--to", "2021-Q4", "-o", svg, NULL });
	ck_exit(r, 1);
	ck_assert_msg(strstr(r.err, "  --from: "), "%s", r.err);
	ck_assert_int_ne(access(svg, F_OK), 0);
	result_free(&r);
	rm_rf(home);
	free(home);
}
END_TEST

/* ---- import ---- */

START_TEST(import_sends_the_file_with_its_type_and_key)
{
	char *home = home_new(), file[600], url[80], tok[600];
	static const char request_line[] = "POST /v1/updates/import?period=2021-Q3 HTTP/1.1\r\n";
	static const char csv[] = "Action id,Status,Percent complete,Narrative\r\n1,on_track,ten,Begun\r\n";
	static struct proxy p;
	struct result r;
	FILE *f;

	snprintf(file, sizeof file, "%s/Q3.CSV", home);
	f = fopen(file, "w");
	fputs(csv, f);
	fclose(f);
	proxy_start(&p, false, NULL);
	snprintf(url, sizeof url, "WORKPLAN_URL=http://127.0.0.1:%d", p.port);
	snprintf(tok, sizeof tok, "WORKPLAN_TOKEN=%s", lead);
	r = cli_run(home, (const char *const[]){ url, tok, NULL }, NULL,
		    (const char *const[]){ "import", file, "--period", "2021-Q3", NULL });
	proxy_stop(&p);
	/* what the service got: the file as is, typed by its extension, under
	 * a key made of the period and the bytes */
	ck_assert_msg(!strncmp(p.first, request_line, strlen(request_line)), "%s", p.first);
	ck_assert_ptr_nonnull(strcasestr(p.first, "\r\nContent-Type: text/csv\r\n"));
	ck_assert_ptr_nonnull(strstr(p.first, "\r\nIdempotency-Key: wpcli-"));
	ck_assert_ptr_nonnull(strstr(p.first, "\r\n\r\n"));
	ck_assert_str_eq(strstr(p.first, "\r\n\r\n") + 4, csv);
	/* the service's problem, a line for the bad cell */
	ck_exit(r, 1);
	ck_assert_msg(strstr(r.err, "import refused") && strstr(r.err, "\n  row 2: Percent complete: "),
		      "%s", r.err);
	result_free(&r);
	rm_rf(home);
	free(home);
}
END_TEST

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static long updates_in(long action, const char *period)
{
	char sql[256];

	snprintf(sql, sizeof sql,
		 "SELECT count(*) FROM status_update WHERE action_id = %ld AND period = '%s'", action,
		 period);
	return t_sql_long(db, sql);
}

/* A lead's quarter from a spreadsheet: the template, filled, imported
 * once however often it is sent; a file with bad cells imports nothing
 * and names each cell. */
START_TEST(template_then_import_posts_the_quarter_once)
{
	char *home = home_new(), tpl[600], xlsx[600], file[600], csv[512], *text;
	long second = t_sql_long(db, "SELECT max(id) FROM action WHERE pillar = 1");
	struct result r;
	json_t *j;

	/* the template: the lead's actions, as CSV and as XLSX */
	snprintf(tpl, sizeof tpl, "%s/q4.csv", home);
	r = cli_as(home, lead, (const char *const[]){ "template", "--period", "2021-Q4", "-o", tpl, NULL });
	ck_exit(r, 0);
	result_free(&r);
	text = slurp(tpl, NULL);
	ck_assert_msg(strstr(text, "Action id") && strstr(text, "Online comprehensive training"), "%s",
		      text);
	free(text);
	snprintf(xlsx, sizeof xlsx, "%s/q4.xlsx", home);
	r = cli_as(home, lead, (const char *const[]){ "template", "--period", "2021-Q4", "-o", xlsx, NULL });
	ck_exit(r, 0);
	result_free(&r);
	ck_assert(starts_with(xlsx, "PK\3\4", 4));
	/* sent back unfilled, the XLSX is read and refused for what it is */
	r = cli_as(home, lead, (const char *const[]){ "import", xlsx, "--period", "2021-Q4", NULL });
	ck_exit(r, 1);
	ck_assert_msg(strstr(r.err, "\n  file: "), "%s", r.err);
	result_free(&r);

	/* filled: both of the lead's actions */
	snprintf(file, sizeof file, "%s/q4-filled.csv", home);
	snprintf(csv, sizeof csv,
		 "Action id;Status;Percent complete;Narrative\n"
		 "%ld;on_track;60;Second cohort trained.\n"
		 "%ld;completed;100;Case studies published.\n",
		 who_action, second);
	write_text(file, csv);
	r = cli_as(home, lead, (const char *const[]){ "import", file, "--period", "2021-Q4", "--json", NULL });
	ck_exit(r, 0);
	j = parse(r.out);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "created")), 2);
	json_decref(j);
	result_free(&r);
	ck_assert_int_eq(updates_in(who_action, "2021-Q4"), 1);
	ck_assert_int_eq(updates_in(second, "2021-Q4"), 1);
	/* again: nothing new */
	r = cli_as(home, lead, (const char *const[]){ "import", file, "--period", "2021-Q4", NULL });
	ck_exit(r, 0);
	ck_assert_msg(strstr(r.out, "Imported"), "%s", r.out);
	result_free(&r);
	ck_assert_int_eq(updates_in(who_action, "2021-Q4"), 1);
	ck_assert_int_eq(updates_in(second, "2021-Q4"), 1);

	/* two bad cells: a line each, and nothing imported */
	snprintf(csv, sizeof csv,
		 "Action id,Status,Percent complete,Narrative\n"
		 "%ld,on_track,150,Too much.\n"
		 "%ld,finished,20,Unknown status.\n",
		 who_action, second);
	write_text(file, csv);
	r = cli_as(home, lead, (const char *const[]){ "import", file, "--period", "2021-Q1", NULL });
	ck_exit(r, 1);
	ck_assert_msg(strstr(r.err, "\n  row 2: Percent complete: ") && strstr(r.err, "\n  row 3: Status: "),
		      "%s", r.err);
	result_free(&r);
	ck_assert_int_eq(updates_in(who_action, "2021-Q1"), 0);
	ck_assert_int_eq(updates_in(second, "2021-Q1"), 0);
	rm_rf(home);
	free(home);
}
END_TEST

/* ---- the man page ---- */

START_TEST(the_man_page_reads_without_warnings_and_names_every_command)
{
	static const char *const commands[] = { "login", "actions", "update", "template", "import",
						"reporting", "report", "chart", NULL };
	char buf[4096], *page;
	size_t n;
	FILE *f;

	/* man's own warnings (groff -ww) go to its stderr; the page to null */
	f = t_popen("man --warnings -l docs/workplan.1 2>&1 >/dev/null");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	ck_assert_int_eq(pclose(f), 0);
	ck_assert_msg(n == 0, "man --warnings: %s", buf);
	page = slurp("docs/workplan.1", NULL);
	for (int i = 0; commands[i]; i++) {
		char heading[64];

		snprintf(heading, sizeof heading, "\n.B workplan %s", commands[i]);
		ck_assert_msg(strstr(page, heading), "the man page does not describe %s", commands[i]);
	}
	free(page);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_set_timeout(tc, 240);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, login_keeps_url_and_token_in_a_file_only_its_owner_reads);
	tcase_add_test(tc, actions_lists_every_action_and_mine_those_of_my_entity);
	tcase_add_test(tc, update_posts_once_and_problems_come_one_line_per_field);
	tcase_add_test(tc, a_connection_lost_mid_update_is_retried_without_doubling);
	tcase_add_test(tc, usage_errors_exit_2_and_every_command_has_help);
	tcase_add_test(tc, an_unreachable_service_exits_3);
	tcase_add_test(tc, a_redirect_is_not_followed);
	tcase_add_test(tc, a_file_address_from_an_answer_never_leaves_the_service);
	tcase_add_test(tc, reporting_shows_who_has_not_reported);
	tcase_add_test(tc, a_cochair_builds_a_report_with_progress_and_a_lead_gets_it);
	tcase_add_test(tc, chart_writes_an_svg_and_a_pdf);
	tcase_add_test(tc, import_sends_the_file_with_its_type_and_key);
	tcase_add_test(tc, template_then_import_posts_the_quarter_once);
	tcase_add_test(tc, the_man_page_reads_without_warnings_and_names_every_command);
	suite_add_tcase(s, tc);
	return t_run(s);
}
