/* The request lifecycle on top of libmicrohttpd, and the reply helpers
 * every handler uses. A handler gets a struct request with its route,
 * path parameters, caller and parsed body, and returns what a reply_*
 * helper returned. */
#ifndef WP_HTTP_H
#define WP_HTTP_H

#include "buf.h"
#include "db.h"
#include "problem.h"
#include "router.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#define BODY_MAX (64 * 1024)
/* a ROUTE_UPLOAD body: a filled spreadsheet (api/h_sheet.c) */
#define UPLOAD_MAX (4 * 1024 * 1024)

struct caller {
	long long member_id;     /* 0 when anonymous */
	enum role role;
	char entity[24];
};

struct request {
	struct MHD_Connection *conn;
	const char *method;
	const char *path;
	struct route_match match;
	int route_index;         /* into api_routes, or -1 */
	struct caller who;
	bool by_session;         /* who was known by the wp_session cookie, not a bearer token */
	struct buf body;
	bool body_too_large;
	bool admitted;           /* routed, authenticated, headers checked */
	const char *refused;     /* why the request line or headers are refused */
	enum problem refused_as;
	json_t *json;            /* the parsed body, for ROUTE_BODY routes */
	int status;              /* of the queued response */
	long long start_us;
	bool db_busy;            /* holds the thread's connection */
	struct buf cache_key;    /* a ROUTE_CACHE read: what its answer is kept under */
	uint64_t cache_version;  /* taken before the handler read the database */
	char cache_tags[160];    /* what the answer shows (api/cache.h), request_cache_tag */
	bool cache_tags_cut;     /* too many to keep: the answer is not kept */
	/* A handler's own state across calls for this request (a suspended
	 * request's handler runs again once resumed); http_completed hands it
	 * to handler_state_free. */
	void *handler_state;
	void (*handler_state_free)(void *state);
	/* A ROUTE_STREAM route's handler runs first with stream_head true,
	 * once the headers are in and before any of the body is read (which
	 * must have a Content-Length): it replies (413, 415...) or returns -1
	 * after setting body_max, the most it takes, and optionally
	 * stream_sink, which then gets the body in pieces instead of body
	 * (false from it ends the connection). It runs again, stream_head
	 * false, once the body is complete. */
	bool stream_head;
	size_t body_max;
	size_t body_seen;
	bool (*stream_sink)(struct request *rq, const char *data, size_t n);
};

/* The calling thread's database connection (opened lazily). */
struct db *request_db(struct request *rq);
/* Names (printf-like) one tag of what a cacheable read's answer shows
 * (api/cache.h); a read that names none is dropped by every write. */
