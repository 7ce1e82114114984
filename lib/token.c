/* Token generation. */
#include "token.h"
#include "base64.h"

#include <string.h>
#include <sys/random.h>

bool token_generate(char out[TOKEN_STRLEN])
{
	return token_generate_as(TOKEN_PREFIX, out);
}

bool token_well_formed(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	unsigned char r[32];

	return !strncmp(s, prefix, n) && strlen(s) == TOKEN_STRLEN - 1 &&
	       base64_decode(s + n, TOKEN_STRLEN - 1 - n, true, r, sizeof r) == sizeof r;
}

bool token_generate_as(const char *prefix, char out[TOKEN_STRLEN])
{
	unsigned char r[32];
	size_t n = strlen(prefix);

	if (getrandom(r, sizeof r, 0) != sizeof r)
		return false;
	memcpy(out, prefix, n);
	/* 32 bytes = 256 bits = 43 base64url digits (the last holds 4 bits) */
	return base64_encode(r, sizeof r, true, out + n, TOKEN_STRLEN - n) == TOKEN_STRLEN - 1 - n;
}

void token_hash(const char *token, unsigned char out[SHA256_LEN])
{
	sha256(token, strlen(token), out);
}
