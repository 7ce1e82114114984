/* Progress analytics (SPEC section 4, "Progress semantics"): where each
 * pillar stands at a quarter, how it moved over quarters, and who has not
 * reported. All three read the sums that sql/migrations/003_progress.sql
 * keeps up to date, so their cost does not grow with the history. */
#include "clock.h"
#include "handlers.h"
#include "jspec.h"
#include "period.h"
#include "query.h"
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The work plan's years, the default quarter (the current one, or the
 * plan's last if it has ended) and the cycle that holds quarter $1. */
DB_STMT(stmt_scope,
	"SELECT w.start_year, w.end_year, least($2::int, w.end_year * 4 + 3),"
	"  (SELECT c.label FROM cycle c WHERE c.workplan_id = w.id"
	"   AND coalesce($1::int, least($2::int, w.end_year * 4 + 3)) / 4"
	"       BETWEEN c.start_year AND c.end_year),"
	"  (SELECT c.label FROM cycle c WHERE c.workplan_id = w.id AND c.label = $3)"
	" FROM workplan w ORDER BY w.id LIMIT 1");

#define MEAN(g)                                                                               \
	"CASE WHEN coalesce(" g ".actions, 0) = 0 THEN 0.0"                                   \
	" ELSE round(" g ".percent_sum::numeric / " g ".actions, 1) END"

DB_STMT(stmt_progress,
	"WITH g AS (SELECT * FROM progress_agg WHERE cycle = $2 AND period = $1::int),"
	" t AS (SELECT sum(actions) AS actions, sum(not_started) AS not_started,"
	"   sum(on_track) AS on_track, sum(at_risk) AS at_risk, sum(delayed) AS delayed,"
	"   sum(completed) AS completed, sum(cancelled) AS cancelled,"
	"   sum(percent_sum) AS percent_sum, sum(stale) AS stale FROM g)"
	" SELECT json_build_object('as_of', period_text($1::int), 'cycle', $2,"
	"  'pillars', (SELECT json_agg(json_build_object('number', p.number, 'name', p.name,"
	"      'status', p.status, 'actions', coalesce(g.actions, 0), 'by_status', " STATUS_COUNTS_SQL ","
	"      'mean_percent', " MEAN("g") ", 'completed', coalesce(g.completed, 0),"
	"      'stale', coalesce(g.stale, 0), 'last_update_at', utc_text(g.last_at)) ORDER BY p.number)"
	"    FROM pillar p LEFT JOIN g ON g.pillar = p.number),"
	"  'totals', (SELECT json_build_object('actions', coalesce(t.actions, 0),"
	"      'by_status', " STATUS_COUNTS_SQL ", 'mean_percent', " MEAN("t") ","
	"      'completed', coalesce(t.completed, 0), 'stale', coalesce(t.stale, 0)) FROM t))::text");

/* One row per quarter, each in the scope of the cycle holding its year. */
DB_STMT(stmt_trend,
	"WITH q AS (SELECT q.p, c.label FROM generate_series($1::int, $2::int) AS q (p)"
	"   JOIN cycle c ON q.p / 4 BETWEEN c.start_year AND c.end_year),"
	" t AS (SELECT q.p, sum(g.actions) AS actions, sum(g.not_started) AS not_started,"
	"   sum(g.on_track) AS on_track, sum(g.at_risk) AS at_risk, sum(g.delayed) AS delayed,"
	"   sum(g.completed) AS completed, sum(g.cancelled) AS cancelled,"
	"   sum(g.percent_sum) AS percent_sum"
	"   FROM q LEFT JOIN progress_agg g ON g.cycle = q.label AND g.period = q.p"
	"     AND ($3::int IS NULL OR g.pillar = $3::int)"
	"   GROUP BY q.p)"
	" SELECT json_build_object('items', coalesce(json_agg(json_build_object("
	"   'period', period_text(t.p), 'actions', coalesce(t.actions, 0),"
	"   'by_status', " STATUS_COUNTS_SQL ", 'mean_percent', " MEAN("t") ") ORDER BY t.p), '[]'))::text,"
	/* what it shows: the progress of each cycle in the range */
	"  'C ' || (SELECT string_agg(DISTINCT 'C' || q.label, ' ') FROM q) AS cache_tags"
	" FROM t");

