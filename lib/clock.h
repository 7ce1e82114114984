/* The one clock of the service (SPEC 11, Time): deadlines, reminders, the
 * current quarter and the scheduler read "now" here. WORKPLAN_NOW (RFC
 * 3339), when set, sets it to that instant when the process starts; it
 * runs on from there, so limits of seconds still pass. For tests and
 * demonstrations. */
#ifndef WP_CLOCK_H
#define WP_CLOCK_H

#include <stdbool.h>
#include <time.h>

/* Reads WORKPLAN_NOW; false with a message in err when it is malformed. */
bool clock_init(char *err, size_t errlen);
/* Now, in seconds since the epoch. */
time_t clock_now(void);
/* Now as RFC 3339 UTC ("2021-10-20T09:00:00Z"), to bind into SQL. */
void clock_now_text(char out[32]);

/* An RFC 3339 date-time (Z or an offset of at most 14 hours, an optional
 * fraction of up to 9 digits) or, when date_alone, also a date
 * (midnight UTC); false if s is not one. */
bool rfc3339_parse(const char *s, bool date_alone, time_t *out);

#endif
