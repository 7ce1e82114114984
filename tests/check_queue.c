/* The job queue with real workers: each job runs once, a crashed worker's
 * job is taken again after its lease, a failing job backs off and ends
 * failed with its error, SIGTERM finishes the job in hand, a hanging
 * gnuplot is killed at its time limit. */
#include "db.h"
#include "harness.h"
#include "queue.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static long enqueue(const char *db, const char *kind, const char *key, const char *payload,
		    int max_attempts)
{
	struct db *d = db_new(t_conninfo(db), "test", 5000);
	json_t *body = json_loads(payload, 0, NULL);
	long long id = 0;

	ck_assert_ptr_nonnull(body);
	ck_assert_int_eq(queue_enqueue(d, kind, key, body, max_attempts, &id), DB_OK);
	json_decref(body);
	db_free(d);
	return (long)id;
}

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

START_TEST(each_job_runs_once_with_two_workers)
{
	char db[64], key[32];
	pid_t a, b;

	t_db_create(db, sizeof db, true);
	/* 20 ms each: 4 s of work for one worker, time enough for the
	 * second to start however loaded the machine */
	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof key, "job-%d", i);
		enqueue(db, "noop", key, "{\"sleep_ms\":20}", 3);
	}
	a = t_worker_start(db, NULL);
	b = t_worker_start(db, NULL);
	ck_assert(eventually(db, "SELECT count(*) = 200 FROM job WHERE kind = 'noop' AND state = 'done'", 30));
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM job WHERE kind = 'noop' AND attempts <> 1"), 0);
	/* both took part */
	ck_assert_int_eq(t_sql_long(db, "SELECT count(DISTINCT locked_by) FROM job WHERE kind = 'noop'"), 2);
	ck_assert_int_eq(WEXITSTATUS(t_worker_stop(a, SIGTERM)), 0);
	ck_assert_int_eq(WEXITSTATUS(t_worker_stop(b, SIGTERM)), 0);
}
END_TEST

START_TEST(the_same_key_is_queued_once_at_a_time)
{
	char db[64];
	long first, again;

	t_db_create(db, sizeof db, true);
	first = enqueue(db, "noop", "chart-x", "{}", 3);
	again = enqueue(db, "noop", "chart-x", "{\"other\":1}", 3);
	ck_assert_int_eq(first, again);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM job"), 1);
	/* once done, the key may be queued again */
	free(t_sql(db, "UPDATE job SET state = 'done', finished_at = now()"));
	ck_assert_int_ne(enqueue(db, "noop", "chart-x", "{}", 3), first);
}
END_TEST

START_TEST(a_failing_job_backs_off_then_ends_failed_with_its_error)
{
	const char *env[] = { "WORKPLAN_JOB_BACKOFF_MS=300", NULL };
	char db[64], *err;
	pid_t w;

	t_db_create(db, sizeof db, true);
	enqueue(db, "noop", "doomed", "{\"fail\":true}", 3);
	w = t_worker_start(db, env);
	ck_assert(eventually(db, "SELECT state = 'failed' FROM job WHERE key = 'doomed'", 20));
	t_worker_stop(w, SIGTERM);
	ck_assert_int_eq(t_sql_long(db, "SELECT attempts FROM job WHERE key = 'doomed'"), 3);
	err = t_sql(db, "SELECT last_error FROM job WHERE key = 'doomed'");
	ck_assert_str_eq(err, "failed on purpose (attempt 3)");
	free(err);
	/* backoff of 0.3 s then 0.6 s between the three attempts */
	ck_assert_int_eq(t_sql_long(db, "SELECT (finished_at - created_at >= interval '0.9 s')::int FROM job WHERE key = 'doomed'"), 1);
}
END_TEST

START_TEST(a_job_survives_its_worker_killed_mid_job)
{
	const char *env[] = { "WORKPLAN_JOB_LEASE_S=2", NULL };
	char db[64];
	pid_t a, b;

	t_db_create(db, sizeof db, true);
	enqueue(db, "noop", "long", "{\"sleep_ms\":2500}", 5);
	a = t_worker_start(db, env);
	ck_assert(eventually(db, "SELECT state = 'running' FROM job WHERE key = 'long'", 10));
	t_worker_stop(a, SIGKILL);
	b = t_worker_start(db, env);
	ck_assert(eventually(db, "SELECT state = 'done' FROM job WHERE key = 'long'", 20));
	ck_assert_int_eq(t_sql_long(db, "SELECT attempts FROM job WHERE key = 'long'"), 2);
	t_worker_stop(b, SIGTERM);
}
END_TEST

