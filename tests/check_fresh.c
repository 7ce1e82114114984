/* Freshness under finer invalidation (api/cache.h, migration 023). Two
 * API processes with their caches (a, where each write is made, and b)
 * and one without (plain) share a database. For every kind of write:
 * every cached read it changes shows the change on the very next request
 * on a, and on b once the notification arrives, body for body as plain
 * answers it; and a read the write cannot change is still answered from
 * memory on both (the invalidation is finer than "everything"). Tokens
 * and sessions are dropped apart from data. A process whose listening
 * connection is cut serves nothing from its cache. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ORIGIN_URL "https://workplan.example.org"

static char db[64];
static struct server a, b, plain;
static char *cochair, *viewer;
static const char *const with_cache[] = { "WORKPLAN_RATE_LIMIT=0",
					  "WORKPLAN_PUBLIC_URL=" ORIGIN_URL, NULL };
static const char *const no_cache[] = { "WORKPLAN_CACHE_MB=0", "WORKPLAN_RATE_LIMIT=0",
					"WORKPLAN_PUBLIC_URL=" ORIGIN_URL, NULL };

/* Every cacheable read around action 1 (pillar 1, cycle 2021) and what
 * lies beside it; a test adds the update and action it made. */
#define NREADS 32
static char reads[NREADS][96];
static int nreads;
static char *before[NREADS]; /* plain's answers before the write */

static void read_add(const char *path)
{
	ck_assert_int_lt(nreads, NREADS);
	snprintf(reads[nreads++], sizeof reads[0], "%s", path);
}

static void setup(void)
{
	static const char *const base[] = {
		"/v1/actions/1", "/v1/actions/1/updates", "/v1/actions/2", "/v1/actions/3",
		"/v1/actions?pillar=1", "/v1/actions?pillar=2", "/v1/actions",
		"/v1/updates", "/v1/updates?pillar=1", "/v1/updates?pillar=2",
		"/v1/pillars", "/v1/pillars/1", "/v1/pillars/2",
		"/v1/progress?as_of=2021-Q3", "/v1/progress?as_of=2024-Q3",
		"/v1/progress?as_of=2021-Q2", "/v1/progress?as_of=2021-Q4",
		"/v1/progress/trend?from=2021-Q1&to=2021-Q4",
		"/v1/reporting?period=2021-Q3", "/v1/reporting?period=2021-Q2",
		"/v1/export.csv?period=2021-Q3",
		"/v1/entities", "/v1/cycles",
	};

	t_db_create(db, sizeof db, true);
	cochair = t_member_token(db, "cochair@ohchr.org", "cochair", "OHCHR");
	viewer = t_member_token(db, "staff@unicef.org", "viewer", "UNICEF");
	t_server_start_env(&a, db, with_cache);
	t_server_start_env(&b, db, with_cache);
	t_server_start_env(&plain, db, no_cache);
	t_cache_listening(&a);
	t_cache_listening(&b);
	nreads = 0;
	for (size_t i = 0; i < sizeof base / sizeof *base; i++)
		read_add(base[i]);
}

static void teardown(void)
{
	t_server_stop(&a);
	t_server_stop(&b);
	t_server_stop(&plain);
	for (int i = 0; i < NREADS; i++) {
		free(before[i]);
		before[i] = NULL;
	}
	free(cochair);
	free(viewer);
}

static char *body_of(const struct server *s, const char *path)
{
	struct resp *r = t_get(s, path, viewer);
	char *body;

	ck_assert_msg(r->status == 200, "%s: %ld %s", path, r->status, r->body);
	body = strndup(r->body, r->len);
	t_resp_free(r);
	return body;
}

static bool agrees(const struct server *s, const char *path)
{
	char *x = body_of(s, path), *y = body_of(&plain, path);
	bool same = !strcmp(x, y);

	free(x);
	free(y);
	return same;
}

