/* Charts end to end: the API gathers the data, a real worker draws it with
 * the real gnuplot. Every kind in every format is a valid image; the same
 * data gives the same bytes; a new update gives a new chart; labels from
 * the database are drawn, never run; the .json twin carries data and alt
 * text; without a worker the caller is told to come back. */
#include "harness.h"
#include "sha256.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct server srv;
static char db[64];
static char *cochair, *lead;
static pid_t worker;

static void setup(void)
{
	t_db_create(db, sizeof db, true);
	ck_assert_int_eq(t_admin(db, NULL, NULL, "demo", "--actions", "120", "--updates", "1500",
				 "--seed", "11", NULL), 0);
	cochair = t_member_token(db, "cc@ohchr.org", "cochair", "OHCHR");
	lead = t_member_token(db, "lead@who.int", "lead", "WHO");
	t_server_start(&srv, db);
	worker = t_worker_start(db, NULL);
}

static void teardown(void)
{
	t_worker_stop(worker, SIGTERM);
	t_server_stop(&srv);
	free(cochair);
	free(lead);
}

static const char *const urls[] = {
	"/v1/charts/status-by-pillar.%s?as_of=2023-Q2",
	"/v1/charts/progress-trend.%s?from=2021-Q1&to=2025-Q4",
	"/v1/charts/reporting-heatmap.%s?from=2022-Q1&to=2023-Q4",
	"/v1/charts/pillar-burnup.%s?pillar=1&from=2022-Q1&to=2023-Q4",
};

/* The chart, coming back after a 202 as told: the one worker may be
 * busy longer than a request waits (the scheduler queues the quarter's
 * report when it starts). */
static struct resp *chart(const char *fmt, size_t i, const char *format)
{
	char path[160];
	struct resp *r;

	snprintf(path, sizeof path, fmt ? fmt : urls[i], format);
	r = t_get(&srv, path, lead);
	if (r->status != 202)
		return r;
	t_resp_free(r);
	r = t_get_until(&srv, path, lead, 200, 60000);
	ck_assert_msg(r != NULL, "%s: not drawn in time", path);
	return r;
}

static unsigned png_width(const struct resp *r)
{
	const unsigned char *p = (const unsigned char *)r->body;

	return (unsigned)p[16] << 24 | p[17] << 16 | p[18] << 8 | p[19];
}

/* Well-formed XML, by a real parser. */
static void assert_svg(const struct resp *r)
{
	char path[600], cmd[800];
	FILE *f;

	ck_assert_ptr_nonnull(strstr(r->body, "<svg"));
	snprintf(path, sizeof path, "%s/chart-%d.svg", getenv("WORKPLAN_TEST_LOGDIR"), (int)getpid());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(r->body, 1, r->len, f), r->len);
	fclose(f);
	snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", path);
	ck_assert_msg(system(cmd) == 0, "the SVG is not well-formed XML");
}

/* The ETag is the stored artifact's SHA-256, which is the body's. */
static void assert_etag_is_sha256(const struct resp *r)
{
	unsigned char d[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1], quoted[2 * SHA256_LEN + 3], sql[200], *etag;

	ck_assert_int_eq(r->status, 200);
	sha256(r->body, r->len, d);
	sha256_hex(d, hex);
	snprintf(quoted, sizeof quoted, "\"%s\"", hex);
	etag = t_header(r, "ETag");
	ck_assert_ptr_nonnull(etag);
	ck_assert_str_eq(etag, quoted);
	free(etag);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM artifact WHERE sha256 = decode('%s', 'hex')", hex);
	ck_assert_int_eq(t_sql_long(db, sql), 1);
}

