/* Reports end to end, through the HTTP API with a real worker, gnuplot and
 * pandoc: every format is produced and well formed (HTML checked by
 * xmllint, Word by LibreOffice), public-audience reports (the side-event
 * pack, a public quarterly) show public summaries and nothing internal,
 * only they can be published, unpublished reports stay private, a report
 * never changes after it is built, bad requests are 422. */
#include "harness.h"
#include "sha256.h"

#include <ctype.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct server srv;
static char db[64];
static char *cochair, *lead, *viewer;
static pid_t worker;

static void setup(void)
{
	t_db_create(db, sizeof db, true);
	ck_assert_int_eq(t_admin(db, NULL, NULL, "demo", "--actions", "80", "--updates", "600",
				 "--seed", "21", NULL), 0);
	cochair = t_member_token(db, "cochair@ohchr.org", "cochair", "OHCHR");
	lead = t_member_token(db, "focal.point@who.int", "lead", "WHO");
	viewer = t_member_token(db, "reader@unicef.org", "viewer", "UNICEF");
	t_server_start(&srv, db);
	worker = t_worker_start(db, NULL);
}

static void teardown(void)
{
	t_worker_stop(worker, SIGTERM);
	t_server_stop(&srv);
	free(cochair);
	free(lead);
	free(viewer);
}

static struct resp *post(const char *path, const char *token, const char *body)
{
	return t_http(&srv, "POST", path, token, body ? "application/json" : NULL, body,
		      body ? strlen(body) : 0, NULL);
}

/* Asks for a report and waits until it is built; returns its document. */
static json_t *build(const char *body)
{
	struct resp *r = post("/v1/reports", cochair, body);
	char *loc = t_header(r, "Location");
	json_t *doc = NULL;
	time_t deadline = time(NULL) + 180;

	ck_assert_msg(r->status == 202, "%s", r->body);
	ck_assert_ptr_nonnull(loc);
	t_resp_free(r);
	while (!doc && time(NULL) < deadline) {
		r = t_get(&srv, loc, viewer);
		if (!strcmp(json_string_value(json_object_get(r->json, "state")), "done"))
			doc = json_incref(r->json);
		else
			ck_assert_msg(strcmp(json_string_value(json_object_get(r->json, "state")), "failed"),
				      "the report failed: %s", r->body);
		t_resp_free(r);
		if (!doc)
			usleep(100000);
	}
	free(loc);
	ck_assert_msg(doc != NULL, "the report was not built in time");
	return doc;
}

/* A new key action of pillar 1 (led by WHO) in the 2024-2025 cycle. */
static long new_action(const char *title)
{
	char body[256];
	struct resp *r;
	long id;

	snprintf(body, sizeof body, "{\"pillar\":1,\"cycle\":\"2024-2025\",\"year\":2024,\"title\":\"%s\"}", title);
	r = post("/v1/actions", cochair, body);
	ck_assert_msg(r->status == 201, "%s", r->body);
	id = (long)json_integer_value(json_object_get(r->json, "id"));
	t_resp_free(r);
	return id;
}

/* The lead posts an update (body: the JSON members after none); its id. */
static long post_update(long action, const char *body)
{
	char path[64];
	struct resp *r;
	long id;

	snprintf(path, sizeof path, "/v1/actions/%ld/updates", action);
	r = post(path, lead, body);
	ck_assert_msg(r->status == 201, "%s", r->body);
	id = (long)json_integer_value(json_object_get(r->json, "id"));
	t_resp_free(r);
	return id;
}

static void review(long update, const char *body)
{
	char path[64];
	struct resp *r;

	snprintf(path, sizeof path, "/v1/updates/%ld/review", update);
	r = post(path, cochair, body);
	ck_assert_msg(r->status == 200, "%s", r->body);
	t_resp_free(r);
}

/* Internal text that no public-audience file may hold: the demo's
 * narratives and review comment, staff names and addresses, and the
 * markers the tests post. */
static const char *const internal_text[] = {
	"SECRET", "Work continued as planned", "Consultations with civil society",
	"Funding gaps slowed", "Translation into the six", "The draft was shared",
	"Please add evidence", "Test Member", "Demo focal point", "Demo co-chair",
	"@who.int", "@ohchr.org", "demo.invalid", NULL,
};

static void assert_nothing_internal(const char *text, const char *what)
{
	for (int i = 0; internal_text[i]; i++)
		ck_assert_msg(!strstr(text, internal_text[i]), "%s holds internal text: %s", what,
			      internal_text[i]);
}

/* The artifact of that format in a report document, or NULL. */
static json_t *artifact_of(json_t *report, const char *format)
{
	json_t *a;
	size_t i;

	json_array_foreach(json_object_get(report, "artifacts"), i, a)
		if (!strcmp(json_string_value(json_object_get(a, "format")), format))
			return a;
	return NULL;
}

/* Writes the body to the test log folder; the path in path. */
static void save(const struct resp *r, const char *name, char *path, size_t n)
{
	FILE *f;

	snprintf(path, n, "%s/%d-%s", getenv("WORKPLAN_TEST_LOGDIR"), (int)getpid(), name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(r->body, 1, r->len, f), r->len);
	fclose(f);
}

