/* Body validation: input is a request body. It is parsed as the API parses
 * bodies, then, whatever JSON it is (the API validates arrays and scalars
 * too), checked against a table shaped like a status update (every field
 * type, nested objects). Accepted bodies are objects with outputs in
 * range; refused ones name a field in each error. */
#include "fuzz.h"
#include "jspec.h"

#include <stdlib.h>
#include <string.h>

static const char *const statuses[] = { "not_started", "on_track", "at_risk", "delayed",
					 "completed", "cancelled", NULL };
static const char *const visibilities[] = { "internal", "public", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *narrative = NULL, *title = NULL, *date = NULL, *url = NULL, *email = NULL;
	long long pc = -1;
	int period = 0, status = -1, visibility = -1;
	bool flag = false;
	json_t *evidence = NULL, *tags = NULL;
	const struct js_field evidence_spec[] = {
		{ .name = "title", .type = JS_STRING, .flags = JS_REQUIRED, .min = 1, .max = 200 },
		{ .name = "url", .type = JS_URL, .flags = JS_REQUIRED, .out = &url },
		{ 0 },
	};
	const struct js_field spec[] = {
		{ .name = "period", .type = JS_PERIOD, .flags = JS_REQUIRED, .out = &period },
		{ .name = "status", .type = JS_ENUM, .flags = JS_REQUIRED, .choices = statuses,
		  .out = &status },
		{ .name = "percent_complete", .type = JS_INT, .flags = JS_REQUIRED, .min = 0,
		  .max = 100, .out = &pc },
		{ .name = "narrative", .type = JS_TEXT, .min = 1, .max = 5000, .max_words = 500,
		  .out = &narrative },
		{ .name = "title", .type = JS_STRING, .flags = JS_NULLABLE, .max = 200, .out = &title },
		{ .name = "visibility", .type = JS_ENUM, .choices = visibilities, .out = &visibility },
		{ .name = "due", .type = JS_DATE, .out = &date },
		{ .name = "public", .type = JS_BOOL, .out = &flag },
		{ .name = "email", .type = JS_EMAIL, .max = 254, .out = &email },
		{ .name = "tags", .type = JS_STRINGS, .max = 10, .out = &tags },
		{ .name = "evidence", .type = JS_OBJECTS, .max = 10, .sub = evidence_spec,
		  .out = &evidence },
		{ 0 },
	};
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	json_t *errors = json_array();

	if (body) {
		if (js_validate(body, spec, errors)) {
			FUZZ_ASSERT(json_is_object(body));
			FUZZ_ASSERT(json_array_size(errors) == 0);
			FUZZ_ASSERT(pc >= 0 && pc <= 100);
			FUZZ_ASSERT(status >= 0 && status < 6);
			FUZZ_ASSERT(!narrative || strlen(narrative) >= 1);
			FUZZ_ASSERT(!evidence || json_array_size(evidence) <= 10);
			/* an accepted address is one line of printable ASCII with one @ */
			FUZZ_ASSERT(!email || (strlen(email) <= 254 && strchr(email, '@') &&
					       !strchr(strchr(email, '@') + 1, '@') &&
					       strspn(email, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
							     "0123456789!#$%&'*+-/=?^_`{|}~.@") == strlen(email)));
		} else {
			FUZZ_ASSERT(json_array_size(errors) > 0);
			for (size_t i = 0; i < json_array_size(errors); i++)
				FUZZ_ASSERT(json_is_string(
					json_object_get(json_array_get(errors, i), "field")));
		}
		free(json_dumps(errors, 0));
	}
	json_decref(errors);
	json_decref(body);
	return 0;
}
