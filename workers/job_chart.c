/* render_chart jobs: the API gathered the data and named the artifact; we
 * write the data to a private file, run gnuplot (no shell, time and output
 * limits) on our template, and store the image under its key.
 *
 * Text from the database (pillar names) reaches gnuplot only as fields of
 * the data file, which gnuplot reads as data: no backquote, macro or
 * function is ever evaluated in it. The commands gnuplot runs are our
 * templates plus a preamble built from validated periods and numbers. */
#include "buf.h"
#include "chart.h"
#include "child.h"
#include "log.h"
#include "period.h"
#include "util.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHART_MAX_BYTES (20 << 20)

DB_STMT(stmt_artifact_put,
	"INSERT INTO artifact (key, sha256, media_type, bytes, job_id)"
	" VALUES (decode($1, 'hex'), decode($2, 'hex'), $3, $4::bytea, nullif($5, '0')::bigint)"
	" ON CONFLICT (key) DO NOTHING");

static const char *const statuses[] = { "not_started", "on_track", "at_risk", "delayed",
					"completed", "cancelled" };
static const char *const status_titles[] = { "Not started", "On track", "At risk", "Delayed",
					      "Completed", "Cancelled" };

/* A label as one data field: no tabs, newlines or control characters, no
 * double quotes (gnuplot would take them as field quoting), at most 48
 * characters. */
static void tsv_label(struct buf *b, long long number, const char *name)
{
	size_t chars = 0;

	buf_printf(b, "%lld. ", number);
	for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p; p++) {
		if ((*p & 0xC0) != 0x80 && ++chars > 48) {
			buf_adds(b, "\xe2\x80\xa6"); /* … */
			break;
		}
		if (*p < 0x20 || *p == 0x7F)
			buf_adds(b, " ");
		else if (*p == '"')
			buf_adds(b, "\xe2\x80\x9d"); /* ” */
		else
			buf_add(b, p, 1);
	}
}

static void tsv_number(struct buf *b, json_t *v)
{
	if (json_is_number(v))
		buf_printf(b, "\t%.4g", json_number_value(v));
	else
		buf_adds(b, "\tNaN");
}

/* The data file for each kind; the number of series in *nseries. */
static bool chart_tsv(const char *kind, json_t *data, struct buf *b, int *nseries)
{
	json_t *periods = json_object_get(data, "periods"), *v, *row;
	size_t i, k;

	if (!strcmp(kind, "status-by-pillar")) {
		buf_adds(b, "Pillar");
		for (k = 0; k < 6; k++)
			buf_printf(b, "\t%s", status_titles[k]);
		buf_adds(b, "\n");
		json_array_foreach(json_object_get(data, "pillars"), i, row) {
			tsv_label(b, json_integer_value(json_object_get(row, "number")),
				  json_string_value(json_object_get(row, "name")));
			for (k = 0; k < 6; k++)
				tsv_number(b, json_object_get(json_object_get(row, "by_status"), statuses[k]));
			buf_adds(b, "\n");
		}
		*nseries = 6;
		return i > 0;
	}
	if (!strcmp(kind, "progress-trend") || !strcmp(kind, "reporting-heatmap")) {
		bool trend = !strcmp(kind, "progress-trend");
		json_t *rows = json_object_get(data, trend ? "series" : "pillars");

		if (trend) {
			/* one row per quarter, one column per pillar */
			buf_adds(b, "Quarter");
			json_array_foreach(rows, i, row) {
				buf_adds(b, "\t");
				tsv_label(b, json_integer_value(json_object_get(row, "number")),
					  json_string_value(json_object_get(row, "name")));
			}
			buf_adds(b, "\n");
			json_array_foreach(periods, k, v) {
				buf_adds(b, json_string_value(v));
				json_array_foreach(rows, i, row)
					tsv_number(b, json_array_get(json_object_get(row, "values"), k));
				buf_adds(b, "\n");
			}
		} else {
			/* a matrix: quarters across, pillars down */
			buf_adds(b, "Pillar");
			json_array_foreach(periods, k, v)
				buf_printf(b, "\t%s", json_string_value(v));
			buf_adds(b, "\n");
			json_array_foreach(rows, i, row) {
				tsv_label(b, json_integer_value(json_object_get(row, "number")),
					  json_string_value(json_object_get(row, "name")));
				json_array_foreach(periods, k, v)
					tsv_number(b, json_array_get(json_object_get(row, "values"), k));
				buf_adds(b, "\n");
			}
		}
		*nseries = (int)json_array_size(rows);
		return json_array_size(rows) > 0 && json_array_size(periods) > 0;
	}
	if (!strcmp(kind, "pillar-burnup")) {
		buf_adds(b, "Quarter\tPlanned\tCompleted\n");
		json_array_foreach(json_object_get(data, "points"), i, row) {
			buf_adds(b, json_string_value(json_object_get(row, "period")));
			tsv_number(b, json_object_get(row, "planned"));
			tsv_number(b, json_object_get(row, "completed"));
			buf_adds(b, "\n");
		}
		*nseries = 2;
		return i > 0;
	}
	return false;
}

