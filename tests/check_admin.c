/* workplan-admin end to end: migrations, seed data, members, tokens,
 * status, and the integrity rules the schema enforces. */
#include "harness.h"
#include "sha256.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static long count(const char *db, const char *sql)
{
	return t_sql_long(db, sql);
}

START_TEST(migrate_applies_each_migration_once)
{
	char db[64], *out;
	long applied;

	t_db_create(db, sizeof db, false);
	ck_assert_int_eq(t_admin(db, &out, NULL, "migrate", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "applied 001_schema.sql"));
	free(out);
	applied = count(db, "SELECT count(*) FROM schema_migration");
	ck_assert_int_ge(applied, 1);
	ck_assert_int_eq(t_admin(db, &out, NULL, "migrate", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "(0 applied now)"));
	free(out);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM schema_migration"), applied);
}
END_TEST

/* 022a and 022b come after 022_consultations.sql, each under its own
 * letter; a history table made before letters existed gets the column. */
START_TEST(a_lettered_migration_is_applied_once_after_its_number)
{
	char db[64], *out;

	t_db_create(db, sizeof db, false);
	free(t_sql(db, "CREATE TABLE schema_migration (version int PRIMARY KEY, name text NOT NULL,"
		       " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"));
	ck_assert_int_eq(t_admin(db, &out, NULL, "migrate", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "applied 022_consultations.sql\napplied 022a_attachment_cache_tag.sql\n"
					  "applied 022b_triage.sql\n"));
	free(out);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM schema_migration WHERE version = 22 AND suffix = 'b'"
				   " AND name = '022b_triage.sql'"), 1);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM pg_tables WHERE tablename = 'audit_private'"), 1);
	ck_assert_int_eq(t_admin(db, &out, NULL, "migrate", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "(0 applied now)"));
	free(out);
}
END_TEST

START_TEST(concurrent_migrations_both_succeed)
{
	char db[64];
	pid_t kids[3];
	int status;

	char path[512], conninfo[1024];

	t_db_create(db, sizeof db, false);
	/* nothing that asserts between fork and exec (see harness.c) */
	snprintf(path, sizeof path, "%s/workplan-admin", getenv("WORKPLAN_BIN"));
	snprintf(conninfo, sizeof conninfo, "%s", t_conninfo(db));
	for (int i = 0; i < 3; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, 1);
			setenv("DATABASE_URL", conninfo, 1);
			execl(path, path, "migrate", (char *)NULL);
			_exit(127);
		}
	}
	for (int i = 0; i < 3; i++) {
		waitpid(kids[i], &status, 0);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "migrate %d failed", i);
	}
	ck_assert_int_eq(count(db, "SELECT count(*) FROM schema_migration WHERE version = 1"), 1);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM pg_tables WHERE tablename = 'status_update'"), 1);
}
END_TEST

START_TEST(edited_applied_migration_is_an_error)
{
	char db[64], *err;

	t_db_create(db, sizeof db, false);
	ck_assert_int_eq(t_admin(db, NULL, NULL, "migrate", NULL), 0);
	free(t_sql(db, "UPDATE schema_migration SET checksum = 'edited' WHERE version = 1"));
	ck_assert_int_ne(t_admin(db, NULL, &err, "migrate", NULL), 0);
	ck_assert_msg(strstr(err, "changed after it was applied"), "stderr: %s", err);
	free(err);
}
END_TEST

