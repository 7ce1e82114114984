/* How charts are drawn, end to end (a real worker and gnuplot): every SVG
 * is well-formed XML whatever the pillar names; labels are drawn as typed
 * and stay inside the image; lines break between cycles; the burn-up
 * counts within a cycle; a period with nothing to draw gives an image that
 * says so; a count axis ticks whole numbers only, however small the
 * counts; the .json twin's times are RFC 3339 UTC and its means keep one
 * decimal. */
#include "chart.h"
#include "db.h"
#include "harness.h"

#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct server srv;
static char db[64];
static char *cochair, *lead;
static pid_t worker;

/* Until no job is queued or running, 120 s at most. */
static void wait_for_jobs(const char *dbname)
{
	for (int i = 0; i < 1200; i++) {
		if (t_sql_long(dbname, "SELECT count(*) FROM job WHERE state IN ('queued', 'running')") == 0)
			return;
		usleep(100000);
	}
	ck_abort_msg("the worker did not finish its jobs in 120 s");
}

static void setup(void)
{
	t_db_create(db, sizeof db, true);
	ck_assert_int_eq(t_admin(db, NULL, NULL, "demo", "--actions", "120", "--updates", "1500",
				 "--seed", "11", NULL), 0);
	cochair = t_member_token(db, "cc@ohchr.org", "cochair", "OHCHR");
	lead = t_member_token(db, "lead@who.int", "lead", "WHO");
	t_server_start(&srv, db);
	/* the quarterly report the worker's scheduler would queue, queued now
	 * and built before any test asks for a chart: on two busy cores it
	 * can take longer than the API's 10 s wait for a chart behind it */
	free(t_sql(db, "SELECT schedule_quarterly_report(now())"));
	worker = t_worker_start(db, NULL);
	wait_for_jobs(db);
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
	"/v1/charts/pillar-burnup.%s?pillar=2&from=2021-Q1&to=2025-Q4",
};

static struct resp *get(const char *fmt, const char *format)
{
	char path[200];

	snprintf(path, sizeof path, fmt, format);
	return t_get(&srv, path, lead);
}

/* The body in a file of the test log folder; its path in path. */
static void save(const struct resp *r, const char *name, char *path, size_t n)
{
	FILE *f;

	snprintf(path, n, "%s/chartdraw-%d-%s", getenv("WORKPLAN_TEST_LOGDIR"), (int)getpid(), name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(r->body, 1, r->len, f), r->len);
	fclose(f);
}

static void assert_well_formed(const struct resp *r, const char *what)
{
	char path[600], cmd[800];

	ck_assert_msg(r->status == 200, "%s: %ld %s", what, r->status, r->body);
	ck_assert_ptr_nonnull(strstr(r->body, "<svg"));
	save(r, "chart.svg", path, sizeof path);
	snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", path);
	ck_assert_msg(system(cmd) == 0, "%s: the SVG is not well-formed XML (%s)", what, path);
}

/* width, height and the pixels drawn within 3 px of the edge */
static void png_frame(const struct resp *r, const char *what, long out[3])
{
	char path[600], cmd[900], line[64] = "";
	FILE *p;

	ck_assert_msg(r->status == 200 && r->len > 8 && !memcmp(r->body, "\x89PNG", 4), "%s: %ld", what,
		      r->status);
	save(r, "chart.png", path, sizeof path);
	snprintf(cmd, sizeof cmd, "node tests/fixtures/png-frame.js '%s' 3", path);
	p = t_popen(cmd);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, p));
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_int_eq(sscanf(line, "%ld %ld %ld", &out[0], &out[1], &out[2]), 3);
}

/* Names a review found breaking charts, one per pillar. */
static const char *const hostile[8] = {
	"Leave ]]> No One Behind",
	"Justice <b> & \"quoted\" 'single' `id`",
	"\"; system(\"touch /tmp/wp-cd-pwned\") #",
	"الركيزة 4 للتقاطعية 2023",
	"沟通与宣传 第五支柱 网络与知识中心",
	("Knowledge Hub for the sharing of good practices, lessons learnt and tools"
	 " among the twenty-three members of the Network, at headquarters and in the field"),
	"Diversity `uname -a` $(id) \\\" \\n",
	"Développement du réseau — Desarrollo de la red",
};

