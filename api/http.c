/* Request lifecycle: route, authenticate, check and collect the body,
 * dispatch, reply; metrics and one log line when the request completes.
 * Request state lives from the first callback to http_completed, which
 * frees it in one place. */
#include "clock.h"
#include "config.h"
#include "http.h"
#include "auth.h"
#include "cache.h"
#include "handlers.h"
#include "jsonout.h"
#include "jspec.h"
#include "limit.h"
#include "log.h"
#include "metrics.h"
#include "sha256.h"
#include "util.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
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

static const struct config *http_cfg;

void http_set_config(const struct config *cfg)
{
	http_cfg = cfg;
}

const struct config *http_config(void)
{
	return http_cfg;
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

void request_hash(struct request *rq, unsigned char out[SHA256_LEN])
{
	struct sha256 h;

	sha256_init(&h);
	sha256_update(&h, rq->method, strlen(rq->method) + 1);
	sha256_update(&h, rq->path, strlen(rq->path) + 1);
	sha256_update(&h, rq->body.data, rq->body.len);
	sha256_final(&h, out);
}

void request_actor(struct request *rq, char out[32])
{
	snprintf(out, 32, "member:%lld", rq->who.member_id);
}

enum db_rc write_begin(struct db *db, struct request *rq, char member[24], char now[32])
{
	char actor[32];

	if (member)
		snprintf(member, 24, "%lld", rq->who.member_id);
	if (now)
		clock_now_text(now);
	request_actor(rq, actor);
	return db_set_actor(db, actor);
}

enum db_rc write_result(struct db *db, struct db_stmt *s, int nparams, const char *const *params,
			const int *lengths, const int *formats, char **json, char id[24])
{
	PGresult *r;
	enum db_rc rc = db_query_params(db, s, nparams, params, lengths, formats, &r);

	if (rc != DB_OK)
		return rc;
	free(*json);
	*json = PQntuples(r) ? xstrdup(db_col(r, 0, "json")) : NULL;
	if (PQntuples(r) == 1 && PQfnumber(r, "id") >= 0)
		snprintf(id, 24, "%s", db_col(r, 0, "id"));
	PQclear(r);
	return DB_OK;
}

void etag_of(const char *body, size_t len, char out[ETAG_STRLEN])
{
	unsigned char d[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];

	sha256(body, len, d);
	sha256_hex(d, hex);
	snprintf(out, ETAG_STRLEN, "\"%.20s\"", hex);
}

bool etag_matches(const char *header, const char *etag, bool strong)
{
	size_t n = strlen(etag);

	for (const char *p = header; p && *p;) {
		bool weak;

		while (*p == ' ' || *p == ',')
			p++;
		weak = !strncmp(p, "W/", 2);
		if (weak)
			p += 2;
		if (!(weak && strong) &&
		    (*p == '*' || (!strncmp(p, etag, n) && (p[n] == ',' || p[n] == ' ' || !p[n]))))
			return true;
		p = strchr(p, ',');
	}
	return false;
}

bool version_matches(const char *if_match, const char *representation, const char *version)
{
	char etag[ETAG_STRLEN], quoted[32], *normal;
	size_t n = strlen(version), len;
	const char *p = if_match;

	/* the ETag the client saw was made of the representation as sent */
	normal = json_normal(representation, strlen(representation), &len);
	etag_of(normal ? normal : representation, normal ? len : strlen(representation), etag);
	free(normal);
	snprintf(quoted, sizeof quoted, "\"%s\"", version);
	if (etag_matches(if_match, etag, true) || etag_matches(if_match, quoted, true))
		return true;
	/* the bare version, as the README shows it */
	while (*p == ' ')
		p++;
	return !strncmp(p, version, n) && !p[n + strspn(p + n, " ")];
}

/* The headers every answer carries: what a member reads is theirs alone,
 * and every answer is revalidated before it is reused (unless the answer
 * brings its own Cache-Control: the web app's fingerprinted files). */
static void common_headers(struct request *rq, struct MHD_Response *resp,
			   const char *const *headers)
{
	bool own = false;

	for (const char *const *h = headers; h && h[0]; h += 2)
		own |= !strcasecmp(h[0], "Cache-Control");
	if (!own)
		MHD_add_response_header(resp, "Cache-Control",
					rq->who.member_id ? "private, no-cache" : "no-cache");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
}

/* Documents a browser could run (SVG, HTML): nothing but their own
 * inline styles and data: images, no script, in no frame. */
#define DOCUMENT_CSP \
	"default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'none'"

static bool is_document_type(const char *ct)
{
	return !strncasecmp(ct, "image/svg+xml", 13) || !strncasecmp(ct, "text/html", 9);
}

DB_STMT(stmt_changes_taken, "SELECT cache_changes_taken()");

/* What the writes this thread's connection committed changed (the tags
 * sql/migrations/023_cache_tags.sql gathers in the session), made stale
 * here before the answer goes: this process's own reads see them at once,
 * other processes when the notification arrives. */
static void take_changes(struct request *rq)
{
	PGresult *r;

	if (db_query(request_db(rq), &stmt_changes_taken, 0, NULL, &r) != DB_OK) {
		cache_invalidate(); /* a write may have committed: its reach is unknown */
		return;
	}
	if (*PQgetvalue(r, 0, 0))
		cache_invalidate_tags(PQgetvalue(r, 0, 0));
	PQclear(r);
}

static int queue(struct request *rq, unsigned status, struct MHD_Response *resp)
{
	enum MHD_Result ret;

	/* a request that may have written (even one that failed late) */
	if (rq->db_busy && strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD"))
		take_changes(rq);
	ret = MHD_queue_response(rq->conn, status, resp);
	MHD_destroy_response(resp);
	rq->status = status;
	return ret;
}

void request_cache_tag(struct request *rq, const char *fmt, ...)
{
	size_t n = strlen(rq->cache_tags);
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(rq->cache_tags + n + (n > 0), sizeof rq->cache_tags - n - 1, fmt, ap);
	va_end(ap);
	if (n)
		rq->cache_tags[n] = ' ';
	if (len < 0 || (size_t)len >= sizeof rq->cache_tags - n - 2)
		rq->cache_tags_cut = true;
}

/* A 304 carries the headers the 200 would have (RFC 9110 15.4.5) but
 * its content's. */
static int reply_not_modified(struct request *rq, const char *etag, const char *const *headers)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);

	common_headers(rq, resp, headers);
	MHD_add_response_header(resp, "ETag", etag);
	for (; headers && headers[0]; headers += 2)
		if (strcasecmp(headers[0], "ETag") && strcasecmp(headers[0], "Content-Type"))
			MHD_add_response_header(resp, headers[0], headers[1]);
	return queue(rq, MHD_HTTP_NOT_MODIFIED, resp);
}

