/* /v1/pillars: the eight pillars of the work plan with their leads,
 * action counts and the current status of their actions. */
#include "handlers.h"
#include "http.h"

#include <string.h>

/* The current status of an action is that of its newest update that was
 * not returned (by period, then time of posting); none: not_started. */
DB_STMT(stmt_pillars_list,
	"WITH cur AS ("
	"  SELECT a.pillar, coalesce(u.status, 'not_started') AS status"
	"  FROM action a LEFT JOIN LATERAL ("
	"    SELECT s.status FROM status_update s"
	"    WHERE s.action_id = a.id AND s.review_state <> 'returned'"
	"    ORDER BY s.period DESC, s.created_at DESC, s.id DESC LIMIT 1) u ON true"
	"  WHERE NOT a.archived"
	"), counts AS ("
	"  SELECT pillar, count(*) AS actions,"
	"    json_build_object("
	"      'not_started', count(*) FILTER (WHERE status = 'not_started'),"
	"      'on_track', count(*) FILTER (WHERE status = 'on_track'),"
	"      'at_risk', count(*) FILTER (WHERE status = 'at_risk'),"
	"      'delayed', count(*) FILTER (WHERE status = 'delayed'),"
	"      'completed', count(*) FILTER (WHERE status = 'completed'),"
	"      'cancelled', count(*) FILTER (WHERE status = 'cancelled')) AS by_status"
	"  FROM cur GROUP BY pillar"
	") SELECT json_build_object('items', coalesce(json_agg(json_build_object("
	"    'number', p.number, 'name', p.name, 'status', p.status,"
	"    'inactive_reason', p.inactive_reason,"
	"    'leads', coalesce((SELECT json_agg(pl.entity ORDER BY pl.position)"
	"                       FROM pillar_lead pl WHERE pl.pillar = p.number), '[]'::json),"
	"    'actions', coalesce(c.actions, 0),"
	"    'by_status', coalesce(c.by_status, json_build_object('not_started', 0, 'on_track', 0,"
	"      'at_risk', 0, 'delayed', 0, 'completed', 0, 'cancelled', 0)),"
	"    'version', p.version::text) ORDER BY p.number), '[]'::json), 'next', NULL)"
	" FROM pillar p LEFT JOIN counts c ON c.pillar = p.number");

int h_pillars_list(struct request *rq)
{
	enum db_rc rc;
	PGresult *r;
	int ret;

	rc = db_query(request_db(rq), &stmt_pillars_list, 0, NULL, &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	ret = reply_json(rq, 200, PQgetvalue(r, 0, 0), PQgetlength(r, 0, 0));
	PQclear(r);
	return ret;
}
