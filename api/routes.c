/* The route table: every path the API serves, who may call it, and its
 * handler. The OpenAPI document lists exactly these. */
#include "handlers.h"
#include "metrics.h"
#include "router.h"
#include "util.h"

const struct route api_routes[] = {
	{ "GET", "/v1/health", ROUTE_PUBLIC, ROLE_NONE, h_health },
	{ "GET", "/metrics", ROUTE_PUBLIC | ROUTE_LOOPBACK, ROLE_NONE, h_metrics },
	{ "GET", "/v1/pillars", 0, ROLE_VIEWER, h_pillars_list },
	{ "GET", "/v1/pillars/{n}", 0, ROLE_VIEWER, h_pillar_get },
	{ "PATCH", "/v1/pillars/{n}", ROUTE_BODY, ROLE_COCHAIR, h_pillar_patch },
	{ NULL, NULL, 0, ROLE_NONE, NULL },
};

size_t api_route_count(void)
{
	return ARRAY_LEN(api_routes) - 1;
}
