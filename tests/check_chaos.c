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
static atomic_int no_answer, unavailable, replayed; /* retries, by what came back */
static atomic_bool chaos_done;
static int min_updates;
static long acked_id[MAX_UPDATES]; /* 0: not acknowledged */
static char first_refusal[512];

static int env_int(const char *name, int dflt)
{
	const char *v = getenv(name);

	return v && atoi(v) > 0 ? atoi(v) : dflt;
}

/* Posts update i until it is acknowledged (201, or 200 replaying it). */
static void post_until_acknowledged(int i)
{
	char body[200], key[64];
	time_t deadline = time(NULL) + 120;

	snprintf(body, sizeof body,
		 "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":%d,"
		 "\"narrative\":\"Chaos update %d.\"}", i % 100 == 99 ? 98 : i % 100, i);
	snprintf(key, sizeof key, "Idempotency-Key: chaos-%d", i);
	while (time(NULL) < deadline) {
		struct resp *r = t_http(&api, "POST", "/v1/actions/1/updates", cochair,
					"application/json", body, strlen(body), key);
		long status = r->status;

		if (status == -1)
			atomic_fetch_add(&no_answer, 1);
		else if (status == 503)
			atomic_fetch_add(&unavailable, 1);
		else if (status == 200)
			atomic_fetch_add(&replayed, 1);
		if (status == 201 || status == 200)
			acked_id[i] = (long)json_integer_value(json_object_get(r->json, "id"));
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
		char sql[160];

		if (!acked_id[i])
			continue;
		snprintf(sql, sizeof sql, "SELECT count(*) FROM status_update WHERE id = %ld"
			 " AND narrative = 'Chaos update %d.'", acked_id[i], i);
		ck_assert_msg(rows(sql) == 1, "acknowledged update %d (id %ld) is not stored", i,
			      acked_id[i]);
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

int main(void)
{
	Suite *s = suite_create("chaos");
	TCase *tc = tcase_create("crashes");

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, nothing_acknowledged_is_lost_or_doubled_through_crashes);
	suite_add_tcase(s, tc);
	return t_run(s);
}
