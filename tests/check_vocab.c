/* lib/vocab.h against the database: each table of the C vocabulary holds
 * exactly the values the CHECK constraint of its column allows in a
 * migrated database, so that a value added, renamed or dropped on one side
 * only fails here rather than in production; and the SQL that counts by
 * status reads a column of the progress sums for every status. */
#include "harness.h"
#include "vocab.h"

#include <libpq-fe.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char db[64];

static void setup(void)
{
	t_db_create(db, sizeof db, true);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of a NULL-terminated array, sorted (bytewise) and joined by
 * spaces; caller frees. */
static char *c_set(const char *const *names)
{
	const char *sorted[32];
	size_t n = 0, len = 1;
	char *out;

	for (; names[n]; n++) {
		ck_assert_uint_lt(n, 32);
		sorted[n] = names[n];
		len += strlen(names[n]) + 1;
	}
	qsort(sorted, n, sizeof sorted[0], by_name);
	out = calloc(1, len);
	for (size_t i = 0; i < n; i++) {
		strcat(out, i ? " " : "");
		strcat(out, sorted[i]);
	}
	return out;
}

/* The string literals of the CHECK constraints on table.column alone (a
 * literal array '{a,b}' counts as its elements), sorted and joined the
 * same way; NULL when the column has no such constraint. Constraints
 * over several columns (status = 'completed' iff percent = 100) are
 * rules between columns, not the column's set of values. */
static char *sql_set(const char *table, const char *column)
{
	char sql[1024], *set;

	snprintf(sql, sizeof sql,
		 "SELECT string_agg(DISTINCT v COLLATE \"C\", ' ' ORDER BY v COLLATE \"C\")"
		 " FROM pg_constraint c JOIN pg_attribute a"
		 "   ON a.attrelid = c.conrelid AND c.conkey = ARRAY[a.attnum]"
		 " CROSS JOIN LATERAL regexp_matches(pg_get_constraintdef(c.oid),"
		 "   '''((?:[^'']|'''')*)''', 'g') AS m"
		 " CROSS JOIN LATERAL unnest(CASE WHEN m[1] LIKE '{%%' THEN m[1]::text[]"
		 "   ELSE ARRAY[replace(m[1], '''''', '''')] END) AS v"
		 " WHERE c.contype = 'c' AND c.conrelid = '%s'::regclass AND a.attname = '%s'",
		 table, column);
	set = t_sql(db, sql);
	ck_assert_msg(set != NULL, "%s.%s has no CHECK constraint listing its values", table, column);
	return set;
}

static void assert_matches(const char *const *names, const char *table, const char *column)
{
	char *c = c_set(names), *s = sql_set(table, column);

	ck_assert_msg(!strcmp(c, s), "lib/vocab.h has {%s}, %s.%s allows {%s}", c, table, column, s);
	free(c);
	free(s);
}

START_TEST(statuses_match_the_status_update_check)
{
	assert_matches(status_names, "status_update", "status");
	ck_assert_int_eq(STATUS_COUNT, 6);
}
END_TEST

START_TEST(visibilities_match_the_status_update_check)
{
	assert_matches(visibility_names, "status_update", "visibility");
}
END_TEST

START_TEST(review_states_match_the_status_update_check)
{
	assert_matches(review_state_names, "status_update", "review_state");
}
END_TEST

/* a decision is not stored: what is stored is the review state it leads
 * to, one each, never back to submitted */
START_TEST(each_decision_leads_to_its_own_review_state)
{
	ck_assert_int_eq(DECISION_COUNT, 2);
	ck_assert_str_eq(review_state_names[decision_review_state(DECISION_APPROVE)], "approved");
	ck_assert_str_eq(review_state_names[decision_review_state(DECISION_RETURN)], "returned");
	ck_assert_str_eq(decision_names[DECISION_APPROVE], "approve");
	ck_assert_str_eq(decision_names[DECISION_RETURN], "return");
}
END_TEST

START_TEST(report_kinds_formats_and_audiences_match_the_report_checks)
{
	assert_matches(report_kind_names, "report", "kind");
	assert_matches(report_format_names, "report", "formats");
	assert_matches(audience_names, "report", "audience");
}
END_TEST

START_TEST(input_states_and_contributor_types_match_the_input_checks)
{
	assert_matches(input_state_names, "consultation_input", "state");
	assert_matches(contributor_type_names, "consultation_input", "contributor_type");
}
END_TEST

START_TEST(pillar_statuses_match_the_pillar_check)
{
	assert_matches(pillar_status_names, "pillar", "status");
}
END_TEST

START_TEST(member_roles_languages_and_digests_match_the_member_checks)
{
	assert_matches(member_role_names, "member", "role");
	assert_matches(language_names, "member", "language");
	assert_matches(review_digest_names, "member", "review_digest");
	/* the role order is the order of what each may do (api/router.h) */
	ck_assert_int_lt(MEMBER_VIEWER, MEMBER_LEAD);
	ck_assert_int_lt(MEMBER_LEAD, MEMBER_COCHAIR);
}
END_TEST

/* the test itself can fail: a set that differs by one value differs */
START_TEST(a_set_that_differs_is_seen)
{
	static const char *const fewer[] = { "not_started", "on_track", "at_risk", "delayed",
					     "completed", NULL };
	static const char *const renamed[] = { "not_started", "on_track", "at_risk", "late",
					       "completed", "cancelled", NULL };
	char *s = sql_set("status_update", "status"), *a = c_set(fewer), *b = c_set(renamed);

	ck_assert_str_ne(a, s);
	ck_assert_str_ne(b, s);
	free(a);
	free(b);
	free(s);
}
END_TEST

/* STATUS_COUNTS_SQL over no row: every status, in the table's order, 0 */
START_TEST(status_counts_sql_reads_a_progress_column_per_status)
{
	char *text = t_sql(db, "SELECT " STATUS_COUNTS_SQL "::text"
			       " FROM (SELECT 1) one LEFT JOIN progress_agg ON false");
	json_t *counts = json_loads(text, 0, NULL), *v;
	const char *key;
	int i = 0;

	ck_assert_ptr_nonnull(counts);
	json_object_foreach(counts, key, v) {
		ck_assert_int_lt(i, STATUS_COUNT);
		ck_assert_str_eq(key, status_names[i]);
		ck_assert(json_is_integer(v) && json_integer_value(v) == 0);
		i++;
	}
	ck_assert_int_eq(i, STATUS_COUNT);
	json_decref(counts);
	free(text);
}
END_TEST

START_TEST(names_are_found_and_worded)
{
	char words[STATUS_WORDS_MAX];

	ck_assert_int_eq(vocab_find(status_names, "at_risk"), STATUS_AT_RISK);
	ck_assert_int_eq(vocab_find(status_names, "at risk"), -1);
	ck_assert_int_eq(vocab_find(status_names, NULL), -1);
	ck_assert_int_eq(vocab_find(report_kind_names, "side-event"), REPORT_KIND_SIDE_EVENT);
	ck_assert_str_eq(status_words("not_started", words, false), "not started");
	ck_assert_str_eq(status_words("on_track", words, true), "On track");
	ck_assert_str_eq(status_words("cancelled", words, true), "Cancelled");
	ck_assert_str_eq(status_words("bogus_value", words, true), "bogus_value");
	ck_assert_ptr_null(status_names[STATUS_COUNT]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vocab");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, statuses_match_the_status_update_check);
	tcase_add_test(tc, visibilities_match_the_status_update_check);
	tcase_add_test(tc, review_states_match_the_status_update_check);
	tcase_add_test(tc, each_decision_leads_to_its_own_review_state);
	tcase_add_test(tc, report_kinds_formats_and_audiences_match_the_report_checks);
	tcase_add_test(tc, pillar_statuses_match_the_pillar_check);
	tcase_add_test(tc, input_states_and_contributor_types_match_the_input_checks);
	tcase_add_test(tc, member_roles_languages_and_digests_match_the_member_checks);
	tcase_add_test(tc, a_set_that_differs_is_seen);
	tcase_add_test(tc, status_counts_sql_reads_a_progress_column_per_status);
	tcase_add_test(tc, names_are_found_and_worded);
	suite_add_tcase(s, tc);
	return t_run(s);
}
