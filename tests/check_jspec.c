/* The field-table validator: types, bounds, enums, unknown keys, text. */
#include "harness.h"
#include "jspec.h"

#include <string.h>

static const char *const statuses[] = { "not_started", "on_track", "at_risk", "delayed",
					"completed", "cancelled", NULL };

static const char *title, *narrative, *url;
static long long percent;
static int status, period;
static json_t *evidence;

static const struct js_field evidence_spec[] = {
	{ .name = "title", .type = JS_STRING, .flags = JS_REQUIRED, .min = 1, .max = 200 },
	{ .name = "url", .type = JS_URL, .flags = JS_REQUIRED, .out = &url },
	{ 0 },
};

static const struct js_field spec[] = {
	{ .name = "title", .type = JS_STRING, .flags = JS_REQUIRED, .min = 1, .max = 20, .out = &title },
	{ .name = "status", .type = JS_ENUM, .flags = JS_REQUIRED, .choices = statuses, .out = &status },
	{ .name = "percent_complete", .type = JS_INT, .min = 0, .max = 100, .out = &percent },
	{ .name = "period", .type = JS_PERIOD, .out = &period },
	{ .name = "narrative", .type = JS_TEXT, .flags = JS_NULLABLE, .max_words = 5, .out = &narrative },
	{ .name = "evidence", .type = JS_OBJECTS, .max = 3, .sub = evidence_spec, .out = &evidence },
	{ 0 },
};

/* Validates text; returns the errors array (caller decrefs). */
static json_t *check(const char *text, bool *ok)
{
	json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, NULL), *errors = json_array();

	ck_assert_msg(doc != NULL, "test JSON does not parse: %s", text);
	*ok = js_validate(doc, spec, errors);
	json_decref(doc);
	return errors;
}

static const char *first_field(json_t *errors)
{
	return json_string_value(json_object_get(json_array_get(errors, 0), "field"));
}

START_TEST(valid_body_fills_outputs)
{
	json_t *doc = json_loads("{\"title\":\"Webinar\",\"status\":\"at_risk\",\"percent_complete\":40,"
				 "\"period\":\"2022-Q3\",\"narrative\":\"Two more sessions.\","
				 "\"evidence\":[{\"title\":\"Agenda\",\"url\":\"https://example.org/a\"}]}",
				 0, NULL);
	json_t *errors = json_array();

	ck_assert(js_validate(doc, spec, errors));
	ck_assert_int_eq(json_array_size(errors), 0);
	ck_assert_str_eq(title, "Webinar");
	ck_assert_int_eq(status, 2);
	ck_assert_int_eq(percent, 40);
	ck_assert_int_eq(period, 2022 * 4 + 2);
	ck_assert_str_eq(narrative, "Two more sessions.");
	ck_assert_int_eq(json_array_size(evidence), 1);
	json_decref(doc);
	json_decref(errors);
}
END_TEST

