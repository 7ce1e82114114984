/* Bearer tokens: 256 random bits from the kernel, shown once, stored only
 * as their SHA-256. */
#ifndef WP_TOKEN_H
#define WP_TOKEN_H

#include "sha256.h"

#include <stdbool.h>

#define TOKEN_PREFIX "wpt_"
#define TOKEN_STRLEN (4 + 43 + 1) /* prefix, base64url of 32 bytes, NUL */

/* Fills out with a new token; false when the kernel gives no randomness. */
bool token_generate(char out[TOKEN_STRLEN]);
/* Hash of a presented token, as stored. */
void token_hash(const char *token, unsigned char out[SHA256_LEN]);

#endif