START_TEST(every_kind_in_every_format_is_a_valid_image)
{
	for (size_t i = 0; i < 4; i++) {
		struct resp *svg = chart(NULL, i, "svg"), *png = chart(NULL, i, "png"),
			    *pdf = chart(NULL, i, "pdf");
		char *ct;

		ck_assert_msg(svg->status == 200, "%s: %ld %s", urls[i], svg->status, svg->body);
		/* one strong ETag: the image's SHA-256 */
		ck_assert_ptr_null(strstr(strstr(svg->headers, "ETag:") + 5, "ETag:"));
		assert_etag_is_sha256(svg);
		assert_etag_is_sha256(png);
		assert_etag_is_sha256(pdf);
		ct = t_header(svg, "Content-Type");
		ck_assert_str_eq(ct, "image/svg+xml");
		free(ct);
		assert_svg(svg);
		ck_assert_int_eq(png->status, 200);
		ck_assert_uint_gt(png->len, 1000);
		ck_assert(!memcmp(png->body, "\x89PNG\r\n\x1a\n", 8));
		ck_assert(!memcmp(png->body + 12, "IHDR", 4));
		ck_assert_uint_ge(png_width(png), 1800);
		ck_assert_int_eq(pdf->status, 200);
		ck_assert(!memcmp(pdf->body, "%PDF-", 5));
		ck_assert_ptr_nonnull(memmem(pdf->body, pdf->len, "%%EOF", 5));
		t_resp_free(svg);
		t_resp_free(png);
		t_resp_free(pdf);
	}
}
END_TEST

START_TEST(the_same_request_gives_the_same_bytes)
{
	for (size_t i = 0; i < 4; i++) {
		struct resp *a = chart(NULL, i, "pdf"), *b;

		/* drawn again from scratch: the same bytes, PDF dates included */
		free(t_sql(db, "DELETE FROM artifact WHERE key NOT IN (SELECT artifact_key FROM report_artifact)"));
		b = chart(NULL, i, "pdf");
		ck_assert_int_eq(b->status, 200);
		ck_assert_uint_eq(a->len, b->len);
		ck_assert(!memcmp(a->body, b->body, a->len));
		t_resp_free(b);
		t_resp_free(a);
	}
	{
		struct resp *a = chart(NULL, 0, "png"), *b;
		char *etag = t_header(a, "ETag"), h[160];

		snprintf(h, sizeof h, "If-None-Match: %s", etag);
		b = t_http(&srv, "GET", "/v1/charts/status-by-pillar.png?as_of=2023-Q2", lead, NULL, NULL, 0, h);
		ck_assert_int_eq(b->status, 304);
		t_resp_free(b);
		free(etag);
		t_resp_free(a);
	}
	/* stored once each */
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM artifact GROUP BY key ORDER BY 1 DESC LIMIT 1"), 1);
}
END_TEST

START_TEST(a_new_update_changes_the_chart)
{
	struct resp *before = chart(NULL, 0, "svg"), *after, *r;
	long action = t_sql_long(db, "SELECT min(id) FROM action WHERE pillar = 1 AND cycle = '2022-2023'");
	char path[64];

	snprintf(path, sizeof path, "/v1/actions/%ld/updates", action);
	{
		const char *body = "{\"period\":\"2023-Q2\",\"status\":\"completed\","
				   "\"percent_complete\":100,\"narrative\":\"Done.\"}";

		r = t_http(&srv, "POST", path, lead, "application/json", body, strlen(body), NULL);
	}
	ck_assert_msg(r->status == 201, "%s", r->body);
	t_resp_free(r);
	after = chart(NULL, 0, "svg");
	ck_assert_int_eq(after->status, 200);
	ck_assert(before->len != after->len || memcmp(before->body, after->body, before->len));
	t_resp_free(before);
	t_resp_free(after);
}
END_TEST

