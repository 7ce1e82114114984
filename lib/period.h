/* Reporting periods "YYYY-Qn" as ordered integers: year * 4 + (n - 1),
 * so 2021-Q4 + 1 == 2022-Q1 and periods compare with < and >. */
#ifndef WP_PERIOD_H
#define WP_PERIOD_H

#include <stdbool.h>
#include <time.h>

#define PERIOD_STRLEN 8 /* "2021-Q3" plus NUL */
#define DATE_STRLEN 11  /* "2021-10-15" plus NUL */

/* Strict: exactly four digits, "-Q", one digit 1..4, nothing more.
 * Returns false on anything else and leaves *out alone. */
bool period_parse(const char *s, int *out);
int period_make(int year, int quarter);
int period_year(int p);
int period_quarter(int p);
void period_format(int p, char out[PERIOD_STRLEN]);
/* The quarter containing t, in UTC. */
int period_of_time(time_t t);
/* Reporting deadline: 15 days after the quarter ends, i.e. the 15th day
 * of the following quarter's first month, as YYYY-MM-DD (UTC). */
void period_deadline(int p, char out[DATE_STRLEN]);

#endif
