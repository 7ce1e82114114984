/* Token generation. */
#include "token.h"

#include <string.h>
#include <sys/random.h>

#define B64URL "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

bool token_generate(char out[TOKEN_STRLEN])
{
	return token_generate_as(TOKEN_PREFIX, out);
}

bool token_well_formed(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(s, prefix, n) || strlen(s) != TOKEN_STRLEN - 1)
		return false;
	for (s += n; *s; s++)
		if (!strchr(B64URL, *s))
			return false;
	return true;
}

bool token_generate_as(const char *prefix, char out[TOKEN_STRLEN])
{
	unsigned char r[33] = { 0 };
	char *p = out + strlen(prefix);

	if (getrandom(r, 32, 0) != 32)
		return false;
	memcpy(out, prefix, strlen(prefix));
	/* 32 bytes = 256 bits = 43 base64 digits (the last holds 4 bits) */
	for (int i = 0, bit = 0; i < 43; i++, bit += 6) {
		int byte = bit / 8, shift = bit % 8;
		unsigned v = ((unsigned)r[byte] << 8 | r[byte + 1]) >> (10 - shift);

		p[i] = B64URL[v & 63];
	}
	p[43] = '\0';
	return true;
}

void token_hash(const char *token, unsigned char out[SHA256_LEN])
{
	sha256(token, strlen(token), out);
}
