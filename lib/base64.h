/* Base64 (RFC 4648): the standard alphabet with padding (section 4) for
 * mail and webhook secrets and signatures, or the URL alphabet without
 * padding (section 5) for tokens, cursors and signed links. */
#ifndef WP_BASE64_H
#define WP_BASE64_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

/* characters for len bytes with padding, without the NUL (the URL form
 * without padding is never longer) */
#define BASE64_LEN(len) (((len) + 2) / 3 * 4)

/* Writes the encoding of len bytes and a NUL into out (n bytes); its
 * length, or 0 with out empty when n is too small. */
size_t base64_encode(const void *in, size_t len, bool url, char *out, size_t n);
/* Appends the encoding to b; false when b would pass its maximum. */
bool buf_base64(struct buf *b, const void *in, size_t len, bool url);
/* Decodes len characters into out (n bytes at most): the number of
 * bytes, or -1 for a character outside the alphabet, misplaced or
 * missing padding, or more than n bytes. */
long base64_decode(const char *s, size_t len, bool url, unsigned char *out, size_t n);

#endif
