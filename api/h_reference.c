/* The Network's reference data, read by every member: entities, co-chair
 * terms, work plans, cycles and events (consultations: h_consultations.c). */
#include "handlers.h"
#include "query.h"

#include <stdio.h>
#include <string.h>

DB_STMT(stmt_entities,
	"SELECT json_build_object('code', code, 'name', name)::text, code FROM entity"
	" WHERE $1::text IS NULL OR code > $1 ORDER BY code LIMIT $2");
DB_STMT(stmt_cochairs,
	"SELECT json_build_object('entity', entity, 'name', e.name, 'kind', kind,"
	"   'from_year', from_year, 'to_year', to_year)::text, t.id::text AS cursor"
	" FROM cochair_term t JOIN entity e ON e.code = t.entity"
	" WHERE ($1::text IS NULL OR t.id > $1::bigint)"
	"   AND ($3::int IS NULL OR (from_year <= $3::int AND coalesce(to_year, $3::int) >= $3::int))"
	" ORDER BY t.id LIMIT $2");
DB_STMT(stmt_workplans,
	"SELECT json_build_object('id', id, 'title', title, 'start_year', start_year,"
	"   'end_year', end_year)::text, id::text AS cursor FROM workplan"
	" WHERE $1::text IS NULL OR id > $1::bigint ORDER BY id LIMIT $2");
DB_STMT(stmt_cycles,
	"SELECT json_build_object('label', label, 'start_year', start_year,"
	"   'end_year', end_year, 'workplan', workplan_id)::text, label FROM cycle"
	" WHERE $1::text IS NULL OR label > $1 ORDER BY label LIMIT $2");
DB_STMT(stmt_events,
	"SELECT json_build_object('id', id, 'date', date, 'title', title, 'venue', venue,"
	"   'audience', audience, 'description', description)::text, id::text AS cursor FROM event"
	" WHERE $1::text IS NULL OR id > $1::bigint ORDER BY id LIMIT $2");
int h_entities_list(struct request *rq)
{
	request_cache_tag(rq, "R");
	return reply_plain_list(rq, &stmt_entities, NULL);
}

int h_workplans_list(struct request *rq)
{
	request_cache_tag(rq, "R");
	return reply_plain_list(rq, &stmt_workplans, NULL);
}

int h_cycles_list(struct request *rq)
{
	request_cache_tag(rq, "R");
	return reply_plain_list(rq, &stmt_cycles, NULL);
}

int h_events_list(struct request *rq)
{
	request_cache_tag(rq, "R");
	return reply_plain_list(rq, &stmt_events, NULL);
}

int h_cochairs_list(struct request *rq)
{
	long long year = 0;
	bool has_year;
	const struct q_field spec[] = {
		{ .name = "year", .type = Q_INT, .min = 1945, .max = 2200, .out = &year,
		  .present = &has_year },
		{ 0 },
	};
	struct page page;
	json_t *errors = json_array();
	char fetch[24], y[24];

	if (!query_parse(rq, spec, &page, errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	page_fetch(&page, fetch);
	snprintf(y, sizeof y, "%lld", year);
	request_cache_tag(rq, "R");
	return reply_list(rq, &stmt_cochairs, 3,
		      (const char *const[]){ page.after, fetch, has_year ? y : NULL }, &page);
}
