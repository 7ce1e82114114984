/* Crash safety. Clients post status updates with idempotency keys and
 * retry each until it is acknowledged, while the API and the workers are
 * killed with SIGKILL and restarted, and PostgreSQL is stopped as by a
 * power cut (-m immediate) and started again. Afterwards every
 * acknowledged update is stored exactly once, no key made two, and every
 * job ended done or failed.
 *
 * CHAOS_ROUNDS (default 3) kills of each kind; CHAOS_UPDATES (default 300)
 * updates at the least. `make chaos` runs 20 rounds. */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_UPDATES 20000
#define CLIENTS 4

static char db[64];
static char *cochair;
static struct server api;
static const char *const api_env[] = { "WORKPLAN_RATE_LIMIT=0", NULL };
static const char *const worker_env[] = { "WORKPLAN_JOB_LEASE_S=2", "WORKPLAN_JOB_BACKOFF_MS=100",
					  NULL };
static atomic_int next_update, attempted, refused;
static atomic_int no_answer, unavailable; /* retries, by what came back */
static atomic_int replayed; /* acknowledged by replaying what an earlier try stored */
static atomic_bool chaos_done;
static int min_updates;
static long acked_id[MAX_UPDATES]; /* 0: not acknowledged */
static char first_refusal[512];

static int env_int(const char *name, int dflt)
{
	const char *v = getenv(name);

	return v && atoi(v) > 0 ? atoi(v) : dflt;
}

/* When the answer that acknowledged update i was asked for, in
 * microseconds of CLOCK_REALTIME (PostgreSQL's clock, on this machine):
 * an update stored before that was answered by replay. */
static long long acked_asked_us[MAX_UPDATES];

static long long realtime_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

/* Posts update i until it is acknowledged: 201, whether it was stored by
 * this request or by an earlier one whose answer was lost (a replay). */
static void post_until_acknowledged(int i)
{
	char body[200], key[64];
	time_t deadline = time(NULL) + 120;

	snprintf(body, sizeof body,
		 "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":%d,"
		 "\"narrative\":\"Chaos update %d.\"}", i % 100 == 99 ? 98 : i % 100, i);
	snprintf(key, sizeof key, "Idempotency-Key: chaos-%d", i);
	while (time(NULL) < deadline) {
		long long asked = realtime_us();
		struct resp *r = t_http(&api, "POST", "/v1/actions/1/updates", cochair,
					"application/json", body, strlen(body), key);
		long status = r->status;

		if (status == -1)
			atomic_fetch_add(&no_answer, 1);
		else if (status == 503)
			atomic_fetch_add(&unavailable, 1);
		if (status == 201) {
			acked_id[i] = (long)json_integer_value(json_object_get(r->json, "id"));
			acked_asked_us[i] = asked;
		}
		else if (status != -1 && status != 503 && status != 409 &&
			 atomic_fetch_add(&refused, 1) == 0)
			/* anything else is a wrong answer: keep the first for the report */
			snprintf(first_refusal, sizeof first_refusal, "update %d: %ld %s", i, status,
				 r->body ? r->body : "");
		t_resp_free(r);
		if (acked_id[i] || (status != -1 && status != 503 && status != 409))
			return;
		usleep(20000);
	}
}

static void *client(void *arg)
{
	(void)arg;
	for (;;) {
		int i = atomic_fetch_add(&next_update, 1);

		if (i >= MAX_UPDATES || (i >= min_updates && atomic_load(&chaos_done)))
			break;
		atomic_fetch_add(&attempted, 1);
		post_until_acknowledged(i);
		usleep(5000);
	}
	return NULL;
}

