/* The OpenAPI document: served, valid OpenAPI 3.1 by a real validator,
 * and it documents exactly the routes of the route table. */
#include "harness.h"
#include "problem.h"
#include "router.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct server srv;
static char db[64];

static void setup(void)
{
	t_db_create(db, sizeof db, true);
	t_server_start(&srv, db);
}

static void teardown(void)
{
	t_server_stop(&srv);
}

START_TEST(document_is_public_and_valid_openapi_3_1)
{
	struct resp *r = t_get(&srv, "/v1/openapi.json", NULL);
	char path[600], cmd[800];
	FILE *f;

	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_nonnull(r->json);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "openapi")), "3.1.0");
	snprintf(path, sizeof path, "%s/openapi-served.json", getenv("WORKPLAN_TEST_LOGDIR"));
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(r->body, 1, r->len, f), r->len);
	fclose(f);
	snprintf(cmd, sizeof cmd, "node tests/openapi/validate.mjs '%s'", path);
	ck_assert_msg(system(cmd) == 0, "the validator rejected the served document");
	t_resp_free(r);
}
END_TEST

START_TEST(every_route_is_documented_and_nothing_else)
{
	struct resp *r = t_get(&srv, "/v1/openapi.json", NULL);
	json_t *paths = json_object_get(r->json, "paths"), *item, *op;
	const char *path, *method;
	size_t documented = 0;

	ck_assert_ptr_nonnull(paths);
	for (size_t i = 0; i < api_route_count(); i++) {
		char m[16];
		size_t k;

		for (k = 0; api_routes[i].method[k] && k < sizeof m - 1; k++)
			m[k] = (char)tolower((unsigned char)api_routes[i].method[k]);
		m[k] = '\0';
		item = json_object_get(paths, api_routes[i].pattern);
		ck_assert_msg(item && json_object_get(item, m), "%s %s is not documented",
			      api_routes[i].method, api_routes[i].pattern);
		op = json_object_get(item, m);
		ck_assert_msg(json_object_get(op, "responses"), "%s %s has no responses",
			      api_routes[i].method, api_routes[i].pattern);
		/* public routes say so; the others rely on the bearer default */
		if (api_routes[i].flags & ROUTE_PUBLIC)
			ck_assert_msg(json_array_size(json_object_get(op, "security")) == 0 &&
					      json_object_get(op, "security"),
				      "%s is public but documented as needing a token", api_routes[i].pattern);
	}
	json_object_foreach(paths, path, item) {
		json_object_foreach(item, method, op) {
			struct route_match m;
			char upper[16];
			size_t k;

			if (!strcmp(method, "parameters"))
				continue;
			for (k = 0; method[k] && k < sizeof upper - 1; k++)
				upper[k] = (char)toupper((unsigned char)method[k]);
			upper[k] = '\0';
			documented++;
			ck_assert_msg(router_match(api_routes, upper, path, &m) == ROUTER_FOUND &&
					      !strcmp(m.route->pattern, path),
				      "%s %s is documented but not served", upper, path);
		}
	}
	ck_assert_uint_eq(documented, api_route_count());
	t_resp_free(r);
}
END_TEST

/* The problem table (lib/problem.h) and the document's list agree both ways. */
START_TEST(every_problem_type_is_documented)
{
	struct resp *r = t_get(&srv, "/v1/openapi.json", NULL);
	json_t *types = json_object_get(json_object_get(json_object_get(json_object_get(
		json_object_get(json_object_get(r->json, "components"), "schemas"), "Problem"),
		"properties"), "type"), "enum");

	ck_assert_ptr_nonnull(types);
	for (int p = 0; p < PROBLEM_COUNT; p++) {
		char want[64];
		bool found = false;

		snprintf(want, sizeof want, "/problems/%s", problem_info(p)->slug);
		for (size_t k = 0; k < json_array_size(types); k++)
			found |= !strcmp(json_string_value(json_array_get(types, k)), want);
		ck_assert_msg(found, "%s is not documented", want);
	}
	for (size_t k = 0; k < json_array_size(types); k++) {
		const char *t = json_string_value(json_array_get(types, k));

		ck_assert_msg(t && !strncmp(t, "/problems/", 10) && problem_by_slug(t + 10) != PROBLEM_COUNT,
			      "%s is documented but never sent", t ? t : "(not a string)");
	}
	t_resp_free(r);
}
END_TEST

/* A response of an operation, its $ref followed. */
static json_t *response_of(json_t *doc, json_t *op, const char *code)
{
	json_t *r = json_object_get(json_object_get(op, "responses"), code);
	const char *ref = json_string_value(json_object_get(r, "$ref"));

	if (ref && !strncmp(ref, "#/components/responses/", 23))
		r = json_object_get(json_object_get(json_object_get(doc, "components"), "responses"),
				    ref + 23);
	return r;
}

static json_t *header_of(json_t *doc, json_t *response, const char *name)
{
	json_t *h = json_object_get(json_object_get(response, "headers"), name);
	const char *ref = json_string_value(json_object_get(h, "$ref"));

	if (ref && !strncmp(ref, "#/components/headers/", 21))
		h = json_object_get(json_object_get(json_object_get(doc, "components"), "headers"),
				    ref + 21);
	return h;
}

/* What any request may be answered, whatever its route: 400 bad-request
 * (framing, NUL bytes, a body where none is taken), 405 with Allow, 414,
 * 431, 429; every GET also 304 with its ETag. Every answer states its
 * Cache-Control and X-Content-Type-Options. */
START_TEST(every_operation_documents_the_answers_any_request_may_get)
{
	struct resp *r = t_get(&srv, "/v1/openapi.json", NULL);
	json_t *paths = json_object_get(r->json, "paths"), *item, *op, *resp;
	const char *path, *method, *code;
	static const char *const always[] = { "400", "405", "414", "429", "431" };

	json_object_foreach(paths, path, item) {
		json_object_foreach(item, method, op) {
			if (!strcmp(method, "parameters"))
				continue;
			for (size_t i = 0; i < sizeof always / sizeof *always; i++)
				ck_assert_msg(response_of(r->json, op, always[i]), "%s %s: no %s", method,
					      path, always[i]);
			ck_assert_msg(json_is_true(json_object_get(
					      header_of(r->json, response_of(r->json, op, "405"), "Allow"),
					      "required")),
				      "%s %s: 405 without a required Allow", method, path);
			if (!strcmp(method, "get"))
				ck_assert_msg(header_of(r->json, response_of(r->json, op, "304"), "ETag"),
					      "%s %s: no 304 with its ETag", method, path);
			json_object_foreach(json_object_get(op, "responses"), code, resp) {
				resp = response_of(r->json, op, code);
				ck_assert_msg(header_of(r->json, resp, "Cache-Control") &&
						      header_of(r->json, resp, "X-Content-Type-Options"),
					      "%s %s %s: no Cache-Control or X-Content-Type-Options", method,
					      path, code);
			}
		}
	}
	t_resp_free(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("openapi");
	TCase *tc = tcase_create("openapi");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, document_is_public_and_valid_openapi_3_1);
	tcase_add_test(tc, every_route_is_documented_and_nothing_else);
	tcase_add_test(tc, every_problem_type_is_documented);
	tcase_add_test(tc, every_operation_documents_the_answers_any_request_may_get);
	suite_add_tcase(s, tc);
	return t_run(s);
}