/* the longest ETag a kept answer holds (a handler's own may be a quoted
 * SHA-256 in hex); an answer with a longer one is not kept */
#define CACHED_ETAG_MAX 72

/* What the cache keeps of an answer: the response itself, which
 * libmicrohttpd reference-counts and may send on many connections. */
struct cached {
	struct MHD_Response *resp;
	char etag[CACHED_ETAG_MAX];
};

static void cached_drop(void *value)
{
	struct cached *c = value;

	MHD_destroy_response(c->resp);
	free(c);
}

static int reply_built(struct request *rq, unsigned status, const char *content_type,
		       const char *body, size_t len, const char *const *headers);

/* Every JSON answer in the one serialisation of lib/jsonout.h, whichever
 * of PostgreSQL or jansson wrote it. */
int reply_full(struct request *rq, unsigned status, const char *content_type,
	       const char *body, size_t len, const char *const *headers)
{
	size_t n;
	char *normal;
	int ret;

	if (strcmp(content_type, "application/json"))
		return reply_built(rq, status, content_type, body, len, headers);
	normal = json_normal(body, len, &n);
	if (!normal) {
		BUG("a reply to %s %s is not JSON", rq->method, rq->path);
		return reply_problem(rq, PROBLEM_INTERNAL, "an internal error occurred", NULL);
	}
	ret = reply_built(rq, status, content_type, normal, n, headers);
	free(normal);
	return ret;
}