/* Expected: in-scope actions of active pillars not completed or cancelled a
 * quarter earlier; reported: with an update for the quarter; on time: by
 * the deadline. */
DB_STMT(stmt_reporting,
	"WITH g AS (SELECT p.number, p.status = 'active' AS active, a.expected, a.reported,"
	"   a.on_time FROM pillar p LEFT JOIN progress_agg a"
	"   ON a.pillar = p.number AND a.cycle = $2 AND a.period = $1::int)"
	" SELECT json_build_object('period', period_text($1::int), 'cycle', $2,"
	"  'deadline', period_deadline($1::int),"
	"  'pillars', (SELECT json_agg(json_build_object('number', g.number,"
	"     'expected', CASE WHEN g.active THEN coalesce(g.expected, 0) ELSE 0 END,"
	"     'reported', CASE WHEN g.active THEN coalesce(g.reported, 0) ELSE 0 END,"
	"     'on_time', CASE WHEN g.active THEN coalesce(g.on_time, 0) ELSE 0 END,"
	"     'missing', CASE WHEN g.active THEN coalesce(g.expected - g.reported, 0) ELSE 0 END,"
	"     'missing_actions', CASE WHEN g.active THEN coalesce((SELECT json_agg(s.action_id"
	"         ORDER BY s.action_id) FROM action_period_state s WHERE s.cycle = $2"
	"         AND s.period = $1::int AND s.pillar = g.number AND s.expected"
	"         AND NOT s.reported), '[]') ELSE '[]' END) ORDER BY g.number) FROM g),"
	"  'entities', (SELECT coalesce(json_agg(json_build_object('code', e.entity,"
	"     'expected', e.expected, 'reported', e.reported, 'on_time', e.on_time)"
	"     ORDER BY e.entity), '[]')"
	"   FROM (SELECT ea.entity, sum(ea.expected) AS expected, sum(ea.reported) AS reported,"
	"           sum(ea.on_time) AS on_time"
	"         FROM entity_agg ea JOIN pillar p ON p.number = ea.pillar AND p.status = 'active'"
	"         WHERE ea.cycle = $2 AND ea.period = $1::int"
	"         GROUP BY ea.entity HAVING sum(ea.expected) > 0) e))::text");

/* Resolves a quarter (or the default one when *period < 0) and the cycle
 * in scope; *first (if not NULL) gets the work plan's first quarter.
 * Problems go to errors under the given field names; false when the caller
 * must answer now (errors filled, or *rc set). */
bool progress_scope(struct request *rq, int *period, const char *field, const char *cycle_param,
		  char cycle[16], json_t *errors, enum db_rc *rc, int *first)
{
	char p[16], now[16];
	int start, end;
	PGresult *r;

	snprintf(p, sizeof p, "%d", *period);
	snprintf(now, sizeof now, "%d", period_of_time(clock_now()));
	*rc = db_query(request_db(rq), &stmt_scope, 3,
		       (const char *const[]){ *period >= 0 ? p : NULL, now, cycle_param }, &r);
	if (*rc != DB_OK)
		return false;
	if (PQntuples(r) != 1) {
		PQclear(r);
		js_error(errors, field, "there is no work plan yet");
		return false;
	}
	start = atoi(PQgetvalue(r, 0, 0));
	end = atoi(PQgetvalue(r, 0, 1));
	if (first)
		*first = period_make(start, 1);
	if (*period < 0)
		*period = atoi(PQgetvalue(r, 0, 2));
	if (period_year(*period) < start || period_year(*period) > end)
		js_error(errors, field, "must lie within the work plan's years");
	else if (*period > period_of_time(clock_now()))
		js_error(errors, field, "must not be after the current quarter");
	if (cycle_param && PQgetisnull(r, 0, 4))
		js_error(errors, "cycle", "is not a cycle of the work plan (see /v1/cycles)");
	snprintf(cycle, 16, "%s", cycle_param ? cycle_param : PQgetvalue(r, 0, 3));
	PQclear(r);
	return json_array_size(errors) == 0;
}

