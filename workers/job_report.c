/* build_report jobs: the quarterly report (internal or public) and the
 * side-event pack, as a frozen snapshot in every format asked for (SPEC
 * section 7).
 *
 * The snapshot is one JSON document from SQL (report_quarterly,
 * report_quarterly_public, report_side_event), which is the .json file.
 * From it workers/report_doc.c writes the CSV and Markdown; pandoc turns
 * the Markdown into a self-contained HTML page (our template: lang, a main
 * landmark, the print style; charts inline as SVG) and a Word document
 * (charts as PNG). The Markdown file shows the same PNGs, stored as files
 * of the report beside it. */
#include "buf.h"
#include "chart.h"
#include "clock.h"
#include "child.h"
#include "embedded.h"
#include "log.h"
#include "period.h"
#include "jsonout.h"
#include "report.h"
#include "tmpdir.h"
#include "util.h"
#include "vocab.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FILE_MAX (64 << 20)
#define FIGURES_MAX 12

DB_STMT(stmt_report_load,
	"SELECT r.kind, r.audience, r.language, period_idx(r.period) AS period, r.formats::text AS formats,"
	" CASE WHEN r.kind = 'side-event' THEN report_side_event(period_idx(r.period), r.event_id)::text"
	"      WHEN r.kind = 'consultation' THEN report_consultation(r.consultation_id)::text"
	"      WHEN r.audience = 'public' THEN report_quarterly_public(period_idx(r.period))::text"
	"      ELSE report_quarterly(period_idx(r.period))::text END AS snapshot,"
	" (SELECT c.start_year * 4 FROM cycle c"
	"   WHERE period_idx(r.period) / 4 BETWEEN c.start_year AND c.end_year) AS first"
	" FROM report r WHERE r.id = $1::bigint");
DB_STMT(stmt_report_running, "UPDATE report SET state = 'running' WHERE id = $1::bigint AND state <> 'done'");
DB_STMT(stmt_report_file,
	"INSERT INTO report_artifact (report_id, format, name, artifact_key)"
	" VALUES ($1::bigint, $2, $3, $4::bytea) ON CONFLICT DO NOTHING");
DB_STMT(stmt_report_done,
	"UPDATE report SET state = 'done', error = NULL, done_at = $2::timestamptz WHERE id = $1::bigint");
DB_STMT(stmt_report_failed,
	"UPDATE report SET state = 'failed', error = left($2, 2000) WHERE id = $1::bigint"
	" AND (SELECT attempts >= max_attempts FROM job WHERE id = $3::bigint)");

/* One build: what it was asked for, and what it has made so far. */
struct build {
	struct worker *w;
	char report[24], jobid[24];
	char dir[TMPDIR_PATH_MAX];      /* private folder for pandoc: PNGs, template */
	bool have_dir;
	char per[PERIOD_STRLEN];
	char language[8];               /* of the fixed texts: en, fr */
	char title[200];
	char stem[64];                  /* file names: <stem>.<format> */
	int period, first;              /* the quarter, and the first of its cycle */
	char formats[64];               /* {html,md,...} */
	struct report_doc doc;
	struct figure figs[FIGURES_MAX];
	char *png[FIGURES_MAX];         /* each figure's PNG bytes */
	size_t png_len[FIGURES_MAX];
	char *err;
	size_t n;
};

/* The page around pandoc's HTML: a language, one main landmark, the print
 * style; nothing fetched from elsewhere. (pandoc's template language: $…$) */
static const char html_template[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"$lang$\">\n"
	"<head>\n"
	"<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>$pagetitle$</title>\n"
	"<style>\n"
	"@page { size: A4; margin: 18mm 16mm; }\n"
	"body { font-family: 'Noto Sans', 'Helvetica Neue', Arial, sans-serif; max-width: 60em;"
	" margin: auto; padding: 0 1em; color: #222; line-height: 1.45; }\n"
	"table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1em; font-size: 0.9em; }\n"
	"th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }\n"
	"thead th { background: #eef2f6; } tbody th { font-weight: normal; }\n"
	"figure { margin: 1em 0; page-break-inside: avoid; } figure svg { width: 100%; height: auto; }\n"
	"figcaption { font-size: 0.85em; color: #555; }\n"
	"h2 { page-break-after: avoid; border-bottom: 1px solid #ccc; }\n"
	"tr { page-break-inside: avoid; }\n"
	"</style>\n"
	"</head>\n"
	"<body>\n"
	"<main>\n"
	"<h1>$title$</h1>\n"
	"$body$\n"
	"</main>\n"
	"</body>\n"
	"</html>\n";

static bool write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[TMPDIR_PATH_MAX + 160];
	int fd;
	bool ok;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return false;
	ok = write(fd, data, len) == (ssize_t)len;
	close(fd);
	return ok;
}

