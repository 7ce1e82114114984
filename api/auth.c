/* Who is calling: the bearer token of the Authorization header, or else
 * the wp_session cookie a browser got when it signed in (SPEC 10). Either
 * is looked up by its SHA-256; neither is ever stored or logged.
 * last_used_at and last_seen_at are written at most once a minute, so
 * reads do not turn into writes. A deactivated member's tokens and
 * sessions authenticate nobody. */
#include "auth.h"
#include "cache.h"
#include "clock.h"
#include "util.h"
#include "token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

DB_STMT(stmt_auth_token,
	"WITH t AS ("
	"  SELECT t.id, t.last_used_at, m.id AS member_id, m.role, m.entity"
	"  FROM api_token t JOIN member m ON m.id = t.member_id"
	"  WHERE t.hash = $1::bytea AND t.revoked_at IS NULL AND m.active"
	"), touch AS ("
	"  UPDATE api_token SET last_used_at = now() FROM t"
	"  WHERE api_token.id = t.id"
	"    AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')"
	") SELECT member_id, role, entity, 0 AS until FROM t");

/* A live session: not ended, seen within 12 hours, not past its end; on
 * the service's clock ($2). until: when it ends at the latest. */
DB_STMT(stmt_auth_session,
	"WITH s AS ("
	"  SELECT s.id, s.last_seen_at, s.expires_at, m.id AS member_id, m.role, m.entity"
	"  FROM member_session s JOIN member m ON m.id = s.member_id"
	"  WHERE s.hash = $1::bytea AND s.ended_at IS NULL AND m.active"
	"    AND s.expires_at > $2::timestamptz"
	"    AND s.last_seen_at > $2::timestamptz - interval '" SESSION_IDLE_SQL "'"
	"), touch AS ("
	"  UPDATE member_session SET last_seen_at = $2::timestamptz FROM s"
	"  WHERE member_session.id = s.id AND s.last_seen_at < $2::timestamptz - interval '1 minute'"
	") SELECT member_id, role, entity,"
	"  extract(epoch FROM s.expires_at)::bigint AS until FROM s");

enum role role_parse(const char *s)
{
	if (!strcmp(s, "cochair"))
		return ROLE_COCHAIR;
	if (!strcmp(s, "lead"))
		return ROLE_LEAD;
	if (!strcmp(s, "viewer"))
		return ROLE_VIEWER;
	return ROLE_NONE;
}

/* Who a token or session belongs to, kept in the cache (under its hash,
 * never the token) for up to a minute, so that last_used_at and
 * last_seen_at stay within a minute; a session also not past its end. */
struct known {
	struct caller who;
	long long checked_us;
	time_t until; /* 0: no end of its own */
};

static void known_copy(void *value, void *ctx)
{
	memcpy(ctx, value, sizeof(struct known));
}

static bool auth_remembered(const unsigned char *key, size_t n, struct caller *who)
{
	struct known k;

	if (!cache_use(key, n, known_copy, &k) || now_us() - k.checked_us > 60000000 ||
	    (k.until && clock_now() >= k.until))
		return false;
	*who = k.who;
	return true;
}

static void auth_remember(uint64_t version, const unsigned char *key, size_t n,
			  const struct caller *who, time_t until)
{
	struct known *k = xmalloc(sizeof *k);

	k->who = *who;
	k->checked_us = now_us();
	k->until = until;
	if (!cache_put(version, key, n, k, sizeof *k, free, "T"))
		free(k);
}

/* A token looked up and not found, remembered until the next write, so a
 * script that repeats a revoked or mistyped token costs no lookup. */
static void miss_found(void *value, void *ctx)
{
	(void)value;
	*(bool *)ctx = true;
}

static bool auth_missed(const unsigned char *key, size_t n)
{
	bool found = false;

	cache_use(key, n, miss_found, &found);
	return found;
}

static void auth_remember_miss(uint64_t version, const unsigned char *key, size_t n)
{
	char *mark = xmalloc(1);

	if (!cache_put(version, key, n, mark, 1, free, "T"))
		free(mark);
}

const char *auth_session_cookie(struct request *rq)
{
	return MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, SESSION_COOKIE);
}

bool auth_presented(struct request *rq)
{
	return request_header(rq, MHD_HTTP_HEADER_AUTHORIZATION) || auth_session_cookie(rq);
}

/* The credential of the request and its cache key: "T" and the hash of
 * the Authorization header's token, or (without that header) "S" and the
 * hash of the session cookie. A miss is kept under "M" (a token) or "U"
 * (a session). False with why when the request holds no well-formed
 * credential. */
static bool auth_key(struct request *rq, unsigned char key[1 + SHA256_LEN], const char **why)
{
	const char *h = request_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *cookie = h ? NULL : auth_session_cookie(rq);

	rq->by_session = cookie != NULL;
	if (cookie) {
		if (!token_well_formed(cookie, TOKEN_PREFIX_SESSION)) {
			*why = "the session cookie is not one this service set; sign in again";
			return false;
		}
		key[0] = 'S';
		token_hash(cookie, key + 1);
		return true;
	}
	if (!h) {
		*why = "this resource needs a bearer token (Authorization: Bearer <token>) "
		       "or a session (sign in)";
		return false;
	}
	if (strncasecmp(h, "Bearer ", 7) || strlen(h + 7) != TOKEN_STRLEN - 1 ||
	    strncmp(h + 7, TOKEN_PREFIX, strlen(TOKEN_PREFIX))) {
		*why = "the Authorization header is not a valid bearer token";
		return false;
	}
	key[0] = 'T';
	token_hash(h + 7, key + 1);
	return true;
}

bool auth_known(struct request *rq, struct caller *who)
{
	unsigned char key[1 + SHA256_LEN];
	const char *why;

	return auth_key(rq, key, &why) && auth_remembered(key, sizeof key, who);
}

bool auth_caller(struct request *rq, struct caller *who, enum problem *p, const char **why)
{
	unsigned char key[1 + SHA256_LEN];
	char found, now[32];
	bool session;
	uint64_t version;
	enum db_rc rc;
	PGresult *r;

	*p = PROBLEM_UNAUTHORIZED;
	if (!auth_key(rq, key, why))
		return false;
	if (auth_remembered(key, sizeof key, who))
		return true;
	found = (char)key[0];
	session = found == 'S';
	key[0] = session ? 'U' : 'M';
	if (auth_missed(key, sizeof key)) {
		*why = session ? "the session has ended; sign in again" : "the token is unknown or revoked";
		return false;
	}
	version = cache_version();
	clock_now_text(now);
	rc = db_query_params(request_db(rq), session ? &stmt_auth_session : &stmt_auth_token,
			     session ? 2 : 1, (const char *const[]){ (const char *)key + 1, now },
			     (const int[]){ SHA256_LEN, 0 }, (const int[]){ 1, 0 }, &r);
	if (rc != DB_OK) {
		*p = PROBLEM_UNAVAILABLE;
		*why = "cannot check the credential: the database is unavailable";
		return false;
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		auth_remember_miss(version, key, sizeof key);
		*why = session ? "the session has ended; sign in again" : "the token is unknown or revoked";
		return false;
	}
	key[0] = (unsigned char)found;
	who->member_id = db_int(r, 0, "member_id");
	who->role = role_parse(db_col(r, 0, "role"));
	snprintf(who->entity, sizeof who->entity, "%s", db_col(r, 0, "entity"));
	auth_remember(version, key, sizeof key, who, (time_t)db_int(r, 0, "until"));
	PQclear(r);
	return true;
}