START_TEST(each_rejection_names_its_field)
{
	static const struct { const char *body, *field, *code; } cases[] = {
		{ "{\"status\":\"on_track\"}", "title", "required" },
		{ "{\"title\":7,\"status\":\"on_track\"}", "title", "type" },
		{ "{\"title\":\"\",\"status\":\"on_track\"}", "title", "empty" },
		{ "{\"title\":\"this title is far too long\",\"status\":\"on_track\"}", "title", "too_long" },
		{ "{\"title\":\"a\\u0007b\",\"status\":\"on_track\"}", "title", "text" },
		{ "{\"title\":\"a\\nb\",\"status\":\"on_track\"}", "title", "text" },
		{ "{\"title\":\"x\",\"status\":\"finished\"}", "status", "choice" },
		{ "{\"title\":\"x\",\"status\":null}", "status", "required" },
		{ "{\"title\":\"x\",\"status\":\"on_track\",\"percent_complete\":101}", "percent_complete", "range" },
		{ "{\"title\":\"x\",\"status\":\"on_track\",\"percent_complete\":\"50\"}", "percent_complete", "integer" },
		{ "{\"title\":\"x\",\"status\":\"on_track\",\"percent_complete\":50.5}", "percent_complete", "integer" },
		{ "{\"title\":\"x\",\"status\":\"on_track\",\"period\":\"2022-Q5\"}", "period", "period" },
		{ "{\"title\":\"x\",\"status\":\"on_track\",\"narrative\":\"one two three four five six\"}", "narrative", "too_many_words" },
		{ "{\"title\":\"x\",\"status\":\"on_track\",\"evidence\":{}}", "evidence", "type" },
		{ "{\"title\":\"x\",\"status\":\"on_track\",\"evidence\":[{\"title\":\"a\",\"url\":\"javascript:alert(1)\"}]}", "evidence[0].url", "url" },
		{ "{\"title\":\"x\",\"status\":\"on_track\",\"evidence\":[{\"title\":\"a\",\"url\":\"ftp://x.org\"}]}", "evidence[0].url", "url" },
		{ "{\"title\":\"x\",\"status\":\"on_track\",\"evidence\":[{\"title\":\"a\",\"url\":\"https://x.org\",\"extra\":1}]}", "evidence[0].extra", "unknown_field" },
		{ "{\"title\":\"x\",\"status\":\"on_track\",\"evidence\":[1]}", "evidence[0]", "type" },
		{ "{\"title\":\"x\",\"status\":\"on_track\",\"owner\":\"me\"}", "owner", "unknown_field" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool ok;
		json_t *errors = check(cases[i].body, &ok);
		const char *code;

		ck_assert_msg(!ok, "accepted %s", cases[i].body);
		ck_assert_msg(json_array_size(errors) >= 1, "no errors for %s", cases[i].body);
		ck_assert_msg(!strcmp(first_field(errors), cases[i].field), "%s: field %s, want %s",
			      cases[i].body, first_field(errors), cases[i].field);
		/* the rule broken, by its name, for clients to word in their language */
		code = json_string_value(json_object_get(json_array_get(errors, 0), "code"));
		ck_assert_msg(code && !strcmp(code, cases[i].code), "%s: code %s, want %s", cases[i].body,
			      code ? code : "none", cases[i].code);
		json_decref(errors);
	}
}
END_TEST

/* A rule with figures gives them as params: the web app writes them into
 * its own wording ("doit être compris entre 0 et 100"). */
START_TEST(a_rule_gives_its_figures_as_params)
{
	bool ok;
	json_t *errors = check("{\"title\":\"this title is far too long\",\"status\":\"on_track\","
			       "\"percent_complete\":101}", &ok), *e;

	ck_assert(!ok);
	ck_assert_int_eq(json_array_size(errors), 2);
	e = json_array_get(errors, 0);
	ck_assert_str_eq(json_string_value(json_object_get(e, "code")), "too_long");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(e, "params"), "max")), 20);
	ck_assert_str_eq(json_string_value(json_object_get(e, "message")), "must be at most 20 characters");
	e = json_array_get(errors, 1);
	ck_assert_str_eq(json_string_value(json_object_get(e, "code")), "range");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(e, "params"), "min")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(e, "params"), "max")), 100);
	json_decref(errors);
}
END_TEST

START_TEST(every_problem_is_reported_at_once)
{
	bool ok;
	json_t *errors = check("{\"title\":1,\"status\":\"x\",\"junk\":true}", &ok);

	ck_assert(!ok);
	ck_assert_int_eq(json_array_size(errors), 3);
	json_decref(errors);
}
END_TEST

/* Found by fuzzing: a field path cut at its 255th byte inside a character
 * was not valid UTF-8, and its error was silently dropped. */