static int read_index(const char *path)
{
	for (int i = 0; i < nreads; i++)
		if (!strcmp(reads[i], path))
			return i;
	ck_abort_msg("%s is not among the reads", path);
	return -1;
}

/* Both caches hold every read; plain's answers are noted. */
static void warm(void)
{
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < nreads; i++) {
			free(body_of(&a, reads[i]));
			free(body_of(&b, reads[i]));
		}
	for (int i = 0; i < nreads; i++) {
		free(before[i]);
		before[i] = body_of(&plain, reads[i]);
	}
}

/* path stayed in s's memory: reading it finds no stale entry and nothing
 * emptied the cache (the token is remembered first, by a read outside the
 * cache). A plain miss alone is not a drop: while a notification (this
 * write's own, on a slow machine) waits unread on the listening socket,
 * nothing is served from memory (api/cache.c, unheard()), and a dropped
 * entry is always found stale or emptied with the rest. */
static void assert_kept(const struct server *s, const char *path, const char *what)
{
	double misses, stale, emptied;
	struct resp *r = t_get(s, "/v1/me", viewer);

	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	misses = t_metric(s, "workplan_cache_misses_total");
	stale = t_metric(s, "workplan_cache_stale_total");
	emptied = t_metric(s, "workplan_cache_invalidations_total");
	free(body_of(s, path));
	if (t_metric(s, "workplan_cache_misses_total") == misses)
		return;
	ck_assert_msg(t_metric(s, "workplan_cache_stale_total") == stale &&
			      t_metric(s, "workplan_cache_invalidations_total") == emptied,
		      "%s was dropped by %s on port %d, which cannot change it", path, what, s->port);
}

/* The write what (made on a) changed each of changed: plain shows it; a
 * shows it at once, b within 3 s; the reads in kept stayed in both
 * caches; then every read agrees everywhere. */
static void assert_fresh(const char *what, const char *const *changed, const char *const *kept)
{
	for (const char *const *p = changed; *p; p++) {
		char *now = body_of(&plain, *p);

		ck_assert_msg(strcmp(now, before[read_index(*p)]),
			      "%s did not change %s: the check would be vacuous", what, *p);
		free(now);
		ck_assert_msg(agrees(&a, *p), "%s is stale on the writing API after %s", *p, what);
	}
	for (const char *const *p = kept; *p; p++)
		assert_kept(&a, *p, what);
	for (const char *const *p = changed; *p; p++) {
		for (int i = 0; i < 150 && !agrees(&b, *p); i++)
			usleep(20000);
		ck_assert_msg(agrees(&b, *p), "%s still stale on the other API 3 s after %s", *p,
			      what);
	}
	for (const char *const *p = kept; *p; p++)
		assert_kept(&b, *p, what);
	for (int i = 0; i < nreads; i++) {
		ck_assert_msg(agrees(&a, reads[i]), "%s differs on the writing API after %s",
			      reads[i], what);
		ck_assert_msg(agrees(&b, reads[i]), "%s differs on the other API after %s", reads[i],
			      what);
	}
}

static struct resp *write_on_a(const char *method, const char *path, const char *body,
			       long status)
{
	struct resp *r = t_http(&a, method, path, cochair, body ? "application/json" : NULL, body,
				body ? strlen(body) : 0, "If-Match: *");

	ck_assert_msg(r->status == status, "%s %s: %ld %s", method, path, r->status, r->body);
	return r;
}

static long long post_update(int percent)
{
	char body[200];
	struct resp *r;
	long long id;

	snprintf(body, sizeof body,
		 "{\"period\":\"2021-Q3\",\"status\":\"at_risk\",\"percent_complete\":%d,"
		 "\"narrative\":\"At %d%% in the third quarter.\"}", percent, percent);
	r = write_on_a("POST", "/v1/actions/1/updates", body, 201);
	id = json_integer_value(json_object_get(r->json, "id"));
	t_resp_free(r);
	return id;
}

