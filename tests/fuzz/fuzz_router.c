/* router_match over the API's route table: input is "METHOD PATH". A match
 * names a route of that method, with
 * non-empty parameters that hold no slash; a 405 lists allowed methods. */
#include "fuzz.h"
#include "router.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *path = strchr(s, ' ');
	struct route_match m;

	if (path) {
		*path++ = '\0';
		switch (router_match(api_routes, s, path, &m)) {
		case ROUTER_FOUND:
			FUZZ_ASSERT(!strcmp(m.route->method, s));
			FUZZ_ASSERT(m.nparams >= 0 && m.nparams <= ROUTE_MAX_PARAMS);
			for (int i = 0; i < m.nparams; i++) {
				FUZZ_ASSERT(m.params[i][0] != '\0');
				FUZZ_ASSERT(!strchr(m.params[i], '/'));
				FUZZ_ASSERT(strlen(m.params[i]) < ROUTE_PARAM_MAX);
			}
			break;
		case ROUTER_METHOD_NOT_ALLOWED:
			FUZZ_ASSERT(m.allow[0] != '\0');
			break;
		case ROUTER_NOT_FOUND:
			break;
		}
	}
	free(s);
	return 0;
}
