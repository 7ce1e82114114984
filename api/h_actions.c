/* /v1/actions: the key actions of the work plan, each with its latest
 * status update. Members read; co-chairs create, edit and archive (key
 * actions are never deleted). */
#include "handlers.h"
#include "jsonout.h"
#include "jspec.h"
#include "query.h"
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const archived_choices[] = { "false", "true", "any", NULL };

DB_STMT(stmt_actions_list,
	"SELECT action_json(a)::text, a.id::text AS cursor FROM action a"
	" WHERE ($1::text IS NULL OR a.id > $1::bigint)"
	"   AND ($3::int IS NULL OR a.pillar = $3::int)"
	"   AND ($4::text IS NULL OR a.cycle = $4)"
	"   AND ($5::int IS NULL OR a.year = $5::int)"
	"   AND ($6::text IS NULL OR coalesce((SELECT c.status FROM action_current(a.id, NULL) c),"
	"                                     'not_started') = $6)"
	"   AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM action_lead l"
	"                                    WHERE l.action_id = a.id AND l.entity = $7))"
	"   AND ($8::text IS NULL"
	"        OR to_tsvector('simple', a.title || ' ' || a.description)"
	"           @@ websearch_to_tsquery('simple', $8)"
	"        OR strpos(lower(a.title || ' ' || a.description), lower($8)) > 0)"
	"   AND ($9 = 'any' OR a.archived = ($9 = 'true'))"
	" ORDER BY a.id LIMIT $2");
DB_STMT(stmt_action_get, "SELECT action_json(a)::text, a.version::text FROM action a WHERE a.id = $1::bigint");
DB_STMT(stmt_action_lock,
	"SELECT action_json(a)::text AS json, a.version::text AS version, a.archived FROM action a"
	" WHERE a.id = $1::bigint FOR UPDATE");
DB_STMT(stmt_action_insert,
	"INSERT INTO action (pillar, cycle, year, title, description, due_date, tags)"
	" VALUES ($1::int, $2, $3::int, $4, coalesce($5, ''), $6::date,"
	"         coalesce(ARRAY(SELECT json_array_elements_text($7::json)), '{}'))"
	" RETURNING id::text AS cursor");
DB_STMT(stmt_action_update,
	"UPDATE action SET title = coalesce($2, title), description = coalesce($3, description),"
	" due_date = CASE WHEN $4::bool THEN $5::date ELSE due_date END,"
	" tags = CASE WHEN $6::json IS NULL THEN tags"
	"             ELSE ARRAY(SELECT json_array_elements_text($6::json)) END,"
	" year = coalesce($7::int, year), archived = coalesce($8::bool, archived),"
	/* the one place a version moves: every write that changes something,
	 * leads included (one that changes nothing is rolled back) */
	" version = version + 1, updated_at = now()"
	" WHERE id = $1::bigint");
DB_STMT(stmt_action_leads_clear, "DELETE FROM action_lead WHERE action_id = $1::bigint");
/* the given leads, or the pillar's when none are given */
DB_STMT(stmt_action_leads_set,
	"INSERT INTO action_lead (action_id, entity, position)"
	" SELECT $1::bigint, e.value, e.ordinality"
	" FROM json_array_elements_text($2::json) WITH ORDINALITY AS e"
	" UNION ALL"
	" SELECT $1::bigint, pl.entity, pl.position FROM pillar_lead pl"
	" WHERE $2::json IS NULL AND pl.pillar = (SELECT pillar FROM action WHERE id = $1::bigint)");

static const struct constraint_field action_constraints[] = {
	{ "action_pillar_fkey", "pillar", "is not a pillar of the work plan" },
	{ "action_cycle_fkey", "cycle", "is not a cycle of the work plan (see /v1/cycles)" },
	{ "action_year_in_cycle", "year", "must lie within the cycle" },
	{ "action_lead_entity_fkey", "leads", "must be entity codes (see /v1/entities)" },
	{ "action_lead_pkey", "leads", "must not repeat an entity" },
	{ "action_lead_action_id_position_key", "leads", "must not repeat an entity" },
	{ "action_title_check", "title", "must be 1 to 300 characters" },
	{ "action_tags_check", "tags", "must have at most 20 tags" },
	{ 0 },
};