static void name_pillars(const char *const names[8])
{
	for (int i = 0; i < 8; i++) {
		char sql[1024];

		/* dollar quoting: no name above holds the tag */
		snprintf(sql, sizeof sql, "UPDATE pillar SET name = $n$%s$n$ WHERE number = %d", names[i], i + 1);
		free(t_sql(db, sql));
	}
}

START_TEST(every_svg_is_well_formed_whatever_the_labels)
{
	struct resp *r;

	name_pillars(hostile);
	/* and one through the API, as a co-chair would */
	{
		const char *body = "{\"name\":\"Agenda ]]> for <Protection> & \\\"more\\\"\"}";

		r = t_http(&srv, "PATCH", "/v1/pillars/3", cochair, "application/json", body, strlen(body),
			   "If-Match: *");
		ck_assert_msg(r->status == 200, "%s", r->body);
		t_resp_free(r);
	}
	unlink("/tmp/wp-cd-pwned");
	for (size_t i = 0; i < 4; i++) {
		r = get(urls[i], "svg");
		assert_well_formed(r, urls[i]);
		t_resp_free(r);
	}
	/* the other names where the API's pillar was */
	free(t_sql(db, "UPDATE pillar SET name = $n$\"; system(\"touch /tmp/wp-cd-pwned\") #$n$"
		       " WHERE number = 3"));
	for (size_t i = 0; i < 4; i++) {
		r = get(urls[i], "svg");
		assert_well_formed(r, urls[i]);
		t_resp_free(r);
	}
	ck_assert_msg(access("/tmp/wp-cd-pwned", F_OK) != 0, "a label ran a command");
}
END_TEST

START_TEST(labels_are_drawn_as_typed_and_long_ones_shortened)
{
	struct resp *r, *j;
	const char *alt;

	name_pillars(hostile);
	r = get(urls[0], "svg");
	assert_well_formed(r, urls[0]);
	/* quotes as typed, not as other characters or escapes */
	ck_assert_msg(strstr(r->body, "3. \"; system(\"touch /tmp/wp-cd-pwned\") #"), "%s", r->body);
	ck_assert_ptr_nonnull(strstr(r->body, "\"quoted\" 'single' `id`"));
	ck_assert_ptr_nonnull(strstr(r->body, "`uname -a` $(id) \\\" \\n"));
	/* an Arabic name after a left-to-right mark, isolated: "4. " stays in
	 * front and the name's own numbers where the name has them */
	ck_assert_ptr_nonnull(strstr(r->body, "\xe2\x80\x8e" "4. \xe2\x81\xa8" "الركيزة 4 للتقاطعية 2023\xe2\x81\xa9"));
	/* the long name shortened on the chart... */
	ck_assert_ptr_nonnull(strstr(r->body, "6. Knowledge Hub for the sharing of good pr\xe2\x80\xa6"));
	ck_assert_ptr_null(strstr(r->body, "twenty-three"));
	t_resp_free(r);
	/* ...and whole in the alt text */
	j = get(urls[0], "json");
	ck_assert_int_eq(j->status, 200);
	alt = json_string_value(json_object_get(j->json, "alt"));
	ck_assert_ptr_nonnull(alt);
	ck_assert_ptr_nonnull(strstr(alt, hostile[5]));
	t_resp_free(j);
}
END_TEST

START_TEST(labels_stay_inside_the_png)
{
	name_pillars(hostile);
	for (size_t i = 0; i < 4; i++) {
		struct resp *r = get(urls[i], "png");
		long f[3];

		png_frame(r, urls[i], f);
		ck_assert_int_ge(f[0], 1800);
		ck_assert_int_ge(f[1], 1000);
		/* nothing drawn on the image's edge: no label runs off it */
		ck_assert_msg(f[2] == 0, "%s: %ld pixels drawn on the edge", urls[i], f[2]);
		t_resp_free(r);
	}
}
END_TEST

/* The plots (<g id="gnuplot_plot_N">, each up to the next) that draw in
 * this colour. */
static int plots_in(const char *svg, const char *colour)
{
	const char *tag = "<g id=\"gnuplot_plot_";
	int n = 0;

	for (const char *g = strstr(svg, tag); g; g = strstr(g + 1, tag)) {
		const char *next = strstr(g + 1, tag), *c = strstr(g, colour);

		n += c && (!next || c < next);
	}
	return n;
}

