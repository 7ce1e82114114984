/* GET /v1/audit: the audit trail the triggers keep, for co-chairs. */
#include "handlers.h"
#include "query.h"

DB_STMT(stmt_audit,
	"SELECT json_build_object('id', id, 'at', utc_text(at), 'actor', actor, 'table', table_name,"
	"   'op', op, 'key', row_key, 'before', utc_image(before), 'after', utc_image(after))::text, id::text AS cursor"
	" FROM audit WHERE ($1::text IS NULL OR id > $1::bigint)"
	"   AND ($3::timestamptz IS NULL OR at >= $3::timestamptz)"
	" ORDER BY id LIMIT $2");

int h_audit_list(struct request *rq)
{
	const char *since;
	bool has_since;
	const struct q_field spec[] = {
		{ .name = "since", .type = Q_TIME, .out = &since, .present = &has_since },
		{ 0 },
	};
	struct page page;
	json_t *errors = json_array();
	char fetch[24];

	if (!query_parse(rq, spec, &page, errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	page_fetch(&page, fetch);
	return reply_list(rq, &stmt_audit, 3,
		      (const char *const[]){ page.after, fetch, has_since ? since : NULL }, &page);
}