static int reply_built(struct request *rq, unsigned status, const char *content_type,
		       const char *body, size_t len, const char *const *headers)
{
	const char *inm = request_header(rq, "If-None-Match");
	struct MHD_Response *resp;
	char etag[ETAG_STRLEN] = "";
	const char *tag = NULL;
	bool csp = false;
	struct cached *c;
	enum MHD_Result ret;

	/* every GET answer has a strong ETag: the caller's, or the body's hash */
	for (const char *const *h = headers; h && h[0]; h += 2) {
		if (!strcasecmp(h[0], "ETag"))
			tag = h[1];
		csp |= !strcasecmp(h[0], "Content-Security-Policy");
	}
	if (status == 200 && (!strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD"))) {
		if (!tag) {
			etag_of(body, len, etag);
			tag = etag;
		}
		if (inm && etag_matches(inm, tag, false) && !rq->cache_key.len)
			return reply_not_modified(rq, tag, headers);
	} else if ((status == 200 || status == 201) && !tag && rq->match.route &&
		   (rq->match.route->flags & ROUTE_VERSIONED)) {
		/* the new state's tag: what the next If-Match sends */
		etag_of(body, len, etag);
	}
	resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	common_headers(rq, resp, headers);
	MHD_add_response_header(resp, "Content-Type", content_type);
	if (!csp && is_document_type(content_type))
		MHD_add_response_header(resp, "Content-Security-Policy", DOCUMENT_CSP);
	if (*etag)
		MHD_add_response_header(resp, "ETag", etag);
	for (; headers && headers[0]; headers += 2)
		MHD_add_response_header(resp, headers[0], headers[1]);
	if (status != 200 || !rq->cache_key.len)
		return queue(rq, status, resp);
	/* a cacheable read: answer it, then keep the response (queued first,
	 * so an invalidation right after the store cannot free it under us) */
	if (inm && etag_matches(inm, tag, false))
		ret = reply_not_modified(rq, tag, headers);
	else {
		ret = MHD_queue_response(rq->conn, status, resp);
		rq->status = status;
	}
	c = xmalloc(sizeof *c);
	c->resp = resp;
	snprintf(c->etag, sizeof c->etag, "%s", tag);
	if (rq->cache_tags_cut || strlen(tag) >= sizeof c->etag ||
	    !cache_put(rq->cache_version, rq->cache_key.data, rq->cache_key.len, c, len, cached_drop,
		       rq->cache_tags))
		cached_drop(c);
	return ret;
}

/* A hit: the request's If-None-Match and where the answer goes. */
struct hit {
	struct request *rq;
	const char *inm;
	char etag[CACHED_ETAG_MAX]; /* set when the answer is 304 */
	enum MHD_Result ret;
};

static void hit_use(void *value, void *ctx)
{
	struct cached *c = value;
	struct hit *h = ctx;

	if (h->inm && etag_matches(h->inm, c->etag, false)) {
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
	long long day = (long long)(clock_now() / 86400);

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
	return *h.etag ? reply_not_modified(rq, h.etag, NULL) : (int)h.ret;
}

int reply_empty(struct request *rq, unsigned status, const char *const *headers)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);

	common_headers(rq, resp, headers);
	for (; headers && headers[0]; headers += 2)
		MHD_add_response_header(resp, headers[0], headers[1]);
	return queue(rq, status, resp);
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
	if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
		int tags = PQfnumber(r, "cache_tags");

		if (tags > 0)
			request_cache_tag(rq, "%s", PQgetvalue(r, 0, tags));
		ret = reply_json(rq, 200, PQgetvalue(r, 0, 0), PQgetlength(r, 0, 0));
	}
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
	log_info("conflict on %s %s: %s", rq->method, rq->path, db_error(request_db(rq)));
	return reply_problem(rq, PROBLEM_CONFLICT,
			     "the request conflicts with the current state of the data", NULL);
}

