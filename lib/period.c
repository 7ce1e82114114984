/* Period parsing and arithmetic. */
#include "period.h"

#include <stdio.h>

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool period_parse(const char *s, int *out)
{
	int year;

	if (!s)
		return false;
	for (int i = 0; i < 4; i++)
		if (!is_digit(s[i]))
			return false;
	if (s[4] != '-' || s[5] != 'Q' || s[6] < '1' || s[6] > '4' || s[7] != '\0')
		return false;
	year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	if (year < 1)
		return false;
	*out = period_make(year, s[6] - '0');
	return true;
}

int period_make(int year, int quarter)
{
	return year * 4 + (quarter - 1);
}

int period_year(int p)
{
	return p / 4;
}

int period_quarter(int p)
{
	return p % 4 + 1;
}

void period_format(int p, char out[PERIOD_STRLEN])
{
	unsigned u = (unsigned)p;

	snprintf(out, PERIOD_STRLEN, "%04u-Q%u", u / 4 % 10000, u % 4 + 1);
}

int period_of_time(time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	return period_make(tm.tm_year + 1900, tm.tm_mon / 3 + 1);
}

void period_deadline(int p, char out[DATE_STRLEN])
{
	unsigned next = (unsigned)p + 1;

	snprintf(out, DATE_STRLEN, "%04u-%02u-15", next / 4 % 10000, next % 4 * 3 + 1);
}
