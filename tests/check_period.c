/* Periods: parsing is strict, order follows time, deadlines are right. */
#include "harness.h"
#include "period.h"

START_TEST(parses_valid_periods_in_order)
{
	int a, b, c;

	ck_assert(period_parse("2021-Q4", &a));
	ck_assert(period_parse("2022-Q1", &b));
	ck_assert(period_parse("2022-Q2", &c));
	ck_assert_int_eq(b, a + 1);
	ck_assert_int_lt(b, c);
	ck_assert_int_eq(period_year(b), 2022);
	ck_assert_int_eq(period_quarter(c), 2);
}
END_TEST

START_TEST(rejects_malformed_periods)
{
	static const char *const bad[] = { "", "2021", "2021-Q0", "2021-Q5", "2021-q1", "21-Q1",
					   "2021-Q1 ", " 2021-Q1", "2021Q1", "2021-Q10", "0000-Q1",
					   "2021-Q1\n", "２０２１-Q1", "2021-Q", "abcd-Q1" };
	int p = -7;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!period_parse(bad[i], &p), "accepted \"%s\"", bad[i]);
	ck_assert(!period_parse(NULL, &p));
	ck_assert_int_eq(p, -7);
}
END_TEST

START_TEST(formats_what_it_parses)
{
	char s[PERIOD_STRLEN];
	int p;

	ck_assert(period_parse("2024-Q3", &p));
	period_format(p, s);
	ck_assert_str_eq(s, "2024-Q3");
	period_format(p + 2, s);
	ck_assert_str_eq(s, "2025-Q1");
}
END_TEST

START_TEST(deadline_is_fifteen_days_after_quarter_end)
{
	char d[DATE_STRLEN];
	int p;

	ck_assert(period_parse("2021-Q1", &p));
	period_deadline(p, d);
	ck_assert_str_eq(d, "2021-04-15");
	ck_assert(period_parse("2021-Q3", &p));
	period_deadline(p, d);
	ck_assert_str_eq(d, "2021-10-15");
	ck_assert(period_parse("2021-Q4", &p));
	period_deadline(p, d);
	ck_assert_str_eq(d, "2022-01-15");
}
END_TEST

START_TEST(current_quarter_from_time_in_utc)
{
	char s[PERIOD_STRLEN];

	period_format(period_of_time(1633046399), s); /* 2021-09-30T23:59:59Z */
	ck_assert_str_eq(s, "2021-Q3");
	period_format(period_of_time(1633046400), s); /* 2021-10-01T00:00:00Z */
	ck_assert_str_eq(s, "2021-Q4");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("period");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, parses_valid_periods_in_order);
	tcase_add_test(tc, rejects_malformed_periods);
	tcase_add_test(tc, formats_what_it_parses);
	tcase_add_test(tc, deadline_is_fifteen_days_after_quarter_end);
	tcase_add_test(tc, current_quarter_from_time_in_utc);
	suite_add_tcase(s, tc);
	return t_run(s);
}
