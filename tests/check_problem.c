/* The problem table: every slug of the contract, RFC 9457 documents. */
#include "harness.h"
#include "problem.h"

#include <stdlib.h>
#include <string.h>

START_TEST(contract_slugs_have_their_statuses)
{
	static const struct { const char *slug; int status; } want[] = {
		{ "malformed-json", 400 }, { "validation", 422 }, { "unauthorized", 401 },
		{ "forbidden", 403 }, { "not-found", 404 }, { "method-not-allowed", 405 },
		{ "conflict", 409 }, { "precondition-failed", 412 }, { "payload-too-large", 413 },
		{ "unsupported-media-type", 415 }, { "rate-limited", 429 }, { "unavailable", 503 },
		{ "internal", 500 }, { "precondition-required", 428 },
	};

	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		enum problem p = problem_by_slug(want[i].slug);

		ck_assert_msg(p != PROBLEM_COUNT, "missing %s", want[i].slug);
		ck_assert_int_eq(problem_info(p)->status, want[i].status);
	}
	ck_assert_int_eq(problem_by_slug("no-such-thing"), PROBLEM_COUNT);
}
END_TEST

START_TEST(body_is_an_rfc9457_document_naming_fields)
{
	json_t *errors = json_array(), *doc;
	size_t len;
	char *s;

	json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "status", "message", "bad"));
	s = problem_body(PROBLEM_VALIDATION, "one field is wrong", errors, &len);
	ck_assert_uint_eq(len, strlen(s));
	doc = json_loads(s, 0, NULL);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "type")), "/problems/validation");
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "status")), 422);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "detail")), "one field is wrong");
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(doc, "errors"), 0), "field")),
			 "status");
	json_decref(doc);
	free(s);
}
END_TEST

START_TEST(detail_that_is_not_utf8_falls_back_to_title)
{
	json_t *doc;
	char *s = problem_body(PROBLEM_NOT_FOUND, "bad \xff byte", NULL, NULL);

	doc = json_loads(s, 0, NULL);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "detail")), "Not found");
	ck_assert_int_eq(json_array_size(json_object_get(doc, "errors")), 0);
	json_decref(doc);
	free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("problem");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, contract_slugs_have_their_statuses);
	tcase_add_test(tc, body_is_an_rfc9457_document_naming_fields);
	tcase_add_test(tc, detail_that_is_not_utf8_falls_back_to_title);
	suite_add_tcase(s, tc);
	return t_run(s);
}
