/* Growable byte buffer with a maximum fixed at creation (as curl's dynbuf):
 * appending past the maximum fails instead of growing without bound. */
#ifndef WP_BUF_H
#define WP_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;     /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;     /* largest len allowed */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* false when the result would exceed b->max; b is then unchanged. */
bool buf_add(struct buf *b, const void *data, size_t n);
bool buf_adds(struct buf *b, const char *s);
bool buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* One RFC 4180 field. Free text (text true) that a spreadsheet would run
 * as a formula (= + - @) gets a leading apostrophe (OWASP's advice). */
bool buf_csv(struct buf *b, const char *s, bool text);
/* Text with & < > " ' escaped for HTML. */
bool buf_html(struct buf *b, const char *s);

/* Hands the bytes to the caller (who frees them) and resets b. */
char *buf_steal(struct buf *b, size_t *len);

#endif
