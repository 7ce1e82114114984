/* The one JSON serialisation (see jsonout.h). */
#include "jsonout.h"

#include <string.h>

char *json_text(const json_t *v, size_t *len)
{
	char *s = json_dumps(v, JSON_OUT_FLAGS | JSON_ENCODE_ANY);

	if (s && len)
		*len = strlen(s);
	return s;
}

char *json_normal(const char *text, size_t len, size_t *out_len)
{
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY, NULL);
	char *s;

	if (!v)
		return NULL;
	s = json_text(v, out_len);
	json_decref(v);
	return s;
}