START_TEST(trend_lines_break_between_cycles)
{
	struct resp *r = get("/v1/charts/progress-trend.%s?from=2021-Q1&to=2022-Q4&pillar=1", "svg");

	assert_well_formed(r, "trend");
	/* pillar 1's line (the first colour) is drawn once per cycle, so no
	 * segment joins 2021-Q4 to 2022-Q1; the boundary is marked */
	ck_assert_int_eq(plots_in(r->body, "stroke='rgb(  0, 114, 178)'"), 2);
	ck_assert_ptr_nonnull(strstr(r->body, "Cycle 2021"));
	ck_assert_ptr_nonnull(strstr(r->body, "Cycle 2022-2023"));
	t_resp_free(r);
	/* the burn-up too */
	r = get("/v1/charts/pillar-burnup.%s?pillar=1&from=2021-Q1&to=2025-Q4", "svg");
	assert_well_formed(r, "burn-up");
	ck_assert_int_eq(plots_in(r->body, "stroke='rgb(  0, 158, 115)'"), 3);
	t_resp_free(r);
}
END_TEST

START_TEST(burnup_counts_completed_actions_within_a_cycle)
{
	long action = t_sql_long(db, "SELECT min(id) FROM action WHERE pillar = 1 AND cycle = '2022-2023'");
	static const char *const posts[] = {
		"{\"period\":\"2022-Q2\",\"status\":\"completed\",\"percent_complete\":100,\"narrative\":\"Done.\"}",
		"{\"period\":\"2022-Q3\",\"status\":\"on_track\",\"percent_complete\":60,\"narrative\":\"Reopened.\"}",
	};
	char path[64];
	struct resp *r;
	json_t *p, *prev = NULL;
	size_t i;

	/* completed, then reopened: it still counts as completed once */
	snprintf(path, sizeof path, "/v1/actions/%ld/updates", action);
	for (i = 0; i < 2; i++) {
		r = t_http(&srv, "POST", path, lead, "application/json", posts[i], strlen(posts[i]), NULL);
		ck_assert_msg(r->status == 201, "%s", r->body);
		t_resp_free(r);
	}
	r = get("/v1/charts/pillar-burnup.%s?pillar=1&from=2021-Q1&to=2025-Q4", "json");
	ck_assert_int_eq(r->status, 200);
	json_array_foreach(json_object_get(json_object_get(r->json, "data"), "points"), i, p) {
		const char *cycle = json_string_value(json_object_get(p, "cycle"));
		json_int_t done = json_integer_value(json_object_get(p, "completed"));
		json_int_t planned = json_integer_value(json_object_get(p, "planned"));

		ck_assert_msg(cycle, "%s", r->body);
		ck_assert_int_le(done, json_integer_value(json_object_get(p, "actions")));
		ck_assert_int_le(planned, json_integer_value(json_object_get(p, "actions")));
		if (prev && !strcmp(cycle, json_string_value(json_object_get(prev, "cycle")))) {
			ck_assert_msg(done >= json_integer_value(json_object_get(prev, "completed")),
				      "completed falls at %s: %s", json_string_value(json_object_get(p, "period")),
				      r->body);
			ck_assert_int_ge(planned, json_integer_value(json_object_get(prev, "planned")));
		}
		if (!strcmp(json_string_value(json_object_get(p, "period")), "2022-Q3"))
			ck_assert_int_ge(done, 1);
		prev = p;
	}
	t_resp_free(r);
}
END_TEST

static void assert_no_updates_image(const char *url)
{
	struct resp *r = get(url, "svg");
	char *ct = t_header(r, "Content-Type");

	assert_well_formed(r, url);
	ck_assert_str_eq(ct, "image/svg+xml");
	ck_assert_msg(strstr(r->body, "No updates for this period"), "%s", url);
	free(ct);
	t_resp_free(r);
	r = get(url, "png");
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
}

START_TEST(an_empty_period_draws_an_image_that_says_so)
{
	/* pillar 7 is inactive: no key actions, nothing to draw */
	assert_no_updates_image("/v1/charts/progress-trend.%s?from=2024-Q1&to=2025-Q4&pillar=7");
	assert_no_updates_image("/v1/charts/pillar-burnup.%s?pillar=7&from=2021-Q1&to=2025-Q4");
}
END_TEST

