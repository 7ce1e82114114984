/* Prometheus metrics of the API process. */
#ifndef WP_METRICS_H
#define WP_METRICS_H

#include <stdbool.h>

struct request;

/* route: index into api_routes, or -1 for an unmatched path. */
void metrics_request(int route, int status, long long us);
void metrics_db_busy(int delta);
/* A token that authenticates nobody; limited: a request refused before any
 * lookup because its address failed too often. */
void metrics_auth_failure(bool limited);
int h_metrics(struct request *rq);

#endif
