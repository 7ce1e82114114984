/* Triage of a call's inputs (SPEC 13): co-chairs read every input, a
 * pillar lead the inputs tagged with a pillar their entity leads; co-chairs
 * set an input's state, pillars, key actions, public answer and private
 * note, export a call's inputs as CSV (contacts only on request, and that
 * request audited) and erase a contributor's contact. Once a call's
 * consultation report is published, anyone reads its outcome.
 *
 * Who reads what is decided in SQL, in one place: input_visible() (the
 * lead's pillars) and input_json()'s private flag (the contact and the
 * note, co-chairs only). An input a caller may not read is not found. */
#include "buf.h"
#include "clock.h"
#include "handlers.h"
#include "jsonout.h"
#include "jspec.h"
#include "query.h"
#include "util.h"
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_MAX (64 << 20)

DB_STMT(stmt_consultation_exists, "SELECT 1 FROM consultation WHERE id = $1::bigint");
DB_STMT(stmt_inputs_list,
	"SELECT input_json(i, $3::bool, false)::text, i.id::text AS cursor FROM consultation_input i"
	" WHERE i.consultation_id = $4::bigint AND ($1::text IS NULL OR i.id > $1::bigint)"
	"   AND input_visible(i.id, $5)"
	"   AND ($6::text IS NULL OR i.state = $6)"
	"   AND ($7::int IS NULL OR EXISTS (SELECT 1 FROM consultation_input_pillar p"
	"                                  WHERE p.input_id = i.id AND p.pillar = $7::int))"
	"   AND ($8::text IS NULL OR i.contributor_type = $8)"
	"   AND ($9::text IS NULL"
	"        OR strpos(lower(i.title || ' ' || i.text || ' ' || i.summary), lower($9)) > 0"
	/* contacts are searched by those who may read them */
	"        OR ($3::bool AND strpos(lower(concat_ws(' ', i.name, i.organisation, i.email)),"
	"                                lower($9)) > 0))"
	" ORDER BY i.id LIMIT $2");
DB_STMT(stmt_input_get,
	"SELECT input_json(i, $2::bool, true)::text FROM consultation_input i"
	" WHERE i.id = $1::bigint AND input_visible(i.id, $3)");
DB_STMT(stmt_input_lock,
	"SELECT input_json(i, true, true)::text AS json, i.version::text AS version"
	" FROM consultation_input i WHERE i.id = $1::bigint FOR UPDATE");
DB_STMT(stmt_input_update,
	"UPDATE consultation_input SET state = coalesce($2, state),"
	" public_answer = coalesce($3, public_answer), note = coalesce($4, note),"
	" updated_at = $5::timestamptz, version = version + 1 WHERE id = $1::bigint");
/* links: what is no longer named goes, what is new comes, the rest stays
 * (so the audit trail records only what changed) */
DB_STMT(stmt_input_pillars_drop,
	"DELETE FROM consultation_input_pillar WHERE input_id = $1::bigint"
	" AND pillar <> ALL (ARRAY(SELECT json_array_elements_text($2::json)::int))");
DB_STMT(stmt_input_pillars_add,
	"INSERT INTO consultation_input_pillar (input_id, pillar)"
	" SELECT $1::bigint, e::int FROM json_array_elements_text($2::json) e ON CONFLICT DO NOTHING");
DB_STMT(stmt_input_actions_drop,
	"DELETE FROM consultation_input_action WHERE input_id = $1::bigint"
	" AND action_id <> ALL (ARRAY(SELECT json_array_elements_text($2::json)::bigint))");
DB_STMT(stmt_input_actions_add,
	"INSERT INTO consultation_input_action (input_id, action_id)"
	" SELECT $1::bigint, e::bigint FROM json_array_elements_text($2::json) e ON CONFLICT DO NOTHING");
DB_STMT(stmt_input_result, "SELECT input_json(i, true, true)::text FROM consultation_input i WHERE i.id = $1::bigint");
DB_STMT(stmt_input_erase, "SELECT input_erase_contact($1::bigint, $2::timestamptz) AS erased,"
	" EXISTS (SELECT 1 FROM consultation_input WHERE id = $1::bigint) AS found");