START_TEST(seed_loads_the_network_work_plan)
{
	char db[64], *v;

	t_db_create(db, sizeof db, true);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM entity"), 23);
	v = t_sql(db, "SELECT name FROM entity WHERE code = 'UNWOMEN'");
	ck_assert_str_eq(v, "United Nations Entity for Gender Equality and the Empowerment of Women");
	free(v);
	v = t_sql(db, "SELECT string_agg(entity || ':' || kind || ':' || from_year || ':' ||"
		      " coalesce(to_year::text, '-'), ',' ORDER BY from_year) FROM cochair_term");
	ck_assert_str_eq(v, "OHCHR:permanent:2012:-,UNESCO:rotating:2021:2021");
	free(v);
	v = t_sql(db, "SELECT title || ' ' || start_year || '-' || end_year FROM workplan");
	ck_assert_str_eq(v, "Network Work Plan 2021+ 2021-2025");
	free(v);
	v = t_sql(db, "SELECT string_agg(label, ',' ORDER BY label) FROM cycle");
	ck_assert_str_eq(v, "2021,2022-2023,2024-2025");
	free(v);
	v = t_sql(db, "SELECT string_agg(number || ':' || coalesce((SELECT string_agg(entity, '+'"
		      " ORDER BY position) FROM pillar_lead WHERE pillar = number), '-'), ','"
		      " ORDER BY number) FROM pillar");
	ck_assert_str_eq(v, "1:WHO,2:UNODC,3:OHCHR,4:UNAIDS,5:DGC+UNFPA,6:UNHCR,7:-,8:OHCHR+UNESCO");
	free(v);
	v = t_sql(db, "SELECT status || ': ' || inactive_reason FROM pillar WHERE number = 7");
	ck_assert_ptr_nonnull(strstr(v, "inactive: Pending the outcome of the Secretary-General"));
	free(v);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM pillar WHERE status = 'active'"), 7);
	v = t_sql(db, "SELECT string_agg(pillar || ':' || n, ',' ORDER BY pillar) FROM"
		      " (SELECT pillar, count(*) n FROM action WHERE cycle = '2021' AND year = 2021"
		      " GROUP BY pillar) x");
	ck_assert_str_eq(v, "1:2,2:2,3:1,4:2,5:2,6:3");
	free(v);
	/* each action is led by its pillar's leads */
	ck_assert_int_eq(count(db, "SELECT count(*) FROM action a WHERE (SELECT array_agg(entity"
				   " ORDER BY position) FROM action_lead WHERE action_id = a.id) IS"
				   " DISTINCT FROM (SELECT array_agg(entity ORDER BY position)"
				   " FROM pillar_lead WHERE pillar = a.pillar)"), 0);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM event WHERE date = '2021-09-21'"
				   " AND audience = 'member-states' AND title LIKE '%48th%Human Rights Council%'"), 1);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM consultation WHERE due = '2021-10-20'"
				   " AND subject_must_contain = 'Work Plan' AND formats = '{Word,PDF}'"
				   " AND cycle = '2022-2023'"), 1);
}
END_TEST

START_TEST(seed_is_a_no_op_when_a_work_plan_exists)
{
	char db[64], *out;

	t_db_create(db, sizeof db, true);
	ck_assert_int_eq(t_admin(db, &out, NULL, "seed", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "nothing to seed"));
	free(out);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM entity"), 23);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM action"), 12);
}
END_TEST

START_TEST(member_add_refuses_bad_input_clearly)
{
	char db[64], *err;

	t_db_create(db, sizeof db, true);
	ck_assert_int_eq(t_admin(db, NULL, NULL, "member", "add", "--name", "A", "--email",
				 "a@un.org", "--entity", "WHO", "--role", "lead", NULL), 0);
	ck_assert_int_ne(t_admin(db, NULL, &err, "member", "add", "--name", "B", "--email",
				 "A@UN.org", "--entity", "WHO", "--role", "lead", NULL), 0);
	ck_assert_msg(strstr(err, "exists already"), "%s", err);
	free(err);
	ck_assert_int_ne(t_admin(db, NULL, &err, "member", "add", "--name", "C", "--email",
				 "c@un.org", "--entity", "NOPE", "--role", "lead", NULL), 0);
	ck_assert_msg(strstr(err, "unknown entity"), "%s", err);
	free(err);
	ck_assert_int_eq(t_admin(db, NULL, &err, "member", "add", "--name", "D", "--email",
				 "d@un.org", "--entity", "WHO", "--role", "boss", NULL), 2);
	free(err);
	ck_assert_int_eq(t_admin(db, NULL, &err, "member", "add", "--name", "E", NULL), 2);
	ck_assert_msg(strstr(err, "--email is required"), "%s", err);
	free(err);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM member"), 1);
}
END_TEST

