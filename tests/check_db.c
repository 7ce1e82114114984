/* lib/db.c: binary parameters reach PostgreSQL byte for byte, result
 * columns are read by name, and a name the result lacks is our bug. */
#include "db.h"
#include "harness.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static char db[64];

static void setup(void)
{
	t_db_create(db, sizeof db, false);
}

DB_STMT(stmt_echo_bytes,
	"SELECT length($1::bytea) AS n, encode($1::bytea, 'hex') AS hex, $2::text AS label");
DB_STMT(stmt_columns,
	"SELECT 42::bigint AS answer, true AS yes, false AS no, NULL::text AS nothing, 'x' AS text");

START_TEST(binary_parameters_arrive_byte_for_byte)
{
	/* a NUL, a backslash and bytes that spell a hex escape: sent as
	 * bytes, none of them is read as anything else */
	static const char bytes[] = { 'a', 0, '\\', 'x', '4', '1', (char)0xff };
	struct db *d = db_new(t_conninfo(db), "test", 5000);
	PGresult *r;

	ck_assert_int_eq(db_query_params(d, &stmt_echo_bytes, 2, (const char *const[]){ bytes, "\\x41" },
					 (const int[]){ sizeof bytes, 0 }, (const int[]){ 1, 0 }, &r),
			 DB_OK);
	ck_assert_int_eq(db_int(r, 0, "n"), 7);
	ck_assert_str_eq(db_col(r, 0, "hex"), "61005c783431ff");
	ck_assert_str_eq(db_col(r, 0, "label"), "\\x41");
	PQclear(r);
	db_free(d);
}
END_TEST

START_TEST(columns_are_read_by_name)
{
	struct db *d = db_new(t_conninfo(db), "test", 5000);
	PGresult *r;

	ck_assert_int_eq(db_query(d, &stmt_columns, 0, NULL, &r), DB_OK);
	ck_assert_int_eq(db_int(r, 0, "answer"), 42);
	ck_assert(db_bool(r, 0, "yes"));
	ck_assert(!db_bool(r, 0, "no"));
	ck_assert(db_isnull(r, 0, "nothing"));
	ck_assert(!db_isnull(r, 0, "text"));
	ck_assert_str_eq(db_col(r, 0, "nothing"), "");
	ck_assert_str_eq(db_col(r, 0, "text"), "x");
	PQclear(r);
	db_free(d);
}
END_TEST

/* WORKPLAN_ABORT_ON_BUG is set for the tests: a bug aborts */
START_TEST(a_column_the_result_lacks_is_a_bug)
{
	struct db *d = db_new(t_conninfo(db), "test", 5000);
	PGresult *r;

	ck_assert_int_eq(db_query(d, &stmt_columns, 0, NULL, &r), DB_OK);
	db_col(r, 0, "answers");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("core");

	setenv("WORKPLAN_ABORT_ON_BUG", "1", 1);
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, binary_parameters_arrive_byte_for_byte);
	tcase_add_test(tc, columns_are_read_by_name);
	tcase_add_test_raise_signal(tc, a_column_the_result_lacks_is_a_bug, SIGABRT);
	suite_add_tcase(s, tc);
	return t_run(s);
}
