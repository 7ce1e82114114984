/* The service's one clock (SPEC 11, Time): WORKPLAN_NOW sets it for the
 * API, the worker and the admin tool, and it runs on from there. The
 * current quarter, "not after the current quarter" and the scheduler's
 * reporting deadlines follow it. */
#include "clock.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char db[64];
static char *cochair;

static void setup(void)
{
	t_db_create(db, sizeof db, true);
	cochair = t_member_token(db, "cochair@ohchr.org", "cochair", "OHCHR");
}

static void teardown(void)
{
	free(cochair);
}

START_TEST(rfc3339_times_parse_to_the_second)
{
	time_t t;

	ck_assert(rfc3339_parse("2021-10-20T09:00:00Z", false, &t));
	ck_assert_int_eq(t, 1634720400);
	ck_assert(rfc3339_parse("2021-10-20T11:00:00.5+02:00", false, &t));
	ck_assert_int_eq(t, 1634720400);
	ck_assert(rfc3339_parse("1970-01-01", true, &t));
	ck_assert_int_eq(t, 0);
	ck_assert(rfc3339_parse("2024-02-29T23:59:59-14:00", false, &t));
	ck_assert_int_eq(t, 1709301599);
	ck_assert(!rfc3339_parse("2021-10-20", false, &t));
	ck_assert(!rfc3339_parse("2021-10-20T09:00:00", false, &t));
	ck_assert(!rfc3339_parse("2021-10-20T24:00:00Z", false, &t));
	ck_assert(!rfc3339_parse("2021-10-20T09:00:00+15:00", false, &t));
	ck_assert(!rfc3339_parse("2023-02-29T09:00:00Z", false, &t));
	ck_assert(!rfc3339_parse("2021-10-20T09:00:00.Z", false, &t));
}
END_TEST

START_TEST(workplan_now_sets_the_clock_and_it_runs_on)
{
	char text[32];
	time_t before;

	setenv("WORKPLAN_NOW", "2021-10-20T09:00:00Z", 1);
	ck_assert(clock_init(text, sizeof text));
	before = clock_now();
	ck_assert_int_ge(before, 1634720400);
	ck_assert_int_le(before, 1634720400 + 60);
	clock_now_text(text);
	ck_assert(!strncmp(text, "2021-10-20T09:0", 15));
	setenv("WORKPLAN_NOW", "next Tuesday", 1);
	{
		char err[200];

		ck_assert(!clock_init(err, sizeof err));
		ck_assert_ptr_nonnull(strstr(err, "WORKPLAN_NOW"));
	}
	unsetenv("WORKPLAN_NOW");
}
END_TEST

/* In August 2021 the current quarter is 2021-Q3: progress defaults to it,
 * and an update for 2021-Q4 is still in the future. */
START_TEST(the_api_reads_the_current_quarter_from_the_clock)
{
	static const char *const env[] = { "WORKPLAN_NOW=2021-08-01T12:00:00Z", NULL };
	struct server s;
	struct resp *r;
	const char *q4 = "{\"period\":\"2021-Q4\",\"status\":\"on_track\",\"percent_complete\":5,\"narrative\":\"Planned.\"}";
	const char *q3 = "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":5,\"narrative\":\"Started.\"}";

	t_server_start_env(&s, db, env);
	r = t_get(&s, "/v1/progress", cochair);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "as_of")), "2021-Q3");
	t_resp_free(r);
	r = t_http(&s, "POST", "/v1/actions/1/updates", cochair, "application/json", q4, strlen(q4), NULL);
	t_assert_problem(r, 422, "validation");
	t_resp_free(r);
	r = t_http(&s, "POST", "/v1/actions/1/updates", cochair, "application/json", q3, strlen(q3), NULL);
	ck_assert_int_eq(r->status, 201);
	t_resp_free(r);
	r = t_get(&s, "/v1/progress?as_of=2021-Q4", cochair);
	t_assert_problem(r, 422, "validation");
	t_resp_free(r);
	t_server_stop(&s);
}
END_TEST

/* The reporting deadline of 2021-Q3 is 2021-10-15: a worker whose clock
 * says 2021-10-16 queues that quarter's report, and no later one. */
START_TEST(the_scheduler_reads_the_deadline_from_the_clock)
{
	static const char *const env[] = { "WORKPLAN_NOW=2021-10-16T08:00:00Z", NULL };
	pid_t w = t_worker_start(db, env);
	char *period = NULL;

	for (int i = 0; i < 300 && !period; i++) {
		period = t_sql(db, "SELECT period FROM report WHERE kind = 'quarterly' AND created_by IS NULL");
		if (!period)
			usleep(50000);
	}
	ck_assert_ptr_nonnull(period);
	ck_assert_str_eq(period, "2021-Q3");
	free(period);
	t_worker_stop(w, 15);
	/* a clock that is not a time stops the worker with a clear message */
	{
		static const char *const bad[] = { "WORKPLAN_NOW=yesterday", NULL };
		pid_t b = t_worker_start(db, bad);
		int st = 0;

		ck_assert_int_eq(waitpid(b, &st, 0), b);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("clock");
	TCase *tc = tcase_create("clock");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, rfc3339_times_parse_to_the_second);
	tcase_add_test(tc, workplan_now_sets_the_clock_and_it_runs_on);
	tcase_add_test(tc, the_api_reads_the_current_quarter_from_the_clock);
	tcase_add_test(tc, the_scheduler_reads_the_deadline_from_the_clock);
	suite_add_tcase(s, tc);
	return t_run(s);
}
