/* Calls for inputs (SPEC 13): co-chairs create and edit them (PATCH with
 * If-Match), members read them, anyone reads the open and closed ones on
 * the public routes and gets a signed form token to send an input with
 * (api/h_intake.c). A call's state (draft, open, closed) is read against
 * the service's clock (lib/clock.c, WORKPLAN_NOW), bound into the SQL;
 * closing needs nobody. */
#include "clock.h"
#include "handlers.h"
#include "jspec.h"
#include "query.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A call's state at the clock's instant T (as consultation_state() in SQL). */
#define CALL_STATE(T)                                                                          \
	"CASE WHEN " T "::timestamptz < c.opens_at THEN 'draft'"                                   \
	" WHEN " T "::timestamptz < c.closes_at THEN 'open' ELSE 'closed' END"
/* A call as members read it, its state at the clock's instant T. */
#define CALL_JSON(T)                                                                           \
	"json_build_object('id', c.id, 'title', c.title, 'purpose', c.purpose, 'cycle', c.cycle,"  \
	" 'issued', c.issued, 'due', c.due, 'opens_at', utc_text(c.opens_at),"                     \
	" 'closes_at', utc_text(c.closes_at), 'state', " CALL_STATE(T) "," \
	" 'subject', c.subject, 'subject_must_contain', c.subject_must_contain,"                   \
	" 'formats', c.formats, 'languages', c.languages, 'word_limit', c.word_limit,"             \
	" 'max_file_mb', c.max_file_mb, 'version', c.version::text,"                               \
	" 'updated_at', utc_text(c.updated_at))"
/* The same for anyone: what the public form needs, nothing else. */
#define CALL_PUBLIC_JSON(T)                                                                    \
	"json_build_object('id', c.id, 'title', c.title, 'purpose', c.purpose, 'cycle', c.cycle,"  \
	" 'opens_at', utc_text(c.opens_at), 'closes_at', utc_text(c.closes_at),"                   \
	" 'state', " CALL_STATE(T) ", 'subject', c.subject,"               \
	" 'formats', c.formats, 'languages', c.languages, 'word_limit', c.word_limit,"             \
	" 'max_file_mb', c.max_file_mb)"

DB_STMT(stmt_consultations,
	"SELECT " CALL_JSON("$3") "::text, c.id::text AS cursor FROM consultation c"
	" WHERE $1::text IS NULL OR c.id > $1::bigint ORDER BY c.id LIMIT $2");
DB_STMT(stmt_consultation_get,
	"SELECT " CALL_JSON("$2") "::text FROM consultation c WHERE c.id = $1::bigint");
/* The public see a call once it opened. */
DB_STMT(stmt_public_consultations,
	"SELECT " CALL_PUBLIC_JSON("$3") "::text, c.id::text AS cursor"
	" FROM consultation c WHERE c.opens_at <= $3::timestamptz"
	"  AND ($1::text IS NULL OR c.id > $1::bigint) ORDER BY c.id LIMIT $2");
DB_STMT(stmt_public_consultation_get,
	"SELECT " CALL_PUBLIC_JSON("$2") "::text FROM consultation c"
	" WHERE c.id = $1::bigint AND c.opens_at <= $2::timestamptz");
DB_STMT(stmt_consultation_insert,
	"WITH c AS (INSERT INTO consultation (title, purpose, cycle, opens_at, closes_at, word_limit, languages,"
	"  formats, max_file_mb, subject, created_by, updated_at)"
	" VALUES ($1, coalesce($2, ''), $3, $4::timestamptz, $5::timestamptz, $6::int,"
	"  coalesce($7::text[], '{ar,zh,en,fr,ru,es}'), coalesce($8::text[], '{docx,pdf}'),"
	"  coalesce($9::int, 5), $10, $11::bigint, $12::timestamptz)"
	" RETURNING *) SELECT c.id, " CALL_JSON("$12") "::text AS json FROM c");
DB_STMT(stmt_consultation_lock,
	"SELECT " CALL_JSON("$2") "::text AS json, c.version FROM consultation c"
	" WHERE c.id = $1::bigint FOR UPDATE");
/* $13..$15: whether cycle, word_limit and subject were sent (each may be set to null) */
DB_STMT(stmt_consultation_update,
	"WITH c AS (UPDATE consultation SET title = coalesce($2, title), purpose = coalesce($3, purpose),"
	"  cycle = CASE WHEN $13::bool THEN $4 ELSE cycle END,"
	"  opens_at = coalesce($5::timestamptz, opens_at), closes_at = coalesce($6::timestamptz, closes_at),"
	"  word_limit = CASE WHEN $14::bool THEN $7::int ELSE word_limit END,"
	"  languages = coalesce($8::text[], languages), formats = coalesce($9::text[], formats),"
	"  max_file_mb = coalesce($10::int, max_file_mb),"
	"  subject = CASE WHEN $15::bool THEN $11 ELSE subject END,"
	"  version = version + 1, updated_at = $12::timestamptz"
	" WHERE id = $1::bigint RETURNING *) SELECT " CALL_JSON("$12") "::text AS json FROM c");