/* What a shell command prints on stdout; caller frees. */
static char *sh(const char *fmt, ...)
{
	char cmd[4096], *out = calloc(1, 1 << 20);
	size_t len;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	f = t_popen(cmd);
	ck_assert_ptr_nonnull(f);
	len = fread(out, 1, (1 << 20) - 1, f);
	out[len] = '\0';
	pclose(f);
	return out;
}

/* An XPath expression over an HTML file, as libxml2's HTML parser reads it. */
static char *xpath(const char *file, const char *expr)
{
	char *v = sh("xmllint --html --xpath '%s' '%s' 2>/dev/null", expr, file);
	size_t len = strlen(v);

	while (len && isspace((unsigned char)v[len - 1]))
		v[--len] = '\0';
	return v;
}

/* The Markdown section under that heading, up to the next one at its level. */
static char *md_section(const char *md, const char *heading)
{
	const char *start = strstr(md, heading), *end;

	ck_assert_msg(start != NULL, "no section %s", heading);
	start += strlen(heading);
	end = strstr(start, "\n## ");
	return strndup(start, end ? (size_t)(end - start) : strlen(start));
}

/* "2024-05-01T12:00:00Z" */
static bool utc_timestamp(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";

	if (!s || strlen(s) != sizeof shape - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	return true;
}

/* Downloads the report's file of that format, checking size and hash. */
static struct resp *file_of(json_t *report, const char *format, const char *token)
{
	json_t *a;
	size_t i;

	json_array_foreach(json_object_get(report, "artifacts"), i, a) {
		if (!strcmp(json_string_value(json_object_get(a, "format")), format)) {
			struct resp *r = t_get(&srv, json_string_value(json_object_get(a, "url")), token);
			unsigned char d[SHA256_LEN];
			char hex[65];

			ck_assert_int_eq(r->status, 200);
			ck_assert_uint_eq(r->len, json_integer_value(json_object_get(a, "bytes")));
			sha256(r->body, r->len, d);
			sha256_hex(d, hex);
			ck_assert_str_eq(hex, json_string_value(json_object_get(a, "sha256")));
			return r;
		}
	}
	ck_abort_msg("no %s file", format);
	return NULL;
}

/* The text of word/document.xml of a .docx, via unzip. */
static char *docx_text(const struct resp *r, const char *member)
{
	char path[600], cmd[800];
	FILE *f;
	char *out = calloc(1, 4 << 20);
	size_t n;

	snprintf(path, sizeof path, "%s/report-%d.docx", getenv("WORKPLAN_TEST_LOGDIR"), (int)getpid());
	f = fopen(path, "w");
	ck_assert_uint_eq(fwrite(r->body, 1, r->len, f), r->len);
	fclose(f);
	snprintf(cmd, sizeof cmd, "unzip -%s '%s' %s", member ? "p" : "l", path, member ? member : "");
	f = t_popen(cmd);
	n = fread(out, 1, (4 << 20) - 1, f);
	out[n] = '\0';
	ck_assert_int_eq(pclose(f), 0);
	return out;
}

#define OHCHR_NAME "Office of the United Nations High Commissioner for Human Rights"
#define UNESCO_NAME "United Nations Educational, Scientific and Cultural Organization"

START_TEST(quarterly_report_in_every_format)
{
	static const char *const fmts[] = { "html", "md", "csv", "json", "docx" };
	json_t *rep = build("{\"kind\":\"quarterly\",\"period\":\"2023-Q2\"}"), *a;
	struct resp *html, *md, *csv, *js, *docx;
	char *list, *doc, *section, path[600];
	int svgs = 0;
	size_t i;

	ck_assert_str_eq(json_string_value(json_object_get(rep, "audience")), "internal");
	for (i = 0; i < 5; i++)
		ck_assert_msg(artifact_of(rep, fmts[i]), "no %s file", fmts[i]);
	/* besides the five, only the charts the Markdown file shows */
	json_array_foreach(json_object_get(rep, "artifacts"), i, a) {
		const char *f = json_string_value(json_object_get(a, "format"));

		ck_assert_msg(!strcmp(f, "png") || artifact_of(rep, f) == a, "a second %s file", f);
	}
	html = file_of(rep, "html", viewer);
	for (const char *p = html->body; (p = strstr(p, "<svg")); p++)
		svgs++;
	ck_assert_int_ge(svgs, 4);
	ck_assert_ptr_nonnull(strstr(html->body, "</html>"));
	ck_assert_ptr_nonnull(strstr(html->body, "@page"));
	ck_assert_ptr_nonnull(strstr(html->body, "Reporting compliance"));
	/* the co-chairs of 2023 are named where the co-chairs are: OHCHR
	 * (permanent), not UNESCO (rotating, 2021 only) */
	save(html, "quarterly.html", path, sizeof path);
	section = xpath(path, "string(//h2[normalize-space()=\"Co-chairs in office\"]/following-sibling::*[1])");
	ck_assert_msg(strstr(section, OHCHR_NAME), "the co-chairs section reads: %s", section);
	ck_assert_msg(!strstr(section, UNESCO_NAME), "the co-chairs section reads: %s", section);
	free(section);
	md = file_of(rep, "md", viewer);
	ck_assert(!strncmp(md->body, "# Quarterly progress report, 2023-Q2", 36));
	section = md_section(md->body, "## Co-chairs in office");
	ck_assert_msg(strstr(section, OHCHR_NAME) && !strstr(section, "Educational"), "%s", section);
	free(section);
	csv = file_of(rep, "csv", viewer);
	ck_assert(!strncmp(csv->body, "pillar,pillar_name,action_id,title", 34));
	js = file_of(rep, "json", viewer);
	ck_assert_ptr_nonnull(js->json);
	ck_assert_str_eq(json_string_value(json_object_get(js->json, "kind")), "quarterly");
	ck_assert_int_eq(json_array_size(json_object_get(js->json, "pillars")), 8);
	docx = file_of(rep, "docx", viewer);
	ck_assert(!memcmp(docx->body, "PK\x03\x04", 4));
	list = docx_text(docx, NULL);
	ck_assert_ptr_nonnull(strstr(list, "word/document.xml"));
	ck_assert_ptr_nonnull(strstr(list, "word/media/"));
	doc = docx_text(docx, "word/document.xml");
	ck_assert_ptr_nonnull(strstr(doc, "<w:tbl>"));  /* tables are real Word tables */
	ck_assert_ptr_nonnull(strstr(doc, "Headline figures"));
	/* and it opens in LibreOffice, with its charts and tables, and on A4
	 * the headline figures' labels stay whole (a cell too narrow for a
	 * word breaks it mid-word: "Expecte|d") */
	{
		char cmd[2400], dir[600], *pdftext;
		FILE *f;
		char text[256] = "";

		snprintf(dir, sizeof dir, "%s/lo-%d", getenv("WORKPLAN_TEST_LOGDIR"), (int)getpid());
		snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cd '%s' && HOME='%s' timeout 180 soffice --headless"
			 " --convert-to pdf '../report-%d.docx' >/dev/null 2>&1 && pdfimages -list report-%d.pdf"
			 " | tail -n +3 | wc -l && pdftotext report-%d.pdf report-%d.txt"
			 " && grep -c 'Reporting compliance' report-%d.txt",
			 dir, dir, dir, (int)getpid(), (int)getpid(), (int)getpid(), (int)getpid(), (int)getpid());
		f = t_popen(cmd);
		ck_assert_uint_gt(fread(text, 1, sizeof text - 1, f), 0);
		ck_assert_int_eq(pclose(f), 0);
		ck_assert_msg(atoi(text) >= 4, "the PDF from LibreOffice has %d images", atoi(text));
		pdftext = sh("cat '%s/report-%d.txt'", dir, (int)getpid());
		for (const char *const *w = (const char *const[]){ "Key actions in scope", "Completed",
				"Mean percent complete", "Expected to report", "Reported on time", NULL }; *w; w++)
			ck_assert_msg(strstr(pdftext, *w), "the PDF does not read \"%s\" whole", *w);
		free(pdftext);
	}
	free(list);
	free(doc);
	t_resp_free(html);
	t_resp_free(md);
	t_resp_free(csv);
	t_resp_free(js);
	t_resp_free(docx);
	json_decref(rep);
}
END_TEST