DB_STMT(stmt_input_attachment,
	"SELECT f.media_type, f.bytes, f.file_name, encode(f.sha256, 'hex') AS sha256"
	" FROM consultation_attachment f WHERE f.input_id = $1::bigint AND input_visible(f.input_id, $2)");
DB_STMT(stmt_input_exists,
	"SELECT 1 FROM consultation_input i WHERE i.id = $1::bigint AND input_visible(i.id, $2)");
DB_STMT(stmt_inputs_csv,
	"SELECT i.id, i.receipt, utc_text(coalesce(i.received_at, i.received::timestamp AT TIME ZONE 'UTC'))"
	"   AS received_at, i.state, i.contributor_type, i.country, i.language, i.title,"
	" coalesce(nullif(i.text, ''), i.summary) AS text, i.words, i.over_word_limit::text AS over_word_limit,"
	" (SELECT string_agg(p.pillar::text, ';' ORDER BY p.pillar) FROM consultation_input_pillar p"
	"   WHERE p.input_id = i.id) AS pillars,"
	" (SELECT string_agg(l.action_id::text, ';' ORDER BY l.action_id) FROM consultation_input_action l"
	"   WHERE l.input_id = i.id) AS actions,"
	" i.public_answer, (SELECT f.file_name FROM consultation_attachment f WHERE f.input_id = i.id)"
	"   AS attachment, i.name, i.organisation, i.email"
	" FROM consultation_input i WHERE i.consultation_id = $1::bigint ORDER BY i.id");
DB_STMT(stmt_contacts_audit,
	"INSERT INTO audit (actor, table_name, op, row_key, before, after)"
	" VALUES (current_actor(), 'consultation_input', 'EXPORT', $1::text, NULL,"
	"         jsonb_build_object('export', 'inputs.csv', 'consultation', $1::bigint,"
	"                            'contacts', true, 'inputs', $2::int))");
DB_STMT(stmt_outcome,
	"SELECT json_build_object('consultation', json_build_object('id', c.id, 'title', c.title),"
	"   'published_at', utc_text(p.at),"
	"   'inputs', coalesce((SELECT json_agg(input_outcome_json(i) ORDER BY i.id)"
	"                       FROM consultation_input i WHERE i.consultation_id = c.id), '[]'))::text"
	" FROM consultation c"
	" JOIN LATERAL (SELECT max(r.published_at) AS at FROM report r"
	"               WHERE r.consultation_id = c.id AND r.published) p ON p.at IS NOT NULL"
	" WHERE c.id = $1::bigint");

static const struct constraint_field input_constraints[] = {
	{ "consultation_input_pillar_pillar_fkey", "pillars", "names a pillar the work plan does not have" },
	{ "consultation_input_action_action_id_fkey", "actions", "names a key action that does not exist" },
	{ 0 },
};

/* Who reads: a co-chair everything (entity NULL, private true); a lead
 * the inputs of its entity's pillars, without contacts and notes. */
struct reader {
	const char *entity;
	const char *private;
};

static struct reader reader_of(struct request *rq)
{
	bool cochair = rq->who.role == ROLE_COCHAIR;

	return (struct reader){ .entity = cochair ? NULL : rq->who.entity,
				.private = cochair ? "true" : "false" };
}

/* Path parameter 0 as an id in text; false if not one. */
static bool path_id(struct request *rq, char out[24])
{
	long long id;

	if (!request_id(rq, 0, &id))
		return false;
	snprintf(out, 24, "%lld", id);
	return true;
}

/* Does consultation id exist? A reply is queued (and false returned)
 * when it does not or the database failed. */
