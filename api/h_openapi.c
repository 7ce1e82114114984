/* GET /v1/openapi.json: the OpenAPI 3.1 document of this API, kept in
 * api/openapi.json and compiled in. */
#include "embedded.h"
#include "handlers.h"
#include "util.h"

#include <string.h>

int h_openapi(struct request *rq)
{
	for (const struct embedded_file *f = embedded_files; f->path; f++)
		if (!strcmp(f->path, "api/openapi.json"))
			return reply_json(rq, 200, f->data, f->size);
	BUG("api/openapi.json is not compiled in");
	return reply_problem(rq, PROBLEM_INTERNAL, "the API description is missing", NULL);
}