/* The fixed texts of a report come from the web app's catalogue of the
 * language asked for (web/i18n/fr.json), in every format; the data is the
 * same, and English stays the default (quarterly_report_in_every_format). */
START_TEST(a_french_report_has_french_fixed_texts)
{
	static const char *const french[] = { "Chiffres clés", "Coprésidence en exercice", "Action clé",
					      "Respect des délais de compte rendu", "Entité chef de file",
					      "Tendances", "Annexe : les données", NULL };
	static const char *const english[] = { "Headline figures", "Co-chairs in office", "Key action",
					       "Reporting compliance", "Lead entity", "Trends", "Annex: the data", NULL };
	json_t *rep = build("{\"kind\":\"quarterly\",\"period\":\"2023-Q2\",\"language\":\"fr\","
			    "\"formats\":[\"html\",\"md\",\"docx\"]}"), *en;
	struct resp *html = file_of(rep, "html", viewer), *md = file_of(rep, "md", viewer),
		    *docx = file_of(rep, "docx", viewer), *r;
	char path[600], *v, *doc = docx_text(docx, "word/document.xml");

	ck_assert_str_eq(json_string_value(json_object_get(rep, "language")), "fr");
	ck_assert_msg(!strncmp(md->body, "# Rapport trimestriel d’avancement, 2023-Q2\n",
			       strlen("# Rapport trimestriel d’avancement, 2023-Q2\n")), "%.200s", md->body);
	for (int i = 0; french[i]; i++) {
		ck_assert_msg(strstr(html->body, french[i]), "the HTML lacks \"%s\"", french[i]);
		ck_assert_msg(strstr(md->body, french[i]), "the Markdown lacks \"%s\"", french[i]);
		ck_assert_msg(strstr(doc, french[i]), "the Word file lacks \"%s\"", french[i]);
		ck_assert_msg(!strstr(md->body, english[i]), "the Markdown reads \"%s\"", english[i]);
	}
	/* no key without its text */
	ck_assert_ptr_null(strstr(md->body, "report."));
	save(html, "french.html", path, sizeof path);
	v = xpath(path, "string(/html/@lang)");
	ck_assert_str_eq(v, "fr");
	free(v);
	v = xpath(path, "string(//h2[1])");
	ck_assert_str_eq(v, "Coprésidence en exercice");
	free(v);
	v = xpath(path, "string((//figcaption)[1])");
	ck_assert_str_eq(v, "État des actions clés par pilier");
	free(v);
	v = xpath(path, "string((//th[@scope=\"col\"])[1])");
	ck_assert_str_eq(v, "Mesure");
	free(v);
	/* the same request in English is another report, in English */
	en = build("{\"kind\":\"quarterly\",\"period\":\"2023-Q2\",\"formats\":[\"html\",\"md\",\"docx\"]}");
	ck_assert_int_ne(json_integer_value(json_object_get(en, "id")), json_integer_value(json_object_get(rep, "id")));
	ck_assert_str_eq(json_string_value(json_object_get(en, "language")), "en");
	r = file_of(en, "md", viewer);
	for (int i = 0; english[i]; i++)
		ck_assert_msg(strstr(r->body, english[i]), "the English Markdown lacks \"%s\"", english[i]);
	ck_assert_ptr_null(strstr(r->body, "Chiffres clés"));
	t_resp_free(r);
	free(doc);
	t_resp_free(html);
	t_resp_free(md);
	t_resp_free(docx);
	json_decref(en);
	json_decref(rep);
}
END_TEST

