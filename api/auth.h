/* Authentication: a bearer token, or the session cookie of a browser
 * that signed in (SPEC 10). Each is looked up by its SHA-256; the token
 * itself is never stored or logged. */
#ifndef WP_AUTH_H
#define WP_AUTH_H

#include "http.h"

/* The session cookie (contract) and how long a session lives. */
#define SESSION_COOKIE "wp_session"
#define SESSION_IDLE_S (12 * 3600)
#define SESSION_IDLE_SQL "12 hours"
#define SESSION_MAX_S (14 * 24 * 3600)

/* Fills who when the request's credential is known from memory (checked
 * within the last minute); false otherwise, without a lookup. */
bool auth_known(struct request *rq, struct caller *who);
/* Fills who from the Authorization header's bearer token or, without
 * one, the session cookie (and sets rq->by_session). On failure returns
 * false with the problem to answer (401, or 503 when the database is
 * down). */
bool auth_caller(struct request *rq, struct caller *who, enum problem *p, const char **why);
/* Did the request present a credential at all (either kind)? */
bool auth_presented(struct request *rq);
/* The value of the session cookie, or NULL. */
const char *auth_session_cookie(struct request *rq);
/* "cochair" -> ROLE_COCHAIR ...; ROLE_NONE when unknown. */
enum role role_parse(const char *s);

#endif