static void kill9(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static long rows(const char *sql)
{
	return t_sql_long(db, sql);
}

START_TEST(nothing_acknowledged_is_lost_or_doubled_through_crashes)
{
	int rounds = env_int("CHAOS_ROUNDS", 3), api_kills = 0, worker_kills = 0, pg_crashes = 0;
	pthread_t clients[CLIENTS];
	pid_t workers[2];
	long acked = 0, stored, doubled, jobs_open = -1;
	int posted;

	min_updates = env_int("CHAOS_UPDATES", 300);
	if (min_updates > MAX_UPDATES)
		min_updates = MAX_UPDATES;
	t_db_create(db, sizeof db, true);
	cochair = t_member_token(db, "cochair@ohchr.org", "cochair", "OHCHR");
	/* work the workers will be killed in the middle of */
	free(t_sql(db, "INSERT INTO job (kind, key, payload) SELECT 'noop', 'chaos-' || g,"
		       " CASE WHEN g % 20 = 0 THEN '{\"fail\": true}' ELSE '{\"sleep_ms\": 40}' END::jsonb"
		       " FROM generate_series(1, 300) g RETURNING 1"));
	t_server_start_env(&api, db, api_env);
	for (int w = 0; w < 2; w++)
		workers[w] = t_worker_start(db, worker_env);
	for (int c = 0; c < CLIENTS; c++)
		ck_assert_int_eq(pthread_create(&clients[c], NULL, client, NULL), 0);

	srand(42);
	for (int round = 1; round <= rounds; round++) {
		usleep(200000 + rand() % 400000);
		kill9(api.pid);
		api_kills++;
		usleep(rand() % 200000);
		t_server_restart(&api, api_env);
		usleep(100000 + rand() % 300000);
		kill9(workers[round % 2]);
		worker_kills++;
		workers[round % 2] = t_worker_start(db, worker_env);
		if (round == (rounds + 1) / 2) {
			/* a power cut: the API and the workers must ride it out */
			usleep(100000);
			t_cluster("crash");
			pg_crashes++;
			usleep(300000);
			t_cluster("start");
		}
	}
	atomic_store(&chaos_done, true);
	for (int c = 0; c < CLIENTS; c++)
		pthread_join(clients[c], NULL);
	posted = atomic_load(&attempted);
	ck_assert_msg(atomic_load(&refused) == 0, "%d wrong answers; first: %s", atomic_load(&refused),
		      first_refusal);
	for (int i = 0; i < MAX_UPDATES; i++)
		acked += acked_id[i] != 0;
	ck_assert_int_ge(posted, min_updates);
	ck_assert_int_eq(acked, posted);

	/* every acknowledged update is there, exactly once */
	stored = rows("SELECT count(*) FROM status_update WHERE narrative LIKE 'Chaos update %'");
	doubled = rows("SELECT count(*) FROM (SELECT narrative FROM status_update"
		       " WHERE narrative LIKE 'Chaos update %' GROUP BY narrative HAVING count(*) > 1) d");
	ck_assert_int_eq(doubled, 0);
	ck_assert_int_eq(stored, acked);
	for (int i = 0; i < MAX_UPDATES; i++) {
		char sql[200];

		if (!acked_id[i])
			continue;
		snprintf(sql, sizeof sql, "SELECT count(*) FROM status_update WHERE id = %ld"
			 " AND narrative = 'Chaos update %d.'", acked_id[i], i);
		ck_assert_msg(rows(sql) == 1, "acknowledged update %d (id %ld) is not stored", i,
			      acked_id[i]);
		snprintf(sql, sizeof sql, "SELECT ((extract(epoch FROM created_at) * 1000000)::bigint"
			 " < %lld)::int FROM status_update WHERE id = %ld", acked_asked_us[i], acked_id[i]);
		if (rows(sql))
			atomic_fetch_add(&replayed, 1);
	}
	/* every job ends done or failed (leases run out, others take them) */
	for (int i = 0; i < 600 && jobs_open != 0; i++) {
		jobs_open = rows("SELECT count(*) FROM job WHERE key LIKE 'chaos-%'"
				 " AND state NOT IN ('done', 'failed')");
		if (jobs_open)
			usleep(100000);
	}
	ck_assert_int_eq(jobs_open, 0);
	ck_assert_int_eq(rows("SELECT count(*) FROM job WHERE key LIKE 'chaos-%' AND state = 'failed'"
			      " AND payload ? 'fail'"), 15);
	printf("chaos: %ld updates acknowledged, %ld stored, %ld doubled; %d API kills, "
	       "%d worker kills, %d PostgreSQL crash(es); retries after no answer %d, after 503 %d, "
	       "answered by replay %d; jobs: %ld done, %ld failed, 0 left\n",
	       acked, stored, doubled, api_kills, worker_kills, pg_crashes, atomic_load(&no_answer),
	       atomic_load(&unavailable), atomic_load(&replayed),
	       rows("SELECT count(*) FROM job WHERE key LIKE 'chaos-%' AND state = 'done'"),
	       rows("SELECT count(*) FROM job WHERE key LIKE 'chaos-%' AND state = 'failed'"));
	for (int w = 0; w < 2; w++)
		t_worker_stop(workers[w], SIGTERM);
	t_server_stop(&api);
	free(cochair);
}
END_TEST

/* The window the test above may never hit: the update's transaction has
 * committed and the API dies before its answer leaves. The fault point
 * (api/fault.h, only in the test build) kills it exactly there. The
 * client saw no answer; its retry with the same key must be answered by
 * replay, with the stored update, and store nothing more. */
START_TEST(a_crash_between_commit_and_reply_is_answered_by_replay)
{
	static const char *const crash[] = { "WORKPLAN_FAULT=update-committed", NULL };
	const char *body = "{\"period\":\"2021-Q3\",\"status\":\"at_risk\",\"percent_complete\":40,"
			   "\"narrative\":\"Stored, then the API died.\"}";
	const char *key = "Idempotency-Key: commit-window-1";
	const char *stored_sql = "SELECT count(*) FROM status_update"
				 " WHERE narrative = 'Stored, then the API died.'";
	struct server s;
	struct resp *r;
	char *location, expected[64];
	long id;
	int status;

	t_db_create(db, sizeof db, true);
	cochair = t_member_token(db, "cochair@ohchr.org", "cochair", "OHCHR");
	t_server_start_faults(&s, db, crash);
	r = t_http(&s, "POST", "/v1/actions/1/updates", cochair, "application/json", body,
		   strlen(body), key);
	ck_assert_msg(r->status == -1, "an answer came: %ld %s", r->status, r->body);
	t_resp_free(r);
	/* killed at the fault point, not stopped some other way */
	ck_assert_int_eq(waitpid(s.pid, &status, 0), s.pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %d", status);
	/* the update was committed before the crash */
	ck_assert_int_eq(rows(stored_sql), 1);
	id = rows("SELECT id FROM status_update WHERE narrative = 'Stored, then the API died.'");

	t_server_restart(&s, NULL);
	r = t_http(&s, "POST", "/v1/actions/1/updates", cochair, "application/json", body,
		   strlen(body), key);
	ck_assert_msg(r->status == 201, "%ld %s", r->status, r->body);
	ck_assert_int_eq(json_integer_value(json_object_get(r->json, "id")), id);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "narrative")),
			 "Stored, then the API died.");
	location = t_header(r, "Location");
	snprintf(expected, sizeof expected, "/v1/updates/%ld", id);
	ck_assert_str_eq(location, expected);
	free(location);
	t_resp_free(r);
	ck_assert_int_eq(rows(stored_sql), 1);
	ck_assert_int_eq(rows("SELECT count(*) FROM idempotency_key WHERE key = 'commit-window-1'"), 1);
	t_server_stop(&s);
	free(cochair);
}
END_TEST

/* The fault points exist only in the test build: bin/workplan-api has
 * neither the variable nor the point's name in it. */
START_TEST(the_production_api_has_no_fault_points)
{
	char cmd[1200];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof cmd, "grep -c -a -e WORKPLAN_FAULT -e update-committed '%s/workplan-api'",
		 getenv("WORKPLAN_BIN"));
	f = t_popen(cmd);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &n), 1);
	pclose(f);
	ck_assert_int_eq(n, 0);
	/* and the test build has them, so the grep can see them */
	snprintf(cmd, sizeof cmd, "grep -c -a -e update-committed '%s'", getenv("WORKPLAN_FAULT_API"));
	f = t_popen(cmd);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &n), 1);
	pclose(f);
	ck_assert_int_gt(n, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("chaos");
	TCase *tc = tcase_create("crashes");

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, the_production_api_has_no_fault_points);
	tcase_add_test(tc, a_crash_between_commit_and_reply_is_answered_by_replay);
	tcase_add_test(tc, nothing_acknowledged_is_lost_or_doubled_through_crashes);
	suite_add_tcase(s, tc);
	return t_run(s);
}
