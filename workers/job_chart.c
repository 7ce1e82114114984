/* render_chart jobs: the API gathered the data and named the artifact; we
 * write the data to a private file, run gnuplot (no shell, time and output
 * limits) on our template, and store the image under its key.
 *
 * Text from the database (pillar names) reaches gnuplot only as fields of
 * the data file, which gnuplot reads as data: no backquote, macro or
 * function is ever evaluated in it. The commands gnuplot runs are our
 * templates plus a preamble built from validated periods, numbers and
 * cycle labels of digits and dashes. A period with nothing to draw gets
 * charts/empty.gp: an image that says so, never a failure. */
#include "buf.h"
#include "chart.h"
#include "child.h"
#include "log.h"
#include "period.h"
#include "tmpdir.h"
#include "util.h"
#include "vocab.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHART_MAX_BYTES (20 << 20)

/* Storing a key again (a retried job, or one whose image was stored
 * before) renews it, so the retention sweep leaves what a job has just
 * made; the bytes stay as first stored. */
DB_STMT(stmt_artifact_put,
	"INSERT INTO artifact (key, sha256, media_type, bytes, job_id)"
	" VALUES ($1::bytea, $2::bytea, $3, $4::bytea, nullif($5, '0')::bigint)"
	" ON CONFLICT (key) DO UPDATE SET last_used_at = now()");

/* Labels are at most this many columns wide (a CJK character counts two):
 * they fit beside the bars and in the key at every size we draw. */
#define LABEL_COLUMNS 40

/* The next code point of UTF-8 text (PostgreSQL checked the encoding); a
 * stray byte stands for itself. */
static unsigned utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	int n = s[0] >= 0xF0 ? 3 : s[0] >= 0xE0 ? 2 : s[0] >= 0xC0 ? 1 : 0;
	unsigned c = n ? s[0] & (0x3F >> n) : s[0];

	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*p = s + 1;
			return s[0];
		}
		c = c << 6 | (s[i] & 0x3F);
	}
	*p = s + n + 1;
	return c;
}

static int columns(unsigned c)
{
	if ((c >= 0x300 && c <= 0x36F) || (c >= 0x64B && c <= 0x65F) || c == 0x670 ||
	    (c >= 0x200B && c <= 0x200F) || (c >= 0x2060 && c <= 0x206F) || (c >= 0xFE00 && c <= 0xFE0F))
		return 0; /* combining marks and invisible format characters */
	if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) || (c >= 0xAC00 && c <= 0xD7A3) ||
	    (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
	    (c >= 0xFFE0 && c <= 0xFFE6) || c >= 0x20000)
		return 2; /* East Asian wide */
	return 1;
}

static bool rtl(unsigned c)
{
	return (c >= 0x590 && c <= 0x8FF) || (c >= 0xFB1D && c <= 0xFDFF) || (c >= 0xFE70 && c <= 0xFEFF);
}

/* A label as one data field of text that gnuplot draws as it is and never
 * evaluates: no tabs, newlines or control characters; a double quote as
 * \001 and a backslash as \002, which lbl() in common.gp turns back
 * (gnuplot ends a data field at a quote and reads backslash escapes in
 * it: \n would break the line, \" lose its backslash); "]]>" with an invisible word joiner after "]]" (gnuplot's SVG
 * escapes < and & but not the end of a CDATA section, which XML forbids in
 * text); at most LABEL_COLUMNS wide, then an ellipsis. A right-to-left
 * name is isolated after a left-to-right mark, so "4. " stays in front and
 * the name's own numbers stay where the name has them. */
static void tsv_label(struct buf *b, long long number, const char *name)
{
	const unsigned char *p = (const unsigned char *)(name ? name : "");
	bool isolate = false;
	int width = 0;

	for (const unsigned char *q = p; *q && !isolate;)
		isolate = rtl(utf8_next(&q));
	buf_printf(b, isolate ? "\xe2\x80\x8e%lld. \xe2\x81\xa8" : "%lld. ", number); /* LRM, FSI */
	while (*p) {
		const unsigned char *start = p;
		unsigned c = utf8_next(&p);

		width += columns(c);
		if (width > LABEL_COLUMNS) {
			buf_adds(b, "\xe2\x80\xa6"); /* … */
			break;
		}
		if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0))
			buf_adds(b, " ");
		else if (c == '"')
			buf_adds(b, "\001");
		else if (c == '\\')
			buf_adds(b, "\002");
		else if (c == '>' && b->len >= 2 && !memcmp(b->data + b->len - 2, "]]", 2))
			buf_adds(b, "\xe2\x81\xa0>"); /* word joiner */
		else
			buf_add(b, start, p - start);
	}
	if (isolate)
		buf_adds(b, "\xe2\x81\xa9"); /* PDI */
}

