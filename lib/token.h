/* Bearer tokens: 256 random bits from the kernel, shown once, stored only
 * as their SHA-256. */
#ifndef WP_TOKEN_H
#define WP_TOKEN_H

#include "sha256.h"

#include <stdbool.h>

#define TOKEN_PREFIX "wpt_"
#define TOKEN_STRLEN (4 + 43 + 1) /* prefix, base64url of 32 bytes, NUL */
/* The same shape for what a browser holds (SPEC 10): a sign-in token
 * (invitation or link) and a session (the wp_session cookie). The prefix
 * tells them apart, so one is never taken for another. */
#define TOKEN_PREFIX_SIGNIN "wpl_"
#define TOKEN_PREFIX_SESSION "wps_"

/* Fills out with a new token; false when the kernel gives no randomness. */
bool token_generate(char out[TOKEN_STRLEN]);
/* The same with another prefix of 4 characters. */
bool token_generate_as(const char *prefix, char out[TOKEN_STRLEN]);
/* Is s a well-formed token with that prefix (its length and digits)? */
bool token_well_formed(const char *s, const char *prefix);
/* Hash of a presented token, as stored. */
void token_hash(const char *token, unsigned char out[SHA256_LEN]);

#endif
