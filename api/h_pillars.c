/* /v1/pillars: the eight pillars of the work plan with their leads, action
 * counts and the current status of their actions; co-chairs edit them. */
#include "clock.h"
#include "handlers.h"
#include "jsonout.h"
#include "http.h"
#include "jspec.h"
#include "period.h"
#include "query.h"
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One row per pillar ($1: a number, or NULL for all; $2: the cursor, a
 * number; $3: the limit; $4: the current quarter): its JSON, version,
 * status, inactive reason and cursor. actions counts the key actions not
 * archived, of every cycle; by_status counts those of the current cycle by
 * their state at the current quarter (the plan's last once it has ended),
 * exactly as /v1/progress counts them by default: from the same sums. */
#define PILLAR_SQL(lock)                                                                    \
	"WITH scope AS ("                                                                   \
	"  SELECT c.label, q.p FROM (SELECT w.id, least($4::int, w.end_year * 4 + 3) AS p"  \
	"    FROM workplan w ORDER BY w.id LIMIT 1) q"                                      \
	"  JOIN cycle c ON c.workplan_id = q.id AND q.p / 4 BETWEEN c.start_year AND c.end_year" \
	"), counts AS ("                                                                    \
	"  SELECT a.pillar, count(*) AS actions FROM action a"                              \
	"  WHERE NOT a.archived AND ($1::int IS NULL OR a.pillar = $1::int) GROUP BY a.pillar" \
	"), g AS ("                                                                         \
	"  SELECT g.* FROM progress_agg g JOIN scope ON g.cycle = scope.label AND g.period = scope.p" \
	") SELECT json_build_object("                                                       \
	"    'number', p.number, 'name', p.name, 'status', p.status,"                       \
	"    'inactive_reason', p.inactive_reason,"                                         \
	"    'leads', coalesce((SELECT json_agg(pl.entity ORDER BY pl.position)"            \
	"                       FROM pillar_lead pl WHERE pl.pillar = p.number), '[]'::json)," \
	"    'actions', coalesce(c.actions, 0),"                                            \
	"    'by_status', " STATUS_COUNTS_SQL ","                                           \
	"    'version', p.version::text)::text AS json, p.version, p.status, p.inactive_reason," \
	"    p.number::text AS cursor"                                                      \
	" FROM pillar p LEFT JOIN counts c ON c.pillar = p.number"                          \
	" LEFT JOIN g ON g.pillar = p.number"                                               \
	" WHERE ($1::int IS NULL OR p.number = $1::int)"                                    \
	"   AND ($2::text IS NULL OR p.number > $2::int)"                                   \
	" ORDER BY p.number LIMIT $3::int" lock

DB_STMT(stmt_pillars, PILLAR_SQL(""));
DB_STMT(stmt_pillar_lock, PILLAR_SQL(" FOR UPDATE OF p"));
DB_STMT(stmt_pillar_update,
	"UPDATE pillar SET name = coalesce($2, name), status = coalesce($3, status),"
	" inactive_reason = CASE WHEN $4::bool THEN $5 ELSE inactive_reason END,"
	/* the one place a version moves (a write that changes nothing is
	 * rolled back) */
	" version = version + 1"
	" WHERE number = $1::int");
DB_STMT(stmt_pillar_leads_clear, "DELETE FROM pillar_lead WHERE pillar = $1::int");
DB_STMT(stmt_pillar_leads_set,
	"INSERT INTO pillar_lead (pillar, entity, position)"
	" SELECT $1::int, e.value, e.ordinality"
	" FROM json_array_elements_text($2::json) WITH ORDINALITY AS e");

/* The current quarter, PILLAR_SQL's $4, on the service's clock. */
static void pillar_now(char out[16])
{
	snprintf(out, 16, "%d", period_of_time(clock_now()));
}

int h_pillars_list(struct request *rq)
{
	struct page page;
	json_t *errors = json_array();
	char fetch[24], now[16];

	if (!query_parse(rq, NULL, &page, errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	page_fetch(&page, fetch);
	pillar_now(now);
	request_cache_tag(rq, "L");
	return reply_list(rq, &stmt_pillars, 4,
		      (const char *const[]){ NULL, page.after, fetch, now }, &page);
}

/* Path parameter 0 as a pillar number in text; false when it is not one. */
static bool pillar_number(struct request *rq, char out[4])
{
	long long n;

	if (!request_id(rq, 0, &n) || n > 8)
		return false;
	out[0] = (char)('0' + n);
	out[1] = '\0';
	return true;
}

int h_pillar_get(struct request *rq)
{
	char number[4], now[16];

	if (!pillar_number(rq, number))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "pillars are numbered 1 to 8", NULL);
	pillar_now(now);
	request_cache_tag(rq, "P P%s", number);
	return reply_document(rq, &stmt_pillars, 4, (const char *const[]){ number, NULL, "1", now },
			      "no such pillar");
}

struct pillar_patch {
	struct request *rq;
	char number[4];
	const char *if_match;
	const char *name, *reason;
	int status;
	bool has_status, has_reason, reason_null;
	json_t *leads;
	/* outcome when the body rolls back */
	enum problem problem;
	const char *detail;
	json_t *errors;
	char *before, *result; /* the representation before, and after */
	bool unchanged;        /* rolled back: the write changed nothing */
};

static enum db_rc pillar_patch_txn(struct db *db, void *cls)
{
	struct pillar_patch *pp = cls;
	char actor[32], now[16], *leads = NULL;
	const char *p1[4] = { pp->number, NULL, "1", now };
	bool inactive;
	enum db_rc rc;
	PGresult *r;

	request_actor(pp->rq, actor);
	pillar_now(now);
	rc = db_set_actor(db, actor);
	if (rc != DB_OK)
		return rc;
	rc = db_query(db, &stmt_pillar_lock, 4, p1, &r);
	if (rc != DB_OK)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		pp->problem = PROBLEM_NOT_FOUND;
		pp->detail = "no such pillar";
		return DB_ABORT;
	}
	if (!version_matches(pp->if_match, db_col(r, 0, "json"), db_col(r, 0, "version"))) {
		PQclear(r);
		pp->problem = PROBLEM_PRECONDITION_FAILED;
		pp->detail = "the pillar changed since you read it: GET it again";
		return DB_ABORT;
	}
	free(pp->before);
	pp->before = strdup(db_col(r, 0, "json"));
	/* an inactive pillar says why; an active one has no such reason */
	inactive = pp->has_status ? pp->status == PILLAR_INACTIVE
				   : vocab_find(pillar_status_names, db_col(r, 0, "status")) == PILLAR_INACTIVE;
	if (inactive && (pp->has_reason ? pp->reason_null : db_isnull(r, 0, "inactive_reason"))) {
		PQclear(r);
		js_error(pp->errors, "inactive_reason", "is required when the pillar is inactive");
		pp->problem = PROBLEM_VALIDATION;
		return DB_ABORT;
	}
	PQclear(r);
	{
		const char *p[5] = { pp->number, pp->name,
				     pp->has_status ? pillar_status_names[pp->status] : NULL,
				     pp->has_reason || !inactive ? "true" : "false",
				     inactive ? pp->reason : NULL };

		rc = db_query(db, &stmt_pillar_update, 5, p, &r);
		if (rc != DB_OK)
			return rc;
		PQclear(r);
	}
	if (pp->leads) {
		leads = json_dumps(pp->leads, JSON_COMPACT);
		rc = db_query(db, &stmt_pillar_leads_clear, 1, p1, &r);
		if (rc == DB_OK) {
			PQclear(r);
			rc = db_query(db, &stmt_pillar_leads_set, 2,
				      (const char *const[]){ pp->number, leads }, &r);
		}
		free(leads);
		if (rc == DB_CONSTRAINT) {
			js_error(pp->errors, "leads", "must be distinct entity codes (see /v1/entities)");
			pp->problem = PROBLEM_VALIDATION;
			return DB_ABORT;
		}
		if (rc != DB_OK)
			return rc;
		PQclear(r);
	}
	rc = db_query(db, &stmt_pillars, 4, p1, &r);
	if (rc != DB_OK)
		return rc;
	free(pp->result);
	pp->result = strdup(db_col(r, 0, "json"));
	PQclear(r);
	/* a write that changes nothing leaves no version and no audit row */
	if (json_text_same(pp->before, pp->result, (const char *const[]){ "version", NULL })) {
		pp->unchanged = true;
		return DB_ABORT;
	}
	return DB_OK;
}

int h_pillar_patch(struct request *rq)
{
	struct pillar_patch pp = { .rq = rq };
	const struct js_field spec[] = {
		{ .name = "name", .type = JS_STRING, .min = 1, .max = 200, .out = &pp.name },
		{ .name = "status", .type = JS_ENUM, .choices = pillar_status_names, .out = &pp.status,
		  .present = &pp.has_status },
		{ .name = "inactive_reason", .type = JS_TEXT, .flags = JS_NULLABLE, .min = 1,
		  .max = 1000, .out = &pp.reason, .present = &pp.has_reason,
		  .is_null = &pp.reason_null },
		{ .name = "leads", .type = JS_STRINGS, .max = 5, .out = &pp.leads },
		{ 0 },
	};
	enum db_rc rc;
	int ret;

	if (!pillar_number(rq, pp.number))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "pillars are numbered 1 to 8", NULL);
	pp.errors = json_array();
	if (!js_validate(rq->json, spec, pp.errors))
		return reply_invalid(rq, pp.errors);
	pp.if_match = request_header(rq, "If-Match");
	if (!pp.if_match) {
		json_decref(pp.errors);
		return reply_problem(rq, PROBLEM_PRECONDITION_REQUIRED,
				     "send If-Match with the pillar's ETag or version", NULL);
	}
	rc = db_transaction(request_db(rq), pillar_patch_txn, &pp);
	if (rc == DB_OK || (rc == DB_ABORT && pp.unchanged)) {
		json_decref(pp.errors);
		ret = rc == DB_OK ? reply_json(rq, 200, pp.result, strlen(pp.result))
				  : reply_json(rq, 200, pp.before, strlen(pp.before));
	} else if (rc == DB_ABORT && pp.problem == PROBLEM_VALIDATION) {
		ret = reply_invalid(rq, pp.errors);
	} else {
		json_decref(pp.errors);
		ret = rc == DB_ABORT ? reply_problem(rq, pp.problem, pp.detail, NULL)
				     : reply_db_failure(rq, rc);
	}
	free(pp.result);
	free(pp.before);
	return ret;
}
