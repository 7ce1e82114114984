/* Base64, one encoder and one decoder for every use (see base64.h). */
#include "base64.h"

#include <string.h>

static const char std_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t base64_encode(const void *in, size_t len, bool url, char *out, size_t n)
{
	const unsigned char *p = in;
	const char *d = url ? url_digits : std_digits;
	size_t o = 0;

	if (n == 0)
		return 0;
	if ((url ? (len * 4 + 2) / 3 : BASE64_LEN(len)) >= n) {
		out[0] = '\0';
		return 0;
	}
	for (size_t i = 0; i < len; i += 3) {
		size_t left = len - i;
		unsigned v = (unsigned)p[i] << 16 | (left > 1 ? (unsigned)p[i + 1] << 8 : 0) |
			     (left > 2 ? p[i + 2] : 0);

		out[o++] = d[v >> 18 & 63];
		out[o++] = d[v >> 12 & 63];
		if (left > 1)
			out[o++] = d[v >> 6 & 63];
		else if (!url)
			out[o++] = '=';
		if (left > 2)
			out[o++] = d[v & 63];
		else if (!url)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

bool buf_base64(struct buf *b, const void *in, size_t len, bool url)
{
	const unsigned char *p = in;
	char chunk[BASE64_LEN(48) + 1];

	/* whole groups of three bytes, so that padding comes only at the end */
	for (size_t i = 0; i < len; i += 48) {
		size_t k = len - i < 48 ? len - i : 48;
		size_t m = base64_encode(p + i, k, url, chunk, sizeof chunk);

		if (!buf_add(b, chunk, m))
			return false;
	}
	return true;
}

long base64_decode(const char *s, size_t len, bool url, unsigned char *out, size_t n)
{
	const char *d = url ? url_digits : std_digits;
	size_t o = 0, pad = 0;
	unsigned v = 0;
	int bits = 0;

	if (url ? len % 4 == 1 : len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		const char *c = s[i] ? strchr(d, s[i]) : NULL;

		if (!url && s[i] == '=' && i + 2 >= len && (pad || i + 1 == len || s[i + 1] == '=')) {
			pad++;
			continue;
		}
		if (!c || pad)
			return -1;
		v = v << 6 | (unsigned)(c - d);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == n)
				return -1;
			out[o++] = (unsigned char)(v >> bits & 0xFF);
		}
	}
	return (long)o;
}
