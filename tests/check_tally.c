/* scripts/tally.sh, the count that ends make test: every test of every
 * suite, and a failure for a suite that is missing, ran nothing, stopped
 * short or exited non-zero, so that a run that tested nothing never passes. */
#include "harness.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/tally-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void put(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Runs tally.sh on dir: its exit status; its whole output in out and its
 * last line in last. */
static int tally(char *out, size_t n, char *last, size_t last_n)
{
	char cmd[256], line[512];
	size_t len = 0;
	FILE *p;

	snprintf(cmd, sizeof cmd, "scripts/tally.sh '%s'", dir);
	p = t_popen(cmd);
	ck_assert_ptr_nonnull(p);
	out[0] = last[0] = '\0';
	while (fgets(line, sizeof line, p)) {
		snprintf(out + len, n - len, "%s", line);
		len = strlen(out);
		line[strcspn(line, "\n")] = '\0';
		snprintf(last, last_n, "%.200s", line);
	}
	return WEXITSTATUS(pclose(p));
}

#define ASSERT_TALLY(rc, line)                                          \
	do {                                                            \
		char out_[4096], last_[256];                            \
		int rc_ = tally(out_, sizeof out_, last_, sizeof last_); \
		ck_assert_msg(rc_ == (rc), "status %d: %s", rc_, out_); \
		ck_assert_str_eq(last_, line);                          \
	} while (0)

/* A sibling suite binary, run for real with extra environment. */
static int run_sibling(const char *suite, const char *env)
{
	char exe[PATH_MAX], cmd[PATH_MAX + 512];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);

	ck_assert_int_gt(len, 0);
	exe[len] = '\0';
	snprintf(cmd, sizeof cmd, "%s CK_TAP_LOG_FILE_NAME='%s/%s.tap' '%s/%s' >/dev/null 2>&1", env,
		 dir, suite, dirname(exe), suite);
	return WEXITSTATUS(system(cmd));
}

START_TEST(counts_every_test_of_every_suite)
{
	put("suites", "check_a 0\ncheck_b 1\n");
	put("check_a.tap", "ok 1 - a:x: Passed\nok 2 - a:y: Passed\nok 3 - a:z: Passed\n1..3\n");
	put("check_b.tap", "ok 1 - b:x: Passed\nnot ok 2 - b:y: Assertion failed\n1..2\n");
	ASSERT_TALLY(1, "4 passed, 1 failed");
}
END_TEST

START_TEST(every_suite_passing_is_a_success)
{
	put("suites", "check_a 0\ncheck_b 0\n");
	put("check_a.tap", "ok 1 - a:x: Passed\n1..1\n");
	put("check_b.tap", "ok 1 - b:x: Passed\nok 2 - b:y: Passed\n1..2\n");
	ASSERT_TALLY(0, "3 passed, 0 failed");
}
END_TEST

/* check's own TAP, from a real suite: whole, then filtered to nothing by
 * CK_RUN_CASE (which make test unsets for this reason) */
START_TEST(a_real_suite_counts_and_one_filtered_to_nothing_fails)
{
	char line[64], out[4096], last[256];
	int rc;

	rc = run_sibling("check_period", "");
	snprintf(line, sizeof line, "check_period %d\n", rc);
	put("suites", line);
	ck_assert_int_eq(tally(out, sizeof out, last, sizeof last), 0);
	ck_assert_msg(strstr(last, " passed, 0 failed") && atoi(last) > 0, "%s", out);

	rc = run_sibling("check_period", "CK_RUN_CASE=nosuch");
	snprintf(line, sizeof line, "check_period %d\n", rc);
	put("suites", line);
	ASSERT_TALLY(1, "0 passed, 1 failed");
}
END_TEST

START_TEST(a_missing_suite_fails)
{
	put("suites", "check_a 0\ncheck_gone 127\n");
	put("check_a.tap", "ok 1 - a:x: Passed\n1..1\n");
	ASSERT_TALLY(1, "1 passed, 1 failed");
}
END_TEST

START_TEST(a_suite_cut_short_fails)
{
	put("suites", "check_a 134\n");
	put("check_a.tap", "ok 1 - a:x: Passed\n");
	ASSERT_TALLY(1, "1 passed, 1 failed");
	put("check_a.tap", "ok 1 - a:x: Passed\n1..3\n");
	ASSERT_TALLY(1, "1 passed, 1 failed");
}
END_TEST

START_TEST(a_suite_exiting_non_zero_after_passing_fails)
{
	put("suites", "check_a 1\n");
	put("check_a.tap", "ok 1 - a:x: Passed\n1..1\n");
	ASSERT_TALLY(1, "1 passed, 1 failed");
}
END_TEST

START_TEST(no_suite_at_all_fails)
{
	put("suites", "");
	ASSERT_TALLY(1, "0 passed, 1 failed");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tally");
	TCase *tc = tcase_create("tally");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, counts_every_test_of_every_suite);
	tcase_add_test(tc, every_suite_passing_is_a_success);
	tcase_add_test(tc, a_real_suite_counts_and_one_filtered_to_nothing_fails);
	tcase_add_test(tc, a_missing_suite_fails);
	tcase_add_test(tc, a_suite_cut_short_fails);
	tcase_add_test(tc, a_suite_exiting_non_zero_after_passing_fails);
	tcase_add_test(tc, no_suite_at_all_fails);
	suite_add_tcase(s, tc);
	return t_run(s);
}
