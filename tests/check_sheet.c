/* The spreadsheet round trip of pillar leads (SPEC 14), end to end: the
 * template downloaded as CSV and XLSX, filled by a CSV writer (Python's
 * csv) or by LibreOffice Calc headless, and imported; mistakes come back
 * cell by cell and nothing is written; the same import twice creates
 * nothing new; hostile sheets (formulas, 100 000 rows, a ZIP bomb, other
 * encodings, a DTD, an action of another pillar) are refused with a clear
 * problem. The well-formed exchanges go through Stoplight Prism, which
 * judges each answer by api/openapi.json. */
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOW "WORKPLAN_NOW=2021-11-20T12:00:00Z" /* 2021-Q4 */

static struct server api, srv; /* srv: Prism in front of api */
static char db[64], dir[600], tool[600];
static char *cochair, *who_lead, *viewer;
static char who_a[24], who_b[24], unodc_a[24];

static char *sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command (in dir) and returns its output; it must exit 0. */
static char *sh(const char *fmt, ...)
{
	char cmd[8192], *out = calloc(1, 1 << 20);
	size_t len;
	va_list ap;
	FILE *f;
	int n;

	n = snprintf(cmd, sizeof cmd, "cd '%s' && ", dir);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof cmd - (size_t)n, fmt, ap);
	va_end(ap);
	f = t_popen(cmd);
	ck_assert_ptr_nonnull(f);
	len = fread(out, 1, (1 << 20) - 1, f);
	out[len] = '\0';
	ck_assert_msg(pclose(f) == 0, "failed: %s\n%s", cmd, out);
	return out;
}

static void setup(void)
{
	char *v;

	t_db_create(db, sizeof db, true);
	cochair = t_member_token(db, "cochair@ohchr.org", "cochair", "OHCHR");
	who_lead = t_member_token(db, "focal@who.int", "lead", "WHO");
	viewer = t_member_token(db, "staff@unicef.org", "viewer", "UNICEF");
	v = t_sql(db, "SELECT min(a.id) FROM action a JOIN action_lead l ON l.action_id = a.id"
		      " WHERE l.entity = 'WHO'");
	snprintf(who_a, sizeof who_a, "%s", v);
	free(v);
	v = t_sql(db, "SELECT max(a.id) FROM action a JOIN action_lead l ON l.action_id = a.id"
		      " WHERE l.entity = 'WHO'");
	snprintf(who_b, sizeof who_b, "%s", v);
	free(v);
	v = t_sql(db, "SELECT min(a.id) FROM action a JOIN action_lead l ON l.action_id = a.id"
		      " WHERE l.entity = 'UNODC'");
	snprintf(unodc_a, sizeof unodc_a, "%s", v);
	free(v);
	ck_assert_str_ne(who_a, who_b);
	t_server_start_env(&api, db, (const char *const[]){ NOW, NULL });
	t_prism_start(&srv, &api);
	/* LibreOffice's profile and every file of the suite, under var/ */
	snprintf(dir, sizeof dir, "%s/sheet-%d", getenv("WORKPLAN_TEST_LOGDIR"), (int)getpid());
	ck_assert_ptr_nonnull(getcwd(tool, sizeof tool - 32));
	strcat(tool, "/tests/tools/sheet.py");
	{
		char cmd[700];
		FILE *f;

		snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
		f = t_popen(cmd);
		ck_assert_int_eq(pclose(f), 0);
	}
}

static void teardown(void)
{
	t_prism_stop(&srv);
	t_server_stop(&api);
	free(cochair);
	free(who_lead);
	free(viewer);
}

static long updates(void)
{
	return t_sql_long(db, "SELECT count(*) FROM status_update");
}

static void save(const struct resp *r, const char *name)
{
	char path[700];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(r->body, 1, r->len, f), r->len);
	fclose(f);
}

static char *load(const char *name, size_t *len)
{
	char path[700], *data;
	FILE *f;
	long n;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "no file %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	data = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return data;
}

/* GET through Prism, which must find the answer true to the document. */
static struct resp *get(const char *path, const char *token)
{
	struct resp *r = t_http(&srv, "GET", path, token, NULL, NULL, 0, NULL);

	t_assert_no_violations(r, false);
	return r;
}

/* POSTs file name to the import for period; through Prism unless direct
 * (hostile files: what Prism would make of them is not the question). */
