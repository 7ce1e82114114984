/* The URL router: a static table of routes ending in a sentinel, so every
 * 404 and 405 comes from one place. Patterns are literal segments and
 * {name} segments; a {name} matches one non-empty segment. */
#ifndef WP_ROUTER_H
#define WP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#define ROUTE_MAX_PARAMS 4
#define ROUTE_PARAM_MAX 128 /* longest path parameter, NUL included */

struct request;

enum role { ROLE_NONE, ROLE_VIEWER, ROLE_LEAD, ROLE_COCHAIR };

enum route_flags {
	ROUTE_PUBLIC = 1 << 0,   /* no token needed */
	ROUTE_LOOPBACK = 1 << 1, /* only from 127.0.0.0/8 or ::1 */
	ROUTE_BODY = 1 << 2,     /* takes a JSON body */
	ROUTE_CACHE = 1 << 3,    /* a read whose 200 answers api/cache.c may keep */
	ROUTE_VERSIONED = 1 << 4, /* a write answered with the resource, whose ETag the next If-Match sends */
	ROUTE_FORM = 1 << 5,     /* may carry a small body of any type, which the handler ignores (RFC 8058 one-click POST) */
	ROUTE_UPLOAD = 1 << 8,   /* takes a file of any type up to UPLOAD_MAX, which the handler reads (not JSON) */
	ROUTE_STREAM = 1 << 10,  /* a body of any type and of the size the handler allows, read as it arrives (see struct request's stream_head) */
};

struct route {
	const char *method;
	const char *pattern;
	unsigned flags;
	enum role min_role;      /* for routes that need a token */
	int (*handler)(struct request *rq); /* returns an enum MHD_Result */
};

enum router_result { ROUTER_FOUND, ROUTER_NOT_FOUND, ROUTER_METHOD_NOT_ALLOWED };

struct route_match {
	const struct route *route;  /* when found */
	int index;                  /* of route in its table */
	int nparams;
	char params[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX];
	char allow[128];            /* for 405: the methods the path takes */
};

/* Matches method and path against table (ended by a route whose method is
 * NULL). The path has no query string. */
enum router_result router_match(const struct route *table, const char *method,
				const char *path, struct route_match *m);

/* The API's own table (api/routes.c) and its length. */
extern const struct route api_routes[];
size_t api_route_count(void);

#endif
