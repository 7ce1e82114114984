/* Running external programs: input on a pipe, bounded output, a time
 * limit that kills, exit status and signals decoded. */
#include "child.h"
#include "harness.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const env[] = { "PATH=/usr/bin:/bin", NULL };

START_TEST(input_goes_in_and_output_comes_out)
{
	const char *argv[] = { "/bin/cat", NULL };
	struct child_opts o = { .argv = argv, .envp = env, .input = "hello\nworld\n",
				.input_len = 12, .timeout_ms = 5000, .max_out = 1024 };
	struct child_result r;

	ck_assert_int_eq(child_run(&o, &r), 0);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_uint_eq(r.out_len, 12);
	ck_assert_str_eq(r.out, "hello\nworld\n");
	child_result_free(&r);
}
END_TEST

START_TEST(large_input_and_output_do_not_deadlock)
{
	const char *argv[] = { "/bin/cat", NULL };
	size_t n = 4 << 20;
	char *big = malloc(n);
	struct child_opts o = { .argv = argv, .envp = env, .input = big, .input_len = n,
				.timeout_ms = 10000, .max_out = 8 << 20 };
	struct child_result r;

	memset(big, 'x', n);
	ck_assert_int_eq(child_run(&o, &r), 0);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_uint_eq(r.out_len, n);
	child_result_free(&r);
	free(big);
}
END_TEST

START_TEST(exit_status_and_stderr_are_reported)
{
	const char *argv[] = { "/bin/sh", "-c", "echo oops >&2; exit 3", NULL };
	struct child_opts o = { .argv = argv, .envp = env, .timeout_ms = 5000, .max_out = 1024 };
	struct child_result r;
	char why[64];

	ck_assert_int_eq(child_run(&o, &r), 0);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_str_eq(r.err, "oops\n");
	child_describe(&r, why, sizeof why);
	ck_assert_str_eq(why, "exited with status 3");
	child_result_free(&r);
}
END_TEST

START_TEST(a_hanging_child_is_killed_at_the_time_limit)
{
	const char *argv[] = { "/bin/sleep", "30", NULL };
	struct child_opts o = { .argv = argv, .envp = env, .timeout_ms = 300, .max_out = 1024 };
	struct child_result r;
	long long t0 = now_us();

	ck_assert_int_eq(child_run(&o, &r), 0);
	ck_assert(r.timed_out);
	ck_assert_int_eq(r.signal, 9);
	ck_assert_int_lt(now_us() - t0, 5000000);
	child_result_free(&r);
}
END_TEST

START_TEST(output_past_the_limit_kills_the_child)
{
	const char *argv[] = { "/usr/bin/yes", NULL };
	struct child_opts o = { .argv = argv, .envp = env, .timeout_ms = 10000, .max_out = 100000 };
	struct child_result r;

	ck_assert_int_eq(child_run(&o, &r), 0);
	ck_assert(r.too_large);
	ck_assert_uint_le(r.out_len, 100000);
	child_result_free(&r);
}
END_TEST

START_TEST(a_missing_program_is_an_error_not_a_crash)
{
	const char *argv[] = { "/nonexistent/gnuplot", NULL };
	struct child_opts o = { .argv = argv, .envp = env, .timeout_ms = 1000, .max_out = 10 };
	struct child_result r;

	ck_assert_int_eq(child_run(&o, &r), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("child");
	TCase *tc = tcase_create("child");

	tcase_add_test(tc, input_goes_in_and_output_comes_out);
	tcase_add_test(tc, large_input_and_output_do_not_deadlock);
	tcase_add_test(tc, exit_status_and_stderr_are_reported);
	tcase_add_test(tc, a_hanging_child_is_killed_at_the_time_limit);
	tcase_add_test(tc, output_past_the_limit_kills_the_child);
	tcase_add_test(tc, a_missing_program_is_an_error_not_a_crash);
	suite_add_tcase(s, tc);
	return t_run(s);
}