static bool consultation_found(struct request *rq, const char *id, int *ret)
{
	PGresult *r;
	enum db_rc rc = db_query(request_db(rq), &stmt_consultation_exists, 1, (const char *const[]){ id }, &r);
	bool found;

	if (rc != DB_OK) {
		*ret = reply_db_failure(rq, rc);
		return false;
	}
	found = PQntuples(r) == 1;
	PQclear(r);
	if (!found)
		*ret = reply_problem(rq, PROBLEM_NOT_FOUND, "no such consultation", NULL);
	return found;
}

int h_inputs_list(struct request *rq)
{
	long long pillar;
	int state, type;
	const char *q;
	bool has_pillar, has_state, has_type, has_q;
	const struct q_field spec[] = {
		{ .name = "state", .type = Q_ENUM, .choices = input_state_names, .out = &state, .present = &has_state },
		{ .name = "pillar", .type = Q_INT, .min = 1, .max = 8, .out = &pillar, .present = &has_pillar },
		{ .name = "q", .type = Q_TEXT, .max = 200, .out = &q, .present = &has_q },
		{ .name = "contributor_type", .type = Q_ENUM, .choices = contributor_type_names, .out = &type,
		  .present = &has_type },
		{ 0 },
	};
	struct reader who = reader_of(rq);
	struct page page;
	json_t *errors = json_array();
	char id[24], fetch[24], p[24];
	int ret;

	if (!path_id(rq, id)) {
		json_decref(errors);
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such consultation", NULL);
	}
	if (!query_parse(rq, spec, &page, errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	if (!consultation_found(rq, id, &ret))
		return ret;
	page_fetch(&page, fetch);
	snprintf(p, sizeof p, "%lld", has_pillar ? pillar : 0);
	return reply_list(rq, &stmt_inputs_list, 9,
			  (const char *const[]){ page.after, fetch, who.private, id, who.entity,
						 has_state ? input_state_names[state] : NULL,
						 has_pillar ? p : NULL,
						 has_type ? contributor_type_names[type] : NULL, has_q ? q : NULL },
			  &page);
}

int h_input_get(struct request *rq)
{
	struct reader who = reader_of(rq);
	char id[24];

	if (!path_id(rq, id))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such input", NULL);
	return reply_document(rq, &stmt_input_get, 3, (const char *const[]){ id, who.private, who.entity },
			      "no such input");
}

/* The contributor's file name as a header may carry it: the name's last
 * part without its extension, letters, digits, '.', '_' and '-' only
 * (runs of anything else become one '_'), no leading dot, at most 80
 * bytes, then the extension of the type the content was found to be. In
 * ascii, that alone; otherwise (RFC 8187) every byte outside those
 * percent-encoded, so the UTF-8 name survives without a quote, a
 * semicolon or a line break reaching the header. */
static void attachment_name(const char *name, const char *ext, bool ascii, char *out, size_t n)
{
	const char *base = name, *dot;
	struct buf b;
	size_t len;

	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	dot = strrchr(base, '.');
	len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	buf_init(&b, 400);
	for (size_t i = 0; i < len && b.len < (ascii ? 80 : 240); i++) {
		unsigned char c = (unsigned char)base[i];
		bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			     c == '.' || c == '_' || c == '-';

		if (plain && !(c == '.' && b.len == 0))
			buf_add(&b, &base[i], 1);
		else if (!ascii && c >= 0x80)
			buf_printf(&b, "%%%02X", c);
		else if (b.len && b.data[b.len - 1] != '_')
			buf_adds(&b, "_");
	}
	snprintf(out, n, "%s.%s", b.len ? b.data : "attachment", ext);
	buf_free(&b);
}

int h_input_attachment(struct request *rq)
{
	struct reader who = reader_of(rq);
	char id[24], etag[80], plain[100], utf8[300], disposition[480];
	const char *media, *ext;
	unsigned char *bytes;
	size_t len;
	enum db_rc rc;
	PGresult *r;
	int ret;

	if (!path_id(rq, id))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such input", NULL);
	rc = db_query(request_db(rq), &stmt_input_attachment, 2, (const char *const[]){ id, who.entity }, &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	if (PQntuples(r) != 1) {
		PQclear(r);
		rc = db_query(request_db(rq), &stmt_input_exists, 2, (const char *const[]){ id, who.entity }, &r);
		if (rc != DB_OK)
			return reply_db_failure(rq, rc);
		ret = reply_problem(rq, PROBLEM_NOT_FOUND,
				    PQntuples(r) ? "this input has no attachment" : "no such input", NULL);
		PQclear(r);
		return ret;
	}
	/* the type the content was found to be, never the contributor's word */
	media = db_col(r, 0, "media_type");
	if (!strcmp(media, "application/pdf")) {
		ext = "pdf";
	} else if (!strcmp(media, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")) {
		ext = "docx";
	} else {
		media = "application/octet-stream";
		ext = "bin";
	}
	attachment_name(db_col(r, 0, "file_name"), ext, true, plain, sizeof plain);
	attachment_name(db_col(r, 0, "file_name"), ext, false, utf8, sizeof utf8);
	snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"; filename*=UTF-8''%s", plain, utf8);
	snprintf(etag, sizeof etag, "\"%s\"", db_col(r, 0, "sha256"));
	bytes = PQunescapeBytea((const unsigned char *)db_col(r, 0, "bytes"), &len);
	if (!bytes) {
		PQclear(r);
		return reply_db_failure(rq, DB_ERROR);
	}
	/* a file from a stranger: never shown in the browser, never sniffed
	 * (every answer says nosniff), never run as a page of ours */
	ret = reply_full(rq, 200, media, (const char *)bytes, len,
			 (const char *const[]){ "ETag", etag, "Content-Disposition", disposition,
						"Content-Security-Policy", "sandbox", NULL });
	PQfreemem(bytes);
	PQclear(r);
	return ret;
}

/* PATCH /v1/inputs/{id}: what the body asks, and what came of it. */
struct input_write {
	struct request *rq;
	char id[24];
	const char *if_match;
	int state;
	bool has_state;
	const char *public_answer, *note;
	json_t *pillars, *actions;
	enum problem problem;
	const char *detail;
	char *before, *result;
	bool unchanged;
};

static const char *const unversioned[] = { "version", "updated_at", NULL };

/* Replaces the links of one kind: drops those not named, adds the new. */
static enum db_rc input_links(struct db *db, const char *id, json_t *list, struct db_stmt *drop,
			      struct db_stmt *add)
{
	char *json = json_dumps(list, JSON_COMPACT);
	PGresult *r;
	enum db_rc rc = db_query(db, drop, 2, (const char *const[]){ id, json }, &r);

	PQclear(r);
	if (rc == DB_OK) {
		rc = db_query(db, add, 2, (const char *const[]){ id, json }, &r);
		PQclear(r);
	}
	free(json);
	return rc;
}

static enum db_rc input_patch_txn(struct db *db, void *cls)
{
	struct input_write *w = cls;
	char actor[32], now[32];
	enum db_rc rc;
	PGresult *r;

	request_actor(w->rq, actor);
	clock_now_text(now);
	rc = db_set_actor(db, actor);
	if (rc == DB_OK)
		rc = db_query(db, &stmt_input_lock, 1, (const char *const[]){ w->id }, &r);
	if (rc != DB_OK)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		w->problem = PROBLEM_NOT_FOUND;
		w->detail = "no such input";
		return DB_ABORT;
	}
	if (!version_matches(w->if_match, db_col(r, 0, "json"), db_col(r, 0, "version"))) {
		PQclear(r);
		w->problem = PROBLEM_PRECONDITION_FAILED;
		w->detail = "the input changed since you read it: GET it again";
		return DB_ABORT;
	}
	free(w->before);
	w->before = xstrdup(db_col(r, 0, "json"));
	PQclear(r);
	rc = db_query(db, &stmt_input_update, 5,
		      (const char *const[]){ w->id, w->has_state ? input_state_names[w->state] : NULL,
					     w->public_answer, w->note, now },
		      &r);
	PQclear(r);
	if (rc == DB_OK && w->pillars)
		rc = input_links(db, w->id, w->pillars, &stmt_input_pillars_drop, &stmt_input_pillars_add);
	if (rc == DB_OK && w->actions)
		rc = input_links(db, w->id, w->actions, &stmt_input_actions_drop, &stmt_input_actions_add);
	if (rc == DB_OK)
		rc = db_query(db, &stmt_input_result, 1, (const char *const[]){ w->id }, &r);
	if (rc != DB_OK)
		return rc;
	free(w->result);
	w->result = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	/* a write that changes nothing leaves no version and no audit row */
	if (json_text_same(w->before, w->result, unversioned)) {
		w->unchanged = true;
		return DB_ABORT;
	}
	return DB_OK;
}

int h_input_patch(struct request *rq)
{
	struct input_write w = { .rq = rq };
	bool answer_null = false, note_null = false;
	const struct js_field spec[] = {
		{ .name = "state", .type = JS_ENUM, .choices = input_state_names, .out = &w.state,
		  .present = &w.has_state },
		{ .name = "pillars", .type = JS_IDS, .max = 8, .out = &w.pillars },
		{ .name = "actions", .type = JS_IDS, .max = 50, .out = &w.actions },
		{ .name = "public_answer", .type = JS_TEXT, .flags = JS_NULLABLE, .max = 5000,
		  .out = &w.public_answer, .is_null = &answer_null },
		{ .name = "note", .type = JS_TEXT, .flags = JS_NULLABLE, .max = 5000, .out = &w.note,
		  .is_null = &note_null },
		{ 0 },
	};
	json_t *errors = json_array();
	enum db_rc rc;
	int ret;

	if (!js_validate(rq->json, spec, errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	/* null clears the text */
	if (answer_null)
		w.public_answer = "";
	if (note_null)
		w.note = "";
	if (!path_id(rq, w.id))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such input", NULL);
	w.if_match = request_header(rq, "If-Match");
	if (!w.if_match)
		return reply_problem(rq, PROBLEM_PRECONDITION_REQUIRED,
				     "send If-Match with the input's ETag or version", NULL);
	rc = db_transaction(request_db(rq), input_patch_txn, &w);
	if (rc == DB_OK)
		ret = reply_json(rq, 200, w.result, strlen(w.result));
	else if (rc == DB_ABORT && w.unchanged)
		ret = reply_json(rq, 200, w.before, strlen(w.before));
	else if (rc == DB_ABORT)
		ret = reply_problem(rq, w.problem, w.detail, NULL);
	else
		ret = reply_rejected(rq, rc, input_constraints);
	free(w.before);
	free(w.result);
	return ret;
}

struct input_erase {
	struct request *rq;
	char id[24];
	bool found;
};

static enum db_rc input_erase_txn(struct db *db, void *cls)
{
	struct input_erase *e = cls;
	char actor[32], now[32];
	enum db_rc rc;
	PGresult *r;

	request_actor(e->rq, actor);
	clock_now_text(now);
	rc = db_set_actor(db, actor);
	if (rc == DB_OK)
		rc = db_query(db, &stmt_input_erase, 2, (const char *const[]){ e->id, now }, &r);
	if (rc != DB_OK)
		return rc;
	e->found = db_bool(r, 0, "found");
	PQclear(r);
	return DB_OK;
}

/* DELETE /v1/inputs/{id}/contact: 204 whether the contact was there or
 * erased before (the same request twice does the same). */
int h_input_contact_delete(struct request *rq)
{
	struct input_erase e = { .rq = rq };
	enum db_rc rc;

	if (!path_id(rq, e.id))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such input", NULL);
	rc = db_transaction(request_db(rq), input_erase_txn, &e);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	if (!e.found)
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such input", NULL);
	return reply_empty(rq, 204, NULL);
}

/* GET /v1/consultations/{id}/inputs.csv: one row per input; the
 * contributor's name, organisation and email only with contacts=true,
 * which leaves an audit row in the same transaction as the read. */
struct inputs_csv {
	struct request *rq;
	const char *id;
	bool contacts;
	struct buf csv;
	bool too_large;
};

static void csv_cell(struct inputs_csv *c, const PGresult *r, int row, const char *col, bool text,
		     bool last)
{
	if (!buf_csv(&c->csv, db_col(r, row, col), text) || !buf_adds(&c->csv, last ? "\r\n" : ","))
		c->too_large = true;
}

static enum db_rc inputs_csv_txn(struct db *db, void *cls)
{
	struct inputs_csv *c = cls;
	static const char *const cols[] = { "id", "receipt", "received_at", "state", "contributor_type",
					    "country", "language", "title", "text", "words",
					    "over_word_limit", "pillars", "actions", "public_answer",
					    "attachment", "name", "organisation", "email", NULL };
	/* free text from outside: a spreadsheet must not run it */
	static const char *const free_text[] = { "title", "text", "public_answer", "attachment", "name",
						 "organisation", "email", NULL };
	int ncols = c->contacts ? 18 : 15;
	char actor[32], count[24];
	enum db_rc rc;
	PGresult *r;

	buf_reset(&c->csv);
	request_actor(c->rq, actor);
	rc = db_set_actor(db, actor);
	if (rc == DB_OK)
		rc = db_query(db, &stmt_inputs_csv, 1, (const char *const[]){ c->id }, &r);
	if (rc != DB_OK)
		return rc;
	for (int k = 0; k < ncols; k++)
		buf_printf(&c->csv, "%s%s", cols[k], k + 1 < ncols ? "," : "\r\n");
	for (int i = 0; i < PQntuples(r); i++)
		for (int k = 0; k < ncols; k++)
			csv_cell(c, r, i, cols[k], vocab_find(free_text, cols[k]) >= 0, k + 1 == ncols);
	snprintf(count, sizeof count, "%d", PQntuples(r));
	PQclear(r);
	if (c->too_large)
		return DB_ABORT;
	if (c->contacts) {
		rc = db_query(db, &stmt_contacts_audit, 2, (const char *const[]){ c->id, count }, &r);
		PQclear(r);
	}
	return rc;
}

int h_inputs_csv(struct request *rq)
{
	static const char *const booleans[] = { "false", "true", NULL };
	int contacts = 0;
	const struct q_field spec[] = {
		{ .name = "contacts", .type = Q_ENUM, .choices = booleans, .out = &contacts },
		{ 0 },
	};
	struct inputs_csv c = { .rq = rq };
	json_t *errors = json_array();
	char id[24], disposition[96];
	enum db_rc rc;
	int ret;

	if (!path_id(rq, id)) {
		json_decref(errors);
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such consultation", NULL);
	}
	if (!query_parse(rq, spec, NULL, errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	if (!consultation_found(rq, id, &ret))
		return ret;
	c.id = id;
	c.contacts = contacts == 1;
	buf_init(&c.csv, CSV_MAX);
	rc = db_transaction(request_db(rq), inputs_csv_txn, &c);
	if (rc != DB_OK) {
		buf_free(&c.csv);
		if (c.too_large)
			return reply_problem(rq, PROBLEM_INTERNAL, "the export would exceed 64 MB", NULL);
		return reply_db_failure(rq, rc);
	}
	snprintf(disposition, sizeof disposition, "attachment; filename=\"consultation-%s-inputs%s.csv\"", id,
		 c.contacts ? "-contacts" : "");
	ret = reply_full(rq, 200, "text/csv; charset=utf-8", c.csv.data, c.csv.len,
			 (const char *const[]){ "Content-Disposition", disposition, NULL });
	buf_free(&c.csv);
	return ret;
}

/* GET /v1/public/consultations/{id}/outcome: each input's title, state,
 * public answer and what it led to, once the call's consultation report
 * is published; nothing of who sent it. */
int h_consultation_outcome(struct request *rq)
{
	char id[24];

	if (!path_id(rq, id))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no published outcome for this call", NULL);
	return reply_document(rq, &stmt_outcome, 1, (const char *const[]){ id },
			      "no published outcome for this call");
}