START_TEST(tokens_are_shown_once_and_stored_only_as_hashes)
{
	char db[64], sql[512], hex[65], *token, *out;
	unsigned char d[SHA256_LEN];

	t_db_create(db, sizeof db, true);
	token = t_member_token(db, "lead@who.int", "lead", "WHO");
	ck_assert_int_ge(strlen(token), 40);
	sha256(token, strlen(token), d);
	sha256_hex(d, hex);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM api_token WHERE hash = '\\x%s'", hex);
	ck_assert_int_eq(count(db, sql), 1);
	/* the token itself is nowhere in the database, audit trail included */
	snprintf(sql, sizeof sql, "SELECT (SELECT count(*) FROM api_token t WHERE t::text LIKE '%%%s%%')"
		 " + (SELECT count(*) FROM audit a WHERE a::text LIKE '%%%s%%')", token + 4, token + 4);
	ck_assert_int_eq(count(db, sql), 0);
	ck_assert_int_eq(t_admin(db, &out, NULL, "token", "list", "--email", "lead@who.int", NULL), 0);
	ck_assert(!strncmp(out, "id", 2));
	ck_assert_ptr_null(strstr(out, token + 4));
	ck_assert_ptr_nonnull(strstr(out, "\n1 "));
	free(out);
	ck_assert_int_eq(t_admin(db, &out, NULL, "token", "revoke", "--id", "1", NULL), 0);
	free(out);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM api_token WHERE revoked_at IS NOT NULL"), 1);
	/* the trail of the token's creation and revocation holds neither the
	 * token nor its hash (as bytea text, or as hex anywhere) */
	ck_assert_int_ge(count(db, "SELECT count(*) FROM audit WHERE table_name = 'api_token'"), 2);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM audit a WHERE strpos(lower(a::text), '%s') > 0"
		 " OR strpos(a::text, '%s') > 0", hex, token + 4);
	ck_assert_int_eq(count(db, sql), 0);
	ck_assert_int_ne(t_admin(db, NULL, NULL, "token", "revoke", "--id", "999", NULL), 0);
	ck_assert_int_eq(t_admin(db, NULL, NULL, "token", "revoke", "--id", "1; DROP TABLE x", NULL), 2);
	ck_assert_int_ne(t_admin(db, NULL, NULL, "token", "create", "--email", "nobody@x.org", NULL), 0);
	free(token);
}
END_TEST

START_TEST(status_shows_schema_counts_and_queue)
{
	char db[64], *out;

	t_db_create(db, sizeof db, true);
	ck_assert_int_eq(t_admin(db, &out, NULL, "status", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "schema version"));
	ck_assert_ptr_nonnull(strstr(out, "entities         23"));
	ck_assert_ptr_nonnull(strstr(out, "key actions      12"));
	ck_assert_ptr_nonnull(strstr(out, "queued"));
	ck_assert_ptr_nonnull(strstr(out, "failed"));
	free(out);
}
END_TEST

/* A group's name with --help lists the group's commands; alone, it is a
 * usage error that still says what the group holds. */
START_TEST(command_groups_have_help)
{
	char *out, *err;

	ck_assert_int_eq(t_admin("postgres", &out, &err, "member", "--help", NULL), 0);
	ck_assert_msg(strstr(out, "usage: workplan-admin member") && strstr(out, "member add") &&
			      strstr(out, "--role cochair|lead|viewer"), "%s", out);
	ck_assert_str_eq(err, "");
	free(out);
	free(err);
	ck_assert_int_eq(t_admin("postgres", &out, NULL, "token", "-h", NULL), 0);
	ck_assert_msg(strstr(out, "token create") && strstr(out, "token list") && strstr(out, "token revoke") &&
			      !strstr(out, "member add"), "%s", out);
	free(out);
	ck_assert_int_eq(t_admin("postgres", &out, &err, "member", NULL), 2);
	ck_assert_str_eq(out, "");
	ck_assert_msg(strstr(err, "member add"), "%s", err);
	free(out);
	free(err);
}
END_TEST