/* A period parameter re-formatted from its parsed value, or "". */
static void param_period(json_t *params, const char *name, char out[PERIOD_STRLEN])
{
	int p;

	out[0] = '\0';
	if (period_parse(json_string_value(json_object_get(params, name)), &p))
		period_format(p, out);
}

/* "2023-07-14 10:00 UTC" from a PostgreSQL timestamp, checked character by
 * character; also the PDF date "20230714100000". */
static void stamp_text(const char *ts, char out[32], char pdf[16])
{
	snprintf(out, 32, "no updates yet");
	snprintf(pdf, 16, "20210101000000");
	if (!ts || strlen(ts) < 19)
		return;
	for (int i = 0; i < 19; i++)
		if (!strchr(i == 4 || i == 7 ? "-" : i == 10 ? "T " : i == 13 || i == 16 ? ":" : "0123456789", ts[i]))
			return;
	snprintf(out, 32, "%.10s %.5s UTC", ts, ts + 11);
	snprintf(pdf, 16, "%.4s%.2s%.2s%.2s%.2s%.2s", ts, ts + 5, ts + 8, ts + 11, ts + 14, ts + 17);
}

static const char *terminal(enum chart_format f)
{
	switch (f) {
	case CHART_PNG: /* 300 dpi at 6.67 in wide */
		return "set terminal pngcairo size 2000,1200 noenhanced font 'Noto Sans,20' background '#ffffff'";
	case CHART_PDF:
		return "set terminal pdfcairo size 6.67in,4in noenhanced font 'Noto Sans,10'";
	default:
		return "set terminal svg size 1000,600 noenhanced font 'Noto Sans,12' background '#ffffff'";
	}
}

/* cairo stamps PDFs with the time of drawing; put the data's time there
 * instead (same length, so the cross-reference table stays right). */
static void pdf_fix_date(char *pdf, size_t len, const char stamp[16])
{
	const char *tag = "/CreationDate (D:";
	char *p = memmem(pdf, len, tag, strlen(tag));

	if (p && (size_t)(p - pdf) + strlen(tag) + 14 <= len)
		memcpy(p + strlen(tag), stamp, 14);
}