int reply_db_failure(struct request *rq, enum db_rc rc)
{
	if (rc == DB_DOWN || rc == DB_RETRY)
		return reply_problem(rq, PROBLEM_UNAVAILABLE,
				     "the database is unavailable; try again shortly", NULL);
	/* a data exception: a value from the request the database cannot use.
	 * Every parameter is checked before it gets there, so this is rare;
	 * the database's own words stay in the log. */
	if (rc == DB_INVALID) {
		log_warn("database refused a value on %s %s: %s", rq->method, rq->path,
			 db_error(request_db(rq)));
		return reply_problem(rq, PROBLEM_VALIDATION,
				     "a value in the request cannot be used", NULL);
	}
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

static enum MHD_Result last_forwarded(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	(void)kind;
	if (!strcasecmp(key, "X-Forwarded-For"))
		*(const char **)cls = value;
	return MHD_YES;
}

/* The client's address as 16 bytes; false when it has none we know. From a
 * trusted proxy (WORKPLAN_TRUSTED_PROXIES) it is the last address of the
 * last X-Forwarded-For: the one the proxy added, which a client cannot
 * forge (whatever it sent itself comes before). A proxy's request without
 * a readable one counts against the proxy. */
static bool client_addr(struct request *rq, unsigned char out[16])
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct config *cfg = http_config();
	const char *xff = NULL, *last;
	char a[64];
	size_t n;

	if (!limit_addr(ci ? ci->client_addr : NULL, out))
		return false;
	for (int i = 0; cfg && i < cfg->ntrusted_proxies; i++) {
		if (memcmp(out, cfg->trusted_proxies[i], 16))
			continue;
		MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, last_forwarded, &xff);
		if (!xff)
			break;
		last = strrchr(xff, ',');
		last = last ? last + 1 : xff;
		last += strspn(last, " \t");
		n = strcspn(last, " \t");
		if (n >= sizeof a || last[n + strspn(last + n, " \t")])
			break;
		memcpy(a, last, n);
		a[n] = '\0';
		memset(out, 0, 16);
		out[10] = out[11] = 0xff;
		if (inet_pton(AF_INET, a, out + 12) != 1 && inet_pton(AF_INET6, a, out) != 1)
			return limit_addr(ci->client_addr, out);
		break;
	}
	return true;
}

bool request_client_addr(struct request *rq, unsigned char out[16])
{
	return client_addr(rq, out);
}

void request_auth_failed(struct request *rq)
{
	unsigned char addr[16];
	int retry_after;

	metrics_auth_failure(false);
	if (client_addr(rq, addr))
		limit_take(LIMIT_AUTH_FAILURES, addr, 16, &retry_after);
}

bool request_auth_limited(struct request *rq, int *retry_after)
{
	unsigned char addr[16];

	if (!client_addr(rq, addr) || limit_allows(LIMIT_AUTH_FAILURES, addr, 16, retry_after))
		return false;
	metrics_auth_failure(true);
	return true;
}

/* The rate limit, per member, or per client address without a token. */
static bool rate_allows(struct request *rq, int *retry_after)
{
	unsigned char who[17] = "m";

	if (rq->who.member_id) {
		memcpy(who + 1, &rq->who.member_id, sizeof rq->who.member_id);
		return limit_take(LIMIT_REQUESTS, who, 1 + sizeof rq->who.member_id, retry_after);
	}
	if (client_addr(rq, who))
		return limit_take(LIMIT_REQUESTS, who, 16, retry_after);
	return true;
}

static int reply_rate_limited(struct request *rq, const char *detail, int retry_after)
{
	char s[16];

	snprintf(s, sizeof s, "%d", retry_after);
	return reply_problem_with(rq, PROBLEM_RATE_LIMITED, detail, NULL,
				  (const char *const[]){ "Retry-After", s, NULL });
}

/* Authenticates the caller of a member route. Failed attempts are counted
 * per client address, and an address past its budget is refused before
 * its token is looked up. Returns -1 when the caller is known. */
static int admit_caller(struct request *rq)
{
	unsigned char addr[16];
	bool has_addr = client_addr(rq, addr);
	int retry_after;
	enum problem p;
	const char *why;

	if (auth_known(rq, &rq->who))
		return -1;
	if (has_addr && !limit_allows(LIMIT_AUTH_FAILURES, addr, 16, &retry_after)) {
		metrics_auth_failure(true);
		return reply_rate_limited(rq, "too many failed sign-ins from this address; wait",
					  retry_after);
	}
	if (auth_caller(rq, &rq->who, &p, &why))
		return -1;
	if (p == PROBLEM_UNAUTHORIZED && auth_presented(rq)) {
		metrics_auth_failure(false);
		if (has_addr)
			limit_take(LIMIT_AUTH_FAILURES, addr, 16, &retry_after);
	}
	return reply_problem(rq, p, why, NULL);
}

bool request_origin_is_ours(struct request *rq)
{
	const char *origin = request_header(rq, "Origin");
	const struct config *cfg = http_config();

	return origin && cfg && !strcmp(origin, cfg->public_origin);
}

