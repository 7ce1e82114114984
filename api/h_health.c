/* GET /v1/health: is this process up and does PostgreSQL answer? */
#include "handlers.h"
#include "http.h"

#include <string.h>

DB_STMT(stmt_health, "SELECT 1");

int h_health(struct request *rq)
{
	static const char ok[] = "{\"status\":\"ok\",\"database\":\"ok\"}";
	static const char down[] = "{\"status\":\"unavailable\",\"database\":\"down\"}";
	PGresult *r;

	if (db_query(request_db(rq), &stmt_health, 0, NULL, &r) == DB_OK) {
		PQclear(r);
		return reply_json(rq, 200, ok, strlen(ok));
	}
	return reply_full(rq, 503, "application/json", down, strlen(down),
			  (const char *const[]){ "Retry-After", "1", NULL });
}
