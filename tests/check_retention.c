/* Retention with real workers: the sweep removes chart images that no
 * report holds and nobody asked for in the retention period, and jobs that
 * ended that long ago; it keeps report files however old, recent images,
 * images a chart job is drawing or has just stored, images the API served
 * lately, and jobs still queued or running; one sweep an hour whatever the
 * number of workers. At start a worker removes the temporary folders of
 * workers that are gone, never those of a live one. */
#include "harness.h"
#include "tmpdir.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Waits up to seconds for sql to return "t". */
static bool eventually(const char *db, const char *sql, int seconds)
{
	for (int i = 0; i < seconds * 20; i++) {
		char *v = t_sql(db, sql);
		bool yes = v && !strcmp(v, "t");

		free(v);
		if (yes)
			return true;
		usleep(50000);
	}
	return false;
}

/* A seeded database whose scheduler has nothing to do (the quarter's
 * report is there already: no report build slows the tests down). */
static void db_quiet(char *db, size_t n)
{
	t_db_create(db, n, true);
	free(t_sql(db, "INSERT INTO report (kind, period, formats, state, data_version)"
		       " VALUES ('quarterly', '2025-Q4', '{json}', 'done', 1)"));
}

/* Starts a worker that sweeps at once (the last sweep forgotten) and
 * waits until its sweep is over. */
static pid_t worker_sweeping(const char *db, const char *const *env)
{
	pid_t w;

	free(t_sql(db, "UPDATE retention_sweep SET started_at = NULL, finished_at = NULL"));
	w = t_worker_start(db, env);
	ck_assert_msg(eventually(db, "SELECT finished_at IS NOT NULL FROM retention_sweep", 30),
		      "no retention sweep ran");
	return w;
}

/* Whether the artifact named sha256(name) is there. */
static bool artifact_exists(const char *db, const char *name)
{
	char sql[200];

	snprintf(sql, sizeof sql, "SELECT count(*) FROM artifact WHERE key = sha256('%s')", name);
	return t_sql_long(db, sql) == 1;
}

static bool job_exists(const char *db, const char *key)
{
	char sql[200];

	snprintf(sql, sizeof sql, "SELECT count(*) FROM job WHERE key = '%s'", key);
	return t_sql_long(db, sql) == 1;
}

/* An artifact keyed sha256(name) (its bytes: name), created and last
 * served (NULL: never) that long ago, made by the job of that key. */
static void artifact_add(const char *db, const char *name, const char *created, const char *used,
			 const char *job_key)
{
	char sql[600], last[80] = "NULL";

	if (used)
		snprintf(last, sizeof last, "now() - interval '%s'", used);
	snprintf(sql, sizeof sql,
		 "INSERT INTO artifact (key, sha256, media_type, bytes, created_at, last_used_at, job_id)"
		 " VALUES (sha256('%s'), sha256('%s'), 'image/svg+xml', '%s', now() - interval '%s', %s,"
		 " (SELECT id FROM job WHERE key = '%s'))",
		 name, name, name, created, last, job_key ? job_key : "");
	free(t_sql(db, sql));
}