static bool tsv_number(struct buf *b, json_t *v)
{
	if (!json_is_number(v)) {
		buf_adds(b, "\tNaN");
		return false;
	}
	buf_printf(b, "\t%.4g", json_number_value(v));
	return true;
}

/* What the template needs besides the data file: the number of rows or
 * series, and for charts over quarters the cycles, each a block of the
 * data file (a line never joins two blocks). */
struct layout {
	int nseries, nquarters, nblocks;
	int block_x[16];         /* the first quarter of each block, from 0 */
	char block_name[16][12]; /* the cycle's label, if it is digits and dashes */
};

/* A new block at quarter k when the cycle changes there (at most 16). */
static bool block_starts(struct layout *l, json_t *cycles, size_t k)
{
	const char *c = json_string_value(json_array_get(cycles, k));
	const char *prev = k ? json_string_value(json_array_get(cycles, k - 1)) : NULL;
	size_t n = c ? strspn(c, "0123456789-") : 0;

	if (k && (!c || !prev || !strcmp(c, prev) || l->nblocks == 16))
		return false;
	l->block_x[l->nblocks] = (int)k;
	/* the name goes into the script: digits and dashes only */
	snprintf(l->block_name[l->nblocks], sizeof l->block_name[0], "%s",
		 c && n == strlen(c) && n < sizeof l->block_name[0] ? c : "");
	l->nblocks++;
	return true;
}

/* The data file for each kind and its layout; false when there is nothing
 * to draw (no key action in scope, no share expected). */
