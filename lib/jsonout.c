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

bool json_text_same(const char *a, const char *b, const char *const *ignore)
{
	json_t *x = json_loads(a, 0, NULL), *y = json_loads(b, 0, NULL);
	bool same;

	for (; ignore && *ignore; ignore++) {
		json_object_del(x, *ignore);
		json_object_del(y, *ignore);
	}
	same = x && y && json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return same;
}