START_TEST(old_unused_charts_and_ended_jobs_go_the_rest_stays)
{
	char db[64];
	pid_t w;

	db_quiet(db, sizeof db);
	free(t_sql(db,
		   "INSERT INTO job (kind, key, state, attempts, created_at, finished_at, run_after,"
		   " locked_until, locked_by) VALUES"
		   " ('noop', 'done-31-days-ago', 'done', 1, now() - interval '31 days',"
		   "  now() - interval '31 days', now() - interval '31 days', NULL, NULL),"
		   " ('noop', 'failed-31-days-ago', 'failed', 3, now() - interval '40 days',"
		   "  now() - interval '31 days', now() - interval '40 days', NULL, NULL),"
		   " ('noop', 'ended-yesterday', 'done', 1, now() - interval '31 days',"
		   "  now() - interval '1 day', now() - interval '31 days', NULL, NULL),"
		   /* queued for later, running under another worker's lease: in flight */
		   " ('noop', 'queued-31-days-ago', 'queued', 0, now() - interval '31 days', NULL,"
		   "  now() + interval '1 day', NULL, NULL),"
		   " ('noop', 'running-31-days', 'running', 1, now() - interval '31 days', NULL,"
		   "  now() - interval '31 days', now() + interval '1 hour', 'elsewhere:1'),"
		   " ('render_chart', encode(sha256('being-drawn'), 'hex'), 'queued', 0,"
		   "  now() - interval '31 days', NULL, now() + interval '1 day', NULL, NULL)"));
	artifact_add(db, "unused-31-days", "31 days", NULL, "done-31-days-ago");
	artifact_add(db, "served-31-days-ago", "90 days", "31 days", NULL);
	artifact_add(db, "served-yesterday", "90 days", "1 day", "done-31-days-ago");
	artifact_add(db, "made-yesterday", "1 day", NULL, NULL);
	artifact_add(db, "being-drawn", "31 days", NULL, NULL);
	artifact_add(db, "report-file", "400 days", NULL, "failed-31-days-ago");
	free(t_sql(db, "UPDATE report SET job_id = (SELECT id FROM job WHERE key = 'done-31-days-ago'),"
		       " created_at = now() - interval '400 days'"));
	free(t_sql(db, "INSERT INTO report_artifact (report_id, format, name, artifact_key)"
		       " SELECT id, 'json', 'quarterly-2025-Q4.json', sha256('report-file') FROM report"));

	w = worker_sweeping(db, NULL);
	/* charts nobody asked for in 30 days */
	ck_assert(!artifact_exists(db, "unused-31-days"));
	ck_assert(!artifact_exists(db, "served-31-days-ago"));
	/* asked for or made lately, being drawn, held by a report */
	ck_assert(artifact_exists(db, "served-yesterday"));
	ck_assert(artifact_exists(db, "made-yesterday"));
	ck_assert(artifact_exists(db, "being-drawn"));
	ck_assert(artifact_exists(db, "report-file"));
	/* jobs that ended 30 days ago; what they made forgets them */
	ck_assert(!job_exists(db, "done-31-days-ago"));
	ck_assert(!job_exists(db, "failed-31-days-ago"));
	ck_assert(job_exists(db, "ended-yesterday"));
	ck_assert(job_exists(db, "queued-31-days-ago"));
	ck_assert(job_exists(db, "running-31-days"));
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM job WHERE kind = 'render_chart'"), 1);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM artifact WHERE key = sha256('served-yesterday')"
				       " AND job_id IS NULL"), 1);
	/* the report and its file, whole */
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM report r JOIN report_artifact ra"
				       " ON ra.report_id = r.id JOIN artifact a ON a.key = ra.artifact_key"
				       " WHERE r.job_id IS NULL"), 1);
	ck_assert_int_eq(t_sql_long(db, "SELECT artifacts * 10 + jobs FROM retention_sweep"), 22);
	t_worker_stop(w, SIGTERM);
}
END_TEST

START_TEST(the_retention_period_is_a_setting)
{
	const char *env[] = { "WORKPLAN_RETENTION_DAYS=5", NULL };
	char db[64];
	pid_t w;

	db_quiet(db, sizeof db);
	free(t_sql(db, "INSERT INTO job (kind, key, state, attempts, created_at, finished_at) VALUES"
		       " ('noop', 'ended-6-days-ago', 'done', 1, now() - interval '6 days',"
		       "  now() - interval '6 days'),"
		       " ('noop', 'ended-4-days-ago', 'done', 1, now() - interval '4 days',"
		       "  now() - interval '4 days')"));
	artifact_add(db, "unused-6-days", "6 days", NULL, NULL);
	artifact_add(db, "unused-4-days", "4 days", NULL, NULL);
	w = worker_sweeping(db, env);
	ck_assert(!artifact_exists(db, "unused-6-days"));
	ck_assert(artifact_exists(db, "unused-4-days"));
	ck_assert(!job_exists(db, "ended-6-days-ago"));
	ck_assert(job_exists(db, "ended-4-days-ago"));
	t_worker_stop(w, SIGTERM);
}
END_TEST