START_TEST(every_write_shows_on_both_apis_and_drops_no_more_than_it_changes)
{
	char path[96], uid[96], aid[96], body[200];
	long long update, action;
	struct resp *r;

	/* a status update posted */
	warm();
	update = post_update(40);
	assert_fresh("an update posted",
		     (const char *const[]){ "/v1/actions/1", "/v1/actions/1/updates",
					    "/v1/actions?pillar=1", "/v1/actions", "/v1/updates",
					    "/v1/updates?pillar=1", "/v1/progress?as_of=2021-Q3",
					    "/v1/progress?as_of=2021-Q4",
					    "/v1/progress/trend?from=2021-Q1&to=2021-Q4",
					    "/v1/reporting?period=2021-Q3",
					    "/v1/export.csv?period=2021-Q3", NULL },
		     /* an update for a quarter changes none before it */
		     (const char *const[]){ "/v1/actions/2", "/v1/actions/3", "/v1/actions?pillar=2",
					    "/v1/updates?pillar=2", "/v1/pillars/2",
					    "/v1/progress?as_of=2024-Q3", "/v1/progress?as_of=2021-Q2",
					    "/v1/reporting?period=2021-Q2", "/v1/entities", NULL });

	/* reviewed */
	snprintf(uid, sizeof uid, "/v1/updates/%lld", update);
	read_add(uid);
	warm();
	snprintf(path, sizeof path, "/v1/updates/%lld/review", update);
	t_resp_free(write_on_a("POST", path, "{\"decision\":\"approve\"}", 200));
	assert_fresh("a review",
		     (const char *const[]){ uid, "/v1/actions/1", "/v1/actions/1/updates",
					    "/v1/updates", NULL },
		     (const char *const[]){ "/v1/actions/2", "/v1/updates?pillar=2", "/v1/cycles",
					    NULL });

	/* an action created in pillar 1, cycle 2021 */
	warm();
	r = write_on_a("POST", "/v1/actions",
		       "{\"pillar\":1,\"cycle\":\"2021\",\"year\":2021,\"title\":\"Fresh action\"}",
		       201);
	action = json_integer_value(json_object_get(r->json, "id"));
	t_resp_free(r);
	assert_fresh("an action created",
		     (const char *const[]){ "/v1/actions?pillar=1", "/v1/actions", "/v1/pillars",
					    "/v1/pillars/1", "/v1/progress?as_of=2021-Q3",
					    "/v1/progress?as_of=2021-Q2",
					    "/v1/reporting?period=2021-Q3", NULL },
		     (const char *const[]){ "/v1/actions/1", "/v1/actions/1/updates", uid,
					    "/v1/actions?pillar=2", "/v1/pillars/2",
					    "/v1/progress?as_of=2024-Q3", NULL });

	/* patched */
	snprintf(aid, sizeof aid, "/v1/actions/%lld", action);
	read_add(aid);
	warm();
	t_resp_free(write_on_a("PATCH", aid, "{\"title\":\"Fresh action, renamed\"}", 200));
	assert_fresh("an action patched",
		     (const char *const[]){ aid, "/v1/actions?pillar=1", "/v1/actions", NULL },
		     (const char *const[]){ "/v1/actions/1", "/v1/actions/2", uid,
					    "/v1/actions?pillar=2", "/v1/pillars/2", NULL });

	/* archived */
	warm();
	r = write_on_a("DELETE", aid, NULL, 200);
	t_resp_free(r);
	assert_fresh("an action archived",
		     (const char *const[]){ aid, "/v1/actions?pillar=1", "/v1/actions",
					    "/v1/pillars", "/v1/pillars/1",
					    "/v1/progress?as_of=2021-Q3", NULL },
		     (const char *const[]){ "/v1/actions/1", "/v1/actions/1/updates",
					    "/v1/actions?pillar=2", "/v1/pillars/2", NULL });

	/* a pillar patched */
	warm();
	t_resp_free(write_on_a("PATCH", "/v1/pillars/1", "{\"name\":\"Pillar one, renamed\"}", 200));
	assert_fresh("a pillar patched",
		     (const char *const[]){ "/v1/pillars", "/v1/pillars/1",
					    "/v1/progress?as_of=2021-Q3", "/v1/progress?as_of=2024-Q3",
					    NULL },
		     (const char *const[]){ "/v1/actions/1", "/v1/actions/1/updates", uid,
					    "/v1/actions?pillar=2", "/v1/updates?pillar=2",
					    "/v1/entities", NULL });

	/* a member (the author of the update) renamed */
	warm();
	snprintf(path, sizeof path, "/v1/members/%lld",
		 (long long)t_sql_long(db, "SELECT id FROM member WHERE email = 'cochair@ohchr.org'"));
	snprintf(body, sizeof body, "{\"name\":\"Renamed Co-chair\"}");
	t_resp_free(write_on_a("PATCH", path, body, 200));
	assert_fresh("a member renamed",
		     (const char *const[]){ "/v1/actions/1", "/v1/actions/1/updates", uid,
					    "/v1/updates", "/v1/export.csv?period=2021-Q3", NULL },
		     (const char *const[]){ "/v1/entities", "/v1/cycles", NULL });
}
END_TEST

