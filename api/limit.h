/* Request rate per caller: a token bucket for each member (each client
 * address when there is no token), refilled at WORKPLAN_RATE_LIMIT
 * requests a second up to twice that; and a bucket of failed
 * authentications for each client address, checked before any token is
 * looked up, so that a flood of invented tokens costs no database work. Buckets live in a fixed table, so
 * memory is bounded whatever callers do; two callers that land in one
 * slot restart each other's bucket full, so a collision never refuses
 * anyone. Also the count of connections open from each client address. */
#ifndef WP_LIMIT_H
#define WP_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* What a bucket counts: requests of a member (or of an address without a
 * token), and failed authentications of a client address. */
enum limit_kind { LIMIT_REQUESTS, LIMIT_AUTH_FAILURES, LIMIT_SIGNIN_LINKS, LIMIT_KINDS };

/* Sign-in links asked for from one client address (SPEC 10): bursts of
 * this many, then one every SIGNIN_LINKS_EVERY_S seconds. */
#define SIGNIN_LINKS_BURST 10
#define SIGNIN_LINKS_EVERY_S 60

/* per_second requests (0 turns the rate limit off); auth_failures_per_min
 * failed authentications from one address (0: off), in bursts of as many;
 * per_address bounds the connections open at once from one address. */
void limit_init(int per_second, int auth_failures_per_min, int per_address);
/* Takes one from who's bucket of that kind: true if allowed; otherwise
 * false with the seconds until the next is. */
bool limit_take(enum limit_kind kind, const void *who, size_t n, int *retry_after_s);
/* Would limit_take allow one now? Takes nothing. */
bool limit_allows(enum limit_kind kind, const void *who, size_t n, int *retry_after_s);

/* The address as 16 bytes (IPv4 mapped into IPv6); false if neither. */
bool limit_addr(const struct sockaddr *sa, unsigned char out[16]);

/* Connections per client address (libmicrohttpd's own per-address limit
 * counts each pool thread apart). May one more connection open from sa?
 * If so, a place is reserved for it until it starts (limit_conn_count). */
bool limit_conn_allowed(const struct sockaddr *sa);
/* A connection from sa started (+1, taking its reserved place) or
 * closed (-1). */
void limit_conn_count(const struct sockaddr *sa, int delta);

#endif