START_TEST(every_command_has_help_and_unknown_ones_fail)
{
	static const char *const cmds[][2] = { { "migrate", NULL }, { "seed", NULL },
					       { "member", "add" }, { "token", "create" },
					       { "token", "list" }, { "token", "revoke" },
					       { "status", NULL } };
	char *out;

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		int rc = cmds[i][1] ? t_admin("postgres", &out, NULL, cmds[i][0], cmds[i][1], "--help", NULL)
				    : t_admin("postgres", &out, NULL, cmds[i][0], "--help", NULL);

		ck_assert_int_eq(rc, 0);
		ck_assert_msg(strstr(out, "usage: workplan-admin"), "%s: %s", cmds[i][0], out);
		free(out);
	}
	ck_assert_int_eq(t_admin("postgres", NULL, NULL, "--help", NULL), 0);
	ck_assert_int_eq(t_admin("postgres", NULL, NULL, "frobnicate", NULL), 2);
	ck_assert_int_eq(t_admin("postgres", NULL, NULL, "frobnicate", "--help", NULL), 2);
	ck_assert_int_eq(t_admin("postgres", NULL, NULL, "token", "steal", NULL), 2);
}
END_TEST

/* Runs sql and returns the SQLSTATE it failed with ("" when it succeeded). */
static char *sqlstate_of(const char *db, const char *sql)
{
	PGconn *c = PQconnectdb(t_conninfo(db));
	PGresult *r = PQexec(c, sql);
	const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	char *s = strdup(st ? st : "");

	PQclear(r);
	PQfinish(c);
	return s;
}

static void assert_refused(const char *db, const char *sql, const char *state)
{
	char *s = sqlstate_of(db, sql);

	ck_assert_msg(!strcmp(s, state), "%s: SQLSTATE '%s', expected %s", sql, s, state);
	free(s);
}

START_TEST(schema_keeps_updates_append_only)
{
	char db[64];

	t_db_create(db, sizeof db, true);
	free(t_sql(db, "INSERT INTO member (name, email, entity, role) VALUES ('L', 'l@who.int', 'WHO', 'lead')"));
	free(t_sql(db, "INSERT INTO status_update (action_id, period, status, percent_complete,"
		       " narrative, visibility, author_id) VALUES (1, '2021-Q2', 'on_track', 40,"
		       " 'Module one is online.', 'internal', 1)"));
	assert_refused(db, "UPDATE status_update SET narrative = 'rewritten'", "23001");
	assert_refused(db, "DELETE FROM status_update", "23001");
	ck_assert_int_eq(count(db, "SELECT count(*) FROM status_update WHERE narrative = 'Module one is online.'"), 1);
	/* a review is written once */
	free(t_sql(db, "UPDATE status_update SET review_state = 'approved', reviewed_at = now(), reviewed_by = 1"));
	assert_refused(db, "UPDATE status_update SET review_state = 'returned', reviewed_at = now()", "23001");
	ck_assert_int_eq(count(db, "SELECT count(*) FROM audit WHERE table_name = 'status_update'"), 1);
}
END_TEST