START_TEST(one_sweep_an_hour_however_many_workers)
{
	char db[64];
	pid_t a, b, c;

	db_quiet(db, sizeof db);
	free(t_sql(db, "UPDATE retention_sweep SET started_at = NULL"));
	a = t_worker_start(db, NULL);
	b = t_worker_start(db, NULL);
	ck_assert(eventually(db, "SELECT finished_at IS NOT NULL FROM retention_sweep", 30));
	t_worker_stop(a, SIGTERM);
	t_worker_stop(b, SIGTERM);
	/* a worker that starts within the hour looks, and leaves it */
	artifact_add(db, "unused-31-days", "31 days", NULL, NULL);
	free(t_sql(db, "INSERT INTO job (kind, key) VALUES ('noop', 'after-the-sweep')"));
	c = t_worker_start(db, NULL);
	/* c claims a job only after looking whether the sweep is due */
	ck_assert(eventually(db, "SELECT state = 'done' FROM job WHERE key = 'after-the-sweep'", 30));
	ck_assert(artifact_exists(db, "unused-31-days"));
	t_worker_stop(c, SIGTERM);
}
END_TEST

/* The chart status-by-pillar as of 2023-Q2 in SVG, drawn if need be. */
static void chart_get(const struct server *s, const char *token)
{
	const char *path = "/v1/charts/status-by-pillar.svg?as_of=2023-Q2";
	struct resp *r = t_get(s, path, token);

	if (r->status == 202) {
		t_resp_free(r);
		r = t_get_until(s, path, token, 200, 60000);
	}
	ck_assert_msg(r && r->status == 200, "%s: not drawn", path);
	t_resp_free(r);
}

START_TEST(a_chart_served_lately_stays_however_old)
{
	struct server srv;
	char db[64], *token, *before, *after;
	pid_t w;

	db_quiet(db, sizeof db);
	token = t_member_token(db, "viewer@ohchr.org", "viewer", "OHCHR");
	/* the sweep waits while the chart is drawn and served */
	free(t_sql(db, "UPDATE retention_sweep SET started_at = now()"));
	t_server_start(&srv, db);
	w = t_worker_start(db, NULL);
	chart_get(&srv, token);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM artifact WHERE last_used_at IS NOT NULL"), 1);
	/* served again within the hour: no write */
	free(t_sql(db, "UPDATE artifact SET last_used_at = now() - interval '59 minutes'"));
	before = t_sql(db, "SELECT last_used_at FROM artifact");
	chart_get(&srv, token);
	after = t_sql(db, "SELECT last_used_at FROM artifact");
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	/* served after an hour: noted again */
	free(t_sql(db, "UPDATE artifact SET last_used_at = now() - interval '61 minutes'"));
	chart_get(&srv, token);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM artifact"
				       " WHERE last_used_at > now() - interval '1 minute'"), 1);
	t_worker_stop(w, SIGTERM);
	/* drawn long ago, served lately: stays; one never served goes */
	free(t_sql(db, "UPDATE artifact SET created_at = now() - interval '31 days'"));
	artifact_add(db, "unused-31-days", "31 days", NULL, NULL);
	w = worker_sweeping(db, NULL);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM artifact"), 1);
	ck_assert(!artifact_exists(db, "unused-31-days"));
	t_worker_stop(w, SIGTERM);
	t_server_stop(&srv);
	free(token);
}
END_TEST