/* A request with a bearer token or a session cookie; its status. */
static long status_with(const struct server *s, const char *method, const char *path,
			const char *token, const char *cookie)
{
	char c[160];
	struct resp *r;
	long status;

	if (cookie) {
		snprintf(c, sizeof c, "Cookie: wp_session=%s", cookie);
		r = t_http_headers(s, NULL, method, path, NULL, 0,
				   (const char *const[]){ c, "Origin: " ORIGIN_URL, NULL });
	} else
		r = t_http(s, method, path, token, NULL, NULL, 0, NULL);
	status = r->status;
	t_resp_free(r);
	return status;
}

/* Within 3 s, credential stops working on s. */
static void assert_refused_soon(const struct server *s, const char *token, const char *cookie,
				const char *what)
{
	for (int i = 0; i < 150 && status_with(s, "GET", "/v1/pillars", token, cookie) != 401; i++)
		usleep(20000);
	ck_assert_msg(status_with(s, "GET", "/v1/pillars", token, cookie) == 401,
		      "still accepted on port %d 3 s after %s", s->port, what);
}

START_TEST(tokens_and_sessions_end_on_both_apis_and_leave_the_data_cached)
{
	char *other = t_member_token(db, "other@unicef.org", "viewer", "UNICEF");
	/* a session, as sign-in makes one (its cookie's hash is kept) */
	const char *cookie = "wps_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	char path[64];

	free(t_sql(db, "INSERT INTO member_session (member_id, hash, created_at, last_seen_at,"
		       " expires_at) SELECT id, sha256(convert_to('"
		       "wps_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'UTF8')), now(), now(),"
		       " now() + interval '1 day' FROM member WHERE email = 'staff@unicef.org'"
		       " RETURNING 1"));
	warm();
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(status_with(&a, "GET", "/v1/pillars", other, NULL), 200);
		ck_assert_int_eq(status_with(&b, "GET", "/v1/pillars", other, NULL), 200);
		ck_assert_int_eq(status_with(&a, "GET", "/v1/pillars", NULL, cookie), 200);
		ck_assert_int_eq(status_with(&b, "GET", "/v1/pillars", NULL, cookie), 200);
	}

	/* a token revoked by its owner on a */
	snprintf(path, sizeof path, "/v1/me/tokens/%lld",
		 (long long)t_sql_long(db, "SELECT t.id FROM api_token t JOIN member m"
					   " ON m.id = t.member_id WHERE m.email = 'other@unicef.org'"));
	ck_assert_int_eq(status_with(&a, "DELETE", path, other, NULL), 204);
	ck_assert_int_eq(status_with(&a, "GET", "/v1/pillars", other, NULL), 401);
	assert_refused_soon(&b, other, NULL, "a token revoked");
	for (int i = 0; i < nreads; i++) {
		assert_kept(&a, reads[i], "a token revoked");
		assert_kept(&b, reads[i], "a token revoked");
	}
	/* the session stays */
	ck_assert_int_eq(status_with(&b, "GET", "/v1/pillars", NULL, cookie), 200);

	/* a session ended (signed out) on a */
	ck_assert_int_eq(status_with(&a, "DELETE", "/v1/auth/session", NULL, cookie), 204);
	ck_assert_int_eq(status_with(&a, "GET", "/v1/pillars", NULL, cookie), 401);
	assert_refused_soon(&b, NULL, cookie, "a session ended");
	for (int i = 0; i < nreads; i++) {
		assert_kept(&a, reads[i], "a session ended");
		assert_kept(&b, reads[i], "a session ended");
	}
	free(other);
}
END_TEST