static struct resp *import_(bool direct, const char *token, const char *period, const char *name,
			    const char *content_type, const char *key)
{
	char path[64], header[256];
	size_t len;
	char *data = load(name, &len);
	struct resp *r;

	snprintf(path, sizeof path, "/v1/updates/import?period=%s", period);
	if (key)
		snprintf(header, sizeof header, "Idempotency-Key: %s", key);
	r = t_http(direct ? &api : &srv, "POST", path, token, content_type, data, len,
		   key ? header : NULL);
	if (!direct)
		t_assert_no_violations(r, false);
	free(data);
	return r;
}

static struct resp *import(const char *token, const char *period, const char *name)
{
	return import_(false, token, period, name, "text/csv", NULL);
}

static struct resp *import_direct(const char *token, const char *name)
{
	return import_(true, token, "2021-Q3", name, "application/octet-stream", NULL);
}

/* The fields of a problem's errors[], joined by '|', in order. */
static char *fields(const struct resp *r)
{
	static char out[4096];
	json_t *e;
	size_t i;

	out[0] = '\0';
	json_array_foreach(json_object_get(r->json, "errors"), i, e) {
		strncat(out, i ? "|" : "", sizeof out - strlen(out) - 1);
		strncat(out, json_string_value(json_object_get(e, "field")), sizeof out - strlen(out) - 1);
	}
	return out;
}

/* A problem of this status and slug that wrote nothing. */
static void assert_refused(const struct resp *r, long status, const char *slug, long before)
{
	t_assert_problem(r, status, slug);
	ck_assert_int_eq(updates(), before);
}

/* Fills template.csv (downloaded) into name with Python's csv writer. */
static void fill(const char *name, const char *sep, const char *json)
{
	free(sh("python3 '%s' fill template.csv '%s' '%s' '%s'", tool, name, sep, json));
}

/* LibreOffice Calc headless, with its own profile under dir: from (CSV
 * UTF-8, comma) to to's format ("xlsx" or "csv"). */
static void soffice(const char *from, const char *format)
{
	const char *filter = !strcmp(format, "csv") ? "csv:Text - txt - csv (StarCalc):44,34,76,1"
						     : "xlsx";

	free(sh("HOME='%s' timeout 180 soffice --headless -env:UserInstallation=file://%s/lo"
		" --infilter='CSV:44,34,76,1' --convert-to '%s' --outdir out '%s' >/dev/null 2>&1",
		dir, dir, filter, from));
}

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

START_TEST(template_csv_lists_the_callers_actions_with_columns_to_fill)
{
	struct resp *r = get("/v1/me/template.csv?period=2021-Q3", who_lead);
	char *cd, *ct, *first, *line;

	ck_assert_int_eq(r->status, 200);
	ct = t_header(r, "Content-Type");
	cd = t_header(r, "Content-Disposition");
	ck_assert_str_eq(ct, "text/csv; charset=utf-8; header=present");
	ck_assert_str_eq(cd, "attachment; filename=\"updates-2021-Q3.csv\"");
	ck_assert(!memcmp(r->body, "\xEF\xBB\xBF", 3)); /* so that Excel reads UTF-8 */
	first = r->body + 3;
	ck_assert(!strncmp(first, "Action id,Pillar,Title,Last status,Last percent,Period,Status,"
				  "Percent complete,Narrative,Public summary,Show publicly,Evidence links\r\n",
			   strlen("Action id,Pillar,Title,Last status,Last percent,Period,Status,"
				  "Percent complete,Narrative,Public summary,Show publicly,Evidence links\r\n")));
	/* the lead's two actions of pillar 1, nothing of another pillar */
	line = strstr(first, "\r\n") + 2;
	ck_assert(!strncmp(line, who_a, strlen(who_a)) && line[strlen(who_a)] == ',');
	ck_assert_ptr_nonnull(strstr(line, ",1,"));
	ck_assert_ptr_nonnull(strstr(line, ",2021-Q3,,,,,,\r\n"));
	line = strstr(line, "\r\n") + 2;
	ck_assert(!strncmp(line, who_b, strlen(who_b)));
	line = strstr(line, "\r\n") + 2;
	ck_assert_str_eq(line, "");
	free(ct);
	free(cd);
	t_resp_free(r);

	/* a co-chair's lists every action of the cycle; a viewer posts nothing */
	r = get("/v1/me/template.csv?period=2021-Q3", cochair);
	ck_assert_int_eq(r->status, 200);
	{
		char needle[64];

		snprintf(needle, sizeof needle, "\r\n%s,2,", unodc_a);
		ck_assert_ptr_nonnull(strstr(r->body, needle));
	}
	t_resp_free(r);
	r = get("/v1/me/template.csv?period=2021-Q3", viewer);
	t_assert_problem(r, 403, "forbidden");
	t_resp_free(r);
	r = t_http(&srv, "GET", "/v1/me/template.csv?period=2026-Q1", who_lead, NULL, NULL, 0, NULL);
	t_assert_no_violations(r, true);
	t_assert_problem(r, 422, "validation");
	ck_assert_str_eq(fields(r), "period");
	t_resp_free(r);
}
END_TEST

