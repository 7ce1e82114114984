/* Token lookup. last_used_at is written at most once a minute per token,
 * so reads do not turn into writes. */
#include "auth.h"
#include "cache.h"
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
	"  WHERE t.hash = $1::bytea AND t.revoked_at IS NULL"
	"), touch AS ("
	"  UPDATE api_token SET last_used_at = now() FROM t"
	"  WHERE api_token.id = t.id"
	"    AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')"
	") SELECT member_id, role, entity FROM t");

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

/* Who a token belongs to, kept in the cache (under its hash, never the
 * token) for up to a minute, so that last_used_at stays within a minute. */
struct known {
	struct caller who;
	long long checked_us;
};

static void known_copy(void *value, void *ctx)
{
	memcpy(ctx, value, sizeof(struct known));
}

static bool auth_remembered(const unsigned char *key, size_t n, struct caller *who)
{
	struct known k;

	if (!cache_use(key, n, known_copy, &k) || now_us() - k.checked_us > 60000000)
		return false;
	*who = k.who;
	return true;
}

static void auth_remember(uint64_t version, const unsigned char *key, size_t n,
			  const struct caller *who)
{
	struct known *k = xmalloc(sizeof *k);

	k->who = *who;
	k->checked_us = now_us();
	if (!cache_put(version, key, n, k, sizeof *k, free))
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

	if (!cache_put(version, key, n, mark, 1, free))
		free(mark);
}

/* The token of the Authorization header: its cache key ("T" and its
 * hash); false with why when the header holds no well-formed token. */
static bool auth_key(struct request *rq, unsigned char key[1 + SHA256_LEN], const char **why)
{
	const char *h = request_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);

	if (!h) {
		*why = "this resource needs a bearer token (Authorization: Bearer <token>)";
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
	uint64_t version;
	enum db_rc rc;
	PGresult *r;

	*p = PROBLEM_UNAUTHORIZED;
	if (!auth_key(rq, key, why))
		return false;
	if (auth_remembered(key, sizeof key, who))
		return true;
	key[0] = 'M';
	if (auth_missed(key, sizeof key)) {
		*why = "the token is unknown or revoked";
		return false;
	}
	version = cache_version();
	rc = db_query_params(request_db(rq), &stmt_auth_token, 1,
			     (const char *const[]){ (const char *)key + 1 }, (const int[]){ SHA256_LEN },
			     (const int[]){ 1 }, &r);
	if (rc != DB_OK) {
		*p = PROBLEM_UNAVAILABLE;
		*why = "cannot check the token: the database is unavailable";
		return false;
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		auth_remember_miss(version, key, sizeof key);
		*why = "the token is unknown or revoked";
		return false;
	}
	key[0] = 'T';
	who->member_id = db_int(r, 0, "member_id");
	who->role = role_parse(db_col(r, 0, "role"));
	snprintf(who->entity, sizeof who->entity, "%s", db_col(r, 0, "entity"));
	PQclear(r);
	auth_remember(version, key, sizeof key, who);
	return true;
}