START_TEST(the_scheduled_report_draws_every_chart)
{
	/* the Network's own work plan only, as on the first make run: no key
	 * actions after 2021, so its scheduled quarterly report (2025-Q4 on
	 * this clock) had left out its trend on a gnuplot error */
	struct server s2;
	char db2[64], *cc2, path[64];
	struct resp *r;
	const char *url = NULL;
	json_t *a;
	long id;
	size_t i;
	pid_t w2;

	t_db_create(db2, sizeof db2, true);
	id = t_sql_long(db2, "SELECT schedule_quarterly_report(now())");
	cc2 = t_member_token(db2, "cc@ohchr.org", "cochair", "OHCHR");
	t_server_start(&s2, db2);
	w2 = t_worker_start(db2, NULL);
	wait_for_jobs(db2);
	snprintf(path, sizeof path, "/v1/reports/%ld", id);
	r = t_get(&s2, path, cc2);
	ck_assert_int_eq(r->status, 200);
	ck_assert_msg(!strcmp(json_string_value(json_object_get(r->json, "state")), "done"), "%s", r->body);
	json_array_foreach(json_object_get(r->json, "artifacts"), i, a)
		if (!strcmp(json_string_value(json_object_get(a, "format")), "html"))
			url = json_string_value(json_object_get(a, "url"));
	ck_assert_msg(url, "%s", r->body);
	{
		struct resp *f = t_get(&s2, url, cc2);

		ck_assert_int_eq(f->status, 200);
		/* the trend is in, saying it has nothing to show */
		ck_assert_ptr_nonnull(strstr(f->body, "Mean percent complete by pillar"));
		ck_assert_msg(strstr(f->body, "No updates for this period"), "no empty chart in the report");
		t_resp_free(f);
	}
	t_resp_free(r);
	t_worker_stop(w2, SIGTERM);
	t_server_stop(&s2);
	free(cc2);
}
END_TEST

/* The numbers a chart draws as text: each <text> whose whole content is
 * a number (on the status chart and the burn-up, the count axis's tick
 * labels). Asserts that each is a whole number; returns how many. */
static int whole_number_labels(const char *svg, const char *what)
{
	int n = 0;

	for (const char *t = strstr(svg, "<text>"); t; t = strstr(t + 1, "<text>")) {
		const char *end = strstr(t, "</text>");
		char label[64], *rest;
		double v;

		ck_assert_ptr_nonnull(end);
		t += strlen("<text>");
		if (!strncmp(t, "<![CDATA[", 9))
			t += 9;
		snprintf(label, sizeof label, "%.*s", (int)(end - t), t);
		v = strtod(label, &rest);
		if (rest == label || rest[strspn(rest, " ")])
			continue;
		ck_assert_msg(!strchr(label, '.') && v == (double)(long)v, "%s: a count axis labelled '%s'",
			      what, label);
		n++;
	}
	return n;
}

START_TEST(count_axes_have_whole_number_ticks_when_counts_are_small)
{
	/* the Network's own work plan: one to three key actions a pillar */
	static const char *const small[] = {
		"/v1/charts/status-by-pillar.%s?as_of=2021-Q4",
		"/v1/charts/pillar-burnup.%s?pillar=6&from=2021-Q1&to=2021-Q4",
	};
	struct server s2;
	char db2[64], *lead2, path[200], file[600];
	pid_t w2;

	t_db_create(db2, sizeof db2, true);
	lead2 = t_member_token(db2, "lead@who.int", "lead", "WHO");
	t_server_start(&s2, db2);
	w2 = t_worker_start(db2, NULL);
	for (size_t i = 0; i < 2; i++) {
		struct resp *r;
		json_t *row;
		size_t k;

		snprintf(path, sizeof path, small[i], "json");
		r = t_get(&s2, path, lead2);
		ck_assert_msg(r->status == 200, "%s: %ld %s", path, r->status, r->body);
		json_array_foreach(json_object_get(json_object_get(r->json, "data"), i ? "points" : "pillars"), k, row)
			ck_assert_int_le(json_integer_value(json_object_get(row, "actions")), 3);
		t_resp_free(r);
		/* the PNG, kept in the test log folder to look at */
		snprintf(path, sizeof path, small[i], "png");
		r = t_get(&s2, path, lead2);
		ck_assert_msg(r->status == 200 && r->len > 8 && !memcmp(r->body, "\x89PNG", 4), "%s", path);
		save(r, i ? "small-burnup.png" : "small-status.png", file, sizeof file);
		t_resp_free(r);
		snprintf(path, sizeof path, small[i], "svg");
		r = t_get(&s2, path, lead2);
		assert_well_formed(r, path);
		/* 0 and at least one more: the axis is drawn */
		ck_assert_int_ge(whole_number_labels(r->body, path), 2);
		t_resp_free(r);
	}
	t_worker_stop(w2, SIGTERM);
	t_server_stop(&s2);
	free(lead2);
}
END_TEST