START_TEST(template_xlsx_is_a_locked_workbook_libreoffice_reads_as_the_csv)
{
	/* directly: Prism reads bodies as text and would mangle the bytes */
	struct resp *r = t_get(&api, "/v1/me/template.xlsx?period=2021-Q3", who_lead), *csv;
	char *ct, *cd, *xml;

	ck_assert_int_eq(r->status, 200);
	ct = t_header(r, "Content-Type");
	cd = t_header(r, "Content-Disposition");
	ck_assert_str_eq(ct, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
	ck_assert_str_eq(cd, "attachment; filename=\"updates-2021-Q3.xlsx\"");
	ck_assert(!memcmp(r->body, "PK\x03\x04", 4));
	save(r, "template.xlsx");
	xml = sh("unzip -p template.xlsx xl/worksheets/sheet1.xml");
	/* protected, the header frozen, Status a list, widths set */
	ck_assert_ptr_nonnull(strstr(xml, "<sheetProtection"));
	ck_assert_ptr_nonnull(strstr(xml, "state=\"frozen\""));
	ck_assert_ptr_nonnull(strstr(xml, "<dataValidation type=\"list\""));
	ck_assert_ptr_nonnull(strstr(xml, "\"Not started,On track,At risk,Delayed,Completed,Cancelled\""));
	ck_assert_ptr_nonnull(strstr(xml, "<col "));
	free(xml);
	/* the columns to fill are unlocked, the action's locked */
	xml = sh("unzip -p template.xlsx xl/styles.xml");
	ck_assert_ptr_nonnull(strstr(xml, "locked=\"0\""));
	free(xml);
	/* LibreOffice reads it as the CSV template says */
	csv = get("/v1/me/template.csv?period=2021-Q3", who_lead);
	save(csv, "template.csv");
	soffice("template.xlsx", "csv");
	free(sh("python3 '%s' same template.csv out/template.csv", tool));
	free(ct);
	free(cd);
	t_resp_free(r);
	t_resp_free(csv);
}
END_TEST

/* The template for 2021-Q3, as template.csv in dir. */
static void download_template(void)
{
	struct resp *r = get("/v1/me/template.csv?period=2021-Q3", who_lead);

	ck_assert_int_eq(r->status, 200);
	save(r, "template.csv");
	t_resp_free(r);
}

static void assert_row(const struct resp *r, size_t i, int row, const char *action,
		       const char *result)
{
	json_t *o = json_array_get(json_object_get(r->json, "rows"), i);

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "row")), row);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "action_id")), atoll(action));
	ck_assert_str_eq(str(o, "result"), result);
}

START_TEST(csv_filled_by_a_csv_writer_imports_and_twice_creates_nothing_new)
{
	char fill_json[1024], *v;
	long before = updates();
	struct resp *r;

	download_template();
	/* row 2 filled, row 3 left empty (skipped); a semicolon file as a
	 * French-locale spreadsheet saves it */
	snprintf(fill_json, sizeof fill_json,
		 "{\"%s\": {\"Status\": \"On track\", \"Percent complete\": \"40\","
		 " \"Narrative\": \"Modules 1-3 online; \\\"field\\\" pilots, in two; regions.\\nNext: more.\","
		 " \"Public summary\": \"Training online.\", \"Show publicly\": \"yes\","
		 " \"Evidence links\": \"Course page https://example.org/course\\nhttps://example.org/b\"}}",
		 who_a);
	fill("filled.csv", ";", fill_json);
	r = import(who_lead, "2021-Q3", "filled.csv");
	ck_assert_int_eq(r->status, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(r->json, "created")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(r->json, "empty_rows")), 1);
	assert_row(r, 0, 2, who_a, "created");
	ck_assert_int_eq(updates(), before + 1);
	t_resp_free(r);
	/* what was posted is what the sheet said */
	v = t_sql(db, "SELECT concat_ws('|', u.period, u.status, u.percent_complete, u.narrative,"
		      " u.public_summary, u.visibility, u.evidence::text, m.email)"
		      " FROM status_update u JOIN member m ON m.id = u.author_id ORDER BY u.id DESC LIMIT 1");
	ck_assert_str_eq(v, "2021-Q3|on_track|40|Modules 1-3 online; \"field\" pilots, in two; regions.\nNext: more."
			    "|Training online.|public|[{\"url\": \"https://example.org/course\", \"title\": \"Course page\"},"
			    " {\"url\": \"https://example.org/b\", \"title\": \"https://example.org/b\"}]|focal@who.int");
	free(v);
	/* the same file again: nothing new */
	r = import(who_lead, "2021-Q3", "filled.csv");
	ck_assert_int_eq(r->status, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(r->json, "created")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(r->json, "unchanged")), 1);
	assert_row(r, 0, 2, who_a, "unchanged");
	ck_assert_int_eq(updates(), before + 1);
	t_resp_free(r);
}
END_TEST

