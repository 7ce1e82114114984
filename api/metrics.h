/* Prometheus metrics of the API process. */
#ifndef WP_METRICS_H
#define WP_METRICS_H

struct request;

/* route: index into api_routes, or -1 for an unmatched path. */
void metrics_request(int route, int status, long long us);
void metrics_db_busy(int delta);
int h_metrics(struct request *rq);

#endif