START_TEST(labels_from_the_database_are_drawn_never_run)
{
	char canary[128], name[512], body[700], *marker;
	struct resp *r;

	snprintf(canary, sizeof canary, "/tmp/workplan-pwned-%d", (int)getpid());
	unlink(canary);
	/* long labels are shortened on charts: the script names and the
	 * backquotes come first */
	snprintf(name, sizeof name, "网络 الشبكة `touch %s` system(\\\"touch %s\\\") @x", canary, canary);
	snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
	r = t_http(&srv, "PATCH", "/v1/pillars/2", cochair, "application/json", body, strlen(body), "If-Match: *");
	ck_assert_msg(r->status == 200, "%s", r->body);
	t_resp_free(r);
	for (size_t i = 0; i < 4; i++) {
		const char *const formats[] = { "svg", "png", "pdf" };

		for (int f = 0; f < 3; f++) {
			r = chart(NULL, i, formats[f]);
			ck_assert_msg(r->status == 200, "%s %s: %ld", urls[i], formats[f], r->status);
			if (f == 0 && i == 0) {
				/* the characters themselves are on the chart */
				marker = strstr(r->body, "`touch /tmp/workplan-pwned");
				ck_assert_ptr_nonnull(marker);
				ck_assert_ptr_nonnull(strstr(r->body, "网络"));
				ck_assert_ptr_nonnull(strstr(r->body, "الشبكة"));
			}
			t_resp_free(r);
		}
	}
	ck_assert_msg(access(canary, F_OK) != 0, "a label ran a command");
}
END_TEST

START_TEST(fonts_for_every_script_are_installed)
{
	/* French and Spanish need Latin, Arabic and Chinese their own faces */
	ck_assert_int_eq(system("fc-list ':lang=ar' | grep -q ."), 0);
	ck_assert_int_eq(system("fc-list ':lang=zh-cn' | grep -q ."), 0);
	ck_assert_int_eq(system("fc-list ':lang=fr' | grep -q 'Noto Sans'"), 0);
}
END_TEST

START_TEST(the_json_twin_has_data_and_alt_text)
{
	for (size_t i = 0; i < 4; i++) {
		struct resp *r = chart(NULL, i, "json");
		const char *alt;

		ck_assert_int_eq(r->status, 200);
		ck_assert_ptr_nonnull(json_object_get(r->json, "data"));
		ck_assert(json_is_object(json_object_get(r->json, "params")));
		alt = json_string_value(json_object_get(r->json, "alt"));
		ck_assert_msg(alt && strlen(alt) > 60, "%s", r->body);
		ck_assert_msg(strstr(alt, "Leave No One Behind"), "%s", alt);
		t_resp_free(r);
	}
}
END_TEST