START_TEST(a_chart_a_job_has_just_stored_stays)
{
	char db[64], *bytes;
	pid_t w;

	db_quiet(db, sizeof db);
	/* an image stored 31 days ago, never served, drawn again today */
	artifact_add(db, "drawn-again", "31 days", NULL, NULL);
	free(t_sql(db, "UPDATE retention_sweep SET started_at = now()"));
	free(t_sql(db, "INSERT INTO job (kind, key, payload) VALUES ('render_chart',"
		       " encode(sha256('drawn-again'), 'hex'), json_build_object('kind', 'status-by-pillar',"
		       " 'format', 'svg', 'key', encode(sha256('drawn-again'), 'hex'),"
		       " 'params', json_build_object('as_of', '2023-Q2'),"
		       " 'data', '{\"stamp\":null,\"pillars\":[]}'::json)::jsonb)"));
	w = t_worker_start(db, NULL);
	ck_assert(eventually(db, "SELECT state = 'done' FROM job WHERE kind = 'render_chart'", 30));
	t_worker_stop(w, SIGTERM);
	w = worker_sweeping(db, NULL);
	ck_assert(artifact_exists(db, "drawn-again"));
	/* the bytes first stored stay */
	bytes = t_sql(db, "SELECT convert_from(bytes, 'UTF8') FROM artifact");
	ck_assert_str_eq(bytes, "drawn-again");
	free(bytes);
	t_worker_stop(w, SIGTERM);
}
END_TEST

/* A folder as a worker of that pid would leave it, with a file, a
 * subfolder and a link to a folder outside, whose file must survive. */
static void folder_add(const char *parent, pid_t pid, const char *what, char *path, size_t n)
{
	char file[700];
	int fd;

	snprintf(path, n, "%s/" TMPDIR_PREFIX "%d-%s-Ab12Cd", parent, (int)pid, what);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(file, sizeof file, "%s/data.tsv", path);
	fd = open(file, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "x\t1\n", 4), 4);
	close(fd);
	snprintf(file, sizeof file, "%s/.cache", path);
	ck_assert_int_eq(mkdir(file, 0700), 0);
	snprintf(file, sizeof file, "%s/.cache/fontconfig", path);
	ck_assert_int_eq(mkdir(file, 0700), 0);
	snprintf(file, sizeof file, "%s/outside", path);
	ck_assert_int_eq(symlink("../outside", file), 0);
}

static bool is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static pid_t dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	ck_assert_int_gt(pid, 0);
	waitpid(pid, NULL, 0);
	return pid;
}