START_TEST(sigterm_lets_the_job_in_hand_finish)
{
	char db[64];
	int status;
	pid_t w;

	t_db_create(db, sizeof db, true);
	enqueue(db, "noop", "finish-me", "{\"sleep_ms\":1500}", 1);
	w = t_worker_start(db, NULL);
	ck_assert(eventually(db, "SELECT state = 'running' FROM job WHERE key = 'finish-me'", 10));
	status = t_worker_stop(w, SIGTERM);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM job WHERE key = 'finish-me' AND state = 'done'"), 1);
}
END_TEST

START_TEST(a_hanging_gnuplot_is_killed_at_the_time_limit)
{
	char gp[600], db[64], *err;
	const char *env[] = { gp, "WORKPLAN_GNUPLOT_TIMEOUT_MS=400", "WORKPLAN_JOB_BACKOFF_MS=100", NULL };
	long long t0 = now_us();
	pid_t w;

	snprintf(gp, sizeof gp, "WORKPLAN_GNUPLOT=%s/tests/fixtures/hanging-gnuplot", getenv("PWD"));
	t_db_create(db, sizeof db, true);
	enqueue(db, "render_chart", "hang",
		"{\"kind\":\"status-by-pillar\",\"format\":\"svg\","
		"\"key\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"params\":{\"as_of\":\"2021-Q3\"},\"data\":{\"stamp\":null,\"pillars\":"
		"[{\"number\":1,\"name\":\"Leave No One Behind\",\"by_status\":{\"on_track\":1}}]}}", 2);
	w = t_worker_start(db, env);
	ck_assert(eventually(db, "SELECT state = 'failed' FROM job WHERE key = 'hang'", 20));
	t_worker_stop(w, SIGTERM);
	err = t_sql(db, "SELECT last_error FROM job WHERE key = 'hang'");
	ck_assert_msg(strstr(err, "killed at the time limit"), "%s", err);
	free(err);
	ck_assert_int_lt(now_us() - t0, 15000000);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM artifact WHERE job_id = (SELECT id FROM job WHERE key = 'hang')"), 0);
}
END_TEST

START_TEST(each_quarters_report_is_scheduled_once_on_its_deadline)
{
	static const char *const debug[] = { "WORKPLAN_LOG_LEVEL=debug", NULL };
	char db[64], *period;
	pid_t a, b;

	t_db_create(db, sizeof db, true);
	a = t_worker_start(db, NULL);
	b = t_worker_start(db, NULL);
	ck_assert(eventually(db, "SELECT count(*) = 1 FROM report WHERE created_by IS NULL AND state = 'done'", 60));
	t_worker_stop(a, SIGTERM);
	t_worker_stop(b, SIGTERM);
	/* a new worker's scheduler runs its tick (the first comes as it
	 * connects) and finds the report there already */
	a = t_worker_start(db, debug);
	ck_assert_msg(t_worker_log_has(a, "scheduler: no quarterly report left to schedule", 30000),
		      "the new worker's scheduler did not run");
	t_worker_stop(a, SIGTERM);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM report WHERE created_by IS NULL"), 1);
	/* the work plan ended in 2025: its last quarter is the latest deadline past */
	period = t_sql(db, "SELECT period FROM report WHERE created_by IS NULL");
	ck_assert_str_eq(period, "2025-Q4");
	free(period);
	/* the five formats (and the PNG charts the Markdown file shows) */
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM report_artifact WHERE format <> 'png'"), 5);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("queue");
	TCase *tc = tcase_create("queue");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, each_job_runs_once_with_two_workers);
	tcase_add_test(tc, the_same_key_is_queued_once_at_a_time);
	tcase_add_test(tc, a_failing_job_backs_off_then_ends_failed_with_its_error);
	tcase_add_test(tc, a_job_survives_its_worker_killed_mid_job);
	tcase_add_test(tc, sigterm_lets_the_job_in_hand_finish);
	tcase_add_test(tc, a_hanging_gnuplot_is_killed_at_the_time_limit);
	tcase_add_test(tc, each_quarters_report_is_scheduled_once_on_its_deadline);
	suite_add_tcase(s, tc);
	return t_run(s);
}