START_TEST(bad_charts_are_404_and_bad_parameters_422)
{
	static const struct { const char *path; long status; } cases[] = {
		{ "/v1/charts/pie.svg", 404 },
		{ "/v1/charts/status-by-pillar.gif", 404 },
		{ "/v1/charts/status-by-pillar", 404 },
		{ "/v1/charts/pillar-burnup.svg?from=2022-Q1", 422 },
		{ "/v1/charts/status-by-pillar.svg?as_of=2030-Q1", 422 },
		{ "/v1/charts/progress-trend.png?from=2024-Q1&to=2023-Q1", 422 },
		{ "/v1/charts/reporting-heatmap.png?pillar=1", 422 },
		{ "/v1/charts/status-by-pillar.svg?colour=red", 422 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct resp *r = t_get(&srv, cases[i].path, lead);

		t_assert_problem(r, cases[i].status, cases[i].status == 404 ? "not-found" : "validation");
		t_resp_free(r);
	}
	{
		struct resp *r = t_get(&srv, "/v1/charts/status-by-pillar.svg", NULL);

		t_assert_problem(r, 401, "unauthorized");
		t_resp_free(r);
	}
}
END_TEST

/* A chart shows what /v1/progress shows the same member: the same sums,
 * pillar for pillar, nothing else (no narrative, no name of a person).
 * Anybody without a token gets 401 for every chart and starts no work. */
START_TEST(charts_show_members_the_progress_sums_and_others_nothing)
{
	static const char *const formats[] = { "svg", "png", "pdf", "json" };
	long jobs = t_sql_long(db, "SELECT count(*) FROM job");
	struct resp *c, *p;
	json_t *cp, *pp;
	char *narrative, *author;
	size_t i;

	for (i = 0; i < 4; i++) {
		for (size_t f = 0; f < 4; f++) {
			char path[160];
			struct resp *r;

			snprintf(path, sizeof path, urls[i], formats[f]);
			r = t_get(&srv, path, NULL);
			t_assert_problem(r, 401, "unauthorized");
			t_resp_free(r);
		}
	}
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM job"), jobs);
	c = chart(NULL, 0, "json");
	p = t_get(&srv, "/v1/progress?as_of=2023-Q2", lead);
	ck_assert_int_eq(c->status, 200);
	ck_assert_int_eq(p->status, 200);
	cp = json_object_get(json_object_get(c->json, "data"), "pillars");
	pp = json_object_get(p->json, "pillars");
	ck_assert_uint_eq(json_array_size(cp), json_array_size(pp));
	ck_assert_uint_gt(json_array_size(cp), 0);
	for (i = 0; i < json_array_size(cp); i++) {
		json_t *a = json_array_get(cp, i), *b = json_array_get(pp, i);

		ck_assert_int_eq(json_integer_value(json_object_get(a, "number")),
				 json_integer_value(json_object_get(b, "number")));
		ck_assert_msg(json_equal(json_object_get(a, "by_status"), json_object_get(b, "by_status")),
			      "pillar %zu: chart %s, progress %s", i + 1,
			      json_dumps(json_object_get(a, "by_status"), 0),
			      json_dumps(json_object_get(b, "by_status"), 0));
	}
	/* the latest narrative and its author's name are in no chart */
	narrative = t_sql(db, "SELECT narrative FROM status_update ORDER BY id DESC LIMIT 1");
	author = t_sql(db, "SELECT m.name FROM status_update u JOIN member m ON m.id = u.author_id"
			   " ORDER BY u.id DESC LIMIT 1");
	for (i = 0; i < 4; i++) {
		struct resp *r = chart(NULL, i, "json");

		ck_assert_int_eq(r->status, 200);
		ck_assert_ptr_null(strstr(r->body, narrative));
		ck_assert_ptr_null(strstr(r->body, author));
		t_resp_free(r);
	}
	free(narrative);
	free(author);
	t_resp_free(c);
	t_resp_free(p);
}
END_TEST

START_TEST(without_a_worker_the_caller_is_told_to_come_back)
{
	struct resp *r;
	char *retry;

	t_worker_stop(worker, SIGTERM);
	r = t_get(&srv, "/v1/charts/pillar-burnup.svg?pillar=3&from=2021-Q1&to=2021-Q4", lead);
	ck_assert_int_eq(r->status, 202);
	retry = t_header(r, "Retry-After");
	ck_assert_ptr_nonnull(retry);
	free(retry);
	t_resp_free(r);
	worker = t_worker_start(db, NULL);
	for (int i = 0; i < 100; i++) {
		r = t_get(&srv, "/v1/charts/pillar-burnup.svg?pillar=3&from=2021-Q1&to=2021-Q4", lead);
		if (r->status == 200)
			break;
		t_resp_free(r);
		r = NULL;
	}
	ck_assert_ptr_nonnull(r);
	t_resp_free(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("charts");
	TCase *tc = tcase_create("charts");

	tcase_set_timeout(tc, 180);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, every_kind_in_every_format_is_a_valid_image);
	tcase_add_test(tc, the_same_request_gives_the_same_bytes);
	tcase_add_test(tc, a_new_update_changes_the_chart);
	tcase_add_test(tc, labels_from_the_database_are_drawn_never_run);
	tcase_add_test(tc, fonts_for_every_script_are_installed);
	tcase_add_test(tc, the_json_twin_has_data_and_alt_text);
	tcase_add_test(tc, bad_charts_are_404_and_bad_parameters_422);
	tcase_add_test(tc, charts_show_members_the_progress_sums_and_others_nothing);
	tcase_add_test(tc, without_a_worker_the_caller_is_told_to_come_back);
	suite_add_tcase(s, tc);
	return t_run(s);
}