int h_actions_list(struct request *rq)
{
	long long pillar, year;
	int status, archived = 0;
	const char *cycle, *lead, *q;
	bool has_pillar, has_year, has_status, has_cycle, has_lead, has_q;
	const struct q_field spec[] = {
		{ .name = "pillar", .type = Q_INT, .min = 1, .max = 8, .out = &pillar, .present = &has_pillar },
		{ .name = "cycle", .type = Q_TEXT, .max = 9, .out = &cycle, .present = &has_cycle },
		{ .name = "year", .type = Q_INT, .min = 1945, .max = 2200, .out = &year, .present = &has_year },
		{ .name = "status", .type = Q_ENUM, .choices = status_names, .out = &status, .present = &has_status },
		{ .name = "lead", .type = Q_TEXT, .max = 16, .out = &lead, .present = &has_lead },
		{ .name = "q", .type = Q_TEXT, .max = 200, .out = &q, .present = &has_q },
		{ .name = "archived", .type = Q_ENUM, .choices = archived_choices, .out = &archived },
		{ 0 },
	};
	struct page page;
	json_t *errors = json_array();
	char fetch[24], p[24], y[24];

	if (!query_parse(rq, spec, &page, errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	page_fetch(&page, fetch);
	snprintf(p, sizeof p, "%lld", has_pillar ? pillar : 0);
	snprintf(y, sizeof y, "%lld", has_year ? year : 0);
	if (has_pillar)
		request_cache_tag(rq, "P P%lld", pillar);
	else
		request_cache_tag(rq, "L");
	return reply_list(rq, &stmt_actions_list, 9,
		      (const char *const[]){ page.after, fetch, has_pillar ? p : NULL,
					     has_cycle ? cycle : NULL, has_year ? y : NULL,
					     has_status ? status_names[status] : NULL,
					     has_lead ? lead : NULL, has_q ? q : NULL,
					     archived_choices[archived] }, &page);
}

/* Path parameter 0 as an id in text (for binding); false if not an id. */
static bool action_id(struct request *rq, char out[24])
{
	long long id;

	if (!request_id(rq, 0, &id))
		return false;
	snprintf(out, 24, "%lld", id);
	return true;
}

int h_action_get(struct request *rq)
{
	char id[24];

	if (!action_id(rq, id))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such key action", NULL);
	request_cache_tag(rq, "A A%s", id);
	return reply_document(rq, &stmt_action_get, 1, (const char *const[]){ id },
			      "no such key action");
}

/* What a write transaction produced, or why it rolled back. */
struct action_write {
	struct request *rq;
	char id[24];
	const char *if_match;
	/* body */
	long long pillar, year;
	const char *cycle, *title, *description, *due_date;
	bool has_year, has_due, has_archived, archived;
	json_t *leads, *tags;
	bool restores_only;  /* PATCH: an archived action takes only a restore */
	/* outcome */
	enum problem problem;
	const char *detail;
	char *before, *result;
	bool unchanged;      /* rolled back: the write changed nothing */
};

static const char *const unversioned[] = { "version", "updated_at", NULL };

static char *dump_or_null(json_t *v)
{
	return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

static enum db_rc action_set_leads(struct db *db, struct action_write *w, bool replace)
{
	char *leads = dump_or_null(w->leads);
	enum db_rc rc = DB_OK;
	PGresult *r;

	if (replace) {
		rc = db_query(db, &stmt_action_leads_clear, 1, (const char *const[]){ w->id }, &r);
		PQclear(r);
	}
	if (rc == DB_OK)
		rc = db_query(db, &stmt_action_leads_set, 2, (const char *const[]){ w->id, leads }, &r);
	PQclear(r);
	free(leads);
	return rc;
}

static enum db_rc action_result(struct db *db, struct action_write *w)
{
	PGresult *r;
	enum db_rc rc = db_query(db, &stmt_action_get, 1, (const char *const[]){ w->id }, &r);

	if (rc != DB_OK)
		return rc;
	free(w->result);
	w->result = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return DB_OK;
}

static enum db_rc action_create_txn(struct db *db, void *cls)
{
	struct action_write *w = cls;
	char actor[32], pillar[24], year[24], *tags = dump_or_null(w->tags);
	enum db_rc rc;
	PGresult *r;

	request_actor(w->rq, actor);
	snprintf(pillar, sizeof pillar, "%lld", w->pillar);
	snprintf(year, sizeof year, "%lld", w->year);
	rc = db_set_actor(db, actor);
	if (rc == DB_OK)
		rc = db_query(db, &stmt_action_insert, 7,
			      (const char *const[]){ pillar, w->cycle, year, w->title, w->description,
						     w->due_date, tags },
			      &r);
	free(tags);
	if (rc != DB_OK)
		return rc;
	snprintf(w->id, sizeof w->id, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	rc = action_set_leads(db, w, false);
	return rc == DB_OK ? action_result(db, w) : rc;
}

static int action_write_reply(struct request *rq, struct action_write *w, enum db_rc rc,
			      unsigned status)
{
	char location[64];
	int ret;

	if (rc == DB_OK && status == 201) {
		snprintf(location, sizeof location, "/v1/actions/%s", w->id);
		ret = reply_full(rq, 201, "application/json", w->result, strlen(w->result),
				 (const char *const[]){ "Location", location, NULL });
	} else if (rc == DB_OK) {
		ret = reply_json(rq, status, w->result, strlen(w->result));
	} else if (rc == DB_ABORT && w->unchanged) {
		ret = reply_json(rq, 200, w->before, strlen(w->before));
	} else if (rc == DB_ABORT) {
		ret = reply_problem(rq, w->problem, w->detail, NULL);
	} else {
		ret = reply_rejected(rq, rc, action_constraints);
	}
	free(w->result);
	free(w->before);
	return ret;
}

int h_action_create(struct request *rq)
{
	struct action_write w = { .rq = rq };
	const struct js_field spec[] = {
		{ .name = "pillar", .type = JS_INT, .flags = JS_REQUIRED, .min = 1, .max = 8, .out = &w.pillar },
		{ .name = "cycle", .type = JS_STRING, .flags = JS_REQUIRED, .min = 4, .max = 9, .out = &w.cycle },
		{ .name = "year", .type = JS_INT, .flags = JS_REQUIRED, .min = 1945, .max = 2200, .out = &w.year },
		{ .name = "title", .type = JS_STRING, .flags = JS_REQUIRED, .min = 1, .max = 300, .out = &w.title },
		{ .name = "description", .type = JS_TEXT, .max = 5000, .out = &w.description },
		{ .name = "leads", .type = JS_STRINGS, .min = 1, .max = 10, .out = &w.leads },
		{ .name = "due_date", .type = JS_DATE, .flags = JS_NULLABLE, .out = &w.due_date },
		{ .name = "tags", .type = JS_STRINGS, .max = 20, .out = &w.tags },
		{ 0 },
	};
	json_t *errors = json_array();
	enum db_rc rc;

	if (!js_validate(rq->json, spec, errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	rc = db_transaction(request_db(rq), action_create_txn, &w);
	return action_write_reply(rq, &w, rc, 201);
}

/* Locks the action and checks If-Match; DB_ABORT says why not. */
static enum db_rc action_lock(struct db *db, struct action_write *w)
{
	char actor[32];
	enum db_rc rc;
	PGresult *r;

	request_actor(w->rq, actor);
	rc = db_set_actor(db, actor);
	if (rc == DB_OK)
		rc = db_query(db, &stmt_action_lock, 1, (const char *const[]){ w->id }, &r);
	if (rc != DB_OK)
		return rc;
	if (PQntuples(r) != 1) {
		w->problem = PROBLEM_NOT_FOUND;
		w->detail = "no such key action";
		rc = DB_ABORT;
	} else if (!version_matches(w->if_match, db_col(r, 0, "json"), db_col(r, 0, "version"))) {
		w->problem = PROBLEM_PRECONDITION_FAILED;
		w->detail = "the key action changed since you read it: GET it again";
		rc = DB_ABORT;
	} else if (w->restores_only && db_bool(r, 0, "archived") &&
		   !(w->has_archived && !w->archived)) {
		w->problem = PROBLEM_CONFLICT;
		w->detail = "the key action is archived: restore it first with {\"archived\":false}";
		rc = DB_ABORT;
	} else {
		free(w->before);
		w->before = strdup(db_col(r, 0, "json"));
	}
	PQclear(r);
	return rc;
}

static enum db_rc action_patch_txn(struct db *db, void *cls)
{
	struct action_write *w = cls;
	char year[24], *tags = dump_or_null(w->tags);
	enum db_rc rc = action_lock(db, w);
	PGresult *r;

	snprintf(year, sizeof year, "%lld", w->year);
	if (rc == DB_OK)
		rc = db_query(db, &stmt_action_update, 8,
			      (const char *const[]){ w->id, w->title, w->description,
						     w->has_due ? "true" : "false", w->due_date, tags,
						     w->has_year ? year : NULL,
						     w->has_archived ? (w->archived ? "true" : "false") : NULL },
			      &r);
	free(tags);
	if (rc != DB_OK)
		return rc;
	PQclear(r);
	if (w->leads) {
		rc = action_set_leads(db, w, true);
		if (rc != DB_OK)
			return rc;
	}
	rc = action_result(db, w);
	/* a write that changes nothing leaves no version and no audit row */
	if (rc == DB_OK && json_text_same(w->before, w->result, unversioned)) {
		w->unchanged = true;
		return DB_ABORT;
	}
	return rc;
}

/* PATCH and DELETE: path id and If-Match; false once a reply is queued. */
static bool action_write_begin(struct request *rq, struct action_write *w, int *ret)
{
	if (!action_id(rq, w->id)) {
		*ret = reply_problem(rq, PROBLEM_NOT_FOUND, "no such key action", NULL);
		return false;
	}
	w->if_match = request_header(rq, "If-Match");
	if (!w->if_match) {
		*ret = reply_problem(rq, PROBLEM_PRECONDITION_REQUIRED,
				     "send If-Match with the key action's ETag or version", NULL);
		return false;
	}
	return true;
}

int h_action_patch(struct request *rq)
{
	struct action_write w = { .rq = rq, .restores_only = true };
	const struct js_field spec[] = {
		{ .name = "year", .type = JS_INT, .min = 1945, .max = 2200, .out = &w.year, .present = &w.has_year },
		{ .name = "title", .type = JS_STRING, .min = 1, .max = 300, .out = &w.title },
		{ .name = "description", .type = JS_TEXT, .max = 5000, .out = &w.description },
		{ .name = "leads", .type = JS_STRINGS, .min = 1, .max = 10, .out = &w.leads },
		{ .name = "due_date", .type = JS_DATE, .flags = JS_NULLABLE, .out = &w.due_date,
		  .present = &w.has_due },
		{ .name = "tags", .type = JS_STRINGS, .max = 20, .out = &w.tags },
		{ .name = "archived", .type = JS_BOOL, .out = &w.archived, .present = &w.has_archived },
		{ 0 },
	};
	json_t *errors = json_array();
	int ret;

	if (!js_validate(rq->json, spec, errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	if (!action_write_begin(rq, &w, &ret))
		return ret;
	return action_write_reply(rq, &w, db_transaction(request_db(rq), action_patch_txn, &w), 200);
}

int h_action_delete(struct request *rq)
{
	struct action_write w = { .rq = rq, .has_archived = true, .archived = true };
	int ret;

	if (!action_write_begin(rq, &w, &ret))
		return ret;
	return action_write_reply(rq, &w, db_transaction(request_db(rq), action_patch_txn, &w), 200);
}
