/* One serialisation of JSON for everything the service sends or stores:
 * compact, UTF-8 as is (no \u escapes but those JSON requires), reals to
 * 15 significant digits, so a mean of 10.3 reads 10.3 and not
 * 10.300000000000001. PostgreSQL's json ("k" : v) and jsonb ("k": v)
 * texts are brought to the same form. */
#ifndef WP_JSONOUT_H
#define WP_JSONOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define JSON_OUT_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* v as text; the caller frees it. */
char *json_text(const json_t *v, size_t *len);
/* JSON text in that form; NULL when text is not one JSON document. */
char *json_normal(const char *text, size_t len, size_t *out_len);

/* Are JSON texts a and b the same document, but for the top-level keys
 * in ignore (NULL-ended)? False when either is not JSON. */
bool json_text_same(const char *a, const char *b, const char *const *ignore);

#endif
