/* Request rate per caller: a token bucket for each bearer token (each
 * client address when there is none), refilled at WORKPLAN_RATE_LIMIT
 * requests a second up to twice that. Buckets live in a fixed table, so
 * memory is bounded whatever callers do; two callers that land in one
 * slot restart each other's bucket full, so a collision never refuses
 * anyone. Also the count of connections open from each client address. */
#ifndef WP_LIMIT_H
#define WP_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* per_second 0 turns the rate limit off; per_address bounds the
 * connections open at once from one client address. */
void limit_init(int per_second, int per_address);
/* Takes one request from who's bucket: true if allowed; otherwise false
 * with the seconds until the next is. */
bool limit_take(const void *who, size_t n, int *retry_after_s);

/* Connections per client address (libmicrohttpd's own per-address limit
 * counts each pool thread apart). May one more connection open from sa? */
bool limit_conn_allowed(const struct sockaddr *sa);
/* A connection from sa opened (+1) or closed (-1). */
void limit_conn_count(const struct sockaddr *sa, int delta);

#endif
