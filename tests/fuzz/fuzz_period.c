/* period_parse: never reads past the string; what it accepts formats back
 * to the same text, and the quarter's deadline is a date. */
#include "fuzz.h"
#include "period.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), text[PERIOD_STRLEN], deadline[DATE_STRLEN];
	int p;

	if (period_parse(s, &p)) {
		period_format(p, text);
		FUZZ_ASSERT(!strcmp(text, s));
		FUZZ_ASSERT(period_quarter(p) >= 1 && period_quarter(p) <= 4);
		period_deadline(p, deadline);
		FUZZ_ASSERT(strlen(deadline) == 10);
	}
	free(s);
	return 0;
}