void request_cache_tag(struct request *rq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A query-string argument, or NULL. */
const char *request_arg(struct request *rq, const char *name);
const char *request_header(struct request *rq, const char *name);
/* Path parameter i as a positive id; false when it is not one. */
bool request_id(struct request *rq, int i, long long *out);
/* What an Idempotency-Key is bound to: SHA-256 of method, path and body. */
void request_hash(struct request *rq, unsigned char out[32]);
/* Does the Origin header name the service's own origin (WORKPLAN_PUBLIC_URL's)? */
bool request_origin_is_ours(struct request *rq);
/* The client's address as 16 bytes (IPv4 mapped); false if unknown. */
bool request_client_addr(struct request *rq, unsigned char out[16]);
/* A credential presented outside the Authorization header (a sign-in
 * token) authenticated nobody: counted as a failed authentication of the
 * client address. request_auth_limited: has the address none left (then
 * *retry_after is set)? */
void request_auth_failed(struct request *rq);
bool request_auth_limited(struct request *rq, int *retry_after);
/* "member:<id>", for the audit trail. */
void request_actor(struct request *rq, char out[32]);
/* A write in a transaction, in the caller's name. write_begin names the
 * caller as the actor of what changes (db_set_actor); member and now,
 * where not NULL, get its member id and the clock's instant as text to
 * bind. write_result runs a statement whose one row shows what was
 * written: *json gets a copy of its "json" column (NULL for no row), after
 * freeing what it held, as a retried transaction runs again; id, its "id"
 * when the statement returns one. Parameters as db_query_params. */
enum db_rc write_begin(struct db *db, struct request *rq, char member[24], char now[32]);
enum db_rc write_result(struct db *db, struct db_stmt *s, int nparams, const char *const *params,
			const int *lengths, const int *formats, char **json, char id[24]);

/* Replies. Each queues the response and returns an enum MHD_Result.
 * GET responses get a strong ETag and honour If-None-Match (304). */
int reply_json(struct request *rq, unsigned status, const char *body, size_t len);
/* The general form: headers are name, value pairs ending in NULL. */
int reply_full(struct request *rq, unsigned status, const char *content_type,
	       const char *body, size_t len, const char *const *headers);
int reply_text(struct request *rq, unsigned status, const char *content_type,
	       const char *body, size_t len);
int reply_problem(struct request *rq, enum problem p, const char *detail, json_t *errors);
/* The same with extra headers (name, value pairs, NULL-ended). */
int reply_problem_with(struct request *rq, enum problem p, const char *detail, json_t *errors,
		       const char *const *headers);
/* Runs a statement whose one row holds a JSON document in its first
 * column and replies with it; no row is a 404 with the detail not_found.
 * A column named cache_tags adds its tags (request_cache_tag). */
int reply_document(struct request *rq, struct db_stmt *s, int nparams,
		   const char *const *params, const char *not_found);
/* 422 validation with the errors array (stolen). */
int reply_invalid(struct request *rq, json_t *errors);
/* Integrity violations the request caused, by constraint name. */
struct constraint_field {
	const char *constraint;
	const char *field;
	const char *message;
};
/* DB_CONSTRAINT on a constraint in map (ended by {0}): 422 naming its
 * field; on another constraint: 409; any other rc: reply_db_failure. */
int reply_rejected(struct request *rq, enum db_rc rc, const struct constraint_field *map);
/* 503 for an outage, 500 (logged as our bug) for anything else. */
int reply_db_failure(struct request *rq, enum db_rc rc);

/* Strong entity tags. etag_of: the tag of a body as sent (a JSON answer
 * after json_normal), its SHA-256's first 80 bits in hex, quoted. A GET
 * answer without an ETag of its own (an artifact sends its whole SHA-256)
 * gets this one. */
#define ETAG_STRLEN 24
void etag_of(const char *body, size_t len, char out[ETAG_STRLEN]);
/* Does an If-None-Match or If-Match list name etag, or hold "*"? strong
 * (If-Match, RFC 9110 13.1.1): a weak W/"..." tag never matches; otherwise
 * (If-None-Match) the weak comparison: W/"x" matches "x". */
bool etag_matches(const char *header, const char *etag, bool strong);

/* If-Match of a versioned resource: its current ETag, or its version
 * quoted or bare; strong comparison. */
bool version_matches(const char *if_match, const char *representation, const char *version);

/* The libmicrohttpd callbacks. http_uri_log (MHD_OPTION_URI_LOG_CALLBACK)
 * sees the request target as sent and starts the request's state. */
void *http_uri_log(void *cls, const char *uri, struct MHD_Connection *conn);
enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
			    const char *method, const char *version, const char *upload_data,
			    size_t *upload_data_size, void **req_cls);
void http_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
		    enum MHD_RequestTerminationCode toe);
/* Requests started and not yet completed. */
int http_in_flight(void);
/* Settings the handlers need: set once before the daemon starts. */
void http_init(const char *database_url, int statement_timeout_ms);

/* The service's configuration (lib/config.h), for handlers that make
 * links or cookies: set once before the daemon starts. */
struct config;
void http_set_config(const struct config *cfg);
const struct config *http_config(void);
/* An answer without a body (204), with extra headers (name, value pairs,
 * NULL-ended) or NULL. */
int reply_empty(struct request *rq, unsigned status, const char *const *headers);

#endif
