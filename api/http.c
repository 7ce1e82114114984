/* Request lifecycle: route, authenticate, check and collect the body,
 * dispatch, reply; metrics and one log line when the request completes.
 * Request state lives from the first callback to http_completed, which
 * frees it in one place. */
#include "http.h"
#include "auth.h"
#include "cache.h"
#include "jspec.h"
#include "limit.h"
#include "log.h"
#include "metrics.h"
#include "sha256.h"
#include "util.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *http_database_url;
static int http_statement_timeout_ms;
static pthread_key_t db_key;
static pthread_once_t db_key_once = PTHREAD_ONCE_INIT;
static atomic_int in_flight;

static void db_key_destroy(void *db)
{
	db_free(db);
}

static void db_key_create(void)
{
	pthread_key_create(&db_key, db_key_destroy);
}

void http_init(const char *database_url, int statement_timeout_ms)
{
	http_database_url = database_url;
	http_statement_timeout_ms = statement_timeout_ms;
	pthread_once(&db_key_once, db_key_create);
}

int http_in_flight(void)
{
	return atomic_load(&in_flight);
}

struct db *request_db(struct request *rq)
{
	struct db *db = pthread_getspecific(db_key);

	if (!db) {
		db = db_new(http_database_url, "workplan-api", http_statement_timeout_ms);
		pthread_setspecific(db_key, db);
	}
	if (!rq->db_busy) {
		rq->db_busy = true;
		metrics_db_busy(1);
	}
	return db;
}

const char *request_arg(struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *request_header(struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

bool request_id(struct request *rq, int i, long long *out)
{
	const char *s = i < rq->match.nparams ? rq->match.params[i] : "";
	long long v = 0;

	if (!*s || strlen(s) > 18 || *s == '0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return true;
}

void request_actor(struct request *rq, char out[32])
{
	snprintf(out, 32, "member:%lld", rq->who.member_id);
}

/* Does an If-None-Match list name this entity tag (or "*")? */
void etag_of(const char *body, size_t len, char out[ETAG_STRLEN])
{
	unsigned char d[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];

	sha256(body, len, d);
	sha256_hex(d, hex);
	snprintf(out, ETAG_STRLEN, "\"%.20s\"", hex);
}

bool etag_matches(const char *header, const char *etag)
{
	size_t n = strlen(etag);

	for (const char *p = header; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!strncmp(p, "W/", 2))
			p += 2;
		if (*p == '*' || (!strncmp(p, etag, n) && (p[n] == ',' || p[n] == ' ' || !p[n])))
			return true;
		p = strchr(p, ',');
	}
	return false;
}

bool version_matches(const char *if_match, const char *representation, const char *version)
{
	char etag[ETAG_STRLEN], quoted[32];

	etag_of(representation, strlen(representation), etag);
	snprintf(quoted, sizeof quoted, "\"%s\"", version);
	return etag_matches(if_match, etag) || etag_matches(if_match, quoted);
}

/* The headers every answer carries. */
static void common_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
}

static int queue(struct request *rq, unsigned status, struct MHD_Response *resp)
{
	enum MHD_Result ret;

	ret = MHD_queue_response(rq->conn, status, resp);
	MHD_destroy_response(resp);
	rq->status = status;
	/* a member's write may have changed what reads show, even one that
	 * failed late (those without a token never reach a handler) */
	if (rq->who.member_id && strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD"))
		cache_invalidate();
	return ret;
}

static int reply_not_modified(struct request *rq, const char *etag)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);

	common_headers(resp);
	MHD_add_response_header(resp, "ETag", etag);
	return queue(rq, MHD_HTTP_NOT_MODIFIED, resp);
}

/* What the cache keeps of an answer: the response itself, which
 * libmicrohttpd reference-counts and may send on many connections. */
struct cached {
	struct MHD_Response *resp;
	char etag[ETAG_STRLEN];
};

static void cached_drop(void *value)
{
	struct cached *c = value;

	MHD_destroy_response(c->resp);
	free(c);
}

