/* /v1/auth: signing in from a browser without a password (SPEC 10). A
 * member asks for a one-time link by mail (or follows an invitation),
 * and exchanges its token for a session, named by the wp_session cookie;
 * signing out ends the session. Asking for a link answers the same
 * whether or not the address belongs to a member. */
#include "auth.h"
#include "clock.h"
#include "config.h"
#include "handlers.h"
#include "jspec.h"
#include "limit.h"
#include "signin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* At most this many requests for links to one address in SIGNIN_LINK_S
 * lead to a mail; beyond it nothing more is sent (and the answer is the
 * same). */
#define LINKS_PER_ADDRESS 3

/* One statement whether or not the address is known, so that both take
 * the same path and both write: the request (by the hash of the address),
 * then for an active member within its budget the link and its mail. */
DB_STMT(stmt_link,
	"WITH h AS (SELECT sha256(convert_to(lower($1), 'UTF8')) AS email_hash"
	"), req AS ("
	"  INSERT INTO signin_request (email_hash, created_at) SELECT email_hash, $3::timestamptz FROM h"
	"), m AS ("
	"  SELECT id FROM member m WHERE lower(m.email) = lower($1) AND m.active"
	"    AND (SELECT count(*) FROM signin_request r, h WHERE r.email_hash = h.email_hash"
	"         AND r.created_at > $3::timestamptz - make_interval(secs => $7::int)) < $8::int"
	"), t AS ("
	"  INSERT INTO signin_token (member_id, kind, hash, created_at, expires_at)"
	"  SELECT id, 'link', $2::bytea, $3::timestamptz, $4::timestamptz FROM m"
	"  RETURNING member_id"
	") SELECT outbox_mail(t.member_id, 'sign-in',"
	"  jsonb_build_object('url', $5::text, 'expires_at', $6::text), $3::timestamptz) FROM t");

/* A sign-in token, used once: it starts a session for its member. */
DB_STMT(stmt_session_start,
	"WITH t AS ("
	"  UPDATE signin_token t SET used_at = $2::timestamptz FROM member m"
	"  WHERE t.hash = $1::bytea AND t.used_at IS NULL AND t.expires_at > $2::timestamptz"
	"    AND m.id = t.member_id AND m.active"
	"  RETURNING t.member_id"
	"), s AS ("
	"  INSERT INTO member_session (member_id, hash, created_at, last_seen_at, expires_at)"
	"  SELECT member_id, $3::bytea, $2::timestamptz, $2::timestamptz, $4::timestamptz FROM t"
	"  RETURNING member_id, expires_at"
	") SELECT json_build_object('member', member_json(m), 'expires_at', utc_text(s.expires_at))::text"
	" FROM s JOIN member m ON m.id = s.member_id");

/* Sessions, sign-in tokens and requests a day past their end go now and
 * then. */
DB_STMT(stmt_signin_sweep,
	"WITH s AS (DELETE FROM member_session"
	"  WHERE coalesce(ended_at, least(expires_at, last_seen_at + interval '" SESSION_IDLE_SQL "'))"
	"    < $1::timestamptz - interval '1 day'),"
	" r AS (DELETE FROM signin_request WHERE created_at < $1::timestamptz - interval '1 day')"
	" DELETE FROM signin_token WHERE expires_at < $1::timestamptz - interval '1 day'");

static void signin_sweep(struct request *rq, const char *now)
{
	PGresult *r;

	if (rand() % 64 == 0 &&
	    db_query(request_db(rq), &stmt_signin_sweep, 1, (const char *const[]){ now }, &r) == DB_OK)
		PQclear(r);
}

DB_STMT(stmt_session_end,
	"UPDATE member_session SET ended_at = $3::timestamptz"
	" WHERE hash = $1::bytea AND member_id = $2::bigint AND ended_at IS NULL");

static int reply_sign_in_limited(struct request *rq, const char *detail, int retry_after)
{
	char s[16];

	snprintf(s, sizeof s, "%d", retry_after);
	return reply_problem_with(rq, PROBLEM_RATE_LIMITED, detail, NULL,
				  (const char *const[]){ "Retry-After", s, NULL });
}

/* The sign-in routes take no cookie, but a page elsewhere could still
 * post to them from a browser: an Origin, when sent, must be ours. */
static bool foreign_origin(struct request *rq)
{
	return request_header(rq, "Origin") && !request_origin_is_ours(rq);
}

#define LINK_ANSWER                                                                         \
	"{\"message\":\"If this address belongs to an active member, a sign-in link is on its " \
	"way. It works once, within 15 minutes.\"}"