static const char *const languages[] = { "ar", "zh", "en", "fr", "ru", "es", NULL };
static const char *const formats[] = { "docx", "pdf", NULL };

static const struct constraint_field consultation_constraints[] = {
	{ "consultation_cycle_fkey", "cycle", "is not a cycle" },
	{ "consultation_window", "closes_at", "must come after opens_at" },
	{ "consultation_check", "closes_at", "must come after opens_at" },
	{ 0 },
};

struct call_write {
	struct request *rq;
	char id[24];
	const char *if_match;
	const char *title, *purpose, *cycle, *opens_at, *closes_at, *subject;
	char word_limit[24], max_file_mb[24];
	bool has_word_limit, has_max_file_mb, cycle_sent, word_limit_sent, subject_sent;
	char *languages, *formats; /* array literals, or NULL */
	enum problem problem;
	const char *detail;
	char *json;
};

/* A set of names from choices as an array literal ("{a,b}"), or NULL
 * after appending to errors. */
static char *set_literal(json_t *list, const char *field, const char *const *choices,
			 json_t *errors)
{
	struct buf b;
	json_t *v;
	size_t i;
	bool ok = true;

	buf_init(&b, 256);
	buf_adds(&b, "{");
	json_array_foreach(list, i, v) {
		const char *s = json_string_value(v);
		bool known = false, again = false;
		char msg[200];

		for (int k = 0; choices[k]; k++)
			known |= !strcmp(choices[k], s);
		for (size_t j = 0; j < i; j++)
			again |= !strcmp(json_string_value(json_array_get(list, j)), s);
		if (!known || again) {
			snprintf(msg, sizeof msg, again ? "lists \"%.40s\" twice" : "\"%.40s\" is not one of the choices",
				 s);
			js_error(errors, field, msg);
			ok = false;
		} else {
			buf_printf(&b, "%s%s", b.len > 1 ? "," : "", s);
		}
	}
	buf_adds(&b, "}");
	if (!ok) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

static bool instant(const char *s, const char *field, json_t *errors)
{
	time_t t;

	if (!s || rfc3339_parse(s, false, &t))
		return true;
	js_error(errors, field, "must be an RFC 3339 date-time with its offset (2021-10-20T09:00:00Z)");
	return false;
}

static bool call_body(struct request *rq, bool create, struct call_write *w, json_t *errors)
{
	long long word_limit = 0, max_file_mb = 0;
	bool wl_null = false, cycle_null = false, subject_null = false;
	json_t *langs = NULL, *fmts = NULL;
	const struct js_field spec[] = {
		{ .name = "title", .type = JS_STRING, .flags = create ? JS_REQUIRED : 0, .min = 1, .max = 300,
		  .out = &w->title },
		{ .name = "purpose", .type = JS_TEXT, .max = 20000, .out = &w->purpose },
		{ .name = "cycle", .type = JS_STRING, .flags = JS_NULLABLE, .min = 1, .max = 16,
		  .out = &w->cycle, .present = &w->cycle_sent, .is_null = &cycle_null },
		{ .name = "opens_at", .type = JS_STRING, .flags = create ? JS_REQUIRED : 0, .min = 1, .max = 40,
		  .out = &w->opens_at },
		{ .name = "closes_at", .type = JS_STRING, .flags = create ? JS_REQUIRED : 0, .min = 1, .max = 40,
		  .out = &w->closes_at },
		{ .name = "word_limit", .type = JS_INT, .flags = JS_NULLABLE, .min = 1, .max = 100000,
		  .out = &word_limit, .present = &w->word_limit_sent, .is_null = &wl_null },
		{ .name = "languages", .type = JS_STRINGS, .min = 1, .max = 6, .out = &langs },
		{ .name = "formats", .type = JS_STRINGS, .min = 1, .max = 2, .out = &fmts },
		{ .name = "max_file_mb", .type = JS_INT, .min = 1, .max = 50, .out = &max_file_mb,
		  .present = &w->has_max_file_mb },
		{ .name = "subject", .type = JS_STRING, .flags = JS_NULLABLE, .min = 1, .max = 200,
		  .out = &w->subject, .present = &w->subject_sent, .is_null = &subject_null },
		{ 0 },
	};
	bool ok = js_validate(rq->json, spec, errors);

	ok &= instant(w->opens_at, "opens_at", errors);
	ok &= instant(w->closes_at, "closes_at", errors);
	if (langs && !(w->languages = set_literal(langs, "languages", languages, errors)))
		ok = false;
	if (fmts && !(w->formats = set_literal(fmts, "formats", formats, errors)))
		ok = false;
	if (cycle_null)
		w->cycle = NULL;
	if (subject_null)
		w->subject = NULL;
	w->has_word_limit = w->word_limit_sent && !wl_null;
	snprintf(w->word_limit, sizeof w->word_limit, "%lld", word_limit);
	snprintf(w->max_file_mb, sizeof w->max_file_mb, "%lld", max_file_mb);
	return ok;
}

static enum db_rc call_fail(struct call_write *w, enum problem p, const char *detail)
{
	w->problem = p;
	w->detail = detail;
	return DB_ABORT;
}

static enum db_rc call_create_txn(struct db *db, void *cls)
{
	struct call_write *w = cls;
	char member[24], now[32];
	enum db_rc rc = write_begin(db, w->rq, member, now);

	if (rc != DB_OK)
		return rc;
	return write_result(db, &stmt_consultation_insert, 12,
			    (const char *const[]){ w->title, w->purpose, w->cycle, w->opens_at, w->closes_at,
						   w->has_word_limit ? w->word_limit : NULL, w->languages,
						   w->formats, w->has_max_file_mb ? w->max_file_mb : NULL,
						   w->subject, member, now },
			    NULL, NULL, &w->json, w->id);
}

static enum db_rc call_patch_txn(struct db *db, void *cls)
{
	struct call_write *w = cls;
	char now[32];
	enum db_rc rc = write_begin(db, w->rq, NULL, now);
	PGresult *r;
	bool found, fresh = false;

	if (rc == DB_OK)
		rc = db_query(db, &stmt_consultation_lock, 2, (const char *const[]){ w->id, now }, &r);
	if (rc != DB_OK)
		return rc;
	found = PQntuples(r) == 1;
	if (found)
		fresh = version_matches(w->if_match, db_col(r, 0, "json"), db_col(r, 0, "version"));
	PQclear(r);
	if (!found)
		return call_fail(w, PROBLEM_NOT_FOUND, "no such consultation");
	if (!fresh)
		return call_fail(w, PROBLEM_PRECONDITION_FAILED,
				 "the consultation changed since you read it: GET it again");
	return write_result(db, &stmt_consultation_update, 15,
			    (const char *const[]){ w->id, w->title, w->purpose, w->cycle, w->opens_at,
						   w->closes_at, w->has_word_limit ? w->word_limit : NULL,
						   w->languages, w->formats,
						   w->has_max_file_mb ? w->max_file_mb : NULL, w->subject, now,
						   w->cycle_sent ? "true" : "false",
						   w->word_limit_sent ? "true" : "false",
						   w->subject_sent ? "true" : "false" },
			    NULL, NULL, &w->json, w->id);
}

static int call_reply(struct request *rq, struct call_write *w, enum db_rc rc, unsigned status)
{
	char location[64];
	int ret;

	if (rc == DB_ABORT)
		ret = reply_problem(rq, w->problem, w->detail, NULL);
	else if (rc != DB_OK)
		ret = reply_rejected(rq, rc, consultation_constraints);
	else {
		snprintf(location, sizeof location, "/v1/consultations/%s", w->id);
		ret = reply_full(rq, status, "application/json", w->json, strlen(w->json),
				 status == 201 ? (const char *const[]){ "Location", location, NULL } : NULL);
	}
	free(w->json);
	free(w->languages);
	free(w->formats);
	return ret;
}

int h_consultation_create(struct request *rq)
{
	struct call_write w = { .rq = rq };
	json_t *errors = json_array();

	if (!call_body(rq, true, &w, errors)) {
		free(w.languages);
		free(w.formats);
		return reply_invalid(rq, errors);
	}
	json_decref(errors);
	return call_reply(rq, &w, db_transaction(request_db(rq), call_create_txn, &w), 201);
}

int h_consultation_patch(struct request *rq)
{
	struct call_write w = { .rq = rq };
	json_t *errors = json_array();
	long long id;

	if (!request_id(rq, 0, &id)) {
		json_decref(errors);
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such consultation", NULL);
	}
	snprintf(w.id, sizeof w.id, "%lld", id);
	if (!call_body(rq, false, &w, errors)) {
		free(w.languages);
		free(w.formats);
		return reply_invalid(rq, errors);
	}
	json_decref(errors);
	w.if_match = request_header(rq, "If-Match");
	if (!w.if_match) {
		free(w.languages);
		free(w.formats);
		return reply_problem(rq, PROBLEM_PRECONDITION_REQUIRED,
				     "send If-Match with the consultation's ETag or version", NULL);
	}
	return call_reply(rq, &w, db_transaction(request_db(rq), call_patch_txn, &w), 200);
}

int h_consultations_list(struct request *rq)
{
	char now[32];

	clock_now_text(now);
	return reply_plain_list(rq, &stmt_consultations, now);
}

/* One call as s shows it (to members, or to anyone) at the clock's instant. */
static int call_get(struct request *rq, struct db_stmt *s)
{
	char id[24], now[32];
	long long n;

	if (!request_id(rq, 0, &n))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such consultation", NULL);
	snprintf(id, sizeof id, "%lld", n);
	clock_now_text(now);
	return reply_document(rq, s, 2, (const char *const[]){ id, now }, "no such consultation");
}

int h_consultation_get(struct request *rq)
{
	return call_get(rq, &stmt_consultation_get);
}

int h_public_consultations_list(struct request *rq)
{
	char now[32];

	clock_now_text(now);
	return reply_plain_list(rq, &stmt_public_consultations, now);
}

int h_public_consultation_get(struct request *rq)
{
	return call_get(rq, &stmt_public_consultation_get);
}