int h_progress(struct request *rq)
{
	int as_of = -1;
	const char *cycle_param = NULL;
	const struct q_field spec[] = {
		{ .name = "as_of", .type = Q_PERIOD, .out = &as_of },
		{ .name = "cycle", .type = Q_TEXT, .max = 9, .out = &cycle_param },
		{ 0 },
	};
	json_t *errors = json_array();
	char cycle[16], p[16];
	enum db_rc rc = DB_OK;

	if (!query_parse(rq, spec, NULL, errors) ||
	    !progress_scope(rq, &as_of, "as_of", cycle_param, cycle, errors, &rc, NULL)) {
		if (rc != DB_OK) {
			json_decref(errors);
			return reply_db_failure(rq, rc);
		}
		return reply_invalid(rq, errors);
	}
	json_decref(errors);
	snprintf(p, sizeof p, "%d", as_of);
	/* what it shows: the cycle's progress as of that quarter (025) */
	request_cache_tag(rq, "C Q%s Q%s-%d", cycle, cycle, as_of);
	return reply_document(rq, &stmt_progress, 2, (const char *const[]){ p, cycle },
			      "no such quarter");
}

int h_progress_trend(struct request *rq)
{
	int from = -1, to = -1;
	long long pillar = 0;
	bool has_pillar, has_from;
	const struct q_field spec[] = {
		{ .name = "from", .type = Q_PERIOD, .out = &from, .present = &has_from },
		{ .name = "to", .type = Q_PERIOD, .out = &to },
		{ .name = "pillar", .type = Q_INT, .min = 1, .max = 8, .out = &pillar, .present = &has_pillar },
		{ 0 },
	};
	json_t *errors = json_array();
	char cycle[16], f[16], t[16], pl[16];
	enum db_rc rc = DB_OK;
	int first = 0;

	if (query_parse(rq, spec, NULL, errors) &&
	    progress_scope(rq, &to, "to", NULL, cycle, errors, &rc, &first)) {
		if (!has_from)
			from = first;
		if (progress_scope(rq, &from, "from", NULL, cycle, errors, &rc, NULL) && from > to)
			js_error(errors, "from", "must not be after to");
	}
	if (rc != DB_OK) {
		json_decref(errors);
		return reply_db_failure(rq, rc);
	}
	if (json_array_size(errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	snprintf(f, sizeof f, "%d", from);
	snprintf(t, sizeof t, "%d", to);
	snprintf(pl, sizeof pl, "%lld", pillar);
	return reply_document(rq, &stmt_trend, 3, (const char *const[]){ f, t, has_pillar ? pl : NULL },
			      "no such quarter");
}

int h_reporting(struct request *rq)
{
	int period = -1;
	const struct q_field spec[] = {
		{ .name = "period", .type = Q_PERIOD, .out = &period },
		{ 0 },
	};
	json_t *errors = json_array();
	char cycle[16], p[16];
	enum db_rc rc = DB_OK;

	if (!query_parse(rq, spec, NULL, errors) ||
	    !progress_scope(rq, &period, "period", NULL, cycle, errors, &rc, NULL)) {
		if (rc != DB_OK) {
			json_decref(errors);
			return reply_db_failure(rq, rc);
		}
		return reply_invalid(rq, errors);
	}
	json_decref(errors);
	snprintf(p, sizeof p, "%d", period);
	request_cache_tag(rq, "C Q%s Q%s-%d", cycle, cycle, period);
	return reply_document(rq, &stmt_reporting, 2, (const char *const[]){ p, cycle },
			      "no such quarter");
}