int h_auth_link(struct request *rq)
{
	const char *email = NULL;
	const struct js_field spec[] = {
		{ .name = "email", .type = JS_EMAIL, .flags = JS_REQUIRED, .max = 254, .out = &email },
		{ 0 },
	};
	char ttl[16], most[16];
	unsigned char addr[16];
	struct signin s;
	json_t *errors;
	int retry_after;
	enum db_rc rc;
	PGresult *r;

	if (foreign_origin(rq))
		return reply_problem(rq, PROBLEM_CSRF, "sign-in requests come from this service's pages",
				     NULL);
	if (request_client_addr(rq, addr) &&
	    !limit_take(LIMIT_SIGNIN_LINKS, addr, sizeof addr, &retry_after))
		return reply_sign_in_limited(rq, "too many sign-in links asked for from this address; wait",
					     retry_after);
	errors = json_array();
	if (!js_validate(rq->json, spec, errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	if (!signin_new(&s, http_config()->public_url, SIGNIN_LINK_S))
		return reply_problem(rq, PROBLEM_INTERNAL, "no randomness for a token", NULL);
	snprintf(ttl, sizeof ttl, "%d", SIGNIN_LINK_S);
	snprintf(most, sizeof most, "%d", LINKS_PER_ADDRESS);
	rc = db_query_params(request_db(rq), &stmt_link, 8,
			     (const char *const[]){ email, (const char *)s.hash, s.now, s.expires_at,
						    s.url, s.expires_at, ttl, most },
			     (const int[]){ 0, SHA256_LEN, 0, 0, 0, 0, 0, 0 },
			     (const int[]){ 0, 1, 0, 0, 0, 0, 0, 0 }, &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	PQclear(r);
	signin_sweep(rq, s.now);
	return reply_json(rq, 202, LINK_ANSWER, strlen(LINK_ANSWER));
}

/* wp_session=<id>; HttpOnly; SameSite=Strict; Path=/ (contract), Secure
 * under https. No Max-Age: the cookie goes with the browser, the session
 * ends on the server as SPEC 10 says. An empty value that expires now
 * clears it. */
static void session_cookie(const char *value, char *out, size_t n)
{
	snprintf(out, n, SESSION_COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/%s%s", value,
		 *value ? "" : "; Max-Age=0", http_config()->public_https ? "; Secure" : "");
}

int h_auth_session_create(struct request *rq)
{
	const char *token = NULL;
	const struct js_field spec[] = {
		{ .name = "token", .type = JS_STRING, .flags = JS_REQUIRED, .min = 1, .max = 100,
		  .out = &token },
		{ 0 },
	};
	char session[TOKEN_STRLEN], now[32], expires[32], cookie[128];
	unsigned char signin_hash[SHA256_LEN], session_hash[SHA256_LEN];
	time_t t = clock_now();
	struct tm tm;
	json_t *errors;
	int retry_after, ret;
	enum db_rc rc;
	PGresult *r;

	if (foreign_origin(rq))
		return reply_problem(rq, PROBLEM_CSRF, "sign-in requests come from this service's pages",
				     NULL);
	if (request_auth_limited(rq, &retry_after))
		return reply_sign_in_limited(rq, "too many failed sign-ins from this address; wait",
					     retry_after);
	errors = json_array();
	if (!js_validate(rq->json, spec, errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	if (!token_well_formed(token, TOKEN_PREFIX_SIGNIN)) {
		request_auth_failed(rq);
		return reply_problem(rq, PROBLEM_UNAUTHORIZED,
				     "this is not a sign-in link of this service; ask for a new one", NULL);
	}
	if (!token_generate_as(TOKEN_PREFIX_SESSION, session))
		return reply_problem(rq, PROBLEM_INTERNAL, "no randomness for a session", NULL);
	token_hash(token, signin_hash);
	token_hash(session, session_hash);
	clock_now_text(now);
	t += SESSION_MAX_S;
	gmtime_r(&t, &tm);
	strftime(expires, sizeof expires, "%Y-%m-%dT%H:%M:%SZ", &tm);
	rc = db_query_params(request_db(rq), &stmt_session_start, 4,
			     (const char *const[]){ (const char *)signin_hash, now,
						    (const char *)session_hash, expires },
			     (const int[]){ SHA256_LEN, 0, SHA256_LEN, 0 }, (const int[]){ 1, 0, 1, 0 },
			     &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	if (PQntuples(r) != 1) {
		PQclear(r);
		request_auth_failed(rq);
		return reply_problem(rq, PROBLEM_UNAUTHORIZED,
				     "this sign-in link was used already or has expired; ask for a new one",
				     NULL);
	}
	session_cookie(session, cookie, sizeof cookie);
	ret = reply_full(rq, 201, "application/json", PQgetvalue(r, 0, 0), PQgetlength(r, 0, 0),
			 (const char *const[]){ "Set-Cookie", cookie, NULL });
	PQclear(r);
	signin_sweep(rq, now);
	return ret;
}

int h_auth_session_delete(struct request *rq)
{
	const char *cookie = auth_session_cookie(rq);
	unsigned char hash[SHA256_LEN];
	char member[24], now[32], clear[128];
	enum db_rc rc;
	PGresult *r;

	/* the session of the cookie, if it is the caller's (a bearer token
	 * alongside it does not end another member's session) */
	if (cookie && token_well_formed(cookie, TOKEN_PREFIX_SESSION)) {
		token_hash(cookie, hash);
		snprintf(member, sizeof member, "%lld", rq->who.member_id);
		clock_now_text(now);
		rc = db_query_params(request_db(rq), &stmt_session_end, 3,
				     (const char *const[]){ (const char *)hash, member, now },
				     (const int[]){ SHA256_LEN, 0, 0 }, (const int[]){ 1, 0, 0 }, &r);
		if (rc != DB_OK)
			return reply_db_failure(rq, rc);
		PQclear(r);
	}
	session_cookie("", clear, sizeof clear);
	return reply_empty(rq, 204, (const char *const[]){ "Set-Cookie", clear, NULL });
}