START_TEST(xlsx_saved_by_libreoffice_imports)
{
	char fill_json[512];
	long before = updates();
	struct resp *r;

	download_template();
	snprintf(fill_json, sizeof fill_json,
		 "{\"%s\": {\"Status\": \"Completed\", \"Percent complete\": \"100\", \"Narrative\": \"Published.\"},"
		 " \"%s\": {\"Status\": \"at_risk\", \"Percent complete\": \"15\", \"Narrative\": \"Case studies late.\","
		 " \"Show publicly\": \"no\"}}",
		 who_a, who_b);
	fill("lo.csv", ",", fill_json);
	soffice("lo.csv", "xlsx");
	r = import_(true, who_lead, "2021-Q3", "out/lo.xlsx",
		    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", NULL);
	ck_assert_msg(r->status == 200, "%ld %s", r->status, r->body);
	ck_assert_int_eq(json_integer_value(json_object_get(r->json, "created")), 2);
	assert_row(r, 0, 2, who_a, "created");
	assert_row(r, 1, 3, who_b, "created");
	ck_assert_int_eq(updates(), before + 2);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM status_update WHERE period = '2021-Q3'"
					" AND ((status = 'completed' AND percent_complete = 100)"
					"   OR (status = 'at_risk' AND percent_complete = 15))"), 2);
	t_resp_free(r);
	/* and the template itself, as LibreOffice saves it unfilled: no row to post */
	r = import_(false, who_lead, "2021-Q3", "template.csv", "text/csv", NULL);
	t_assert_problem(r, 422, "validation");
	ck_assert_str_eq(fields(r), "file");
	t_resp_free(r);
}
END_TEST

START_TEST(errors_in_several_cells_import_nothing_and_name_every_cell)
{
	char fill_json[1024];
	long before = updates();
	struct resp *r;

	download_template();
	snprintf(fill_json, sizeof fill_json,
		 "{\"%s\": {\"Status\": \"Finished\", \"Percent complete\": \"150\", \"Narrative\": \"x\","
		 " \"Show publicly\": \"maybe\", \"Evidence links\": \"Doc ftp://example.org/a\"},"
		 " \"%s\": {\"Status\": \"On track\", \"Percent complete\": \"20\","
		 " \"Show publicly\": \"yes\"}}",
		 who_a, who_b);
	fill("bad.csv", ",", fill_json);
	r = import(who_lead, "2021-Q3", "bad.csv");
	assert_refused(r, 422, "validation", before);
	ck_assert_str_eq(fields(r), "row 2: Status|row 2: Percent complete|row 2: Show publicly|"
				    "row 2: Evidence links|row 3: Narrative|row 3: Public summary");
	t_resp_free(r);
	/* a template of another quarter, and a file without the header */
	snprintf(fill_json, sizeof fill_json,
		 "{\"%s\": {\"Period\": \"2021-Q2\", \"Status\": \"On track\", \"Percent complete\": \"5\","
		 " \"Narrative\": \"Started.\"}}", who_a);
	fill("q2.csv", ",", fill_json);
	r = import(who_lead, "2021-Q3", "q2.csv");
	assert_refused(r, 422, "validation", before);
	ck_assert_str_eq(fields(r), "row 2: Period");
	t_resp_free(r);
	free(sh("printf 'Status,Narrative\\nOn track,x\\n' > nohead.csv"));
	r = import(who_lead, "2021-Q3", "nohead.csv");
	assert_refused(r, 422, "validation", before);
	ck_assert_str_eq(fields(r), "row 1: Action id|row 1: Percent complete");
	t_resp_free(r);
}
END_TEST

