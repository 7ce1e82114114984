/* Bearer-token authentication: the token's SHA-256 is looked up; the
 * token itself is never stored or logged. */
#ifndef WP_AUTH_H
#define WP_AUTH_H

#include "http.h"

/* Fills who when the Authorization header's token is known from memory
 * (checked within the last minute); false otherwise, without a lookup. */
bool auth_known(struct request *rq, struct caller *who);
/* Fills who from the Authorization header. On failure returns false with
 * the problem to answer (401, or 503 when the database is down). */
bool auth_caller(struct request *rq, struct caller *who, enum problem *p, const char **why);
/* "cochair" -> ROLE_COCHAIR ...; ROLE_NONE when unknown. */
enum role role_parse(const char *s);

#endif