START_TEST(a_dead_workers_temporary_folders_go_at_start)
{
	char parent[600], env_tmp[620], db1[64], db2[64], dead[700], dead2[700], alive[700],
	     worker_a[700], outside[700];
	const char *env[] = { env_tmp, NULL };
	pid_t a, b, c;
	int fd;

	snprintf(parent, sizeof parent, "%s/tmp-%d-XXXXXX", getenv("WORKPLAN_TEST_LOGDIR"), (int)getpid());
	ck_assert_ptr_nonnull(mkdtemp(parent));
	snprintf(env_tmp, sizeof env_tmp, "TMPDIR=%s", parent);
	snprintf(outside, sizeof outside, "%s/outside", parent);
	ck_assert_int_eq(mkdir(outside, 0700), 0);
	snprintf(outside, sizeof outside, "%s/outside/keep.txt", parent);
	fd = open(outside, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	db_quiet(db1, sizeof db1);
	db_quiet(db2, sizeof db2);
	/* worker a runs (on another database) and has swept already */
	free(t_sql(db1, "INSERT INTO job (kind, key) VALUES ('noop', 'a-is-up')"));
	a = t_worker_start(db1, env);
	ck_assert(eventually(db1, "SELECT state = 'done' FROM job WHERE key = 'a-is-up'", 30));
	folder_add(parent, dead_pid(), "chart", dead, sizeof dead);
	folder_add(parent, dead_pid(), "report", dead2, sizeof dead2);
	folder_add(parent, a, "chart", worker_a, sizeof worker_a);
	folder_add(parent, getpid(), "report", alive, sizeof alive);
	/* b sweeps at start, before it takes its first job */
	free(t_sql(db2, "INSERT INTO job (kind, key) VALUES ('noop', 'b-is-up')"));
	b = t_worker_start(db2, env);
	ck_assert(eventually(db2, "SELECT state = 'done' FROM job WHERE key = 'b-is-up'", 30));
	ck_assert_msg(access(outside, F_OK) == 0, "a link was followed out of a folder");
	ck_assert_msg(!is_dir(dead), "%s stayed", dead);
	ck_assert_msg(!is_dir(dead2), "%s stayed", dead2);
	ck_assert_msg(is_dir(worker_a), "the folder of a running worker went");
	ck_assert_msg(is_dir(alive), "the folder of a live process went");
	/* once a has stopped, its folder goes at the next start */
	t_worker_stop(a, SIGKILL);
	t_worker_stop(b, SIGTERM);
	free(t_sql(db2, "INSERT INTO job (kind, key) VALUES ('noop', 'c-is-up')"));
	c = t_worker_start(db2, env);
	ck_assert(eventually(db2, "SELECT state = 'done' FROM job WHERE key = 'c-is-up'", 30));
	ck_assert_msg(!is_dir(worker_a), "%s stayed", worker_a);
	ck_assert(is_dir(alive));
	t_worker_stop(c, SIGTERM);
	tmpdir_remove(parent);
}
END_TEST

START_TEST(a_chart_is_drawn_in_a_folder_named_for_its_worker_and_removed_after)
{
	char parent[600], env_tmp[620], gp[600], db[64], prefix[700], *where;
	const char *env[] = { env_tmp, gp, NULL };
	pid_t w;

	snprintf(parent, sizeof parent, "%s/tmp-%d-XXXXXX", getenv("WORKPLAN_TEST_LOGDIR"), (int)getpid());
	ck_assert_ptr_nonnull(mkdtemp(parent));
	snprintf(env_tmp, sizeof env_tmp, "TMPDIR=%s", parent);
	snprintf(gp, sizeof gp, "WORKPLAN_GNUPLOT=%s/tests/fixtures/pwd-gnuplot", getenv("PWD"));
	db_quiet(db, sizeof db);
	free(t_sql(db, "INSERT INTO job (kind, key, payload) VALUES ('render_chart',"
		       " encode(sha256('where'), 'hex'), json_build_object('kind', 'status-by-pillar',"
		       " 'format', 'svg', 'key', encode(sha256('where'), 'hex'),"
		       " 'params', json_build_object('as_of', '2023-Q2'),"
		       " 'data', '{\"stamp\":null,\"pillars\":[]}'::json)::jsonb)"));
	w = t_worker_start(db, env);
	ck_assert(eventually(db, "SELECT state = 'done' FROM job WHERE kind = 'render_chart'", 30));
	t_worker_stop(w, SIGTERM);
	/* the "image" is the folder's path */
	where = t_sql(db, "SELECT rtrim(convert_from(bytes, 'UTF8'), E'\\n') FROM artifact"
			  " WHERE key = sha256('where')");
	snprintf(prefix, sizeof prefix, "%s/" TMPDIR_PREFIX "%d-chart-", parent, (int)w);
	ck_assert_msg(where && !strncmp(where, prefix, strlen(prefix)), "drawn in %s", where);
	ck_assert_msg(!is_dir(where), "%s stayed", where);
	free(where);
	tmpdir_remove(parent);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("retention");
	TCase *tc = tcase_create("retention");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, old_unused_charts_and_ended_jobs_go_the_rest_stays);
	tcase_add_test(tc, the_retention_period_is_a_setting);
	tcase_add_test(tc, one_sweep_an_hour_however_many_workers);
	tcase_add_test(tc, a_chart_served_lately_stays_however_old);
	tcase_add_test(tc, a_chart_a_job_has_just_stored_stays);
	tcase_add_test(tc, a_chart_is_drawn_in_a_folder_named_for_its_worker_and_removed_after);
	tcase_add_test(tc, a_dead_workers_temporary_folders_go_at_start);
	suite_add_tcase(s, tc);
	return t_run(s);
}