START_TEST(side_event_pack_shows_only_what_is_public)
{
	const char *formats[] = { "html", "md", "csv", "json" };
	char path[64], body[512];
	struct resp *r;
	json_t *rep;
	long action;

	/* a fresh key action of pillar 1 (led by WHO), with no history yet */
	r = post("/v1/actions", cochair, "{\"pillar\":1,\"cycle\":\"2024-2025\",\"year\":2024,"
					 "\"title\":\"Toolkit for country teams\"}");
	ck_assert_int_eq(r->status, 201);
	action = (long)json_integer_value(json_object_get(r->json, "id"));
	t_resp_free(r);

	snprintf(path, sizeof path, "/v1/actions/%ld/updates", action);
	snprintf(body, sizeof body, "{\"period\":\"2024-Q3\",\"status\":\"on_track\",\"percent_complete\":30,"
		 "\"narrative\":\"SECRET-INTERNAL-NARRATIVE about staffing\",\"visibility\":\"public\","
		 "\"public_summary\":\"PUBLIC-SUMMARY-TEXT: the toolkit is in pilot.\"}");
	r = post(path, lead, body);
	ck_assert_int_eq(r->status, 201);
	snprintf(path, sizeof path, "/v1/updates/%lld/review", json_integer_value(json_object_get(r->json, "id")));
	t_resp_free(r);
	r = post(path, cochair, "{\"decision\":\"approve\",\"comment\":\"SECRET-REVIEW-COMMENT\"}");
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	snprintf(path, sizeof path, "/v1/actions/%ld/updates", action);
	r = post(path, lead, "{\"period\":\"2024-Q4\",\"status\":\"at_risk\",\"percent_complete\":35,"
			     "\"narrative\":\"SECRET-SECOND-NARRATIVE\"}");
	ck_assert_int_eq(r->status, 201);
	t_resp_free(r);
	rep = build("{\"kind\":\"side-event\",\"period\":\"2024-Q4\",\"event\":1}");
	ck_assert_str_eq(json_string_value(json_object_get(rep, "audience")), "public");
	for (int i = 0; i < 4; i++) {
		r = file_of(rep, formats[i], viewer);
		ck_assert_msg(strstr(r->body, "PUBLIC") && strstr(r->body, "SUMMARY") && strstr(r->body, "TEXT"),
			      "%s lacks the public summary", formats[i]);
		ck_assert_msg(!strstr(r->body, "SECRET"), "%s shows internal text", formats[i]);
		ck_assert_msg(!strstr(r->body, "Test Member") && !strstr(r->body, "@who.int") &&
				      !strstr(r->body, "Demo focal point"),
			      "%s names staff", formats[i]);
		if (i < 2)
			ck_assert_msg(strstr(r->body, "48th session of the Human Rights Council"),
				      "%s lacks the event on its cover", formats[i]);
		t_resp_free(r);
	}
	r = file_of(rep, "docx", viewer);
	{
		char *doc = docx_text(r, "word/document.xml");

		ck_assert_ptr_nonnull(strstr(doc, "TEXT: the toolkit is in pilot"));
		ck_assert_ptr_null(strstr(doc, "SECRET"));
		free(doc);
	}
	t_resp_free(r);
	json_decref(rep);
}
END_TEST

