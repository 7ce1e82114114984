/* Freshness of the read cache (api/cache.c). An API with its cache is
 * compared, body for body, with an API on the same database that has none:
 * after every write that the cached API acknowledged, every read agrees at
 * once; after a write elsewhere (another API, SQL, a revoked token, a lost
 * listening connection) it agrees within the time a notification takes.
 * And the cache is really used, and stays within its budget. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char db[64];
static struct server cached, plain;
static char *cochair, *viewer;
static pid_t paused; /* a PostgreSQL process, resumed by teardown */
/* these tests send hundreds of requests a second with one token */
static const char *const with_cache[] = { "WORKPLAN_RATE_LIMIT=0", NULL };
static const char *const no_cache[] = { "WORKPLAN_CACHE_MB=0", "WORKPLAN_RATE_LIMIT=0", NULL };

/* The reads a dashboard and a briefing make, around action 1 and 2021-Q3. */
static const char *const reads[] = {
	"/v1/actions/1",
	"/v1/actions/1/updates",
	"/v1/actions?pillar=1",
	"/v1/actions?status=at_risk",
	"/v1/updates",
	"/v1/pillars",
	"/v1/pillars/1",
	"/v1/progress?as_of=2021-Q3",
	"/v1/progress",
	"/v1/progress/trend?from=2021-Q1&to=2022-Q4",
	"/v1/reporting?period=2021-Q3",
	"/v1/export.csv?period=2021-Q3",
	"/v1/entities",
};

static void setup(void)
{
	t_db_create(db, sizeof db, true);
	cochair = t_member_token(db, "cochair@ohchr.org", "cochair", "OHCHR");
	viewer = t_member_token(db, "staff@unicef.org", "viewer", "UNICEF");
	t_server_start_env(&cached, db, with_cache);
	t_server_start_env(&plain, db, no_cache);
	t_cache_listening(&cached);
}

static void teardown(void)
{
	if (paused)
		kill(paused, SIGCONT);
	t_server_stop(&cached);
	t_server_stop(&plain);
	free(cochair);
	free(viewer);
}

/* Does the cached API answer path as the uncached one does? */
static bool agrees(const char *path)
{
	struct resp *a = t_get(&cached, path, viewer), *b = t_get(&plain, path, viewer);
	bool same = a->status == 200 && b->status == 200 && a->len == b->len &&
		    !memcmp(a->body, b->body, a->len);

	t_resp_free(a);
	t_resp_free(b);
	return same;
}

static void assert_all_agree(const char *after)
{
	for (size_t i = 0; i < sizeof reads / sizeof *reads; i++)
		ck_assert_msg(agrees(reads[i]), "%s is stale after %s", reads[i], after);
}

/* Within a few seconds (a notification's delivery), path agrees. */
static void assert_agrees_soon(const char *path)
{
	for (int i = 0; i < 150 && !agrees(path); i++)
		usleep(20000);
	ck_assert_msg(agrees(path), "%s still stale after 3 s", path);
}

/* Pauses (SIGSTOP) or resumes (SIGCONT) the server process behind the
 * cached API's listening connection: while it is paused, no notification
 * reaches the API, so what the API shows is its own doing. */
static void listener_signal(int sig)
{
	char *pid = t_sql(db, "SELECT pid FROM pg_stat_activity"
			      " WHERE application_name = 'workplan-api-cache'");

	ck_assert_ptr_nonnull(pid);
	paused = sig == SIGSTOP ? atoi(pid) : 0;
	ck_assert_msg(kill(atoi(pid), sig) == 0, "cannot signal PostgreSQL process %s", pid);
	free(pid);
}

static void warm(void)
{
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < sizeof reads / sizeof *reads; i++)
			t_resp_free(t_get(&cached, reads[i], viewer));
}

static long post_update(const struct server *s, const char *status, int pc)
{
	char body[256];
	struct resp *r;
	long id;

	snprintf(body, sizeof body,
		 "{\"period\":\"2021-Q3\",\"status\":\"%s\",\"percent_complete\":%d,"
		 "\"narrative\":\"Round at %d%%.\"}", status, pc, pc);
	r = t_http(s, "POST", "/v1/actions/1/updates", cochair, "application/json", body,
		   strlen(body), NULL);
	ck_assert_msg(r->status == 201, "%ld %s", r->status, r->body);
	id = (long)json_integer_value(json_object_get(r->json, "id"));
	t_resp_free(r);
	return id;
}