START_TEST(an_overlong_unknown_key_is_still_reported)
{
	char body[1200] = "{\"title\":\"t\",\"status\":\"at_risk\",\"";
	bool ok;
	json_t *errors;

	for (int i = 0; i < 300; i++)
		strcat(body, i % 2 ? "\xc3\xa9" : "x"); /* é, from an odd offset */
	strcat(body, "\":1}");
	errors = check(body, &ok);
	ck_assert(!ok);
	ck_assert_int_eq(json_array_size(errors), 1);
	ck_assert(json_is_string(json_object_get(json_array_get(errors, 0), "field")));
	json_decref(errors);
}
END_TEST

/* PATCH /v1/inputs/{id} names pillars and key actions by number. */
START_TEST(id_lists_take_distinct_positive_integers)
{
	static const struct js_field ids_spec[] = {
		{ .name = "pillars", .type = JS_IDS, .max = 8 },
		{ 0 },
	};
	static const struct { const char *body, *field; } bad[] = {
		{ "{\"pillars\":[1,1]}", "pillars[1]" },
		{ "{\"pillars\":[0]}", "pillars[0]" },
		{ "{\"pillars\":[2,-3]}", "pillars[1]" },
		{ "{\"pillars\":[\"1\"]}", "pillars[0]" },
		{ "{\"pillars\":[1.5]}", "pillars[0]" },
		{ "{\"pillars\":3}", "pillars" },
		{ "{\"pillars\":[1,2,3,4,5,6,7,8,9]}", "pillars" },
	};
	json_t *doc, *errors;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		doc = json_loads(bad[i].body, 0, NULL);
		errors = json_array();
		ck_assert_msg(!js_validate(doc, ids_spec, errors), "%s was taken", bad[i].body);
		ck_assert_str_eq(first_field(errors), bad[i].field);
		json_decref(doc);
		json_decref(errors);
	}
	doc = json_loads("{\"pillars\":[3,1,8]}", 0, NULL);
	errors = json_array();
	ck_assert(js_validate(doc, ids_spec, errors));
	json_decref(doc);
	json_decref(errors);
}
END_TEST

START_TEST(body_must_be_an_object)
{
	json_t *errors = json_array(), *arr = json_array();

	ck_assert(!js_validate(arr, spec, errors));
	ck_assert_int_eq(json_array_size(errors), 1);
	json_decref(arr);
	json_decref(errors);
}
END_TEST

START_TEST(words_are_counted_as_a_reader_would)
{
	ck_assert_int_eq(text_words(""), 0);
	ck_assert_int_eq(text_words("  The Network met  twice. "), 4);
	ck_assert_int_eq(text_words("state-of-the-art work — done"), 3);
	ck_assert_int_eq(text_words("Le Réseau s'est réuni à Genève"), 6);
	ck_assert_int_eq(text_words("La Red se reunió en Ginebra"), 6);
	ck_assert_int_eq(text_words("اجتمعت الشبكة في جنيف"), 4);
	ck_assert_int_eq(text_words("网络在日内瓦开会"), 8);
	ck_assert_int_eq(text_words("WHO 与 UNODC 合作"), 5);
	ck_assert_int_eq(text_words("一、二。"), 2);
}
END_TEST