START_TEST(unpublished_reports_stay_private_until_published)
{
	static const char *const fmts[] = { "md", "html" };
	json_t *rep = build("{\"kind\":\"side-event\",\"period\":\"2023-Q4\",\"formats\":[\"md\",\"html\"]}");
	long long id = json_integer_value(json_object_get(rep, "id"));
	char pub[128], pubfile[256], publish[64];
	struct resp *r;
	json_t *pubrep;

	/* the quarter has internal narratives the pack must leave out */
	ck_assert_int_gt(t_sql_long(db, "SELECT count(*) FROM status_update WHERE period <= '2023-Q4'"
					" AND period >= '2022-Q1' AND visibility = 'internal'"), 0);
	snprintf(pub, sizeof pub, "/v1/public/reports/%lld", id);
	snprintf(pubfile, sizeof pubfile, "/v1/public/reports/%lld/files/%s", id,
		 json_string_value(json_object_get(artifact_of(rep, "md"), "name")));
	snprintf(publish, sizeof publish, "/v1/reports/%lld/publish", id);
	r = t_get(&srv, pub, NULL);
	t_assert_problem(r, 404, "not-found");
	t_resp_free(r);
	r = t_get(&srv, pubfile, NULL);
	t_assert_problem(r, 404, "not-found");
	t_resp_free(r);
	r = t_get(&srv, "/v1/reports", NULL);
	t_assert_problem(r, 401, "unauthorized");
	t_resp_free(r);
	r = post(publish, lead, NULL);
	t_assert_problem(r, 403, "forbidden");
	t_resp_free(r);
	r = post(publish, cochair, NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert(json_is_true(json_object_get(r->json, "published")));
	t_resp_free(r);
	r = t_get(&srv, pub, NULL);
	ck_assert_int_eq(r->status, 200);
	pubrep = json_incref(r->json);
	t_resp_free(r);
	/* each public file is the private one, byte for byte, with the hash
	 * the public document gives, and holds public summaries only */
	for (int i = 0; i < 2; i++) {
		json_t *a = artifact_of(pubrep, fmts[i]);
		struct resp *private = file_of(rep, fmts[i], viewer), *public;

		ck_assert_ptr_nonnull(a);
		ck_assert(!strncmp(json_string_value(json_object_get(a, "url")), "/v1/public/reports/", 19));
		public = file_of(pubrep, fmts[i], NULL);
		ck_assert_uint_eq(public->len, private->len);
		ck_assert(!memcmp(public->body, private->body, private->len));
		ck_assert_str_eq(json_string_value(json_object_get(a, "sha256")),
				 json_string_value(json_object_get(artifact_of(rep, fmts[i]), "sha256")));
		ck_assert_msg(strstr(public->body, "Progress was made on this key action"),
			      "the public %s lacks the public summaries", fmts[i]);
		assert_nothing_internal(public->body, fmts[i]);
		t_resp_free(private);
		t_resp_free(public);
	}
	r = t_get(&srv, pubfile, NULL);
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	r = t_get(&srv, "/v1/public/reports", NULL);
	ck_assert_int_ge(json_array_size(json_object_get(r->json, "items")), 1);
	t_resp_free(r);
	json_decref(pubrep);
	json_decref(rep);
}
END_TEST

START_TEST(internal_report_cannot_be_published)
{
	json_t *rep = build("{\"kind\":\"quarterly\",\"period\":\"2023-Q3\",\"formats\":[\"md\"]}");
	long long id = json_integer_value(json_object_get(rep, "id"));
	char path[256], sql[128];
	struct resp *r;

	ck_assert_str_eq(json_string_value(json_object_get(rep, "audience")), "internal");
	snprintf(path, sizeof path, "/v1/reports/%lld/publish", id);
	r = post(path, cochair, NULL);
	t_assert_problem(r, 409, "conflict");
	t_resp_free(r);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM report WHERE id = %lld AND published", id);
	ck_assert_int_eq(t_sql_long(db, sql), 0);
	snprintf(path, sizeof path, "/v1/public/reports/%lld", id);
	r = t_get(&srv, path, NULL);
	t_assert_problem(r, 404, "not-found");
	t_resp_free(r);
	snprintf(path, sizeof path, "/v1/public/reports/%lld/files/%s", id,
		 json_string_value(json_object_get(artifact_of(rep, "md"), "name")));
	r = t_get(&srv, path, NULL);
	t_assert_problem(r, 404, "not-found");
	t_resp_free(r);
	json_decref(rep);
}
END_TEST

START_TEST(public_quarterly_holds_only_public_summaries)
{
	static const char *const fmts[] = { "html", "md", "csv", "json" };
	long shown = new_action("Regional toolkit for country teams"),
	     hidden = new_action("Internal staffing review");
	json_t *rep, *pubrep;
	struct resp *r;
	char path[128], *doc;

	review(post_update(shown, "{\"period\":\"2024-Q3\",\"status\":\"on_track\",\"percent_complete\":40,"
				  "\"narrative\":\"SECRET-NARRATIVE of the public update\",\"visibility\":\"public\","
				  "\"public_summary\":\"PUBLIC-QUARTERLY-SUMMARY: the toolkit is being piloted.\"}"),
	       "{\"decision\":\"approve\",\"comment\":\"SECRET-REVIEW-COMMENT\"}");
	post_update(hidden, "{\"period\":\"2024-Q3\",\"status\":\"delayed\",\"percent_complete\":10,"
			    "\"narrative\":\"SECRET-INTERNAL-NARRATIVE on staffing\"}");
	rep = build("{\"kind\":\"quarterly\",\"period\":\"2024-Q3\",\"audience\":\"public\"}");
	ck_assert_str_eq(json_string_value(json_object_get(rep, "audience")), "public");
	for (int i = 0; i < 4; i++) {
		r = file_of(rep, fmts[i], viewer);
		ck_assert_msg(strstr(r->body, "PUBLIC") && strstr(r->body, "QUARTERLY") && strstr(r->body, "SUMMARY"),
			      "%s lacks the public summary", fmts[i]);
		ck_assert_msg(strstr(r->body, "toolkit is being piloted"), "%s lacks the public summary", fmts[i]);
		ck_assert_msg(!strstr(r->body, "Internal staffing review"),
			      "%s lists an action without a public update", fmts[i]);
		assert_nothing_internal(r->body, fmts[i]);
		t_resp_free(r);
	}
	r = file_of(rep, "docx", viewer);
	doc = docx_text(r, "word/document.xml");
	ck_assert_ptr_nonnull(strstr(doc, "toolkit is being piloted"));
	assert_nothing_internal(doc, "docx");
	free(doc);
	t_resp_free(r);
	/* it can be published, and its Markdown's images come along */
	snprintf(path, sizeof path, "/v1/reports/%lld/publish", json_integer_value(json_object_get(rep, "id")));
	r = post(path, cochair, NULL);
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	snprintf(path, sizeof path, "/v1/public/reports/%lld", json_integer_value(json_object_get(rep, "id")));
	r = t_get(&srv, path, NULL);
	ck_assert_int_eq(r->status, 200);
	pubrep = json_incref(r->json);
	t_resp_free(r);
	r = file_of(pubrep, "md", NULL);
	{
		const char *p = r->body;
		int images = 0;

		while ((p = strstr(p, "](")) != NULL) {
			const char *end = strchr(p += 2, ')');
			char name[128], url[256];
			struct resp *img;

			ck_assert_ptr_nonnull(end);
			if (end[1] != '\n' || p[-3] == '\\')
				continue;  /* not an image of ours */
			snprintf(name, sizeof name, "%.*s", (int)(end - p), p);
			/* relative to the Markdown file's own URL */
			snprintf(url, sizeof url, "/v1/public/reports/%lld/files/%s",
				 json_integer_value(json_object_get(rep, "id")), name);
			img = t_get(&srv, url, NULL);
			ck_assert_msg(img->status == 200 && img->len > 8 && !memcmp(img->body, "\x89PNG", 4),
				      "the Markdown shows %s, which is not a file of the report", name);
			t_resp_free(img);
			images++;
		}
		ck_assert_int_ge(images, 2);
	}
	t_resp_free(r);
	json_decref(pubrep);
	json_decref(rep);
}
END_TEST

START_TEST(audience_is_part_of_what_makes_requests_identical)
{
	static const char *const asks[] = {
		"{\"kind\":\"quarterly\",\"period\":\"2022-Q1\",\"formats\":[\"json\"]}",
		"{\"kind\":\"quarterly\",\"period\":\"2022-Q1\",\"formats\":[\"json\"],\"audience\":\"internal\"}",
		"{\"kind\":\"quarterly\",\"period\":\"2022-Q1\",\"formats\":[\"json\"],\"audience\":\"public\"}",
		"{\"kind\":\"quarterly\",\"period\":\"2022-Q1\",\"audience\":\"public\",\"formats\":[\"json\"]}",
	};
	long long id[4];

	for (int i = 0; i < 4; i++) {
		struct resp *r = post("/v1/reports", cochair, asks[i]);

		ck_assert_msg(r->status == 202, "%s", r->body);
		id[i] = json_integer_value(json_object_get(r->json, "id"));
		ck_assert_str_eq(json_string_value(json_object_get(r->json, "audience")),
				 i < 2 ? "internal" : "public");
		t_resp_free(r);
	}
	ck_assert_int_eq(id[0], id[1]);  /* internal is the default */
	ck_assert_int_ne(id[1], id[2]);
	ck_assert_int_eq(id[2], id[3]);
}
END_TEST

/* The value of every key ending in "_at" in a JSON document, checked. */
static int timestamps_checked(json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;
	int n = 0;

	if (json_is_array(v))
		json_array_foreach(v, i, x)
			n += timestamps_checked(x);
	if (json_is_object(v))
		json_object_foreach(v, k, x) {
			if (strlen(k) > 3 && !strcmp(k + strlen(k) - 3, "_at") && !json_is_null(x)) {
				ck_assert_msg(utc_timestamp(json_string_value(x)), "%s is %s", k,
					      json_string_value(x) ? json_string_value(x) : "not a string");
				n++;
			}
			n += timestamps_checked(x);
		}
	return n;
}

/* The fields of one CSV record (RFC 4180) starting at *p; moves *p on. */
static int csv_record(const char **p, char fields[][256], int max)
{
	int n = 0;

	while (**p && n < max) {
		size_t len = 0;
		bool quoted = **p == '"';

		if (quoted)
			(*p)++;
		while (**p && (quoted ? !(**p == '"' && (*p)[1] != '"') : (**p != ',' && **p != '\r'))) {
			if (quoted && **p == '"')
				(*p)++;
			if (len < 255)
				fields[n][len++] = **p;
			(*p)++;
		}
		if (quoted && **p == '"')
			(*p)++;
		fields[n++][len] = '\0';
		if (**p == ',') {
			(*p)++;
			continue;
		}
		if (**p == '\r')
			*p += 2;
		break;
	}
	return n;
}

START_TEST(report_json_is_utf8_with_one_decimal_means_and_utc_times)
{
	long action = new_action("Atelier régional à Genève");
	json_t *rep;
	struct resp *js, *csv;
	const char *p;
	char fields[16][256];
	int means = 0, col = -1, n, times = 0;

	post_update(action, "{\"period\":\"2024-Q2\",\"status\":\"on_track\",\"percent_complete\":33,"
			    "\"narrative\":\"Réunion préparée à Genève avec la société civile ; déjà 30 participants.\","
			    "\"visibility\":\"public\",\"public_summary\":\"Atelier régional préparé à Genève.\"}");
	rep = build("{\"kind\":\"quarterly\",\"period\":\"2024-Q2\",\"formats\":[\"json\",\"csv\"]}");
	ck_assert_msg(utc_timestamp(json_string_value(json_object_get(rep, "created_at"))), "created_at %s",
		      json_string_value(json_object_get(rep, "created_at")));
	js = file_of(rep, "json", viewer);
	ck_assert_msg(js->json != NULL, "the JSON file does not parse");
	ck_assert_msg(strstr(js->body, "Réunion préparée à Genève"), "the narrative is not there as UTF-8");
	ck_assert_msg(!strstr(js->body, "\\u00"), "the JSON file escapes non-ASCII text");
	/* every mean as the contract gives it: one decimal at most */
	for (p = js->body; (p = strstr(p, "\"mean_percent\":")); means++) {
		size_t digits = 0;

		p += strlen("\"mean_percent\":");
		while (*p == ' ')
			p++;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p == '.')
			for (p++; isdigit((unsigned char)p[digits]); digits++)
				;
		ck_assert_msg(digits <= 1, "a mean with %zu decimals: %.30s", digits, p - 1);
	}
	ck_assert_int_ge(means, 1);
	ck_assert_int_ge(timestamps_checked(js->json), 1);
	/* the CSV's times likewise */
	csv = file_of(rep, "csv", viewer);
	p = csv->body;
	n = csv_record(&p, fields, 16);
	for (int i = 0; i < n; i++)
		if (!strcmp(fields[i], "updated_at"))
			col = i;
	ck_assert_msg(col >= 0, "the CSV has no updated_at column");
	while (*p) {
		n = csv_record(&p, fields, 16);
		ck_assert_int_gt(n, col);
		if (*fields[col]) {
			ck_assert_msg(utc_timestamp(fields[col]), "updated_at %s", fields[col]);
			times++;
		}
	}
	ck_assert_int_ge(times, 1);
	ck_assert_ptr_nonnull(strstr(csv->body, "Réunion préparée à Genève"));
	t_resp_free(js);
	t_resp_free(csv);
	json_decref(rep);
}
END_TEST

