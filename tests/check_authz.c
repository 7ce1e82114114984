/* Authorization across the whole matrix: every caller (no token, a viewer,
 * a lead of every entity that leads a key action, a co-chair) against
 * every write and co-chair read, on one action of every pillar that has
 * actions and on every pillar. What each may do is derived from the
 * database (the action's lead entities), not written out by hand; the
 * writes that went through are exactly the ones counted. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CALLERS 40

static char db[64];
static struct server srv;

struct caller {
	char name[48];
	char *token;          /* NULL: anonymous */
	const char *role;     /* "none", "viewer", "lead", "cochair" */
	char entity[16];
};

static struct caller callers[MAX_CALLERS];
static int ncallers;

static void add_caller(const char *role, const char *entity)
{
	struct caller *c = &callers[ncallers++];
	char email[64];

	c->role = role;
	snprintf(c->entity, sizeof c->entity, "%s", entity ? entity : "");
	snprintf(c->name, sizeof c->name, "%s%s%s", role, entity ? " of " : "", entity ? entity : "");
	if (!strcmp(role, "none"))
		return;
	snprintf(email, sizeof email, "%s.%s@un.org", role, entity);
	for (char *p = email; *p; p++)
		*p = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
	c->token = t_member_token(db, email, role, entity);
}

static void setup(void)
{
	char *entities;

	t_db_create(db, sizeof db, true);
	add_caller("none", NULL);
	add_caller("viewer", "UNICEF");
	add_caller("cochair", "OHCHR");
	entities = t_sql(db, "SELECT string_agg(DISTINCT entity, ' ') FROM action_lead");
	ck_assert_ptr_nonnull(entities);
	for (char *save = NULL, *e = strtok_r(entities, " ", &save); e; e = strtok_r(NULL, " ", &save))
		if (ncallers < MAX_CALLERS)
			add_caller("lead", e);
	free(entities);
	t_server_start(&srv, db);
}

static void teardown(void)
{
	t_server_stop(&srv);
	for (int i = 0; i < ncallers; i++)
		free(callers[i].token);
	ncallers = 0;
}

static long send_as(const struct caller *c, const char *method, const char *path,
		    const char *body, const char *header)
{
	struct resp *r = t_http(&srv, method, path, c->token, body ? "application/json" : NULL, body,
				body ? strlen(body) : 0, header);
	long status = r->status;

	if (status >= 400)
		ck_assert_msg(r->json && json_object_get(r->json, "type"), "%s %s as %s: %ld not a problem",
			      method, path, c->name, status);
	t_resp_free(r);
	return status;
}

/* 401 without a token, 403 without the right, else the expected success. */
static long expect(const struct caller *c, bool allowed, long ok)
{
	if (!c->token)
		return 401;
	return allowed ? ok : 403;
}

static bool leads(const char *entity, long action)
{
	char sql[160];

	snprintf(sql, sizeof sql, "SELECT count(*) FROM action_lead WHERE action_id = %ld AND entity = '%s'",
		 action, entity);
	return t_sql_long(db, sql) > 0;
}

START_TEST(every_caller_against_every_write_on_every_pillar)
{
	long created = 0, before = t_sql_long(db, "SELECT count(*) FROM status_update"), checks = 0;
	char *list = t_sql(db, "SELECT string_agg(a.id::text, ' ' ORDER BY a.pillar) FROM"
			       " (SELECT DISTINCT ON (pillar) id, pillar FROM action ORDER BY pillar, id) a"
			       " JOIN pillar p ON p.number = a.pillar WHERE p.status = 'active'");
	int npillars = 0;

	ck_assert_ptr_nonnull(list);
	for (char *save = NULL, *s = strtok_r(list, " ", &save); s; s = strtok_r(NULL, " ", &save)) {
		long action = atol(s);
		char path[96], review[96], body[200];
		struct resp *r;
		long update;

		npillars++;
		/* an update to review, by a co-chair (the seed's actions are of
		 * cycle 2021: an update's period lies within its action's cycle) */
		snprintf(path, sizeof path, "/v1/actions/%ld/updates", action);
		snprintf(body, sizeof body, "{\"period\":\"2021-Q3\",\"status\":\"on_track\","
			 "\"percent_complete\":10,\"narrative\":\"To review.\"}");
		r = t_http(&srv, "POST", path, callers[2].token, "application/json", body, strlen(body),
			   NULL);
		ck_assert_int_eq(r->status, 201);
		update = (long)json_integer_value(json_object_get(r->json, "id"));
		t_resp_free(r);
		created++;
		snprintf(review, sizeof review, "/v1/updates/%ld/review", update);
		/* co-chairs last: their review is the only one that counts */
		for (int i = 0; i < ncallers; i++) {
			const struct caller *c = &callers[(i + 3) % ncallers];
			bool cochair = !strcmp(c->role, "cochair");
			bool lead = !strcmp(c->role, "lead") && leads(c->entity, action);
			long got;
			char apath[64];

			snprintf(body, sizeof body, "{\"period\":\"2021-Q3\",\"status\":\"at_risk\","
				 "\"percent_complete\":20,\"narrative\":\"By %s.\"}", c->name);
			got = send_as(c, "POST", path, body, NULL);
			ck_assert_msg(got == expect(c, cochair || lead, 201),
				      "POST update on action %ld as %s: %ld", action, c->name, got);
			created += got == 201;
			snprintf(apath, sizeof apath, "/v1/actions/%ld", action);
			got = send_as(c, "PATCH", apath, "{\"description\":\"Checked.\"}", "If-Match: *");
			ck_assert_msg(got == expect(c, cochair, 200), "PATCH action %ld as %s: %ld", action,
				      c->name, got);
			got = send_as(c, "GET", apath, NULL, NULL);
			ck_assert_msg(got == expect(c, true, 200), "GET action %ld as %s: %ld", action, c->name,
				      got);
			got = send_as(c, "GET", "/v1/audit", NULL, NULL);
			ck_assert_msg(got == expect(c, cochair, 200), "GET audit as %s: %ld", c->name, got);
			got = send_as(c, "POST", review, "{\"decision\":\"approve\"}", NULL);
			ck_assert_msg(got == expect(c, cochair, 200), "review on action %ld as %s: %ld", action,
				      c->name, got);
			checks += 5;
		}
	}
	free(list);
	/* pillars: only co-chairs edit them */
	for (int p = 1; p <= 8; p++) {
		char path[32], *name, body[300];

		snprintf(path, sizeof path, "/v1/pillars/%d", p);
		snprintf(body, sizeof body, "SELECT name FROM pillar WHERE number = %d", p);
		name = t_sql(db, body);
		snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
		free(name);
		for (int i = 0; i < ncallers; i++) {
			long got = send_as(&callers[i], "PATCH", path, body, "If-Match: *");

			ck_assert_msg(got == expect(&callers[i], !strcmp(callers[i].role, "cochair"), 200),
				      "PATCH pillar %d as %s: %ld", p, callers[i].name, got);
			checks++;
		}
	}
	ck_assert_int_ge(npillars, 5);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM status_update"), before + created);
	printf("authz: %d callers x %d pillars: %ld decisions checked, %ld writes let through\n",
	       ncallers, npillars, checks, created);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("authz");
	TCase *tc = tcase_create("matrix");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_caller_against_every_write_on_every_pillar);
	suite_add_tcase(s, tc);
	return t_run(s);
}
