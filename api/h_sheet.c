/* The spreadsheet round trip of pillar leads (SPEC 14): the caller's key
 * actions as a template to fill for a quarter (CSV or XLSX), and the
 * filled sheet imported as status updates, all rows or none, each bad
 * cell named by its row and column label ("row 7: Percent complete").
 * The labels are the web form's (SPEC 12). Updates go through the same
 * checks as POST /v1/actions/{id}/updates (api/updates.h). */
#include "clock.h"
#include "handlers.h"
#include "jspec.h"
#include "log.h"
#include "period.h"
#include "query.h"
#include "sheet.h"
#include "tmpdir.h"
#include "updates.h"
#include "util.h"
#include "vocab.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <xlsxwriter.h>

/* the most rows an import takes, header included */
#define IMPORT_ROWS_MAX 2000

/* The template's columns, in order; the first ones describe the action
 * (locked in the XLSX), the others are filled in. field: the update's
 * JSON field whose problems a column's cell answers for. */
enum col {
	COL_ACTION, COL_PILLAR, COL_TITLE, COL_LAST_STATUS, COL_LAST_PERCENT, COL_PERIOD,
	COL_STATUS, COL_PERCENT, COL_NARRATIVE, COL_SUMMARY, COL_PUBLIC, COL_EVIDENCE, COL_COUNT
};
#define COL_FIRST_FILL COL_STATUS

static const struct {
	const char *label, *field;
	double width;
	bool required; /* in the header row of an import */
} cols[COL_COUNT] = {
	[COL_ACTION] = { "Action id", NULL, 10, true },
	[COL_PILLAR] = { "Pillar", NULL, 7, false },
	[COL_TITLE] = { "Title", NULL, 48, false },
	[COL_LAST_STATUS] = { "Last status", NULL, 13, false },
	[COL_LAST_PERCENT] = { "Last percent", NULL, 12, false },
	[COL_PERIOD] = { "Period", "period", 9, false },
	[COL_STATUS] = { "Status", "status", 14, true },
	[COL_PERCENT] = { "Percent complete", "percent_complete", 17, true },
	[COL_NARRATIVE] = { "Narrative", "narrative", 60, true },
	[COL_SUMMARY] = { "Public summary", "public_summary", 40, false },
	[COL_PUBLIC] = { "Show publicly", "visibility", 14, false },
	[COL_EVIDENCE] = { "Evidence links", "evidence", 40, false },
};

/* The caller's actions in scope for the quarter: those a lead's entity
 * leads, every one for a co-chair ($2 NULL), with their state then. */
DB_STMT(stmt_template_rows,
	"SELECT a.id::text, a.pillar::text, a.title, coalesce(cur.status, '') AS status,"
	"  coalesce(cur.percent_complete::text, '') AS percent"
	" FROM action a JOIN cycle c ON c.label = a.cycle"
	" LEFT JOIN LATERAL action_current(a.id, $1::int) cur ON true"
	" WHERE NOT a.archived AND $1::int BETWEEN c.start_year * 4 AND c.end_year * 4 + 3"
	"   AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM action_lead l"
	"     WHERE l.action_id = a.id AND l.entity = $2))"
	" ORDER BY a.pillar, a.id");

/* ---- the template ---- */

/* The quarter of ?period= (default: the current one), checked as every
 * period parameter is; false when the answer is queued. */
static bool sheet_period(struct request *rq, int *period, int *ret)
{
	const struct q_field spec[] = {
		{ .name = "period", .type = Q_PERIOD, .out = period },
		{ 0 },
	};
	json_t *errors = json_array();
	enum db_rc rc = DB_OK;
	char cycle[16];

	*period = -1;
	if (query_parse(rq, spec, NULL, errors) &&
	    progress_scope(rq, period, "period", NULL, cycle, errors, &rc, NULL)) {
		json_decref(errors);
		return true;
	}
	if (rc != DB_OK) {
		json_decref(errors);
		*ret = reply_db_failure(rq, rc);
	} else {
		*ret = reply_invalid(rq, errors);
	}
	return false;
}

