/* Bounded growable buffers. */
#include "buf.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static bool buf_reserve(struct buf *b, size_t n)
{
	size_t want, cap;

	if (n > b->max || b->len > b->max - n)
		return false;
	want = b->len + n + 1;
	if (want <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
	return true;
}

bool buf_add(struct buf *b, const void *data, size_t n)
{
	if (!buf_reserve(b, n))
		return false;
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

bool buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

bool buf_printf(struct buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	if ((size_t)n < sizeof small)
		return buf_add(b, small, n);
	if (!buf_reserve(b, n))
		return false;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
	return true;
}

char *buf_steal(struct buf *b, size_t *len)
{
	char *d = b->data ? b->data : xstrdup("");

	if (len)
		*len = b->len;
	buf_init(b, b->max);
	return d;
}

bool buf_csv(struct buf *b, const char *s, bool text)
{
	bool formula = text && *s && strchr("=+-@\t\r", *s);
	bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
	bool ok = true;

	if (quote)
		ok &= buf_adds(b, "\"");
	if (formula)
		ok &= buf_adds(b, "'");
	for (; *s; s++)
		ok &= *s == '"' ? buf_adds(b, "\"\"") : buf_add(b, s, 1);
	if (quote)
		ok &= buf_adds(b, "\"");
	return ok;
}

bool buf_html(struct buf *b, const char *s)
{
	bool ok = true;

	for (; s && *s; s++) {
		switch (*s) {
		case '&': ok &= buf_adds(b, "&amp;"); break;
		case '<': ok &= buf_adds(b, "&lt;"); break;
		case '>': ok &= buf_adds(b, "&gt;"); break;
		case '"': ok &= buf_adds(b, "&quot;"); break;
		case '\'': ok &= buf_adds(b, "&#39;"); break;
		default: ok &= buf_add(b, s, 1);
		}
	}
	return ok;
}
