/* The query-string checks behind every list: input is a raw query string
 * ("a=1&b=%20x"), split and percent-decoded as libmicrohttpd does, then
 * checked against a table with every parameter type and paging. Whatever
 * comes in, the checks either accept with outputs in range or name the
 * parameter in a well-formed error. */
#include "fuzz.h"
#include "period.h"
#include "query.h"

#include <stdlib.h>
#include <string.h>

static const char *const choices[] = { "on_track", "at_risk", "delayed", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *save = NULL;
	long long n = 0;
	int period = 0, choice = -1;
	const char *text = NULL, *time = NULL, *date = NULL;
	bool has_n, has_period, has_choice, has_text, has_time, has_date;
	const struct q_field spec[] = {
		{ .name = "n", .type = Q_INT, .min = 1, .max = 8, .out = &n, .present = &has_n },
		{ .name = "period", .type = Q_PERIOD, .out = &period, .present = &has_period },
		{ .name = "status", .type = Q_ENUM, .choices = choices, .out = &choice,
		  .present = &has_choice },
		{ .name = "q", .type = Q_TEXT, .max = 200, .out = &text, .present = &has_text },
		{ .name = "since", .type = Q_TIME, .out = &time, .present = &has_time },
		{ .name = "on", .type = Q_DATE, .out = &date, .present = &has_date },
		{ 0 },
	};
	struct query_state st;
	struct page page;
	json_t *errors = json_array();

	query_begin(&st, spec, &page, errors);
	for (char *pair = strtok_r(s, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
		char *value = strchr(pair, '=');

		if (value)
			*value++ = '\0';
		MHD_http_unescape(pair);
		if (value)
			MHD_http_unescape(value);
		query_arg(&st, pair, value);
	}
	if (query_ok(&st)) {
		FUZZ_ASSERT(json_array_size(errors) == 0);
		FUZZ_ASSERT(page.limit >= 1 && page.limit <= PAGE_MAX);
		FUZZ_ASSERT(!has_n || (n >= 1 && n <= 8));
		FUZZ_ASSERT(!has_choice || (choice >= 0 && choice < 3));
		FUZZ_ASSERT(!page.after || strlen(page.after) < CURSOR_MAX);
	} else {
		FUZZ_ASSERT(json_array_size(errors) > 0);
		for (size_t i = 0; i < json_array_size(errors); i++)
			FUZZ_ASSERT(json_is_string(json_object_get(json_array_get(errors, i), "field")));
	}
	/* every error must be representable as the JSON a problem carries */
	free(json_dumps(errors, 0));
	json_decref(errors);
	free(s);
	return 0;
}