/* "On track"; "" for no status */
static void status_label(const char *status, char out[STATUS_WORDS_MAX])
{
	out[0] = '\0';
	if (*status)
		status_words(status, out, true);
}

static char *template_csv(PGresult *r, const char *period, size_t *len)
{
	struct buf b;

	buf_init(&b, 64 << 20);
	buf_adds(&b, "\xEF\xBB\xBF"); /* so that Excel reads it as UTF-8 */
	for (int c = 0; c < COL_COUNT; c++) {
		buf_adds(&b, c ? "," : "");
		buf_adds(&b, cols[c].label);
	}
	buf_adds(&b, "\r\n");
	for (int i = 0; i < PQntuples(r); i++) {
		char status[STATUS_WORDS_MAX];

		status_label(db_col(r, i, "status"), status);
		buf_csv(&b, PQgetvalue(r, i, 0), false);
		buf_adds(&b, ",");
		buf_csv(&b, PQgetvalue(r, i, 1), false);
		buf_adds(&b, ",");
		buf_csv(&b, PQgetvalue(r, i, 2), true);
		buf_printf(&b, ",%s,%s,%s,,,,,,\r\n", status, db_col(r, i, "percent"), period);
	}
	return buf_steal(&b, len);
}

/* The XLSX: a header row that stays in view, the action's columns locked
 * (the sheet protected without a password: it guards against slips, not
 * people), the columns to fill unlocked, Status a drop-down list.
 * libxlsxwriter writes files only: a private folder holds it meanwhile. */
static char *template_xlsx(PGresult *r, const char *period, size_t *len)
{
	static const char *statuses[STATUS_COUNT + 1];
	char dir[TMPDIR_PATH_MAX], path[TMPDIR_PATH_MAX + 32], *body = NULL;
	int rows = PQntuples(r);
	lxw_workbook_options opt = { .tmpdir = dir };
	lxw_workbook *wb;
	lxw_worksheet *ws;
	lxw_format *head, *locked, *fill, *wrap;
	lxw_data_validation dv = { 0 };
	lxw_protection prot = { 0 };
	FILE *f;
	struct stat st;

	for (int i = 0; i < STATUS_COUNT; i++) {
		static char words[STATUS_COUNT][STATUS_WORDS_MAX];

		statuses[i] = status_words(status_names[i], words[i], true);
	}
	if (!tmpdir_make("sheet", dir, sizeof dir)) {
		BUG("cannot make a folder for the template");
		return NULL;
	}
	snprintf(path, sizeof path, "%s/template.xlsx", dir);
	wb = workbook_new_opt(path, &opt);
	ws = wb ? workbook_add_worksheet(wb, "Updates") : NULL;
	if (!ws) {
		BUG("libxlsxwriter cannot start a workbook");
		tmpdir_remove(dir);
		return NULL;
	}
	head = workbook_add_format(wb);
	format_set_bold(head);
	format_set_bg_color(head, 0xDDDDDD);
	format_set_text_wrap(head);
	locked = workbook_add_format(wb);
	format_set_bg_color(locked, 0xF2F2F2);
	format_set_text_wrap(locked);
	format_set_align(locked, LXW_ALIGN_VERTICAL_TOP);
	fill = workbook_add_format(wb);
	format_set_unlocked(fill);
	format_set_align(fill, LXW_ALIGN_VERTICAL_TOP);
	wrap = workbook_add_format(wb);
	format_set_unlocked(wrap);
	format_set_text_wrap(wrap);
	format_set_align(wrap, LXW_ALIGN_VERTICAL_TOP);
	for (int c = 0; c < COL_COUNT; c++) {
		bool text = c == COL_NARRATIVE || c == COL_SUMMARY || c == COL_EVIDENCE;

		worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, cols[c].width,
				     c < COL_FIRST_FILL ? locked : text ? wrap : fill);
		worksheet_write_string(ws, 0, (lxw_col_t)c, cols[c].label, head);
	}
	for (int i = 0; i < rows; i++) {
		char status[STATUS_WORDS_MAX];
		const char *pct = db_col(r, i, "percent");

		status_label(db_col(r, i, "status"), status);
		worksheet_write_number(ws, (lxw_row_t)(i + 1), COL_ACTION, atof(PQgetvalue(r, i, 0)), locked);
		worksheet_write_number(ws, (lxw_row_t)(i + 1), COL_PILLAR, atof(PQgetvalue(r, i, 1)), locked);
		worksheet_write_string(ws, (lxw_row_t)(i + 1), COL_TITLE, PQgetvalue(r, i, 2), locked);
		if (*status)
			worksheet_write_string(ws, (lxw_row_t)(i + 1), COL_LAST_STATUS, status, locked);
		if (*pct)
			worksheet_write_number(ws, (lxw_row_t)(i + 1), COL_LAST_PERCENT, atof(pct), locked);
		worksheet_write_string(ws, (lxw_row_t)(i + 1), COL_PERIOD, period, locked);
	}
	worksheet_freeze_panes(ws, 1, 0);
	dv.validate = LXW_VALIDATION_TYPE_LIST;
	dv.value_list = (char **)statuses;
	dv.error_title = "Status";
	dv.error_message = "Choose a status from the list.";
	if (rows)
		worksheet_data_validation_range(ws, 1, COL_STATUS, (lxw_row_t)rows, COL_STATUS, &dv);
	prot.format_columns = 1; /* widths may change; content of locked cells may not */
	prot.format_rows = 1;
	worksheet_protect(ws, NULL, &prot);
	if (workbook_close(wb) != LXW_NO_ERROR) {
		BUG("libxlsxwriter cannot write the template");
		tmpdir_remove(dir);
		return NULL;
	}
	f = fopen(path, "rb");
	if (f && !fstat(fileno(f), &st) && st.st_size > 0) {
		body = xmalloc((size_t)st.st_size);
		*len = fread(body, 1, (size_t)st.st_size, f);
		if (*len != (size_t)st.st_size) {
			free(body);
			body = NULL;
		}
	}
	if (f)
		fclose(f);
	tmpdir_remove(dir);
	if (!body)
		BUG("cannot read the template libxlsxwriter wrote");
	return body;
}

