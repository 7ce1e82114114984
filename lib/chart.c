/* The chart kinds of SPEC section 6 and how their artifacts are named. */
#include "chart.h"
#include "embedded.h"
#include "util.h"
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct chart_kind kinds[] = {
	{ "status-by-pillar", "charts/status-by-pillar.gp", "Status of key actions by pillar" },
	{ "progress-trend", "charts/progress-trend.gp", "Mean percent complete by pillar" },
	{ "reporting-heatmap", "charts/reporting-heatmap.gp", "Share of key actions reported on time" },
	{ "pillar-burnup", "charts/pillar-burnup.gp", "Key actions planned and completed" },
};

static const char *const formats[] = { "svg", "png", "pdf", "json" };
static const char *const media[] = { "image/svg+xml", "image/png", "application/pdf",
				     "application/json" };

const struct chart_kind *chart_kind_find(const char *name)
{
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (!strcmp(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

bool chart_format_parse(const char *s, enum chart_format *out)
{
	for (int i = 0; i < 4; i++) {
		if (!strcmp(s, formats[i])) {
			*out = (enum chart_format)i;
			return true;
		}
	}
	return false;
}

const char *chart_format_name(enum chart_format f)
{
	return formats[f];
}

const char *chart_media_type(enum chart_format f)
{
	return media[f];
}

const char *chart_file(const char *path)
{
	for (const struct embedded_file *f = embedded_files; f->path; f++)
		if (!strcmp(f->path, path))
			return f->data;
	return NULL;
}

void chart_key(const struct chart_kind *k, enum chart_format f, const char *params,
	       const char *data, unsigned char out[SHA256_LEN])
{
	const char *parts[] = { k->name, formats[f], params, chart_file("charts/common.gp"),
				chart_file(k->template), chart_file("charts/empty.gp"), data };
	struct sha256 s;

	sha256_init(&s);
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		const char *p = parts[i] ? parts[i] : "";

		/* length-prefixed, so no two inputs hash alike */
		sha256_update(&s, &(size_t){ strlen(p) }, sizeof(size_t));
		sha256_update(&s, p, strlen(p));
	}
	sha256_final(&s, out);
}

/* The data of each kind, from the progress sums. Every number is formatted
 * here, once, by PostgreSQL (means rounded to one decimal); times are
 * RFC 3339 in UTC with a Z. */
#define STAMP(t) "to_char(" t " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* $1 quarter, $2 cycle */
DB_STMT(stmt_chart_status,
	"SELECT json_build_object('period', period_text($1::int), 'cycle', $2,"
	" 'stamp', (SELECT " STAMP("max(last_at)") " FROM progress_agg WHERE cycle = $2 AND period = $1::int),"
	" 'pillars', json_agg(json_build_object('number', p.number, 'name', p.name,"
	"   'actions', coalesce(g.actions, 0), 'by_status', " STATUS_COUNTS_SQL ") ORDER BY p.number))::text"
	" FROM pillar p LEFT JOIN progress_agg g ON g.pillar = p.number AND g.cycle = $2"
	"   AND g.period = $1::int");

/* $1 from, $2 to, $3 pillar or NULL; each quarter in its own cycle's scope,
 * and with its cycle, so that charts break their lines between cycles */
#define QUARTERS                                                                              \
	"WITH q AS (SELECT q.p, c.label FROM generate_series($1::int, $2::int) AS q (p)"      \
	"   JOIN cycle c ON q.p / 4 BETWEEN c.start_year AND c.end_year),"                    \
	" g AS (SELECT q.p, a.* FROM q JOIN progress_agg a ON a.cycle = q.label AND a.period = q.p)"
DB_STMT(stmt_chart_trend,
	QUARTERS
	" SELECT json_build_object('stamp', (SELECT " STAMP("max(last_at)") " FROM g"
	"   WHERE $3::int IS NULL OR g.pillar = $3::int),"
	" 'periods', (SELECT json_agg(period_text(q.p) ORDER BY q.p) FROM q),"
	" 'cycles', (SELECT json_agg(q.label ORDER BY q.p) FROM q),"
	" 'series', (SELECT json_agg(json_build_object('number', p.number, 'name', p.name,"
	"   'values', (SELECT json_agg(CASE WHEN coalesce(g.actions, 0) = 0 THEN NULL"
	"       ELSE round(g.percent_sum::numeric / g.actions, 1) END ORDER BY q.p)"
	"     FROM q LEFT JOIN g ON g.p = q.p AND g.pillar = p.number)) ORDER BY p.number)"
	"   FROM pillar p WHERE $3::int IS NULL OR p.number = $3::int))::text");
DB_STMT(stmt_chart_heatmap,
	QUARTERS
	" SELECT json_build_object('stamp', (SELECT " STAMP("max(last_at)") " FROM g),"
	" 'periods', (SELECT json_agg(period_text(q.p) ORDER BY q.p) FROM q),"
	" 'pillars', (SELECT json_agg(json_build_object('number', p.number, 'name', p.name,"
	"   'values', (SELECT json_agg(CASE WHEN coalesce(g.expected, 0) = 0 THEN NULL"
	"       ELSE round(g.on_time::numeric / g.expected, 3) END ORDER BY q.p)"
	"     FROM q LEFT JOIN g ON g.p = q.p AND g.pillar = p.number)) ORDER BY p.number)"
	"   FROM pillar p WHERE p.status = 'active'))::text");
/* Burn-up, cumulative within each cycle: planned, the cycle's key actions
 * due by the end of the quarter (by due date, else by the end of their
 * year); completed, those that had reached completed by then (an action
 * counts from its first completed quarter on, so the line never falls). */
DB_STMT(stmt_chart_burnup,
	QUARTERS ","
	" a AS (SELECT s.action_id, s.cycle, min(s.period) FILTER (WHERE s.status = 'completed') AS done"
	"   FROM action_period_state s WHERE s.pillar = $3::int GROUP BY s.action_id, s.cycle),"
	" d AS (SELECT a.cycle, a.done, extract(year FROM x.due)::int * 4"
	"     + (extract(month FROM x.due)::int - 1) / 3 AS due"
	"   FROM a JOIN (SELECT id, coalesce(due_date, make_date(year, 12, 31)) AS due FROM action) x"
	"     ON x.id = a.action_id)"
	" SELECT json_build_object('stamp', (SELECT " STAMP("max(last_at)") " FROM g WHERE g.pillar = $3::int),"
	" 'pillar', (SELECT json_build_object('number', number, 'name', name) FROM pillar"
	"   WHERE number = $3::int),"
	" 'points', (SELECT json_agg(json_build_object('period', period_text(q.p), 'cycle', q.label,"
	"   'actions', (SELECT count(*) FROM d WHERE d.cycle = q.label),"
	"   'planned', (SELECT count(*) FROM d WHERE d.cycle = q.label AND d.due <= q.p),"
	"   'completed', (SELECT count(*) FROM d WHERE d.cycle = q.label AND d.done <= q.p))"
	"   ORDER BY q.p) FROM q))::text");

enum db_rc chart_fetch(struct db *db, const struct chart_kind *k, int a, int b, const char *cycle,
		       int pillar, char **json)
{
	char as[16], bs[16], ps[16];
	struct db_stmt *stmt;
	enum db_rc rc;
	PGresult *r;

	snprintf(as, sizeof as, "%d", a);
	snprintf(bs, sizeof bs, "%d", b);
	snprintf(ps, sizeof ps, "%d", pillar);
	if (!strcmp(k->name, "status-by-pillar"))
		rc = db_query(db, &stmt_chart_status, 2, (const char *const[]){ as, cycle }, &r);
	else if (!strcmp(k->name, "reporting-heatmap"))
		rc = db_query(db, &stmt_chart_heatmap, 2, (const char *const[]){ as, bs }, &r);
	else {
		stmt = !strcmp(k->name, "pillar-burnup") ? &stmt_chart_burnup : &stmt_chart_trend;
		rc = db_query(db, stmt, 3, (const char *const[]){ as, bs, pillar ? ps : NULL }, &r);
	}
	if (rc != DB_OK)
		return rc;
	*json = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return DB_OK;
}

char *chart_twin_new(const struct chart_kind *k, json_t *params, const char *alt, const char *data)
{
	json_t *head = json_pack("{s:s, s:O, s:s}", "kind", k->name, "params", params, "alt", alt);
	char *text = json_dumps(head, JSON_COMPACT), *out;

	if (!head || !text)
		abort(); /* out of memory, or alt not UTF-8: our bug */
	/* {"kind":…,"alt":…} becomes {"kind":…,"alt":…,"data":<data>} */
	out = xasprintf("%.*s,\"data\":%s}", (int)strlen(text) - 1, text, data);
	free(text);
	json_decref(head);
	return out;
}