START_TEST(schema_refuses_inconsistent_rows)
{
	char db[64];

	t_db_create(db, sizeof db, true);
	free(t_sql(db, "INSERT INTO member (name, email, entity, role) VALUES ('L', 'l@who.int', 'WHO', 'lead')"));
	/* 100 % if and only if completed */
	assert_refused(db, "INSERT INTO status_update (action_id, period, status, percent_complete,"
			   " narrative, visibility, author_id) VALUES (1, '2021-Q2', 'on_track', 100, 'x', 'internal', 1)", "23514");
	assert_refused(db, "INSERT INTO status_update (action_id, period, status, percent_complete,"
			   " narrative, visibility, author_id) VALUES (1, '2021-Q2', 'completed', 90, 'x', 'internal', 1)", "23514");
	assert_refused(db, "INSERT INTO status_update (action_id, period, status, percent_complete,"
			   " narrative, visibility, author_id) VALUES (1, '2021-Q2', 'done', 10, 'x', 'internal', 1)", "23514");
	assert_refused(db, "INSERT INTO status_update (action_id, period, status, percent_complete,"
			   " narrative, visibility, author_id) VALUES (1, '2021-Q2', 'on_track', 10, 'x', 'public', 1)", "23514");
	assert_refused(db, "INSERT INTO status_update (action_id, period, status, percent_complete,"
			   " narrative, visibility, author_id) VALUES (999, '2021-Q2', 'on_track', 10, 'x', 'internal', 1)", "23503");
	assert_refused(db, "INSERT INTO action (pillar, cycle, year, title) VALUES (1, '2021', 2023, 'x')", "23514");
	assert_refused(db, "INSERT INTO action (pillar, cycle, year, title) VALUES (9, '2021', 2021, 'x')", "23503");
	assert_refused(db, "DELETE FROM action WHERE id = 1", "23001");
	assert_refused(db, "INSERT INTO pillar_lead (pillar, entity, position) VALUES (1, 'NOPE', 2)", "23503");
	assert_refused(db, "UPDATE pillar SET inactive_reason = 'x' WHERE number = 1", "23514");
	assert_refused(db, "INSERT INTO member (name, email, entity, role) VALUES ('X', 'x@y.org', 'WHO', 'admin')", "23514");
	ck_assert_int_eq(count(db, "SELECT count(*) FROM status_update"), 0);
	ck_assert_int_eq(count(db, "SELECT count(*) FROM action"), 12);
}
END_TEST

START_TEST(structural_changes_are_audited_with_actor_before_and_after)
{
	char db[64], *v;

	t_db_create(db, sizeof db, true);
	free(t_sql(db, "BEGIN; SET LOCAL workplan.actor = 'member:7';"
		       " UPDATE pillar SET name = 'Leave No One Behind (LNOB)', version = version + 1"
		       " WHERE number = 1; COMMIT"));
	v = t_sql(db, "SELECT actor || '|' || op || '|' || row_key || '|' || (before->>'name') || '|'"
		      " || (after->>'name') || '|' || (after->>'version') FROM audit"
		      " WHERE table_name = 'pillar' ORDER BY id DESC LIMIT 1");
	/* the version moves as the API moves it (012: no trigger does) */
	ck_assert_str_eq(v, "member:7|UPDATE|1|Leave No One Behind|Leave No One Behind (LNOB)|2");
	free(v);
	/* the seed itself is on the trail */
	ck_assert_int_eq(count(db, "SELECT count(*) FROM audit WHERE actor = 'seed' AND table_name = 'entity'"), 23);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("admin");
	TCase *tc = tcase_create("admin");

	tcase_add_test(tc, migrate_applies_each_migration_once);
	tcase_add_test(tc, concurrent_migrations_both_succeed);
	tcase_add_test(tc, a_lettered_migration_is_applied_once_after_its_number);
	tcase_add_test(tc, edited_applied_migration_is_an_error);
	tcase_add_test(tc, seed_loads_the_network_work_plan);
	tcase_add_test(tc, seed_is_a_no_op_when_a_work_plan_exists);
	tcase_add_test(tc, member_add_refuses_bad_input_clearly);
	tcase_add_test(tc, tokens_are_shown_once_and_stored_only_as_hashes);
	tcase_add_test(tc, status_shows_schema_counts_and_queue);
	tcase_add_test(tc, every_command_has_help_and_unknown_ones_fail);
	tcase_add_test(tc, command_groups_have_help);
	tcase_add_test(tc, schema_keeps_updates_append_only);
	tcase_add_test(tc, schema_refuses_inconsistent_rows);
	tcase_add_test(tc, structural_changes_are_audited_with_actor_before_and_after);
	suite_add_tcase(s, tc);
	return t_run(s);
}
