/* The service's clock: the system's, shifted by WORKPLAN_NOW. */
#include "clock.h"
#include "jspec.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* seconds added to the system clock */
static atomic_llong offset_s;

/* n digits at s as a number no greater than max; -1 if not. */
static int digits(const char *s, int n, int max)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long long days_from_civil(int y, int m, int d)
{
	long long era;
	int yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - (int)(era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

bool rfc3339_parse(const char *s, bool date_alone, time_t *out)
{
	size_t n = strlen(s), i = 19;
	int h, mi, sec, off = 0;
	char date[11];

	if (n < 10 || n > 40)
		return false;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (!date_valid(date))
		return false;
	if (n == 10) {
		if (!date_alone)
			return false;
		h = mi = sec = 0;
	} else {
		if ((s[10] != 'T' && s[10] != 't') || n < 20 || (h = digits(s + 11, 2, 23)) < 0 ||
		    s[13] != ':' || (mi = digits(s + 14, 2, 59)) < 0 || s[16] != ':' ||
		    (sec = digits(s + 17, 2, 59)) < 0)
			return false;
		if (s[i] == '.') {
			size_t f = strspn(s + i + 1, "0123456789");

			if (f < 1 || f > 9)
				return false;
			i += 1 + f;
		}
		if ((s[i] == 'Z' || s[i] == 'z') && !s[i + 1]) {
			off = 0;
		} else {
			int oh, om;

			if ((s[i] != '+' && s[i] != '-') || n - i != 6 ||
			    (oh = digits(s + i + 1, 2, 14)) < 0 || s[i + 3] != ':' ||
			    (om = digits(s + i + 4, 2, 59)) < 0)
				return false;
			off = (s[i] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
		}
	}
	*out = (time_t)(days_from_civil(atoi(date), atoi(date + 5), atoi(date + 8)) * 86400 +
			h * 3600 + mi * 60 + sec - off);
	return true;
}

bool clock_init(char *err, size_t errlen)
{
	const char *v = getenv("WORKPLAN_NOW");
	time_t t;

	if (!v || !*v)
		return true;
	if (!rfc3339_parse(v, false, &t)) {
		snprintf(err, errlen, "WORKPLAN_NOW must be an RFC 3339 time such as"
				      " 2021-10-20T09:00:00Z (got \"%s\")", v);
		return false;
	}
	atomic_store(&offset_s, (long long)t - (long long)time(NULL));
	return true;
}

time_t clock_now(void)
{
	return time(NULL) + (time_t)atomic_load(&offset_s);
}

void clock_now_text(char out[32])
{
	time_t t = clock_now();
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