/* Cross-site request forgery (SPEC 10): a browser sends the session
 * cookie with any request to us, whichever page made it, so a change
 * made with the cookie must name our own origin in Origin. A missing
 * Origin, "null" (sandboxed and privacy-sensitive contexts) or another
 * origin is refused before anything is read or written. Bearer tokens
 * are not sent by browsers on their own, and reads change nothing. */
static bool origin_allows(struct request *rq)
{
	bool safe = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");

	return safe || !rq->by_session || request_origin_is_ours(rq);
}

/* "application/json", with no parameter but charset=utf-8 (RFC 8259:
 * JSON exchanged between systems is UTF-8; another charset would be a
 * body we read wrong). */
static bool is_json_type(const char *ct)
{
	size_t n = strlen("application/json");
	const char *p;

	if (!ct || strncasecmp(ct, "application/json", n))
		return false;
	for (p = ct + n; *p;) {
		char name[16], value[16];
		int used = 0;

		p += strspn(p, " \t");
		if (*p != ';')
			return false;
		p += 1 + strspn(p + 1, " \t");
		if (sscanf(p, "%15[^= \t;]=%15[^ \t;]%n", name, value, &used) != 2 ||
		    strcasecmp(name, "charset") ||
		    (strcasecmp(value, "utf-8") && strcasecmp(value, "\"utf-8\"")))
			return false;
		p += used;
	}
	return true;
}

