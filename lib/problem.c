/* RFC 9457 problem documents from the problem table. */
#include "problem.h"
#include "jsonout.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define PROBLEM_ROW(name, slug, status, title) { slug, status, title },
static const struct problem_info problems[PROBLEM_COUNT] = { PROBLEMS(PROBLEM_ROW) };
#undef PROBLEM_ROW

const struct problem_info *problem_info(enum problem p)
{
	if ((unsigned)p >= PROBLEM_COUNT)
		p = PROBLEM_INTERNAL;
	return &problems[p];
}

enum problem problem_by_slug(const char *slug)
{
	for (int i = 0; i < PROBLEM_COUNT; i++)
		if (!strcmp(problems[i].slug, slug))
			return (enum problem)i;
	return PROBLEM_COUNT;
}

char *problem_body(enum problem p, const char *detail, json_t *errors, size_t *len)
{
	const struct problem_info *info = problem_info(p);
	char type[64] = "/problems/";
	json_t *doc, *d;
	char *s;

	strncat(type, info->slug, sizeof type - strlen(type) - 1);
	doc = json_object();
	json_object_set_new(doc, "type", json_string(type));
	json_object_set_new(doc, "title", json_string(info->title));
	json_object_set_new(doc, "status", json_integer(info->status));
	/* a detail quoting bad input may not be valid UTF-8: fall back to the title */
	d = detail ? json_string(detail) : NULL;
	json_object_set_new(doc, "detail", d ? d : json_string(info->title));
	json_object_set_new(doc, "errors", errors ? errors : json_array());
	s = json_text(doc, NULL);
	json_decref(doc);
	if (!s)
		abort(); /* only on out of memory */
	if (len)
		*len = strlen(s);
	return s;
}