START_TEST(text_rules)
{
	ck_assert_ptr_null(text_check("Line one\nline two\ttab", true));
	ck_assert_ptr_nonnull(text_check("Line one\nline two", false));
	ck_assert_ptr_nonnull(text_check("bell\a", true));
	ck_assert_ptr_nonnull(text_check("c1 \xc2\x85 control", true));
	ck_assert_int_eq(text_chars("Genève"), 6);
	/* text from a query string may be any bytes (found by fuzzing) */
	ck_assert_ptr_null(text_check("r\xc3\xa9" "fugi\xc3\xa9s \xe5\xb9\xb3\xe7\xad\x89 \xf0\x9f\x8c\x8d", false));
	ck_assert_ptr_nonnull(text_check("cut \xf0", false));          /* ends mid-sequence */
	ck_assert_ptr_nonnull(text_check("cut \xe5\xb9", false));
	ck_assert_ptr_nonnull(text_check("lone \xaf byte", false));
	ck_assert_ptr_nonnull(text_check("overlong \xc0\xaf", false));
	ck_assert_ptr_nonnull(text_check("surrogate \xed\xa0\x80", false));
	ck_assert_ptr_nonnull(text_check("too big \xf4\x90\x80\x80", false));
	ck_assert(date_valid("2024-02-29"));
	ck_assert(!date_valid("2023-02-29"));
	ck_assert(!date_valid("2023-13-01"));
	ck_assert(!date_valid("2023-1-01"));
	ck_assert(url_valid("https://www.ohchr.org/en/a?b=c#d"));
	ck_assert(url_valid("HTTP://example.org"));
	ck_assert(!url_valid("https://"));
	ck_assert(!url_valid("https://exa mple.org"));
	ck_assert(!url_valid("file:///etc/passwd"));
	ck_assert(!url_valid("//example.org"));
}
END_TEST

static const char *huge_label(void)
{
	return "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
}

/* what a mail header can carry without quoting, and nothing else */
START_TEST(mail_addresses_are_checked_strictly)
{
	static const char *const good[] = { "focal@who.int", "First.Last+tag@un-women.org",
					    "o'brien@sub.domain.example", "a@b.co", NULL };
	static const char *const bad[] = {
		"", "@who.int", "focal@", "focal", "two@@who.int", "a@b@who.int", "a@localhost",
		" a@who.int", "a@who.int ", "a b@who.int", "a..b@who.int", ".a@who.int", "a.@who.int",
		"\"quoted\"@who.int", "(c)a@who.int", "a@who.int\r\nBcc: x@y.org", "a@who.int\n",
		"a\t@who.int", "é@who.int", "a@wh\xc3\xb6.int", "a@-who.int", "a@who-.int", "a@who..int",
		"a@.who.int", "a@who.int.", "a@[127.0.0.1]", "a,b@who.int", "a<b>@who.int", NULL };
	char long_local[80], long_label[100], *huge = malloc(10001);

	for (int i = 0; good[i]; i++)
		ck_assert_msg(email_valid(good[i]), "%s refused", good[i]);
	for (int i = 0; bad[i]; i++)
		ck_assert_msg(!email_valid(bad[i]), "%s taken", bad[i]);
	/* a local part of 64 characters, a label of 63, 254 in all */
	memset(long_local, 'a', 65);
	strcpy(long_local + 64, "@who.int");
	ck_assert(email_valid(long_local));
	memmove(long_local + 1, long_local, strlen(long_local) + 1);
	ck_assert(!email_valid(long_local));
	snprintf(long_label, sizeof long_label, "a@%.63s.org", huge_label());
	ck_assert(email_valid(long_label));
	snprintf(long_label, sizeof long_label, "a@%.64s.org", huge_label());
	ck_assert(!email_valid(long_label));
	memset(huge, 'a', 10000);
	huge[10000] = '\0';
	memcpy(huge + 5000, "@who.int", 8);
	ck_assert(!email_valid(huge));
	free(huge);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jspec");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, valid_body_fills_outputs);
	tcase_add_test(tc, each_rejection_names_its_field);
	tcase_add_test(tc, a_rule_gives_its_figures_as_params);
	tcase_add_test(tc, every_problem_is_reported_at_once);
	tcase_add_test(tc, body_must_be_an_object);
	tcase_add_test(tc, an_overlong_unknown_key_is_still_reported);
	tcase_add_test(tc, words_are_counted_as_a_reader_would);
	tcase_add_test(tc, text_rules);
	tcase_add_test(tc, mail_addresses_are_checked_strictly);
	tcase_add_test(tc, id_lists_take_distinct_positive_integers);
	suite_add_tcase(s, tc);
	return t_run(s);
}
