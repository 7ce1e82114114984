/* The OpenAPI document: served, valid OpenAPI 3.1 by a real validator,
 * and it documents exactly the routes of the route table. */
#include "harness.h"
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

START_TEST(every_problem_type_is_documented)
{
	struct resp *r = t_get(&srv, "/v1/openapi.json", NULL);
	json_t *types = json_object_get(json_object_get(json_object_get(json_object_get(
		json_object_get(json_object_get(r->json, "components"), "schemas"), "Problem"),
		"properties"), "type"), "enum");
	const char *const slugs[] = { "malformed-json", "validation", "unauthorized", "forbidden",
				      "not-found", "method-not-allowed", "conflict",
				      "precondition-failed", "payload-too-large",
				      "unsupported-media-type", "rate-limited", "unavailable",
				      "internal", "precondition-required" };

	ck_assert_ptr_nonnull(types);
	for (size_t i = 0; i < sizeof slugs / sizeof slugs[0]; i++) {
		char want[64];
		bool found = false;

		snprintf(want, sizeof want, "/problems/%s", slugs[i]);
		for (size_t k = 0; k < json_array_size(types); k++)
			found |= !strcmp(json_string_value(json_array_get(types, k)), want);
		ck_assert_msg(found, "%s is not documented", want);
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
	suite_add_tcase(s, tc);
	return t_run(s);
}
