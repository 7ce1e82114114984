/* Route matching. Pure: no I/O, no allocation, so it is easy to fuzz. */
#include "router.h"

#include <stdio.h>
#include <string.h>

/* Matches path against pattern, copying {name} segments into m. */
static bool pattern_match(const char *pattern, const char *path, struct route_match *m)
{
	const char *p = pattern, *s = path;

	m->nparams = 0;
	while (*p && *s) {
		if (*p == '{') {
			const char *end = strchr(s, '/');
			size_t n = end ? (size_t)(end - s) : strlen(s);

			if (!n || n >= ROUTE_PARAM_MAX || m->nparams == ROUTE_MAX_PARAMS)
				return false;
			memcpy(m->params[m->nparams], s, n);
			m->params[m->nparams++][n] = '\0';
			s += n;
			p = strchr(p, '}');
			if (!p)
				return false;
			p++;
		} else if (*p++ != *s++) {
			return false;
		}
	}
	return !*p && !*s;
}

enum router_result router_match(const struct route *table, const char *method,
				const char *path, struct route_match *m)
{
	bool path_known = false;
	struct route_match tmp;

	m->route = NULL;
	m->allow[0] = '\0';
	tmp.allow[0] = '\0';
	for (int i = 0; table[i].method; i++) {
		if (!pattern_match(table[i].pattern, path, &tmp))
			continue;
		if (!strcmp(table[i].method, method)) {
			*m = tmp;
			m->route = &table[i];
			m->index = i;
			return ROUTER_FOUND;
		}
		if (!strstr(m->allow, table[i].method)) {
			size_t n = strlen(m->allow);

			snprintf(m->allow + n, sizeof m->allow - n, "%s%s", n ? ", " : "",
				 table[i].method);
		}
		path_known = true;
	}
	return path_known ? ROUTER_METHOD_NOT_ALLOWED : ROUTER_NOT_FOUND;
}