int chart_draw(struct worker *w, const struct chart_kind *k, enum chart_format f, json_t *params,
	       json_t *data, struct child_result *res, char *err, size_t n)
{
	char dir[] = "/tmp/workplan-chart-XXXXXX", file[64], home[80], a[PERIOD_STRLEN],
	     z[PERIOD_STRLEN], when[40], stamp[32], pdfdate[16], why[64];
	struct buf tsv, script;
	int nseries = 0, fd, rc = -1;

	memset(res, 0, sizeof *res);
	buf_init(&tsv, 4 << 20);
	buf_init(&script, 1 << 20);
	file[0] = '\0';
	if (!chart_tsv(k->name, data, &tsv, &nseries)) {
		snprintf(err, n, "the chart has no data");
		goto out;
	}
	/* title and footer from validated parameters only */
	param_period(params, "as_of", a);
	param_period(params, "from", when);
	param_period(params, "to", z);
	if (*a)
		snprintf(when, sizeof when, "%s", a);
	else if (*when && *z)
		snprintf(when + strlen(when), sizeof when - strlen(when), " to %s", z);
	stamp_text(json_string_value(json_object_get(data, "stamp")), stamp, pdfdate);
	if (!mkdtemp(dir)) {
		snprintf(err, n, "cannot make a private folder for the chart data");
		goto out;
	}
	snprintf(file, sizeof file, "%s/data.tsv", dir);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, tsv.data, tsv.len) != (ssize_t)tsv.len) {
		snprintf(err, n, "cannot write the chart data");
		if (fd >= 0)
			close(fd);
		goto clean;
	}
	close(fd);
	buf_printf(&script, "%s\ndatafile = '%s'\nnseries = %d\n", terminal(f), file, nseries);
	if (json_integer_value(json_object_get(params, "pillar")) > 0)
		buf_printf(&script, "charttitle = '%s, pillar %lld, %s'\n", k->what,
			   json_integer_value(json_object_get(params, "pillar")), when);
	else
		buf_printf(&script, "charttitle = '%s, %s'\n", k->what, when);
	buf_printf(&script, "footer = 'UN Network on Racial Discrimination and Protection of"
			    " Minorities. Period %s; data as of %s.'\n", when, stamp);
	buf_adds(&script, chart_file("charts/common.gp"));
	buf_adds(&script, chart_file(k->template));
	snprintf(home, sizeof home, "HOME=%s", dir);
	{
		const char *argv[] = { w->gnuplot, NULL };
		const char *env[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", home,
				      NULL };
		struct child_opts o = { .argv = argv, .envp = env, .cwd = dir, .input = script.data,
					.input_len = script.len, .timeout_ms = w->gnuplot_timeout_ms,
					.max_out = CHART_MAX_BYTES, .tick = worker_tick, .ctx = w };

		if (child_run(&o, res) < 0) {
			snprintf(err, n, "cannot run %s: %s", w->gnuplot, strerror(errno));
			goto clean;
		}
	}
	if (res->exit_code != 0 || res->out_len == 0) {
		/* gnuplot's messages on one line, for the job's error */
		for (char *p = res->err; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		child_describe(res, why, sizeof why);
		snprintf(err, n, "gnuplot %s: %.600s", why, res->err);
		child_result_free(res);
		goto clean;
	}
	if (f == CHART_PDF)
		pdf_fix_date(res->out, res->out_len, pdfdate);
	rc = 0;
clean:
	unlink(file);
	rmdir(dir);
out:
	buf_free(&tsv);
	buf_free(&script);
	return rc;
}

enum db_rc artifact_put(struct db *db, const unsigned char key[SHA256_LEN], const char *media_type,
			const char *bytes, size_t len, long long job_id)
{
	unsigned char digest[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1], keyhex[2 * SHA256_LEN + 1], id[24];
	struct buf b;
	enum db_rc rc;
	PGresult *r;

	sha256(bytes, len, digest);
	sha256_hex(digest, hex);
	sha256_hex(key, keyhex);
	snprintf(id, sizeof id, "%lld", job_id);
	buf_init(&b, 2 * len + 8);
	buf_adds(&b, "\\x");
	for (size_t i = 0; i < len; i++)
		buf_printf(&b, "%02x", (unsigned char)bytes[i]);
	rc = db_query(db, &stmt_artifact_put, 5,
		      (const char *const[]){ keyhex, hex, media_type, b.data, id }, &r);
	if (rc == DB_OK)
		PQclear(r);
	buf_free(&b);
	return rc;
}

int job_render_chart(struct worker *w, char *err, size_t n)
{
	json_t *pl = w->job->payload;
	const char *kind = json_string_value(json_object_get(pl, "kind"));
	const char *format = json_string_value(json_object_get(pl, "format"));
	const char *key = json_string_value(json_object_get(pl, "key"));
	const struct chart_kind *k = chart_kind_find(kind ? kind : "");
	unsigned char keybin[SHA256_LEN];
	struct child_result res;
	enum chart_format f;

	if (!k || !key || strlen(key) != 2 * SHA256_LEN || !chart_format_parse(format ? format : "", &f) ||
	    f == CHART_JSON) {
		snprintf(err, n, "the job names no chart kind, format or key");
		return -1;
	}
	for (int i = 0; i < SHA256_LEN; i++)
		sscanf(key + 2 * i, "%2hhx", &keybin[i]);
	if (chart_draw(w, k, f, json_object_get(pl, "params"), json_object_get(pl, "data"), &res, err, n))
		return -1;
	if (artifact_put(w->db, keybin, chart_media_type(f), res.out, res.out_len, w->job->id) != DB_OK) {
		snprintf(err, n, "cannot store the chart: %s", db_error(w->db));
		child_result_free(&res);
		return -1;
	}
	child_result_free(&res);
	return 0;
}