static bool chart_tsv(const char *kind, json_t *data, struct buf *b, struct layout *l)
{
	json_t *periods = json_object_get(data, "periods"), *v, *row;
	bool any = false;
	size_t i, k;

	memset(l, 0, sizeof *l);
	if (!strcmp(kind, "status-by-pillar")) {
		char title[STATUS_WORDS_MAX];

		buf_adds(b, "Pillar");
		for (k = 0; k < STATUS_COUNT; k++)
			buf_printf(b, "\t%s", status_words(status_names[k], title, true));
		buf_adds(b, "\n");
		json_array_foreach(json_object_get(data, "pillars"), i, row) {
			tsv_label(b, json_integer_value(json_object_get(row, "number")),
				  json_string_value(json_object_get(row, "name")));
			for (k = 0; k < STATUS_COUNT; k++)
				tsv_number(b, json_object_get(json_object_get(row, "by_status"), status_names[k]));
			buf_adds(b, "\n");
			any |= json_integer_value(json_object_get(row, "actions")) > 0;
		}
		l->nseries = (int)i;
		return any;
	}
	if (!strcmp(kind, "progress-trend")) {
		json_t *rows = json_object_get(data, "series"), *cycles = json_object_get(data, "cycles");
		struct buf head;

		/* per cycle a block: the header row (quarter, x, one label per
		 * pillar), then per quarter its mean percent for each pillar */
		buf_init(&head, 64 << 10);
		buf_adds(&head, "Quarter\tX");
		json_array_foreach(rows, i, row) {
			buf_adds(&head, "\t");
			tsv_label(&head, json_integer_value(json_object_get(row, "number")),
				  json_string_value(json_object_get(row, "name")));
		}
		buf_adds(&head, "\n");
		json_array_foreach(periods, k, v) {
			if (block_starts(l, cycles, k)) {
				buf_adds(b, k ? "\n\n" : "");
				buf_add(b, head.data, head.len);
			}
			buf_printf(b, "%s\t%zu", json_string_value(v), k);
			json_array_foreach(rows, i, row)
				any |= tsv_number(b, json_array_get(json_object_get(row, "values"), k));
			buf_adds(b, "\n");
		}
		buf_free(&head);
		l->nseries = (int)json_array_size(rows);
		l->nquarters = (int)json_array_size(periods);
		return any;
	}
	if (!strcmp(kind, "reporting-heatmap")) {
		json_t *rows = json_object_get(data, "pillars");

		/* a matrix, quarters across and pillars down, under a header row
		 * of quarters; then a block of the pillars' labels, one a line */
		json_array_foreach(periods, k, v)
			buf_printf(b, "%s%s", k ? "\t" : "", json_string_value(v));
		buf_adds(b, "\n");
		json_array_foreach(rows, i, row) {
			struct buf line;

			/* tsv_number writes a tab before each number: not before the first */
			buf_init(&line, 64 << 10);
			json_array_foreach(periods, k, v)
				any |= tsv_number(&line, json_array_get(json_object_get(row, "values"), k));
			buf_adds(b, line.data ? line.data + 1 : "");
			buf_adds(b, "\n");
			buf_free(&line);
		}
		buf_adds(b, "\n\n");
		json_array_foreach(rows, i, row) {
			tsv_label(b, json_integer_value(json_object_get(row, "number")),
				  json_string_value(json_object_get(row, "name")));
			buf_adds(b, "\n");
		}
		l->nseries = (int)json_array_size(rows);
		l->nquarters = (int)json_array_size(periods);
		return any;
	}
	if (!strcmp(kind, "pillar-burnup")) {
		json_t *points = json_object_get(data, "points"), *cycles = json_array();

		json_array_foreach(points, k, row)
			json_array_append(cycles, json_object_get(row, "cycle"));
		json_array_foreach(points, k, row) {
			if (block_starts(l, cycles, k))
				buf_adds(b, k ? "\n\nQuarter\tX\tPlanned\tCompleted\n" : "Quarter\tX\tPlanned\tCompleted\n");
			buf_printf(b, "%s\t%zu", json_string_value(json_object_get(row, "period")), k);
			tsv_number(b, json_object_get(row, "planned"));
			tsv_number(b, json_object_get(row, "completed"));
			buf_adds(b, "\n");
			any |= json_integer_value(json_object_get(row, "actions")) > 0;
		}
		json_decref(cycles);
		l->nseries = 2;
		l->nquarters = (int)json_array_size(points);
		return any;
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
	char dir[TMPDIR_PATH_MAX], file[TMPDIR_PATH_MAX + 16], home[TMPDIR_PATH_MAX + 8],
	     a[PERIOD_STRLEN], z[PERIOD_STRLEN], when[40], stamp[32], pdfdate[16], why[64];
	struct buf tsv, script;
	struct layout l;
	int fd, rc = -1;
	bool any;

	memset(res, 0, sizeof *res);
	buf_init(&tsv, 4 << 20);
	buf_init(&script, 1 << 20);
	if (!json_is_object(data)) {
		snprintf(err, n, "the job carries no chart data");
		goto out;
	}
	/* nothing to draw is still a chart: one that says so */
	any = chart_tsv(k->name, data, &tsv, &l);
	/* title and footer from validated parameters only */
	param_period(params, "as_of", a);
	param_period(params, "from", when);
	param_period(params, "to", z);
	if (*a)
		snprintf(when, sizeof when, "%s", a);
	else if (*when && *z)
		snprintf(when + strlen(when), sizeof when - strlen(when), " to %s", z);
	stamp_text(json_string_value(json_object_get(data, "stamp")), stamp, pdfdate);
	if (!tmpdir_make("chart", dir, sizeof dir)) {
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
	/* gnuplot runs in dir: the script names the file without the path */
	buf_printf(&script, "%s\ndatafile = 'data.tsv'\nnseries = %d\nnquarters = %d\nnblocks = %d\n",
		   terminal(f), l.nseries, l.nquarters, l.nblocks);
	if (l.nblocks) {
		buf_printf(&script, "array block_x[%d]\narray block_name[%d]\n", l.nblocks, l.nblocks);
		for (int i = 0; i < l.nblocks; i++)
			buf_printf(&script, "block_x[%d] = %d\nblock_name[%d] = '%s'\n", i + 1, l.block_x[i], i + 1,
				   l.block_name[i]);
	}
	if (json_integer_value(json_object_get(params, "pillar")) > 0)
		buf_printf(&script, "charttitle = '%s, pillar %lld, %s'\n", k->what,
			   json_integer_value(json_object_get(params, "pillar")), when);
	else
		buf_printf(&script, "charttitle = '%s, %s'\n", k->what, when);
	buf_printf(&script, "footer = 'UN Network on Racial Discrimination and Protection of"
			    " Minorities. Period %s; data as of %s.'\n", when, stamp);
	buf_adds(&script, chart_file("charts/common.gp"));
	buf_adds(&script, chart_file(any ? k->template : "charts/empty.gp"));
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
	tmpdir_remove(dir); /* with whatever gnuplot left in it (its HOME) */
out:
	buf_free(&tsv);
	buf_free(&script);
	return rc;
}

enum db_rc artifact_put(struct db *db, const unsigned char key[SHA256_LEN], const char *media_type,
			const char *bytes, size_t len, long long job_id)
{
	unsigned char digest[SHA256_LEN];
	char id[24];
	enum db_rc rc;
	PGresult *r;

	if (len > INT_MAX)
		return DB_INVALID;
	sha256(bytes, len, digest);
	snprintf(id, sizeof id, "%lld", job_id);
	rc = db_query_params(db, &stmt_artifact_put, 5,
			     (const char *const[]){ (const char *)key, (const char *)digest, media_type,
						    bytes, id },
			     (const int[]){ SHA256_LEN, SHA256_LEN, 0, (int)len, 0 },
			     (const int[]){ 1, 1, 0, 1, 0 }, &r);
	if (rc == DB_OK)
		PQclear(r);
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