START_TEST(an_action_of_another_pillar_refuses_the_whole_file)
{
	char fill_json[512];
	long before = updates();
	struct resp *r;

	/* the lead's own row is fine; the row naming UNODC's action is not */
	free(sh("printf 'Action id,Status,Percent complete,Narrative\\n%s,On track,10,Fine.\\n"
		"%s,On track,10,Not mine.\\n' > other.csv", who_a, unodc_a));
	r = import(who_lead, "2021-Q3", "other.csv");
	assert_refused(r, 422, "validation", before);
	ck_assert_str_eq(fields(r), "row 3: Action id");
	ck_assert_ptr_nonnull(strstr(r->body, "your entity does not lead"));
	t_resp_free(r);
	/* nor an id that is no action's, nor one key action twice */
	free(sh("printf 'Action id,Status,Percent complete,Narrative\\n999999,On track,10,A.\\n"
		"%s,On track,10,B.\\n%s,On track,20,C.\\n' > ids.csv", who_a, who_a));
	r = import(who_lead, "2021-Q3", "ids.csv");
	assert_refused(r, 422, "validation", before);
	ck_assert_str_eq(fields(r), "row 2: Action id|row 4: Action id");
	t_resp_free(r);
	(void)fill_json;
}
END_TEST

START_TEST(idempotency_key_replays_the_import)
{
	long before = updates();
	struct resp *r, *again;

	free(sh("printf 'Action id,Status,Percent complete,Narrative\\n%s,Delayed,30,Key one.\\n' > k1.csv"
		" && printf 'Action id,Status,Percent complete,Narrative\\n%s,Delayed,31,Key two.\\n' > k2.csv",
		who_b, who_b));
	r = import_(false, who_lead, "2021-Q3", "k1.csv", "text/csv", "sheet-key-1");
	ck_assert_int_eq(r->status, 200);
	ck_assert_int_eq(updates(), before + 1);
	again = import_(false, who_lead, "2021-Q3", "k1.csv", "text/csv", "sheet-key-1");
	ck_assert_int_eq(again->status, 200);
	ck_assert_str_eq(again->body, r->body); /* the same answer: "created" */
	ck_assert_int_eq(updates(), before + 1);
	t_resp_free(again);
	again = import_(false, who_lead, "2021-Q3", "k2.csv", "text/csv", "sheet-key-1");
	assert_refused(again, 409, "conflict", before + 1);
	t_resp_free(again);
	t_resp_free(r);
}
END_TEST

START_TEST(formulas_are_never_evaluated)
{
	char rows[1024];
	long before = updates();
	struct resp *r;

	/* in a CSV, text a spreadsheet would run */
	free(sh("printf 'Action id,Status,Percent complete,Narrative\\n%s,On track,10,\"=cmd|'\"'\"' /C calc'\"'\"'!A0\"\\n'"
		" > dde.csv", who_a));
	r = import_direct(who_lead, "dde.csv");
	assert_refused(r, 422, "validation", before);
	ck_assert_str_eq(fields(r), "row 2: Narrative");
	ck_assert_ptr_nonnull(strstr(r->body, "formula"));
	t_resp_free(r);
	/* in an XLSX, a formula cell, whatever its cached value */
	snprintf(rows, sizeof rows,
		 "[[\"Action id\", \"Status\", \"Percent complete\", \"Narrative\"],"
		 " [%s, \"On track\", {\"f\": \"5*2\", \"v\": \"10\"},"
		 "  {\"f\": \"HYPERLINK(\\\"http://evil.example/\\\",\\\"click\\\")\", \"v\": \"click\"}]]", who_a);
	free(sh("python3 '%s' xlsx f.xlsx '%s'", tool, rows));
	r = import_direct(who_lead, "f.xlsx");
	assert_refused(r, 422, "validation", before);
	ck_assert_str_eq(fields(r), "row 2: Percent complete|row 2: Narrative");
	t_resp_free(r);
	/* the same sheet without formulas imports: the reader is not the cause */
	snprintf(rows, sizeof rows,
		 "[[\"Action id\", \"Status\", \"Percent complete\", \"Narrative\"],"
		 " [%s, \"On track\", 10, \"Typed, not computed.\"]]", who_a);
	free(sh("python3 '%s' xlsx plain.xlsx '%s'", tool, rows));
	r = import_direct(who_lead, "plain.xlsx");
	ck_assert_msg(r->status == 200, "%s", r->body);
	ck_assert_int_eq(updates(), before + 1);
	t_resp_free(r);
}
END_TEST