/* Cut b's listening connection (its server process ends): from then on b
 * must not answer from memory what a write made stale, though it cannot
 * hear of the write; once it listens again, it caches and hears again. */
START_TEST(a_host_that_lost_its_listening_connection_serves_nothing_stale)
{
	static const char *const probes[] = { "/v1/pillars/3", "/v1/actions/1", "/v1/pillars", NULL };

	warm();
	ck_assert_int_eq(t_sql_long(db, "SELECT count(pg_terminate_backend(pid, 5000))"
					" FROM pg_stat_activity"
					" WHERE application_name = 'workplan-api-cache'"
					" AND datname = current_database()"),
			 2);
	/* at once, with no time to reconnect: writes outside any API */
	free(t_sql(db, "UPDATE pillar SET name = 'Renamed while b was deaf' WHERE number = 3"
		       " RETURNING 1"));
	free(t_sql(db, "INSERT INTO status_update (action_id, period, status, percent_complete,"
		       " narrative, visibility, author_id) SELECT 1, '2021-Q3', 'delayed', 77,"
		       " 'Posted by SQL.', 'internal', id FROM member WHERE email = 'cochair@ohchr.org'"
		       " RETURNING 1"));
	for (const char *const *p = probes; *p; p++) {
		ck_assert_msg(agrees(&a, *p), "%s stale on a after its listener was cut", *p);
		ck_assert_msg(agrees(&b, *p), "%s stale on b after its listener was cut", *p);
	}
	/* back by itself, caching and hearing again */
	t_cache_listening(&b);
	warm();
	free(t_sql(db, "UPDATE pillar SET name = 'Renamed once b heard again' WHERE number = 3"
		       " RETURNING 1"));
	for (int i = 0; i < 150 && !agrees(&b, "/v1/pillars/3"); i++)
		usleep(20000);
	ck_assert(agrees(&b, "/v1/pillars/3"));
	assert_kept(&b, "/v1/actions/1", "a pillar renamed by SQL");
}
END_TEST

/* A notification the API cannot read (an older version's, a hand-made
 * one) drops everything rather than nothing. */
START_TEST(an_unknown_notification_drops_everything)
{
	double all;

	warm();
	all = t_metric(&b, "workplan_cache_invalidations_total");
	free(t_sql(db, "SELECT pg_notify('workplan_data', '12345 not-a-tag') IS NULL"));
	for (int i = 0; i < 150 && t_metric(&b, "workplan_cache_invalidations_total") == all; i++)
		usleep(20000);
	ck_assert(t_metric(&b, "workplan_cache_invalidations_total") > all);
	ck_assert(t_metric(&b, "workplan_cache_entries") == 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fresh");
	TCase *tc = tcase_create("fresh");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, every_write_shows_on_both_apis_and_drops_no_more_than_it_changes);
	tcase_add_test(tc, tokens_and_sessions_end_on_both_apis_and_leave_the_data_cached);
	tcase_add_test(tc, a_host_that_lost_its_listening_connection_serves_nothing_stale);
	tcase_add_test(tc, an_unknown_notification_drops_everything);
	suite_add_tcase(s, tc);
	return t_run(s);
}