int h_me_template(struct request *rq)
{
	bool xlsx = strstr(rq->path, ".xlsx") != NULL;
	char per[16], period_text[PERIOD_STRLEN], disposition[96], *body;
	int period, ret;
	size_t len = 0;
	enum db_rc rc;
	PGresult *r;

	if (!sheet_period(rq, &period, &ret))
		return ret;
	snprintf(per, sizeof per, "%d", period);
	period_format(period, period_text);
	rc = db_query(request_db(rq), &stmt_template_rows, 2,
		      (const char *const[]){ per, rq->who.role == ROLE_COCHAIR ? NULL : rq->who.entity },
		      &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	body = xlsx ? template_xlsx(r, period_text, &len) : template_csv(r, period_text, &len);
	PQclear(r);
	if (!body)
		return reply_problem(rq, PROBLEM_INTERNAL, "the template could not be written", NULL);
	snprintf(disposition, sizeof disposition, "attachment; filename=\"updates-%s.%s\"",
		 period_text, xlsx ? "xlsx" : "csv");
	ret = reply_full(rq, 200,
			 xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
			      : "text/csv; charset=utf-8; header=present",
			 body, len, (const char *const[]){ "Content-Disposition", disposition, NULL });
	free(body);
	return ret;
}

/* ---- the import ---- */

/* One row to post. */
struct import_row {
	int number;
	char action[24];
	json_t *body;           /* as POST .../updates takes it */
	struct update_fields f; /* borrowed from body */
	const char *result;     /* "created" or "unchanged" */
	char update_id[24];
};

struct import {
	struct request *rq;
	char period[PERIOD_STRLEN];
	int period_index;
	struct import_row *rows;
	int nrows, empty;
	const char *key;
	unsigned char hash[SHA256_LEN];
	json_t *cell_errors;    /* found reading the sheet */
	json_t *errors;         /* those and the transaction's */
	/* outcome */
	enum problem problem;
	const char *detail;
	int status;
	char *response;
};

/* "row 7: Percent complete" */
static void cell_error(json_t *errors, int row, enum col c, const char *message)
{
	char field[64];

	snprintf(field, sizeof field, "row %d: %s", row, cols[c].label);
	js_error(errors, field, message);
}

/* A copy of s without white space at either end. */
static char *trimmed(const char *s)
{
	size_t n;

	if (!s)
		return xstrdup("");
	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/* "On track", "on_track", "ON TRACK": the status; -1 if none. */
static int status_of(const char *s)
{
	for (int i = 0; i < STATUS_COUNT; i++) {
		const char *n = status_names[i];
		size_t k = 0;

		for (; s[k] && n[k]; k++)
			if (tolower((unsigned char)s[k]) != n[k] && !(s[k] == ' ' && n[k] == '_'))
				break;
		if (!s[k] && !n[k])
			return i;
	}
	return -1;
}

/* 0..100, a whole number, "40", "40.0" or "40 %"; -1 otherwise. */
static int percent_of(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	while (isspace((unsigned char)*end))
		end++;
	if (*end == '%')
		end++;
	if (end == s || *end || v < 0 || v > 100 || v != (double)(int)v || !isdigit((unsigned char)*s))
		return -1;
	return (int)v;
}

/* "yes", "true", "x", "1", "oui" mean public; empty, "no", "false", "0",
 * "non" internal; -1 anything else. */
static int public_of(const char *s)
{
	static const char *const words[][7] = {
		{ "", "no", "n", "false", "0", "non", NULL },
		{ "yes", "y", "true", "x", "1", "oui", NULL },
	};

	for (int v = 0; v < 2; v++)
		for (int i = 0; words[v][i]; i++)
			if (!strcasecmp(s, words[v][i]))
				return v;
	return -1;
}

/* The web form's evidence: one link a line, a title then the address;
 * a line of one word is its own title. */
static json_t *evidence_of(const char *s)
{
	json_t *list = json_array();
	char *copy = xstrdup(s), *save = NULL;

	for (char *line = strtok_r(copy, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char *l = trimmed(line), *sp = NULL;

		for (char *p = l; *p; p++)
			if (isspace((unsigned char)*p))
				sp = p;
		if (*l && sp) {
			char *title = xstrndup(l, (size_t)(sp - l)), *t = trimmed(title);

			json_array_append_new(list, json_pack("{s:s, s:s}", "title", t, "url", sp + 1));
			free(title);
			free(t);
		} else if (*l) {
			json_array_append_new(list, json_pack("{s:s, s:s}", "title", l, "url", l));
		}
		free(l);
	}
	free(copy);
	return list;
}

/* Problems of one row from update_fields_check (under JSON names) to the
 * columns they belong to; a column that has one already keeps its first. */
static void row_errors(json_t *errors, int row, json_t *found, bool said[COL_COUNT])
{
	size_t i;
	json_t *e;

	json_array_foreach(found, i, e) {
		const char *field = json_string_value(json_object_get(e, "field"));
		enum col c = COL_ACTION;

		for (int k = COL_PERIOD; k < COL_COUNT; k++)
			if (field && !strncmp(field, cols[k].field, strlen(cols[k].field)))
				c = (enum col)k;
		if (c == COL_ACTION || said[c])
			continue;
		said[c] = true;
		cell_error(errors, row, c, json_string_value(json_object_get(e, "message")));
	}
}

/* Reads one filled row into out (false: empty, skipped); problems go to
 * errors. */
static bool row_read(const struct sheet_row *sr, const int at[COL_COUNT], const char *period,
		     struct import_row *out, json_t *errors)
{
	char *v[COL_COUNT] = { 0 };
	bool said[COL_COUNT] = { 0 }, filled = false;
	json_t *found;
	int n = sr->number;

	for (int c = 0; c < COL_COUNT; c++) {
		const struct sheet_cell *cell = at[c] >= 0 ? &sr->cells[at[c]] : NULL;

		v[c] = trimmed(cell ? cell->text : NULL);
		if (c >= COL_FIRST_FILL && *v[c])
			filled = true;
	}
	if (!filled) {
		for (int c = 0; c < COL_COUNT; c++)
			free(v[c]);
		return false;
	}
	memset(out, 0, sizeof *out);
	out->number = n;
	out->body = json_pack("{s:s}", "period", period);
	/* formulas are never evaluated (nor their cached results taken): a
	 * cell must hold what it says; in a CSV, text that a spreadsheet
	 * would run is refused the same way */
	for (int c = 0; c < COL_COUNT; c++) {
		const struct sheet_cell *cell = at[c] >= 0 ? &sr->cells[at[c]] : NULL;

		if (cell && (cell->formula || v[c][0] == '=')) {
			cell_error(errors, n, (enum col)c,
				   "holds a formula; type the value itself (formulas are not evaluated)");
			said[c] = true;
		}
	}
	if (!said[COL_ACTION]) {
		long long id = 0;
		char *end;

		id = strtoll(v[COL_ACTION], &end, 10);
		if (!*v[COL_ACTION])
			cell_error(errors, n, COL_ACTION, "is required: the key action's id, as in the template");
		else if (*end || id <= 0 || strlen(v[COL_ACTION]) > 18)
			cell_error(errors, n, COL_ACTION, "must be a key action's id (a whole number)");
		/* "0": no id to look up */
		snprintf(out->action, sizeof out->action, "%lld", *end || id < 0 ? 0 : id);
		said[COL_ACTION] = true;
	}
	if (!said[COL_PERIOD] && *v[COL_PERIOD] && strcmp(v[COL_PERIOD], period)) {
		char why[128];

		snprintf(why, sizeof why, "is %.12s, but this import is for %s: download the template for %s",
			 v[COL_PERIOD], period, period);
		cell_error(errors, n, COL_PERIOD, why);
		said[COL_PERIOD] = true;
	}
	if (!said[COL_STATUS] && *v[COL_STATUS]) {
		int s = status_of(v[COL_STATUS]);

		if (s >= 0)
			json_object_set_new(out->body, "status", json_string(status_names[s]));
		else {
			cell_error(errors, n, COL_STATUS, "must be one of Not started, On track, At risk, "
							  "Delayed, Completed, Cancelled");
			said[COL_STATUS] = true;
		}
	}
	if (!said[COL_PERCENT] && *v[COL_PERCENT]) {
		int p = percent_of(v[COL_PERCENT]);

		if (p >= 0)
			json_object_set_new(out->body, "percent_complete", json_integer(p));
		else {
			cell_error(errors, n, COL_PERCENT, "must be a whole number from 0 to 100");
			said[COL_PERCENT] = true;
		}
	}
	if (*v[COL_NARRATIVE])
		json_object_set_new(out->body, "narrative", json_string(v[COL_NARRATIVE]));
	json_object_set_new(out->body, "public_summary",
			    *v[COL_SUMMARY] ? json_string(v[COL_SUMMARY]) : json_null());
	if (!said[COL_PUBLIC]) {
		int p = public_of(v[COL_PUBLIC]);

		if (p >= 0)
			json_object_set_new(out->body, "visibility",
					    json_string(visibility_names[p ? VISIBILITY_PUBLIC : VISIBILITY_INTERNAL]));
		if (p == 1 && !*v[COL_SUMMARY]) {
			/* said here too, so that a row with other mistakes names it */
			cell_error(errors, n, COL_SUMMARY, "is required when Show publicly is yes");
			said[COL_SUMMARY] = true;
		} else if (p < 0) {
			cell_error(errors, n, COL_PUBLIC, "must be yes or no (or empty: no)");
			said[COL_PUBLIC] = true;
		}
	}
	if (!said[COL_EVIDENCE])
		json_object_set_new(out->body, "evidence", evidence_of(v[COL_EVIDENCE]));
	/* text that is not UTF-8 or holds control characters is refused by the
	 * same checks as the form's; json_string takes only UTF-8 */
	for (int c = COL_NARRATIVE; c <= COL_SUMMARY; c++)
		if (*v[c] && !json_object_get(out->body, cols[c].field) && !said[c]) {
			cell_error(errors, n, (enum col)c, "must be valid UTF-8 text");
			said[c] = true;
		}
	found = json_array();
	update_fields_check(out->body, &out->f, found);
	row_errors(errors, n, found, said);
	json_decref(found);
	for (int c = 0; c < COL_COUNT; c++)
		free(v[c]);
	return true;
}

DB_STMT(stmt_import_lock,
	"SELECT pg_advisory_xact_lock(7368656, hashtext($1 || ' ' || $2))");
/* The newest update of the action for the quarter, if it says the same. */
DB_STMT(stmt_import_same,
	"SELECT u.id::text FROM (SELECT * FROM status_update s"
	"   WHERE s.action_id = $1::bigint AND s.period = $2"
	"   ORDER BY s.created_at DESC, s.id DESC LIMIT 1) u"
	" WHERE u.status = $3 AND u.percent_complete = $4::smallint AND u.narrative = $5"
	"   AND u.public_summary IS NOT DISTINCT FROM $6 AND u.visibility = $7"
	"   AND u.evidence = coalesce($8::jsonb, '[]'::jsonb)");

/* May the caller post on the row's action for the quarter? If not, the
 * row's Action id (or Period) cell says why. */
static enum db_rc import_row_check(struct db *db, struct import *im, struct import_row *row)
{
	struct update_result o = { 0 };
	json_t *found;
	bool said[COL_COUNT] = { 0 };
	enum db_rc rc;
	PGresult *r;

	if (!atoll(row->action))
		return DB_OK; /* no id to check: its cell is refused already */
	/* two imports of one sheet at once: the second waits, then sees the
	 * first one's updates */
	rc = db_query(db, &stmt_import_lock, 2, (const char *const[]){ row->action, im->period }, &r);
	if (rc != DB_OK)
		return rc;
	PQclear(r);
	found = json_array();
	rc = update_target(db, &im->rq->who, row->action, im->period_index, found, &o);
	if (rc == DB_ABORT) {
		if (o.problem == PROBLEM_VALIDATION)
			row_errors(im->errors, row->number, found, said);
		else
			cell_error(im->errors, row->number, COL_ACTION,
				   o.problem == PROBLEM_FORBIDDEN
					   ? "is a key action your entity does not lead: only its lead entities may report on it"
				   : o.problem == PROBLEM_CONFLICT ? "is a key action that was archived"
								   : "is no key action's id");
		rc = DB_OK;
	}
	json_decref(found);
	return rc;
}

/* Posts a checked row, unless the action's newest update for the quarter
 * says the same already. */
static enum db_rc import_row_post(struct db *db, struct import *im, struct import_row *row)
{
	struct update_result o = { 0 };
	char percent[8], *evidence;
	json_t *found;
	enum db_rc rc;
	PGresult *r;

	snprintf(percent, sizeof percent, "%lld", row->f.percent);
	evidence = row->f.evidence ? json_dumps(row->f.evidence, JSON_COMPACT) : NULL;
	rc = db_query(db, &stmt_import_same, 8,
		      (const char *const[]){ row->action, im->period, status_names[row->f.status],
					     percent, row->f.narrative, row->f.summary,
					     visibility_names[row->f.visibility], evidence },
		      &r);
	free(evidence);
	if (rc != DB_OK)
		return rc;
	if (PQntuples(r)) {
		snprintf(row->update_id, sizeof row->update_id, "%s", PQgetvalue(r, 0, 0));
		row->result = "unchanged";
		PQclear(r);
		return DB_OK;
	}
	PQclear(r);
	found = json_array();
	rc = update_insert(db, &im->rq->who, row->action, &row->f, found, &o);
	json_decref(found);
	if (rc == DB_OK) {
		snprintf(row->update_id, sizeof row->update_id, "%.20s",
			 o.location + strlen("/v1/updates/"));
		row->result = "created";
	}
	free(o.response);
	/* the target was checked in this transaction, under its lock */
	return rc == DB_ABORT ? DB_ERROR : rc;
}

static char *import_response(struct import *im)
{
	json_t *rows = json_array(), *doc;
	int created = 0, unchanged = 0;
	char *s;

	for (int i = 0; i < im->nrows; i++) {
		struct import_row *row = &im->rows[i];

		created += row->result[0] == 'c';
		unchanged += row->result[0] == 'u';
		json_array_append_new(rows, json_pack("{s:i, s:I, s:s, s:I}", "row", row->number,
						      "action_id", (json_int_t)atoll(row->action),
						      "result", row->result, "update_id",
						      (json_int_t)atoll(row->update_id)));
	}
	doc = json_pack("{s:s, s:i, s:i, s:i, s:o}", "period", im->period, "created", created,
			"unchanged", unchanged, "empty_rows", im->empty, "rows", rows);
	s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return s;
}

static enum db_rc import_txn(struct db *db, void *cls)
{
	struct import *im = cls;
	struct idem_answer a = { 0 };
	char actor[32];
	enum db_rc rc;

	free(im->response);
	im->response = NULL;
	json_array_clear(im->errors);
	request_actor(im->rq, actor);
	rc = db_set_actor(db, actor);
	if (rc == DB_OK && im->key)
		rc = idem_lookup(db, im->rq->who.member_id, im->key, im->hash, &a);
	if (rc != DB_OK)
		return rc;
	if (a.found) {
		if (!a.same_request) {
			free(a.response);
			im->problem = PROBLEM_CONFLICT;
			im->detail = "this Idempotency-Key was used for a different request";
			return DB_ABORT;
		}
		im->status = a.status;
		im->response = a.response;
		return DB_OK;
	}
	/* every row checked first, so that one answer names every bad cell */
	json_array_extend(im->errors, im->cell_errors);
	for (int i = 0; i < im->nrows && rc == DB_OK; i++)
		rc = import_row_check(db, im, &im->rows[i]);
	if (rc != DB_OK)
		return rc;
	if (json_array_size(im->errors)) {
		im->problem = PROBLEM_VALIDATION;
		return DB_ABORT;
	}
	for (int i = 0; i < im->nrows && rc == DB_OK; i++)
		rc = import_row_post(db, im, &im->rows[i]);
	if (rc != DB_OK)
		return rc;
	im->status = 200;
	im->response = import_response(im);
	return im->key ? idem_store(db, im->rq->who.member_id, im->key, im->hash, 200, NULL,
				    im->response)
		       : DB_OK;
}

/* The header row: which column holds each label; problems to errors. */
static void header_read(const struct sheet *s, int at[COL_COUNT], json_t *errors)
{
	const struct sheet_row *h = s->nrows && s->rows[0].number == 1 ? &s->rows[0] : NULL;

	for (int c = 0; c < COL_COUNT; c++) {
		at[c] = -1;
		for (int k = 0; h && k < SHEET_MAX_COLS && at[c] < 0; k++) {
			char *t = trimmed(h->cells[k].text);

			if (!strcasecmp(t, cols[c].label))
				at[c] = k;
			free(t);
		}
		if (at[c] < 0 && cols[c].required)
			cell_error(errors, 1, (enum col)c,
				   "is missing from the header row: start from the template "
				   "(GET /v1/me/template.xlsx or .csv)");
	}
}

static int import_reply_sheet(struct request *rq, enum sheet_rc src, const char *why)
{
	json_t *errors;

	switch (src) {
	case SHEET_TOO_LARGE:
		return reply_problem(rq, PROBLEM_PAYLOAD_TOO_LARGE, why, NULL);
	case SHEET_UNSUPPORTED:
		return reply_problem(rq, PROBLEM_UNSUPPORTED_MEDIA_TYPE, why, NULL);
	default:
		errors = json_array();
		js_error(errors, "file", why);
		return reply_invalid(rq, errors);
	}
}

/* Where an error's field ("row 7: Status") is in the sheet: row, then
 * column, as a number that sorts in reading order. */
static long error_place(const json_t *e)
{
	const char *f = json_string_value(json_object_get(e, "field")), *label;
	long place;

	if (!f || strncmp(f, "row ", 4))
		return 0;
	place = atol(f + 4) * COL_COUNT;
	label = strstr(f, ": ");
	for (int c = 0; label && c < COL_COUNT; c++)
		if (!strcmp(label + 2, cols[c].label))
			place += c;
	return place;
}

struct placed {
	long place;
	size_t index;
	json_t *error;
};

static int placed_cmp(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;

	if (x->place != y->place)
		return x->place < y->place ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Errors in the sheet's reading order (those of one cell in the order
 * they were found). */
static void errors_in_order(json_t *errors)
{
	size_t n = json_array_size(errors);
	struct placed *list = xcalloc(n ? n : 1, sizeof *list);

	for (size_t i = 0; i < n; i++) {
		list[i].error = json_incref(json_array_get(errors, i));
		list[i].place = error_place(list[i].error);
		list[i].index = i;
	}
	qsort(list, n, sizeof *list, placed_cmp);
	json_array_clear(errors);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(errors, list[i].error);
	free(list);
}

int h_updates_import(struct request *rq)
{
	struct import im = { .rq = rq };
	struct sheet sheet;
	enum sheet_rc src;
	char why[256];
	int at[COL_COUNT], ret;
	struct sha256 h;
	enum db_rc rc;

	if (!sheet_period(rq, &im.period_index, &ret))
		return ret;
	period_format(im.period_index, im.period);
	im.errors = json_array();
	im.cell_errors = json_array();
	im.key = request_header(rq, "Idempotency-Key");
	if (im.key && !idem_key_valid(im.key))
		js_error(im.errors, "Idempotency-Key", "must be 1 to 200 printable characters");
	else if (!rq->body.len)
		js_error(im.errors, "file", "is required: the filled template, as CSV or XLSX");
	if (json_array_size(im.errors)) {
		ret = reply_invalid(rq, im.errors);
		im.errors = NULL;
		goto done;
	}
	src = sheet_read(rq->body.data, rq->body.len, IMPORT_ROWS_MAX, &sheet, why, sizeof why);
	if (src != SHEET_OK) {
		ret = import_reply_sheet(rq, src, why);
		goto done;
	}
	header_read(&sheet, at, im.errors);
	if (!json_array_size(im.errors)) {
		im.rows = xcalloc((size_t)sheet.nrows, sizeof *im.rows);
		for (int i = 1; i < sheet.nrows; i++) {
			struct import_row *row = &im.rows[im.nrows];

			if (!row_read(&sheet.rows[i], at, im.period, row, im.cell_errors)) {
				im.empty++;
				continue;
			}
			/* one row a key action: which of two would be meant? */
			for (int k = 0; k < im.nrows; k++) {
				if (atoll(row->action) && !strcmp(im.rows[k].action, row->action)) {
					char msg[80];

					snprintf(msg, sizeof msg, "is on row %d already: one row a key action",
						 im.rows[k].number);
					cell_error(im.cell_errors, row->number, COL_ACTION, msg);
					break;
				}
			}
			im.nrows++;
		}
		if (!im.nrows)
			js_error(im.errors, "file", "has no filled row: fill Status, Percent complete and "
						    "Narrative for each key action you report on");
	}
	sheet_free(&sheet);
	if (json_array_size(im.errors)) {
		ret = reply_invalid(rq, im.errors);
		im.errors = NULL;
		goto done;
	}
	/* the key is bound to the quarter and the file */
	sha256_init(&h);
	sha256_update(&h, rq->method, strlen(rq->method) + 1);
	sha256_update(&h, rq->path, strlen(rq->path) + 1);
	sha256_update(&h, im.period, strlen(im.period) + 1);
	sha256_update(&h, rq->body.data, rq->body.len);
	sha256_final(&h, im.hash);
	rc = db_transaction(request_db(rq), import_txn, &im);
	if (rc == DB_OK) {
		ret = reply_json(rq, (unsigned)im.status, im.response, strlen(im.response));
	} else if (rc == DB_ABORT && im.problem == PROBLEM_VALIDATION) {
		errors_in_order(im.errors);
		ret = reply_invalid(rq, im.errors);
		im.errors = NULL;
	} else {
		ret = rc == DB_ABORT ? reply_problem(rq, im.problem, im.detail, NULL)
				     : reply_db_failure(rq, rc);
	}
done:
	for (int i = 0; i < im.nrows; i++)
		json_decref(im.rows[i].body);
	free(im.rows);
	free(im.response);
	json_decref(im.errors);
	json_decref(im.cell_errors);
	return ret;
}