int reply_full(struct request *rq, unsigned status, const char *content_type,
	       const char *body, size_t len, const char *const *headers)
{
	const char *inm = request_header(rq, "If-None-Match");
	struct MHD_Response *resp;
	char etag[ETAG_STRLEN] = "";
	const char *tag = NULL;
	struct cached *c;
	enum MHD_Result ret;

	/* every GET answer has a strong ETag: the caller's, or the body's hash */
	for (const char *const *h = headers; h && h[0]; h += 2)
		if (!strcasecmp(h[0], "ETag"))
			tag = h[1];
	if (status == 200 && (!strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD"))) {
		if (!tag) {
			etag_of(body, len, etag);
			tag = etag;
		}
		if (inm && etag_matches(inm, tag) && !rq->cache_key.len)
			return reply_not_modified(rq, tag);
	}
	resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	common_headers(resp);
	MHD_add_response_header(resp, "Content-Type", content_type);
	if (*etag)
		MHD_add_response_header(resp, "ETag", etag);
	for (; headers && headers[0]; headers += 2)
		MHD_add_response_header(resp, headers[0], headers[1]);
	if (status != 200 || !rq->cache_key.len)
		return queue(rq, status, resp);
	/* a cacheable read: answer it, then keep the response (queued first,
	 * so an invalidation right after the store cannot free it under us) */
	if (inm && etag_matches(inm, tag))
		ret = reply_not_modified(rq, tag);
	else {
		ret = MHD_queue_response(rq->conn, status, resp);
		rq->status = status;
	}
	c = xmalloc(sizeof *c);
	c->resp = resp;
	snprintf(c->etag, sizeof c->etag, "%s", tag);
	if (!cache_put(rq->cache_version, rq->cache_key.data, rq->cache_key.len, c, len,
		       cached_drop))
		cached_drop(c);
	return ret;
}

/* A hit: the request's If-None-Match and where the answer goes. */
struct hit {
	struct request *rq;
	const char *inm;
	char etag[ETAG_STRLEN]; /* set when the answer is 304 */
	enum MHD_Result ret;
};

static void hit_use(void *value, void *ctx)
{
	struct cached *c = value;
	struct hit *h = ctx;

	if (h->inm && etag_matches(h->inm, c->etag)) {
		memcpy(h->etag, c->etag, sizeof h->etag);
		return;
	}
	h->ret = MHD_queue_response(h->rq->conn, 200, c->resp);
	h->rq->status = 200;
}

/* Adds one query-string argument to the key: name and value, each ended
 * by a NUL, with a mark that tells "?a" from "?a=". */
static enum MHD_Result key_arg(void *cls, enum MHD_ValueKind kind, const char *name,
			       const char *value)
{
	struct buf *key = cls;

	(void)kind;
	if (!buf_add(key, name, strlen(name) + 1) || !buf_add(key, value ? "=" : "-", 1) ||
	    !buf_add(key, value ? value : "", (value ? strlen(value) : 0) + 1)) {
		buf_free(key);
		return MHD_NO;
	}
	return MHD_YES;
}

/* Answers a ROUTE_CACHE read from the cache if it can; otherwise returns
 * -1 and prepares rq so that the handler's 200 answer is kept. */
static int reply_cached(struct request *rq)
{
	struct hit h = { .rq = rq, .inm = request_header(rq, "If-None-Match"), .ret = MHD_NO };
	uint64_t v = cache_version();
	/* answers may depend on today's date (the current quarter) */
	long long day = (long long)(time(NULL) / 86400);

	if (!v)
		return -1;
	buf_init(&rq->cache_key, 4096);
	if (buf_printf(&rq->cache_key, "%lld %s", day, rq->path) && buf_add(&rq->cache_key, "", 1))
		MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, key_arg, &rq->cache_key);
	else
		buf_free(&rq->cache_key);
	if (!rq->cache_key.len)
		return -1; /* too long to keep */
	if (!cache_use(rq->cache_key.data, rq->cache_key.len, hit_use, &h)) {
		rq->cache_version = v;
		return -1;
	}
	buf_free(&rq->cache_key);
	return *h.etag ? reply_not_modified(rq, h.etag) : (int)h.ret;
}

int reply_text(struct request *rq, unsigned status, const char *content_type,
	       const char *body, size_t len)
{
	return reply_full(rq, status, content_type, body, len, NULL);
}

int reply_json(struct request *rq, unsigned status, const char *body, size_t len)
{
	return reply_full(rq, status, "application/json", body, len, NULL);
}

int reply_problem_with(struct request *rq, enum problem p, const char *detail, json_t *errors,
		       const char *const *headers)
{
	size_t len;
	char *body = problem_body(p, detail, errors, &len);
	int ret = reply_full(rq, problem_info(p)->status, "application/problem+json", body, len,
			     headers);

	free(body);
	return ret;
}

int reply_problem(struct request *rq, enum problem p, const char *detail, json_t *errors)
{
	static const char *const retry[] = { "Retry-After", "1", NULL };
	static const char *const bearer[] = { "WWW-Authenticate", "Bearer", NULL };

	if (p == PROBLEM_UNAVAILABLE)
		return reply_problem_with(rq, p, detail, errors, retry);
	if (p == PROBLEM_UNAUTHORIZED)
		return reply_problem_with(rq, p, detail, errors, bearer);
	return reply_problem_with(rq, p, detail, errors, NULL);
}

