/* The router: exact matches, parameters, 404 against 405, the API table. */
#include "harness.h"
#include "metrics.h"
#include "router.h"

#include <string.h>

static int h_dummy(struct request *rq)
{
	(void)rq;
	return 0;
}

static const struct route table[] = {
	{ "GET", "/v1/actions", 0, ROLE_VIEWER, h_dummy },
	{ "POST", "/v1/actions", ROUTE_BODY, ROLE_COCHAIR, h_dummy },
	{ "GET", "/v1/actions/{id}", 0, ROLE_VIEWER, h_dummy },
	{ "PATCH", "/v1/actions/{id}", ROUTE_BODY, ROLE_COCHAIR, h_dummy },
	{ "GET", "/v1/reports/{id}/files/{name}", 0, ROLE_VIEWER, h_dummy },
	{ NULL, NULL, 0, ROLE_NONE, NULL },
};

START_TEST(matches_literal_and_parameter_routes)
{
	struct route_match m;

	ck_assert_int_eq(router_match(table, "GET", "/v1/actions", &m), ROUTER_FOUND);
	ck_assert_int_eq(m.index, 0);
	ck_assert_int_eq(router_match(table, "PATCH", "/v1/actions/42", &m), ROUTER_FOUND);
	ck_assert_int_eq(m.index, 3);
	ck_assert_int_eq(m.nparams, 1);
	ck_assert_str_eq(m.params[0], "42");
	ck_assert_int_eq(router_match(table, "GET", "/v1/reports/7/files/q.docx", &m), ROUTER_FOUND);
	ck_assert_int_eq(m.nparams, 2);
	ck_assert_str_eq(m.params[0], "7");
	ck_assert_str_eq(m.params[1], "q.docx");
}
END_TEST

START_TEST(unknown_paths_are_not_found)
{
	static const char *const paths[] = { "", "/", "/v1", "/v1/actions/", "/v1/actions/1/",
					     "/v1/actionsx", "/v1//actions", "/v1/actions/1/2",
					     "/v1/reports/1/files/", "//v1/actions" };
	struct route_match m;

	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		ck_assert_msg(router_match(table, "GET", paths[i], &m) == ROUTER_NOT_FOUND,
			      "matched \"%s\"", paths[i]);
}
END_TEST

START_TEST(known_path_with_other_method_is_405_with_allow)
{
	struct route_match m;

	ck_assert_int_eq(router_match(table, "DELETE", "/v1/actions", &m),
			 ROUTER_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(m.allow, "GET, POST");
	ck_assert_int_eq(router_match(table, "PUT", "/v1/actions/3", &m),
			 ROUTER_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(m.allow, "GET, PATCH");
}
END_TEST

START_TEST(overlong_parameters_do_not_match)
{
	char path[400] = "/v1/actions/";
	struct route_match m;

	memset(path + strlen(path), '9', 300);
	ck_assert_int_eq(router_match(table, "GET", path, &m), ROUTER_NOT_FOUND);
}
END_TEST

START_TEST(api_table_is_well_formed)
{
	struct route_match m;

	ck_assert_uint_gt(api_route_count(), 2);
	/* every route has its own metrics series */
	ck_assert_uint_le(api_route_count(), METRICS_MAX_ROUTES);
	for (size_t i = 0; i < api_route_count(); i++) {
		const struct route *r = &api_routes[i];

		ck_assert_ptr_nonnull(r->handler);
		ck_assert_msg(r->pattern[0] == '/', "%s", r->pattern);
		/* a route without a token must say so; others need a role */
		ck_assert_msg((r->flags & ROUTE_PUBLIC) || r->min_role >= ROLE_VIEWER, "%s", r->pattern);
		/* each (method, pattern) is reachable: the first match is itself */
		if (!strchr(r->pattern, '{')) {
			ck_assert_int_eq(router_match(api_routes, r->method, r->pattern, &m),
					 ROUTER_FOUND);
			ck_assert_int_eq(m.index, (int)i);
		}
	}
	ck_assert_ptr_null(api_routes[api_route_count()].method);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("router");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, matches_literal_and_parameter_routes);
	tcase_add_test(tc, unknown_paths_are_not_found);
	tcase_add_test(tc, known_path_with_other_method_is_405_with_allow);
	tcase_add_test(tc, overlong_parameters_do_not_match);
	tcase_add_test(tc, api_table_is_well_formed);
	suite_add_tcase(s, tc);
	return t_run(s);
}