START_TEST(hostile_files_are_refused_with_a_clear_problem)
{
	long before = updates();
	struct resp *r;
	char *big;

	/* 100 000 rows: past the 2 000 an import takes */
	free(sh("python3 '%s' rows many.csv 100000", tool));
	r = import_direct(who_lead, "many.csv");
	assert_refused(r, 413, "payload-too-large", before);
	ck_assert_ptr_nonnull(strstr(r->body, "2000 rows"));
	t_resp_free(r);
	/* a ZIP bomb renamed .xlsx: 1 GiB of XML in a few MiB */
	free(sh("python3 '%s' bomb bomb.xlsx 1024 && test $(stat -c %%s bomb.xlsx) -lt 4194304", tool));
	r = import_direct(who_lead, "bomb.xlsx");
	assert_refused(r, 413, "payload-too-large", before);
	t_resp_free(r);
	/* a DTD with nested entities (billion laughs) */
	free(sh("python3 '%s' dtd laughs.xlsx", tool));
	r = import_direct(who_lead, "laughs.xlsx");
	assert_refused(r, 422, "validation", before);
	ck_assert_ptr_nonnull(strstr(r->body, "document type declaration"));
	t_resp_free(r);
	/* the same in UTF-16, where no byte reads "<!DOCTYPE" */
	free(sh("python3 '%s' dtd16 laughs16.xlsx", tool));
	r = import_direct(who_lead, "laughs16.xlsx");
	assert_refused(r, 422, "validation", before);
	ck_assert_ptr_nonnull(strstr(r->body, "document type declaration"));
	t_resp_free(r);
	/* Latin-1 and UTF-16 text */
	free(sh("printf 'Action id,Status,Percent complete,Narrative\\n%s,On track,10,Caf\\351.\\n' > latin1.csv"
		" && printf 'Action id,Status,Percent complete,Narrative\\n%s,On track,10,Ok.\\n'"
		" | iconv -f UTF-8 -t UTF-16 > utf16.csv", who_a, who_a));
	r = import_direct(who_lead, "latin1.csv");
	assert_refused(r, 415, "unsupported-media-type", before);
	ck_assert_ptr_nonnull(strstr(r->body, "UTF-8"));
	t_resp_free(r);
	r = import_direct(who_lead, "utf16.csv");
	assert_refused(r, 415, "unsupported-media-type", before);
	ck_assert_ptr_nonnull(strstr(r->body, "UTF-16"));
	t_resp_free(r);
	/* a ZIP that is no workbook; a body over 4 MiB */
	free(sh("printf x > x.txt && zip -q notabook.xlsx x.txt"));
	r = import_direct(who_lead, "notabook.xlsx");
	assert_refused(r, 415, "unsupported-media-type", before);
	t_resp_free(r);
	big = calloc(1, (5u << 20) + 1);
	memset(big, 'a', 5u << 20);
	r = t_http(&api, "POST", "/v1/updates/import?period=2021-Q3", who_lead, "text/csv", big,
		   5u << 20, NULL);
	assert_refused(r, 413, "payload-too-large", before);
	t_resp_free(r);
	free(big);
	/* a viewer imports nothing */
	r = import_direct(viewer, "latin1.csv");
	assert_refused(r, 403, "forbidden", before);
	t_resp_free(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sheet");
	TCase *tc = tcase_create("sheet");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, template_csv_lists_the_callers_actions_with_columns_to_fill);
	tcase_add_test(tc, template_xlsx_is_a_locked_workbook_libreoffice_reads_as_the_csv);
	tcase_add_test(tc, errors_in_several_cells_import_nothing_and_name_every_cell);
	tcase_add_test(tc, an_action_of_another_pillar_refuses_the_whole_file);
	tcase_add_test(tc, hostile_files_are_refused_with_a_clear_problem);
	tcase_add_test(tc, csv_filled_by_a_csv_writer_imports_and_twice_creates_nothing_new);
	tcase_add_test(tc, xlsx_saved_by_libreoffice_imports);
	tcase_add_test(tc, idempotency_key_replays_the_import);
	tcase_add_test(tc, formulas_are_never_evaluated);
	suite_add_tcase(s, tc);
	return t_run(s);
}