int reply_document(struct request *rq, struct db_stmt *s, int nparams,
		   const char *const *params, const char *not_found)
{
	enum db_rc rc;
	PGresult *r;
	int ret;

	rc = db_query(request_db(rq), s, nparams, params, &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		ret = reply_json(rq, 200, PQgetvalue(r, 0, 0), PQgetlength(r, 0, 0));
	else
		ret = reply_problem(rq, PROBLEM_NOT_FOUND, not_found, NULL);
	PQclear(r);
	return ret;
}

int reply_invalid(struct request *rq, json_t *errors)
{
	char detail[64];
	size_t n = json_array_size(errors);

	snprintf(detail, sizeof detail, "%zu field%s %s invalid", n, n == 1 ? "" : "s",
		 n == 1 ? "is" : "are");
	return reply_problem(rq, PROBLEM_VALIDATION, detail, errors);
}

int reply_rejected(struct request *rq, enum db_rc rc, const struct constraint_field *map)
{
	const char *c;
	json_t *errors;

	if (rc != DB_CONSTRAINT)
		return reply_db_failure(rq, rc);
	c = db_error_constraint(request_db(rq));
	for (; map && map->constraint; map++) {
		if (!strcmp(map->constraint, c)) {
			errors = json_array();
			js_error(errors, map->field, map->message);
			return reply_invalid(rq, errors);
		}
	}
	return reply_problem(rq, PROBLEM_CONFLICT, db_error(request_db(rq)), NULL);
}

int reply_db_failure(struct request *rq, enum db_rc rc)
{
	if (rc == DB_DOWN || rc == DB_RETRY)
		return reply_problem(rq, PROBLEM_UNAVAILABLE,
				     "the database is unavailable; try again shortly", NULL);
	/* a data exception: a value from the request the database cannot use */
	if (rc == DB_INVALID)
		return reply_problem(rq, PROBLEM_VALIDATION, db_error(request_db(rq)), NULL);
	BUG("unexpected database failure on %s %s: %s", rq->method, rq->path,
	    db_error(request_db(rq)));
	return reply_problem(rq, PROBLEM_INTERNAL, "an internal error occurred", NULL);
}

static bool is_loopback(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (!sa)
		return false;
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/* The rate limit, per bearer token (as sent), or per client address. */
static bool rate_allows(struct request *rq, int *retry_after)
{
	const char *auth = request_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	if (auth)
		return limit_take(auth, strlen(auth), retry_after);
	ci = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = ci ? ci->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET)
		return limit_take(&((const struct sockaddr_in *)sa)->sin_addr, 4, retry_after);
	if (sa && sa->sa_family == AF_INET6)
		return limit_take(&((const struct sockaddr_in6 *)sa)->sin6_addr, 16, retry_after);
	return true;
}

/* "application/json" with optional parameters such as charset=utf-8. */
static bool is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	if (!ct || strncasecmp(ct, "application/json", n))
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* Does the request carry a body? Decided from the headers. */
static bool has_body(struct request *rq)
{
	const char *cl = request_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (cl && strcmp(cl, "0")) || request_header(rq, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* Everything decided from the request line and headers alone. Returns -1
 * to go on reading the body, otherwise the result of a queued reply. */
static int http_admit(struct request *rq)
{
	enum router_result rr;
	const char *method = strcmp(rq->method, "HEAD") ? rq->method : "GET";
	const struct route *route;
	const char *cl;
	int retry_after;

	rr = router_match(api_routes, method, rq->path, &rq->match);
	if (rr == ROUTER_NOT_FOUND)
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such resource", NULL);
	if (rr == ROUTER_METHOD_NOT_ALLOWED) {
		char detail[200];

		snprintf(detail, sizeof detail, "%s is not allowed here; allowed: %s", rq->method,
			 rq->match.allow);
		return reply_problem_with(rq, PROBLEM_METHOD_NOT_ALLOWED, detail, NULL,
					     (const char *const[]){ "Allow", rq->match.allow, NULL });
	}
	route = rq->match.route;
	rq->route_index = rq->match.index;
	if ((route->flags & ROUTE_LOOPBACK) && !is_loopback(rq->conn))
		return reply_problem(rq, PROBLEM_FORBIDDEN, "only served on the loopback interface",
				     NULL);
	if (!rate_allows(rq, &retry_after)) {
		char s[16];

		snprintf(s, sizeof s, "%d", retry_after);
		return reply_problem_with(rq, PROBLEM_RATE_LIMITED,
					     "too many requests from this caller; slow down", NULL,
					     (const char *const[]){ "Retry-After", s, NULL });
	}
	if (!(route->flags & ROUTE_PUBLIC)) {
		enum problem p;
		const char *why;

		if (!auth_caller(rq, &rq->who, &p, &why))
			return reply_problem(rq, p, why, NULL);
		if (rq->who.role < route->min_role)
			return reply_problem(rq, PROBLEM_FORBIDDEN,
					     "your role does not allow this", NULL);
	}
	cl = request_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (has_body(rq)) {
		if (!(route->flags & ROUTE_BODY))
			return reply_problem(rq, PROBLEM_BAD_REQUEST, "this request takes no body",
					     NULL);
		if (cl && (strlen(cl) > 9 || atol(cl) > BODY_MAX))
			return reply_problem(rq, PROBLEM_PAYLOAD_TOO_LARGE,
					     "the body is larger than 64 KiB", NULL);
		if (!is_json_type(request_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE)))
			return reply_problem(rq, PROBLEM_UNSUPPORTED_MEDIA_TYPE,
					     "send the body as application/json", NULL);
	}
	return -1;
}

/* The body is complete: parse it and run the handler. */
static int http_dispatch(struct request *rq)
{
	const struct route *route = rq->match.route;

	if (rq->body_too_large)
		return reply_problem(rq, PROBLEM_PAYLOAD_TOO_LARGE, "the body is larger than 64 KiB",
				     NULL);
	if (route->flags & ROUTE_CACHE) {
		int ret = reply_cached(rq);

		if (ret >= 0)
			return ret;
	}
	if (route->flags & ROUTE_BODY) {
		json_error_t err;
		char detail[300];

		if (!rq->body.len)
			return reply_problem(rq, PROBLEM_MALFORMED_JSON,
					     "this request needs a JSON body", NULL);
		rq->json = json_loadb(rq->body.data, rq->body.len, JSON_REJECT_DUPLICATES, &err);
		if (!rq->json) {
			snprintf(detail, sizeof detail, "the body is not valid JSON: %s (line %d, column %d)",
				 err.text, err.line, err.column);
			return reply_problem(rq, PROBLEM_MALFORMED_JSON, detail, NULL);
		}
	}
	return route->handler(rq);
}

enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
			    const char *method, const char *version, const char *upload_data,
			    size_t *upload_data_size, void **req_cls)
{
	struct request *rq = *req_cls;
	int ret;

	(void)cls;
	(void)version;
	if (!rq) {
		rq = xcalloc(1, sizeof *rq);
		rq->conn = conn;
		rq->method = method;
		rq->path = url;
		rq->route_index = -1;
		rq->start_us = now_us();
		buf_init(&rq->body, BODY_MAX);
		*req_cls = rq;
		atomic_fetch_add(&in_flight, 1);
		/* With a body, refuse it (401, 413, 415...) before reading it.
		 * Without one, wait for the next call: replying during the first
		 * call would cost the client its keep-alive connection. */
		if (!has_body(rq))
			return MHD_YES;
		rq->admitted = true;
		ret = http_admit(rq);
		return ret < 0 ? MHD_YES : (enum MHD_Result)ret;
	}
	if (rq->status)
		return MHD_YES; /* a reply is queued already; drop the rest */
	if (*upload_data_size) {
		if (!rq->body_too_large && !buf_add(&rq->body, upload_data, *upload_data_size)) {
			rq->body_too_large = true;
			buf_free(&rq->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!rq->admitted) {
		rq->admitted = true;
		ret = http_admit(rq);
		if (ret >= 0)
			return (enum MHD_Result)ret;
	}
	return (enum MHD_Result)http_dispatch(rq);
}

void http_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *req_cls;
	char path[256];
	long long us;

	(void)cls;
	(void)conn;
	if (!rq)
		return;
	us = now_us() - rq->start_us;
	metrics_request(rq->route_index, rq->status, us);
	/* the path is the caller's text: keep control characters out of the log */
	snprintf(path, sizeof path, "%s", rq->path);
	for (char *p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7F)
			*p = '?';
	log_info("%s %s [%s] %d %lldus%s", rq->method, path,
		 rq->match.route ? rq->match.route->pattern : "-", rq->status, us,
		 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection closed early)");
	if (rq->db_busy)
		metrics_db_busy(-1);
	if (rq->handler_state_free)
		rq->handler_state_free(rq->handler_state);
	json_decref(rq->json);
	buf_free(&rq->body);
	buf_free(&rq->cache_key);
	free(rq);
	*req_cls = NULL;
	atomic_fetch_sub(&in_flight, 1);
}