/* Runs pandoc on markdown in dir, to html5 or docx; the output in *res. */
static int pandoc(const char *dir, const char *to, const char *title, const char *language,
		  const char *markdown, size_t len, struct child_result *res, char *err, size_t n)
{
	char meta[260], lang[16], home[TMPDIR_PATH_MAX + 8], why[64], extra[TMPDIR_PATH_MAX + 32];
	/* no raw HTML or TeX from the text; our own charts and tables come in
	 * as raw attribute blocks (```{=html}), for HTML only */
	const char *argv[] = { "/usr/bin/pandoc", "--from",
			       "markdown-raw_html-raw_tex-tex_math_dollars-citations-smart-implicit_figures",
			       "--to", to, "--standalone", "--metadata", meta, "--metadata", lang,
			       "--resource-path", dir, "--wrap=none", "--output", "-", extra, NULL };
	const char *env[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", home, NULL };
	struct child_opts o = { .argv = argv, .envp = env, .cwd = dir, .input = markdown,
				.input_len = len, .timeout_ms = 60000, .max_out = FILE_MAX };

	snprintf(meta, sizeof meta, "title=%s", title);
	snprintf(lang, sizeof lang, "lang=%s", language);
	snprintf(home, sizeof home, "HOME=%s", dir);
	if (!strcmp(to, "docx")) {
		/* our Word styles: Noto Sans, headings in blue (workers/reference.docx) */
		const struct embedded_file *ref = NULL;

		for (const struct embedded_file *f = embedded_files; f->path; f++)
			if (!strcmp(f->path, "workers/reference.docx"))
				ref = f;
		argv[2] = "markdown-raw_html-raw_tex-raw_attribute-tex_math_dollars-citations-smart-implicit_figures";
		snprintf(extra, sizeof extra, "--reference-doc=%s/reference.docx", dir);
		if (!ref || !write_file(dir, "reference.docx", ref->data, ref->size)) {
			snprintf(err, n, "cannot write the Word reference document");
			return -1;
		}
	} else {
		snprintf(extra, sizeof extra, "--template=%s/report.html5", dir);
		if (!write_file(dir, "report.html5", html_template, strlen(html_template))) {
			snprintf(err, n, "cannot write the HTML template");
			return -1;
		}
	}
	if (child_run(&o, res) < 0) {
		snprintf(err, n, "cannot run pandoc: %s", strerror(errno));
		return -1;
	}
	if (res->exit_code != 0 || !res->out_len) {
		child_describe(res, why, sizeof why);
		for (char *p = res->err; *p; p++)
			if (*p == '\n')
				*p = ' ';
		snprintf(err, n, "pandoc %s: %.600s", why, res->err);
		child_result_free(res);
		return -1;
	}
	return 0;
}

/* Stores one file of the report. */
static int store(struct build *bd, const char *format, const char *name, const char *media,
		 const char *bytes, size_t len)
{
	unsigned char key[SHA256_LEN];
	char *what = xasprintf("report %s %s", bd->report, name);
	PGresult *r;

	/* a report's file is named by the report and the file: frozen once stored */
	sha256(what, strlen(what), key);
	free(what);
	if (artifact_put(bd->w->db, key, media, bytes, len, bd->w->job->id) != DB_OK ||
	    db_query_params(bd->w->db, &stmt_report_file, 4,
			    (const char *const[]){ bd->report, format, name, (const char *)key },
			    (const int[]){ 0, 0, 0, SHA256_LEN }, (const int[]){ 0, 0, 0, 1 }, &r) != DB_OK) {
		snprintf(bd->err, bd->n, "cannot store %s: %s", name, db_error(bd->w->db));
		return -1;
	}
	PQclear(r);
	return 0;
}

/* Whether the report was asked for in format f (formats: "{html,md}"). */
static bool wants(const struct build *bd, enum report_format format)
{
	const char *f = report_format_names[format];
	size_t len = strlen(f);

	for (const char *p = bd->formats; (p = strstr(p, f)); p += len)
		if (strchr("{,", p[-1]) && strchr(",}", p[len]))
			return true;
	return false;
}

/* The report's row and its snapshot. */
static int build_load(struct build *bd)
{
	PGresult *r, *u;
	enum report_kind kind;
	struct buf title;
	json_t *vars;
	bool quarterly;

	if (db_query(bd->w->db, &stmt_report_load, 1, (const char *const[]){ bd->report }, &r) != DB_OK)
		r = NULL;
	if (!r || PQntuples(r) != 1) {
		if (r)
			PQclear(r);
		snprintf(bd->err, bd->n, "report %s is missing", bd->report);
		return -1;
	}
	if (vocab_find(report_kind_names, db_col(r, 0, "kind")) < 0) {
		snprintf(bd->err, bd->n, "report %s: unknown kind %s", bd->report, db_col(r, 0, "kind"));
		PQclear(r);
		return -1;
	}
	kind = (enum report_kind)vocab_find(report_kind_names, db_col(r, 0, "kind"));
	quarterly = kind == REPORT_KIND_QUARTERLY;
	bd->doc.quarterly = quarterly;
	bd->doc.consultation = kind == REPORT_KIND_CONSULTATION;
	bd->doc.public = vocab_find(audience_names, db_col(r, 0, "audience")) == AUDIENCE_PUBLIC;
	bd->period = (int)db_int(r, 0, "period");
	snprintf(bd->formats, sizeof bd->formats, "%s", db_col(r, 0, "formats"));
	bd->doc.snap = json_loads(db_col(r, 0, "snapshot"), 0, NULL);
	bd->first = (int)db_int(r, 0, "first");
	snprintf(bd->language, sizeof bd->language, "%s", db_col(r, 0, "language"));
	PQclear(r);
	bd->doc.text = report_catalogue(bd->language);
	if (!bd->doc.text) {
		snprintf(bd->err, bd->n, "report %s: no catalogue for %s", bd->report, bd->language);
		return -1;
	}
	if (!bd->doc.snap) {
		snprintf(bd->err, bd->n, "report %s: the snapshot does not parse", bd->report);
		return -1;
	}
	if (db_query(bd->w->db, &stmt_report_running, 1, (const char *const[]){ bd->report }, &u) == DB_OK)
		PQclear(u);
	period_format(bd->period, bd->per);
	vars = json_pack("{s:s}", "period", bd->per);
	buf_init(&title, sizeof bd->title - 1);
	/* fixed words: the call's own title is text of the body, escaped */
	report_textf(&title, &bd->doc, kind == REPORT_KIND_CONSULTATION ? "report.title.consultation"
				       : !quarterly ? "report.title.side_event"
				       : bd->doc.public ? "report.title.public" : "report.title.quarterly",
		     vars);
	snprintf(bd->title, sizeof bd->title, "%s", title.data ? title.data : "");
	buf_free(&title);
	json_decref(vars);
	snprintf(bd->stem, sizeof bd->stem, "%s-%s-%s", report_kind_names[kind], bd->per, bd->report);
	return 0;
}

static void add_figure(struct build *bd, const char *kind, int a, int b, int pillar, const char *caption,
		       const char *chart)
{
	struct figure *f = &bd->figs[bd->doc.nfigs];

	if (bd->doc.nfigs == FIGURES_MAX)
		return;
	*f = (struct figure){ .kind = kind, .a = a, .b = b, .pillar = pillar, .caption = caption };
	snprintf(f->name, sizeof f->name, "%s-%s", bd->stem, chart);
	bd->doc.nfigs++;
}

/* The quarterly report's charts: status, trend, (internal: the heat map of
 * reporting on time), and a burn-up for each pillar with key actions. */
static void plan_figures(struct build *bd)
{
	json_t *pl;
	size_t i;

	bd->doc.figs = bd->figs;
	if (!bd->doc.quarterly || !(wants(bd, REPORT_FORMAT_HTML) || wants(bd, REPORT_FORMAT_MD) ||
				    wants(bd, REPORT_FORMAT_DOCX)))
		return;
	add_figure(bd, "status-by-pillar", bd->period, 0, 0, report_text(&bd->doc, "report.figure.status"),
		   "status");
	add_figure(bd, "progress-trend", bd->first, bd->period, 0, report_text(&bd->doc, "report.figure.trend"),
		   "trend");
	if (!bd->doc.public)
		add_figure(bd, "reporting-heatmap", bd->first, bd->period, 0,
			   report_text(&bd->doc, "report.figure.heatmap"), "heatmap");
	json_array_foreach(json_object_get(bd->doc.snap, "pillars"), i, pl) {
		int number = (int)json_integer_value(json_object_get(pl, "number"));
		char chart[24];

		/* the public snapshot lists public updates only, and counts the rest */
		if (bd->doc.public ? json_integer_value(json_object_get(pl, "in_scope")) == 0
				   : json_array_size(json_object_get(pl, "actions")) == 0)
			continue;
		snprintf(chart, sizeof chart, "burnup-%d", number);
		add_figure(bd, "pillar-burnup", bd->first, bd->period, number,
			   report_text(&bd->doc, "report.figure.burnup"), chart);
	}
}

/* Draws each figure as SVG (for the page) and PNG (for Word and the .md
 * file); a chart that cannot be drawn is left out with a warning. */
static void draw_figures(struct build *bd)
{
	const char *cycle = json_string_value(json_object_get(bd->doc.snap, "cycle"));

	for (int i = 0; i < bd->doc.nfigs; i++) {
		struct figure *f = &bd->figs[i];
		const struct chart_kind *k = chart_kind_find(f->kind);
		char *data = NULL, err[256] = "no data", per[PERIOD_STRLEN], file[128];
		struct child_result svg, png;
		json_t *params = json_object(), *dj;

		if (chart_fetch(bd->w->db, k, f->a, f->b, cycle ? cycle : "", f->pillar, &data) != DB_OK) {
			json_decref(params);
			continue;
		}
		dj = json_loads(data, 0, NULL);
		period_format(f->a, per);
		json_object_set_new(params, f->b ? "from" : "as_of", json_string(per));
		if (f->b) {
			period_format(f->b, per);
			json_object_set_new(params, "to", json_string(per));
		}
		if (f->pillar)
			json_object_set_new(params, "pillar", json_integer(f->pillar));
		if (chart_draw(bd->w, k, CHART_SVG, params, dj, &svg, err, sizeof err) == 0) {
			if (chart_draw(bd->w, k, CHART_PNG, params, dj, &png, err, sizeof err) == 0) {
				char *start = strstr(svg.out, "<svg");

				f->svg = xstrdup(start ? start : svg.out);
				snprintf(file, sizeof file, "%s.png", f->name);
				f->drawn = write_file(bd->dir, file, png.out, png.out_len);
				bd->png[i] = png.out;
				bd->png_len[i] = png.out_len;
				png.out = NULL;
				child_result_free(&png);
			}
			child_result_free(&svg);
		}
		if (!f->drawn)
			log_warn("report chart %s left out: %s", f->name, err);
		json_decref(params);
		json_decref(dj);
		free(data);
		worker_tick(bd->w);
	}
}

/* The snapshot itself, in UTF-8; a mean (rounded to one decimal in SQL)
 * prints back as written with 15 significant digits, where jansson's
 * default 17 shows 10.300000000000001. */
static int store_json(struct build *bd)
{
	char *j = json_text(bd->doc.snap, NULL), name[80];
	int rc;

	snprintf(name, sizeof name, "%s.json", bd->stem);
	rc = j ? store(bd, report_format_names[REPORT_FORMAT_JSON], name, "application/json", j, strlen(j)) : -1;
	if (!j)
		snprintf(bd->err, bd->n, "cannot write the JSON file");
	free(j);
	return rc;
}

static int store_csv(struct build *bd)
{
	struct buf csv;
	char name[80];
	int rc;

	buf_init(&csv, FILE_MAX);
	report_csv(&csv, &bd->doc);
	snprintf(name, sizeof name, "%s.csv", bd->stem);
	rc = store(bd, report_format_names[REPORT_FORMAT_CSV], name, "text/csv; charset=utf-8", csv.data, csv.len);
	buf_free(&csv);
	return rc;
}

/* The .md file, and the charts it shows as files beside it. */
static int store_md(struct build *bd, const struct buf *markdown)
{
	char name[80], *doc = xasprintf("# %s\n\n%s", bd->title, markdown->data);
	int rc;

	snprintf(name, sizeof name, "%s.md", bd->stem);
	rc = store(bd, report_format_names[REPORT_FORMAT_MD], name, "text/markdown; charset=utf-8", doc, strlen(doc));
	free(doc);
	for (int i = 0; rc == 0 && i < bd->doc.nfigs; i++) {
		char png[128];

		if (!bd->figs[i].drawn)
			continue;
		snprintf(png, sizeof png, "%s.png", bd->figs[i].name);
		rc = store(bd, "png", png, "image/png", bd->png[i], bd->png_len[i]);
	}
	return rc;
}

/* The HTML page or the Word file, through pandoc. */
static int store_pandoc(struct build *bd, enum report_format f, const struct buf *markdown)
{
	const char *format = report_format_names[f];
	bool docx = f == REPORT_FORMAT_DOCX;
	struct child_result res;
	char name[80];
	int rc;

	if (pandoc(bd->dir, docx ? "docx" : "html5", bd->title, bd->language, markdown->data, markdown->len,
		   &res, bd->err, bd->n))
		return -1;
	snprintf(name, sizeof name, "%s.%s", bd->stem, format);
	rc = store(bd, format, name,
		   docx ? "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
			: "text/html; charset=utf-8",
		   res.out, res.out_len);
	child_result_free(&res);
	worker_tick(bd->w);
	return rc;
}

/* Every file in every format asked for, then the report is done. */
static int build_files(struct build *bd)
{
	struct buf mdhtml, mdplain;
	char now[32];
	PGresult *r;
	int rc = 0;

	buf_init(&mdhtml, FILE_MAX);
	buf_init(&mdplain, FILE_MAX);
	report_markdown(&mdhtml, &bd->doc, REPORT_HTML);
	report_markdown(&mdplain, &bd->doc, REPORT_MD);
	if (wants(bd, REPORT_FORMAT_JSON))
		rc = store_json(bd);
	if (rc == 0 && wants(bd, REPORT_FORMAT_CSV))
		rc = store_csv(bd);
	if (rc == 0 && wants(bd, REPORT_FORMAT_MD))
		rc = store_md(bd, &mdplain);
	if (rc == 0 && wants(bd, REPORT_FORMAT_HTML))
		rc = store_pandoc(bd, REPORT_FORMAT_HTML, &mdhtml);
	if (rc == 0 && wants(bd, REPORT_FORMAT_DOCX))
		rc = store_pandoc(bd, REPORT_FORMAT_DOCX, &mdplain);
	buf_free(&mdhtml);
	buf_free(&mdplain);
	clock_now_text(now);
	if (rc == 0 && db_query(bd->w->db, &stmt_report_done, 2, (const char *const[]){ bd->report, now },
				&r) == DB_OK)
		PQclear(r);
	else if (rc == 0) {
		snprintf(bd->err, bd->n, "cannot mark the report done: %s", db_error(bd->w->db));
		rc = -1;
	}
	return rc;
}

/* Removes the private folder and all in it; frees the build. */
static void build_free(struct build *bd)
{
	if (bd->have_dir)
		tmpdir_remove(bd->dir);
	for (int i = 0; i < bd->doc.nfigs; i++) {
		free(bd->figs[i].svg);
		free(bd->png[i]);
	}
	json_decref(bd->doc.snap);
	json_decref(bd->doc.text);
}

int job_build_report(struct worker *w, char *err, size_t n)
{
	struct build bd = { .w = w, .err = err, .n = n };
	PGresult *r;
	int rc;

	snprintf(bd.report, sizeof bd.report, "%lld",
		 (long long)json_integer_value(json_object_get(w->job->payload, "report")));
	snprintf(bd.jobid, sizeof bd.jobid, "%lld", w->job->id);
	rc = build_load(&bd);
	if (rc == 0) {
		bd.have_dir = tmpdir_make("report", bd.dir, sizeof bd.dir);
		if (!bd.have_dir) {
			snprintf(err, n, "cannot make a folder for the report: %s", strerror(errno));
			rc = -1;
		}
	}
	if (rc == 0) {
		plan_figures(&bd);
		draw_figures(&bd);
		rc = build_files(&bd);
	}
	build_free(&bd);
	if (rc && db_query(w->db, &stmt_report_failed, 3, (const char *const[]){ bd.report, err, bd.jobid },
			   &r) == DB_OK)
		PQclear(r);
	return rc;
}