START_TEST(html_report_is_accessible_and_self_contained)
{
	json_t *rep = build("{\"kind\":\"quarterly\",\"period\":\"2023-Q1\",\"formats\":[\"html\"]}");
	struct resp *html = file_of(rep, "html", viewer);
	char path[600], *v;

	save(html, "accessible.html", path, sizeof path);
	v = xpath(path, "string(/html/@lang)");
	ck_assert_str_eq(v, "en");
	free(v);
	v = xpath(path, "count(//main)");
	ck_assert_str_eq(v, "1");
	free(v);
	v = xpath(path, "count(//main//table)");
	ck_assert_int_ge(atoi(v), 3);
	free(v);
	v = xpath(path, "count(//th)");
	ck_assert_int_ge(atoi(v), 10);
	free(v);
	/* every header cell says what it heads; every table has column headers */
	v = xpath(path, "count(//th[not(@scope=\"col\" or @scope=\"row\")])");
	ck_assert_str_eq(v, "0");
	free(v);
	v = xpath(path, "count(//table[not(.//th[@scope=\"col\"])])");
	ck_assert_str_eq(v, "0");
	free(v);
	/* one file: nothing fetched from elsewhere */
	v = xpath(path, "count(//img[not(starts-with(@src, \"data:\"))] | //link | //script[@src] | //iframe | //object)");
	ck_assert_str_eq(v, "0");
	free(v);
	/* and axe-core, in Chromium, finds nothing against WCAG 2.1 AA */
	v = sh("node tests/browser/axe.mjs '%s' 2>&1; echo \"exit $?\"", path);
	ck_assert_msg(strstr(v, "axe: 0 violations") && strstr(v, "exit 0"), "%s", v);
	free(v);
	t_resp_free(html);
	json_decref(rep);
}
END_TEST

