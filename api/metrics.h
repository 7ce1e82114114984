/* Prometheus metrics of the API process. */
#ifndef WP_METRICS_H
#define WP_METRICS_H

#include <stdbool.h>

struct request;

/* route: index into api_routes, -1 for an unmatched path, METRICS_WEB
 * for the web app's files and shell (counted as route="web"). */
#define METRICS_WEB (-2)
/* Routes with their own series; api_routes must not hold more
 * (check_router api_table_is_well_formed). */
#define METRICS_MAX_ROUTES 128
void metrics_request(int route, int status, long long us);
void metrics_db_busy(int delta);
/* A token that authenticates nobody; limited: a request refused before any
 * lookup because its address failed too often. */
void metrics_auth_failure(bool limited);
int h_metrics(struct request *rq);

#endif
