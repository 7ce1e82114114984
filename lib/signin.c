/* Sign-in tokens: made here, stored by hash. */
#include "signin.h"
#include "clock.h"

#include <stdio.h>
#include <time.h>

DB_STMT(stmt_signin_store,
	"INSERT INTO signin_token (member_id, kind, hash, created_by, created_at, expires_at)"
	" VALUES ($1::bigint, $2, $3::bytea, $4::bigint, $5::timestamptz, $6::timestamptz)");

static void rfc3339(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

bool signin_new(struct signin *s, const char *public_url, int ttl_s)
{
	time_t now = clock_now();
	int n;

	if (!token_generate_as(TOKEN_PREFIX_SIGNIN, s->token))
		return false;
	token_hash(s->token, s->hash);
	rfc3339(now, s->now);
	rfc3339(now + ttl_s, s->expires_at);
	n = snprintf(s->url, sizeof s->url, "%s/sign-in#%s", public_url, s->token);
	return n > 0 && (size_t)n < sizeof s->url;
}

enum db_rc signin_store(struct db *db, const struct signin *s, const char *member,
			const char *kind, const char *created_by)
{
	PGresult *r;
	enum db_rc rc = db_query_params(
		db, &stmt_signin_store, 6,
		(const char *const[]){ member, kind, (const char *)s->hash, created_by, s->now,
				       s->expires_at },
		(const int[]){ 0, 0, SHA256_LEN, 0, 0, 0 }, (const int[]){ 0, 0, 1, 0, 0, 0 }, &r);

	PQclear(r);
	return rc;
}