START_TEST(json_twins_have_rfc3339_utc_times)
{
	regex_t re;

	ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", REG_EXTENDED), 0);
	for (size_t i = 0; i < 4; i++) {
		struct resp *r = get(urls[i], "json");
		const char *stamp = json_string_value(json_object_get(json_object_get(r->json, "data"), "stamp"));

		ck_assert_int_eq(r->status, 200);
		ck_assert_msg(stamp && regexec(&re, stamp, 0, NULL, 0) == 0, "%s: %s", urls[i], stamp);
		t_resp_free(r);
	}
	regfree(&re);
}
END_TEST

/* The largest number of decimals of any number in JSON text. */
static int most_decimals(const char *text)
{
	int most = 0;
	bool in_string = false;

	for (const char *p = text; *p; p++) {
		if (*p == '\\' && in_string && p[1]) {
			p++;
			continue;
		}
		if (*p == '"')
			in_string = !in_string;
		if (!in_string && *p == '.' && p > text && p[-1] >= '0' && p[-1] <= '9') {
			int n = (int)strspn(p + 1, "0123456789");

			most = n > most ? n : most;
		}
	}
	return most;
}

START_TEST(json_twin_means_keep_one_decimal)
{
	struct db *d = db_new(t_conninfo(db), "check_chartdraw", 10000);
	const struct chart_kind *k = chart_kind_find("progress-trend");
	json_t *params = json_pack("{s:s, s:s}", "from", "2021-Q1", "to", "2025-Q4");
	char *data = NULL, *twin;
	json_t *doc;

	ck_assert_int_eq(db_connect(d), DB_OK);
	/* quarters 2021-Q1 (8084) to 2025-Q4 (8103) */
	ck_assert_int_eq(chart_fetch(d, k, 2021 * 4, 2025 * 4 + 3, NULL, 0, &data), DB_OK);
	twin = chart_twin_new(k, params, "Line chart.", data);
	doc = json_loads(twin, JSON_REJECT_DUPLICATES, NULL);
	ck_assert_msg(doc, "%s", twin);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "kind")), "progress-trend");
	ck_assert(json_is_number(json_array_get(json_object_get(json_array_get(
		json_object_get(json_object_get(doc, "data"), "series"), 0), "values"), 0)));
	/* 10.3, never 10.300000000000001 */
	ck_assert_msg(most_decimals(twin) == 1, "%s", twin);
	json_decref(doc);
	json_decref(params);
	free(twin);
	free(data);
	db_free(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("chartdraw");
	TCase *tc = tcase_create("chartdraw");

	tcase_set_timeout(tc, 240);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, every_svg_is_well_formed_whatever_the_labels);
	tcase_add_test(tc, labels_are_drawn_as_typed_and_long_ones_shortened);
	tcase_add_test(tc, labels_stay_inside_the_png);
	tcase_add_test(tc, trend_lines_break_between_cycles);
	tcase_add_test(tc, burnup_counts_completed_actions_within_a_cycle);
	tcase_add_test(tc, an_empty_period_draws_an_image_that_says_so);
	tcase_add_test(tc, the_scheduled_report_draws_every_chart);
	tcase_add_test(tc, count_axes_have_whole_number_ticks_when_counts_are_small);
	tcase_add_test(tc, json_twins_have_rfc3339_utc_times);
	tcase_add_test(tc, json_twin_means_keep_one_decimal);
	suite_add_tcase(s, tc);
	return t_run(s);
}