START_TEST(a_report_is_a_frozen_snapshot)
{
	const char *ask = "{\"kind\":\"quarterly\",\"period\":\"2024-Q1\",\"formats\":[\"json\",\"csv\"]}";
	json_t *rep = build(ask), *again;
	struct resp *before = file_of(rep, "json", viewer), *after, *r;
	long action = t_sql_long(db, "SELECT min(id) FROM action WHERE cycle = '2024-2025' AND pillar = 1");
	char path[64];

	/* the same request on the same data: the same report */
	r = post("/v1/reports", cochair, ask);
	ck_assert_int_eq(json_integer_value(json_object_get(r->json, "id")),
			 json_integer_value(json_object_get(rep, "id")));
	t_resp_free(r);
	snprintf(path, sizeof path, "/v1/actions/%ld/updates", action);
	r = post(path, lead, "{\"period\":\"2024-Q1\",\"status\":\"completed\",\"percent_complete\":100,\"narrative\":\"Finished early.\"}");
	ck_assert_int_eq(r->status, 201);
	t_resp_free(r);
	/* the built report does not move */
	after = file_of(rep, "json", viewer);
	ck_assert_uint_eq(before->len, after->len);
	ck_assert(!memcmp(before->body, after->body, before->len));
	/* the same request now is a new report on the new data */
	again = build(ask);
	ck_assert_int_ne(json_integer_value(json_object_get(again, "id")),
			 json_integer_value(json_object_get(rep, "id")));
	t_resp_free(before);
	t_resp_free(after);
	json_decref(again);
	json_decref(rep);
}
END_TEST

