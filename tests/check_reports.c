/* Reports end to end, through the HTTP API with a real worker, gnuplot and
 * pandoc: every format is produced and well formed, the side-event pack
 * shows public summaries and nothing internal, unpublished reports stay
 * private, a report never changes after it is built, bad requests are 422. */
#include "harness.h"
#include "sha256.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

	ck_assert_msg(r->status == 202, "%s", r->body);
	ck_assert_ptr_nonnull(loc);
	t_resp_free(r);
	for (int i = 0; i < 600; i++) {
		r = t_get(&srv, loc, viewer);
		if (!strcmp(json_string_value(json_object_get(r->json, "state")), "done")) {
			doc = json_incref(r->json);
			t_resp_free(r);
			break;
		}
		ck_assert_msg(strcmp(json_string_value(json_object_get(r->json, "state")), "failed"),
			      "the report failed: %s", r->body);
		t_resp_free(r);
		usleep(100000);
	}
	free(loc);
	ck_assert_msg(doc != NULL, "the report was not built in time");
	return doc;
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

START_TEST(quarterly_report_in_every_format)
{
	json_t *rep = build("{\"kind\":\"quarterly\",\"period\":\"2023-Q2\"}");
	struct resp *html, *md, *csv, *js, *docx;
	char *list, *doc;
	int svgs = 0;

	ck_assert_int_eq(json_array_size(json_object_get(rep, "artifacts")), 5);
	html = file_of(rep, "html", viewer);
	for (const char *p = html->body; (p = strstr(p, "<svg")); p++)
		svgs++;
	ck_assert_int_ge(svgs, 4);
	ck_assert_ptr_nonnull(strstr(html->body, "</html>"));
	ck_assert_ptr_nonnull(strstr(html->body, "@page"));
	ck_assert_ptr_nonnull(strstr(html->body, "Office of the United Nations High Commissioner for Human Rights"));
	ck_assert_ptr_nonnull(strstr(html->body, "Reporting compliance"));
	md = file_of(rep, "md", viewer);
	ck_assert(!strncmp(md->body, "# Quarterly progress report, 2023-Q2", 36));
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
	/* and it opens in LibreOffice, with its charts and tables */
	{
		char cmd[2400], dir[600];
		FILE *f;
		char text[256] = "";

		snprintf(dir, sizeof dir, "%s/lo-%d", getenv("WORKPLAN_TEST_LOGDIR"), (int)getpid());
		snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cd '%s' && HOME='%s' timeout 180 soffice --headless"
			 " --convert-to pdf '../report-%d.docx' >/dev/null 2>&1 && pdfimages -list report-%d.pdf"
			 " | tail -n +3 | wc -l && pdftotext report-%d.pdf - | grep -c 'Reporting compliance'",
			 dir, dir, dir, (int)getpid(), (int)getpid(), (int)getpid());
		f = t_popen(cmd);
		ck_assert_uint_gt(fread(text, 1, sizeof text - 1, f), 0);
		ck_assert_int_eq(pclose(f), 0);
		ck_assert_msg(atoi(text) >= 4, "the PDF from LibreOffice has %d images", atoi(text));
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
	json_t *rep = build("{\"kind\":\"side-event\",\"period\":\"2023-Q4\",\"formats\":[\"md\"]}");
	long long id = json_integer_value(json_object_get(rep, "id"));
	const char *name = json_string_value(json_object_get(json_array_get(json_object_get(rep, "artifacts"), 0), "name"));
	char pub[128], pubfile[256], publish[64];
	struct resp *r;

	snprintf(pub, sizeof pub, "/v1/public/reports/%lld", id);
	snprintf(pubfile, sizeof pubfile, "/v1/public/reports/%lld/files/%s", id, name);
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
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(
		json_object_get(r->json, "artifacts"), 0), "url")), "/v1/public/reports/"));
	t_resp_free(r);
	r = t_get(&srv, pubfile, NULL);
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	r = t_get(&srv, "/v1/public/reports", NULL);
	ck_assert_int_ge(json_array_size(json_object_get(r->json, "items")), 1);
	t_resp_free(r);
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
	tcase_add_test(tc, side_event_pack_shows_only_what_is_public);
	tcase_add_test(tc, unpublished_reports_stay_private_until_published);
	tcase_add_test(tc, a_report_is_a_frozen_snapshot);
	tcase_add_test(tc, bad_report_requests_are_422);
	suite_add_tcase(s, tc);
	return t_run(s);
}