/* Does the request carry a body? Decided from the headers. */
static bool has_body(struct request *rq)
{
	const char *cl = request_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (cl && strcmp(cl, "0")) || request_header(rq, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* A ROUTE_STREAM route: a body only with its length up front, then the
 * handler's say before any of it is read. */
static int stream_admit(struct request *rq, const char *cl)
{
	int ret;

	if (request_header(rq, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return reply_problem(rq, PROBLEM_LENGTH_REQUIRED,
				     "send the body with a Content-Length, not chunked", NULL);
	rq->body_max = BODY_MAX;
	rq->stream_head = true;
	ret = rq->match.route->handler(rq);
	rq->stream_head = false;
	if (ret >= 0)
		return ret;
	if (cl && (strlen(cl) > 12 || (size_t)atoll(cl) > rq->body_max)) {
		char detail[120];

		snprintf(detail, sizeof detail, "the body is larger than the %zu bytes this request takes",
			 rq->body_max);
		return reply_problem(rq, PROBLEM_PAYLOAD_TOO_LARGE, detail, NULL);
	}
	if (rq->body_max > BODY_MAX) {
		buf_free(&rq->body);
		buf_init(&rq->body, rq->body_max);
	}
	return -1;
}

/* Every path outside /v1: the web app's files and shell. */
static const struct route web_route = { "GET", "/*", ROUTE_PUBLIC, ROLE_NONE, h_web };

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
	/* outside /v1, the web app (api/h_web.c) */
	if (rr == ROUTER_NOT_FOUND && web_serves(rq->path)) {
		rr = strcmp(method, "GET") ? ROUTER_METHOD_NOT_ALLOWED : ROUTER_FOUND;
		rq->match.route = &web_route;
		rq->match.index = METRICS_WEB;
		snprintf(rq->match.allow, sizeof rq->match.allow, "GET, HEAD");
	}
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
	if (!(route->flags & ROUTE_PUBLIC)) {
		int ret = admit_caller(rq);

		if (ret >= 0)
			return ret;
	}
	if (!origin_allows(rq))
		return reply_problem(rq, PROBLEM_CSRF,
				     "a change made with the session cookie must come from a page of "
				     "this service (its Origin header)",
				     NULL);
	if (!rate_allows(rq, &retry_after))
		return reply_rate_limited(rq, "too many requests from this caller; slow down",
					  retry_after);
	if (rq->who.role < route->min_role)
		return reply_problem(rq, PROBLEM_FORBIDDEN, "your role does not allow this", NULL);
	cl = request_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (route->flags & ROUTE_STREAM)
		return stream_admit(rq, cl);
	if (has_body(rq)) {
		if (!(route->flags & (ROUTE_BODY | ROUTE_FORM | ROUTE_UPLOAD)))
			return reply_problem(rq, PROBLEM_BAD_REQUEST, "this request takes no body",
					     NULL);
		/* a file: its type is decided by its content, by the handler */
		if (route->flags & ROUTE_UPLOAD) {
			if (cl && (strlen(cl) > 9 || atol(cl) > UPLOAD_MAX))
				return reply_problem(rq, PROBLEM_PAYLOAD_TOO_LARGE,
						     "the file is larger than 4 MiB", NULL);
			rq->body.max = UPLOAD_MAX;
			return -1;
		}
		if (cl && (strlen(cl) > 9 || atol(cl) > BODY_MAX))
			return reply_problem(rq, PROBLEM_PAYLOAD_TOO_LARGE,
					     "the body is larger than 64 KiB", NULL);
		if (!(route->flags & ROUTE_FORM) && !is_json_type(request_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE)))
			return reply_problem(rq, PROBLEM_UNSUPPORTED_MEDIA_TYPE,
					     "send the body as application/json in UTF-8", NULL);
	}
	return -1;
}

/* The body is complete: parse it and run the handler. */
static int http_dispatch(struct request *rq)
{
	const struct route *route = rq->match.route;

	if (rq->body_too_large)
		return reply_problem(rq, PROBLEM_PAYLOAD_TOO_LARGE,
				     route->flags & ROUTE_UPLOAD ? "the file is larger than 4 MiB"
								 : "the body is larger than 64 KiB",
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

/* What the request line may hold: an encoded NUL would cut the path or a
 * value short, an encoded '/' would act as a separator between segments. */
#define TARGET_MAX 8192
#define ARGS_MAX 100
#define HEAD_MAX (16 * 1024)

static void refuse(struct request *rq, enum problem p, const char *why)
{
	if (!rq->refused) {
		rq->refused = why;
		rq->refused_as = p;
	}
}

void *http_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct request *rq = xcalloc(1, sizeof *rq);
	const char *query = strchr(uri, '?');
	int args = 0;

	(void)cls;
	rq->conn = conn;
	rq->route_index = -1;
	rq->start_us = now_us();
	buf_init(&rq->body, BODY_MAX);
	atomic_fetch_add(&in_flight, 1);
	/* the target ends where libmicrohttpd put a NUL for the space before
	 * the version (or for the line's end): an earlier NUL was in the line */
	if (uri[strlen(uri) + 1] != '\0' && strncmp(uri + strlen(uri) + 1, "HTTP/", 5))
		refuse(rq, PROBLEM_BAD_REQUEST, "the request target holds a NUL byte");
	if (strlen(uri) > TARGET_MAX)
		refuse(rq, PROBLEM_URI_TOO_LONG, "the request target is longer than 8 KiB");
	for (const char *p = uri; *p; p++) {
		if (*p == '%' && p[1] == '0' && p[2] == '0')
			refuse(rq, PROBLEM_BAD_REQUEST, "the request target holds a NUL byte (%00)");
		if (*p == '%' && p[1] == '2' && (p[2] == 'f' || p[2] == 'F') && (!query || p < query))
			refuse(rq, PROBLEM_BAD_REQUEST, "a path segment holds an encoded '/' (%2F)");
		if (query && p >= query && (*p == '&' || *p == '?'))
			args++;
	}
	if (args > ARGS_MAX)
		refuse(rq, PROBLEM_URI_TOO_LONG, "the query has more than 100 parameters");
	return rq;
}

/* The header fields, counted: the ones whose meaning a repeat would make
 * ambiguous, and whether any holds a NUL byte (libmicrohttpd keeps values
 * as C strings, so "token\0junk" would read as "token"). */
struct head {
	size_t bytes;
	bool nul;
	int content_length, transfer_encoding, host, authorization, idempotency_key, content_type,
	    origin;
};

static enum MHD_Result head_count(void *cls, enum MHD_ValueKind kind, const char *key,
				  size_t key_size, const char *value, size_t value_size)
{
	struct head *h = cls;
	static const struct {
		const char *name;
		size_t offset;
	} counted[] = {
		{ MHD_HTTP_HEADER_CONTENT_LENGTH, offsetof(struct head, content_length) },
		{ MHD_HTTP_HEADER_TRANSFER_ENCODING, offsetof(struct head, transfer_encoding) },
		{ MHD_HTTP_HEADER_HOST, offsetof(struct head, host) },
		{ MHD_HTTP_HEADER_AUTHORIZATION, offsetof(struct head, authorization) },
		{ "Idempotency-Key", offsetof(struct head, idempotency_key) },
		{ MHD_HTTP_HEADER_CONTENT_TYPE, offsetof(struct head, content_type) },
		{ "Origin", offsetof(struct head, origin) },
	};

	(void)kind;
	h->bytes += key_size + value_size + 4;
	/* libmicrohttpd 0.9.75 ends the value at a NUL byte and keeps it in
	 * its read buffer, where it replaced the line's CR LF by two NULs:
	 * anything else after the value's end is a NUL inside the line (or a
	 * bare LF line end, which we do not take either) */
	if (value && value[value_size + 1] != '\0')
		h->nul = true;
	for (size_t i = 0; i < ARRAY_LEN(counted); i++)
		if (!strcasecmp(key, counted[i].name))
			(*(int *)((char *)h + counted[i].offset))++;
	return MHD_YES;
}

/* Refuses what a proxy in front could read differently from us (request
 * smuggling: RFC 9112 6.3), and headers that must not be repeated. */
static void head_check(struct request *rq, const char *version)
{
	struct head h = { 0 };
	const char *te;

	MHD_get_connection_values_n(rq->conn, MHD_HEADER_KIND, head_count, &h);
	te = request_header(rq, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if (h.nul)
		refuse(rq, PROBLEM_BAD_REQUEST, "a header field holds a NUL byte");
	if (h.bytes > HEAD_MAX)
		refuse(rq, PROBLEM_HEADERS_TOO_LARGE, "the header fields are larger than 16 KiB");
	if (h.content_length > 1)
		refuse(rq, PROBLEM_BAD_REQUEST, "more than one Content-Length header");
	if (h.transfer_encoding > 1 || (te && strcasecmp(te, "chunked")))
		refuse(rq, PROBLEM_BAD_REQUEST, "the only Transfer-Encoding taken is one 'chunked'");
	if (h.content_length && h.transfer_encoding)
		refuse(rq, PROBLEM_BAD_REQUEST, "both Content-Length and Transfer-Encoding");
	if (h.host > 1 || (!h.host && !strcmp(version, MHD_HTTP_VERSION_1_1)))
		refuse(rq, PROBLEM_BAD_REQUEST, "an HTTP/1.1 request needs exactly one Host header");
	if (h.authorization > 1)
		refuse(rq, PROBLEM_BAD_REQUEST, "more than one Authorization header");
	if (h.idempotency_key > 1)
		refuse(rq, PROBLEM_BAD_REQUEST, "more than one Idempotency-Key header");
	if (h.content_type > 1)
		refuse(rq, PROBLEM_BAD_REQUEST, "more than one Content-Type header");
	if (h.origin > 1) /* the cross-site check reads the first (http.c) */
		refuse(rq, PROBLEM_BAD_REQUEST, "more than one Origin header");
}

enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
			    const char *method, const char *version, const char *upload_data,
			    size_t *upload_data_size, void **req_cls)
{
	struct request *rq = *req_cls;
	int ret;

	(void)cls;
	if (!rq) /* no target was logged: cannot happen with the URI log callback */
		*req_cls = rq = http_uri_log(NULL, url, conn);
	if (!rq->method) {
		rq->method = method;
		rq->path = url;
		head_check(rq, version);
		/* a request we cannot read safely ends its connection */
		if (rq->refused)
			return (enum MHD_Result)reply_problem_with(
				rq, rq->refused_as, rq->refused, NULL,
				(const char *const[]){ "Connection", "close", NULL });
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
	if (*upload_data_size && (rq->match.route->flags & ROUTE_STREAM)) {
		/* libmicrohttpd holds the client to its Content-Length; counted
		 * here too, the body ends at what the handler allowed */
		rq->body_seen += *upload_data_size;
		if (rq->body_seen > rq->body_max)
			return MHD_NO;
		if (rq->stream_sink && !rq->stream_sink(rq, upload_data, *upload_data_size))
			return MHD_NO;
	}
	if (*upload_data_size) {
		if (!rq->stream_sink && !rq->body_too_large && !buf_add(&rq->body, upload_data, *upload_data_size)) {
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
	snprintf(path, sizeof path, "%s", rq->path ? rq->path : "-");
	log_info("%s %s [%s] %d %lldus%s", rq->method ? rq->method : "-", path,
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
