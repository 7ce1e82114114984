/* Small helpers every module uses: allocation that aborts on exhaustion,
 * and bug reports with file:line. */
#ifndef WP_UTIL_H
#define WP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Out of memory is not recoverable for a server: abort, as Redis does. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh malloc'd string the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Our own bug (not the caller's bad input): log it with where it happened. */
#define BUG(...) log_bug(__FILE__, __LINE__, __VA_ARGS__)
void log_bug(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* FNV-1a, 64 bits: for hash tables, not for anything an attacker must not
 * forge (see sha256.h). */
uint64_t hash64(const void *data, size_t n);

/* Monotonic clock in microseconds. */
long long now_us(void);

#endif
