/* Token generation. */
#include "token.h"

#include <string.h>
#include <sys/random.h>

bool token_generate(char out[TOKEN_STRLEN])
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char r[33] = { 0 };
	char *p = out + strlen(TOKEN_PREFIX);

	if (getrandom(r, 32, 0) != 32)
		return false;
	memcpy(out, TOKEN_PREFIX, strlen(TOKEN_PREFIX));
	/* 32 bytes = 256 bits = 43 base64 digits (the last holds 4 bits) */
	for (int i = 0, bit = 0; i < 43; i++, bit += 6) {
		int byte = bit / 8, shift = bit % 8;
		unsigned v = ((unsigned)r[byte] << 8 | r[byte + 1]) >> (10 - shift);

		p[i] = b64[v & 63];
	}
	p[43] = '\0';
	return true;
}

void token_hash(const char *token, unsigned char out[SHA256_LEN])
{
	sha256(token, strlen(token), out);
}