START_TEST(reads_reflect_every_acknowledged_write_at_once)
{
	static const char *const statuses[] = { "on_track", "at_risk", "delayed", "on_track",
						 "at_risk", "completed" };
	double hits0;

	warm();
	hits0 = t_metric(&cached, "workplan_cache_hits_total");
	warm();
	/* the second warm-up was served from memory: the test is not vacuous */
	ck_assert(t_metric(&cached, "workplan_cache_hits_total") >= hits0 + 2 * 13);
	assert_all_agree("nothing");
	for (int i = 0; i < 6; i++) {
		char what[64];
		long id;
		struct resp *r;

		warm();
		listener_signal(SIGSTOP);
		id = post_update(&cached, statuses[i], i == 5 ? 100 : 10 * (i + 1));
		/* no waiting, and no notification: the write was acknowledged, so
		 * every read shows it */
		r = t_get(&cached, "/v1/actions/1", viewer);
		ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r->json, "latest"),
								       "id")), id);
		t_resp_free(r);
		snprintf(what, sizeof what, "update %ld (%s)", id, statuses[i]);
		assert_all_agree(what);
		listener_signal(SIGCONT);
	}
}
END_TEST

START_TEST(writes_elsewhere_reach_the_cache)
{
	struct resp *r;
	char *other, *tid;
	long id;

	/* another API process */
	warm();
	id = post_update(&plain, "delayed", 55);
	assert_agrees_soon("/v1/actions/1");
	r = t_get(&cached, "/v1/actions/1", viewer);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r->json, "latest"), "id")),
			 id);
	t_resp_free(r);
	assert_all_agree("a write through another API");
	/* SQL, as an administrator would */
	warm();
	free(t_sql(db, "UPDATE pillar SET name = 'Renamed by SQL' WHERE number = 1 RETURNING 1"));
	assert_agrees_soon("/v1/pillars/1");
	r = t_get(&cached, "/v1/pillars/1", viewer);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "name")), "Renamed by SQL");
	t_resp_free(r);
	/* a revoked token stops working, though it was remembered */
	other = t_member_token(db, "other@ohchr.org", "viewer", "OHCHR");
	for (int i = 0; i < 3; i++) {
		r = t_get(&cached, "/v1/pillars", other);
		ck_assert_int_eq(r->status, 200);
		t_resp_free(r);
	}
	tid = t_sql(db, "SELECT t.id FROM api_token t JOIN member m ON m.id = t.member_id"
			" WHERE m.email = 'other@ohchr.org'");
	ck_assert_int_eq(t_admin(db, NULL, NULL, "token", "revoke", "--id", tid, NULL), 0);
	free(tid);
	r = t_get_until(&cached, "/v1/pillars", other, 401, 3000);
	ck_assert_msg(r != NULL, "a revoked token still works after 3 s");
	t_assert_problem(r, 401, "unauthorized");
	t_resp_free(r);
	free(other);
}
END_TEST

START_TEST(losing_the_listening_connection_drops_the_cache)
{
	double dropped;

	warm();
	dropped = t_metric(&cached, "workplan_cache_invalidations_total");
	ck_assert(t_metric(&cached, "workplan_cache_entries") > 0);
	free(t_sql(db, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
		       " WHERE application_name = 'workplan-api-cache'"));
	/* dropped at once, and back on by itself */
	for (int i = 0; i < 150 && t_metric(&cached, "workplan_cache_invalidations_total") == dropped;
	     i++)
		usleep(20000);
	ck_assert(t_metric(&cached, "workplan_cache_invalidations_total") > dropped);
	t_cache_listening(&cached);
	free(t_sql(db, "UPDATE pillar SET name = 'After the reconnection' WHERE number = 2"
		       " RETURNING 1"));
	assert_agrees_soon("/v1/pillars/2");
	assert_all_agree("a reconnection");
}
END_TEST

START_TEST(the_cache_stays_within_its_budget)
{
	static const char *const small[] = { "WORKPLAN_CACHE_MB=1", "WORKPLAN_RATE_LIMIT=0", NULL };
	struct server s;
	char path[96];
	size_t served = 0;

	ck_assert_int_eq(t_admin(db, NULL, NULL, "demo", "--actions", "400", "--updates", "2000",
				 "--seed", "3", NULL), 0);
	t_server_start_env(&s, db, small);
	t_cache_listening(&s);
	/* distinct reads worth several times the budget */
	for (int i = 1; i <= 40; i++) {
		for (int pillar = 1; pillar <= 8; pillar++) {
			struct resp *r;

			snprintf(path, sizeof path, "/v1/actions?limit=%d&pillar=%d", i, pillar);
			r = t_get(&s, path, viewer);
			ck_assert_int_eq(r->status, 200);
			served += r->len;
			t_resp_free(r);
		}
	}
	ck_assert_uint_gt(served, 3 << 20);
	ck_assert(t_metric(&s, "workplan_cache_entries") > 10);
	ck_assert(t_metric(&s, "workplan_cache_bytes") <= 1 << 20);
	t_server_stop(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cache");
	TCase *tc = tcase_create("freshness");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, reads_reflect_every_acknowledged_write_at_once);
	tcase_add_test(tc, writes_elsewhere_reach_the_cache);
	tcase_add_test(tc, losing_the_listening_connection_drops_the_cache);
	tcase_add_test(tc, the_cache_stays_within_its_budget);
	suite_add_tcase(s, tc);
	return t_run(s);
}