START_TEST(bad_report_requests_are_422)
{
	static const struct { const char *body, *field; } cases[] = {
		{ "{\"kind\":\"annual\",\"period\":\"2023-Q2\"}", "kind" },
		{ "{\"kind\":\"quarterly\",\"period\":\"2030-Q1\"}", "period" },
		{ "{\"kind\":\"quarterly\",\"period\":\"2023-Q5\"}", "period" },
		{ "{\"kind\":\"quarterly\",\"period\":\"2023-Q2\",\"formats\":[\"pdf\"]}", "formats" },
		{ "{\"kind\":\"quarterly\",\"period\":\"2023-Q2\",\"formats\":[]}", "formats" },
		{ "{\"kind\":\"quarterly\",\"period\":\"2023-Q2\",\"event\":1}", "event" },
		{ "{\"kind\":\"side-event\",\"period\":\"2023-Q2\",\"event\":999}", "event" },
		{ "{\"kind\":\"quarterly\",\"period\":\"2023-Q2\",\"colour\":\"red\"}", "colour" },
		{ "{\"kind\":\"side-event\",\"period\":\"2023-Q2\",\"audience\":\"internal\"}", "audience" },
		{ "{\"kind\":\"quarterly\",\"period\":\"2023-Q2\",\"audience\":\"everyone\"}", "audience" },
		{ "{\"kind\":\"quarterly\",\"period\":\"2023-Q2\",\"language\":\"de\"}", "language" },
		{ "{\"kind\":\"quarterly\",\"period\":\"2023-Q2\",\"language\":7}", "language" },
	};
	long before = t_sql_long(db, "SELECT count(*) FROM report");

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct resp *r = post("/v1/reports", cochair, cases[i].body);
		json_t *e = json_array_get(json_object_get(r->json, "errors"), 0);

		t_assert_problem(r, 422, "validation");
		ck_assert_msg(e && !strcmp(json_string_value(json_object_get(e, "field")), cases[i].field),
			      "%s: %s", cases[i].body, r->body);
		t_resp_free(r);
	}
	{
		struct resp *r = post("/v1/reports", lead, "{\"kind\":\"quarterly\",\"period\":\"2023-Q2\"}");

		t_assert_problem(r, 403, "forbidden");
		t_resp_free(r);
	}
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM report"), before);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reports");
	TCase *tc = tcase_create("reports");

	tcase_set_timeout(tc, 240);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, quarterly_report_in_every_format);
	tcase_add_test(tc, a_french_report_has_french_fixed_texts);
	tcase_add_test(tc, side_event_pack_shows_only_what_is_public);
	tcase_add_test(tc, unpublished_reports_stay_private_until_published);
	tcase_add_test(tc, internal_report_cannot_be_published);
	tcase_add_test(tc, public_quarterly_holds_only_public_summaries);
	tcase_add_test(tc, audience_is_part_of_what_makes_requests_identical);
	tcase_add_test(tc, report_json_is_utf8_with_one_decimal_means_and_utc_times);
	tcase_add_test(tc, html_report_is_accessible_and_self_contained);
	tcase_add_test(tc, a_report_is_a_frozen_snapshot);
	tcase_add_test(tc, bad_report_requests_are_422);
	suite_add_tcase(s, tc);
	return t_run(s);
}
