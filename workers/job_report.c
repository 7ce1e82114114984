/* build_report jobs: the quarterly report and the side-event pack, as a
 * frozen snapshot in every format asked for (SPEC section 7).
 *
 * The snapshot is one JSON document from SQL (report_quarterly,
 * report_side_event). From it we write Markdown; pandoc turns that into a
 * self-contained HTML page (charts inline as SVG) and a Word document
 * (charts as PNG). Text from the database is escaped for Markdown
 * character by character (every ASCII punctuation mark gets a backslash),
 * so it can never become a link, an image, raw HTML or a file include. */
#include "buf.h"
#include "chart.h"
#include "child.h"
#include "embedded.h"
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

#define FILE_MAX (64 << 20)

DB_STMT(stmt_report_load,
	"SELECT r.kind, period_idx(r.period), r.event_id, r.formats::text,"
	" CASE WHEN r.kind = 'quarterly' THEN report_quarterly(period_idx(r.period))::text"
	"      ELSE report_side_event(period_idx(r.period), r.event_id)::text END,"
	" (SELECT c.start_year * 4 FROM cycle c"
	"   WHERE period_idx(r.period) / 4 BETWEEN c.start_year AND c.end_year)"
	" FROM report r WHERE r.id = $1::bigint");
DB_STMT(stmt_report_running, "UPDATE report SET state = 'running' WHERE id = $1::bigint AND state <> 'done'");
DB_STMT(stmt_report_file,
	"INSERT INTO report_artifact (report_id, format, name, artifact_key)"
	" VALUES ($1::bigint, $2, $3, decode($4, 'hex')) ON CONFLICT DO NOTHING");
DB_STMT(stmt_report_done, "UPDATE report SET state = 'done', error = NULL WHERE id = $1::bigint");
DB_STMT(stmt_report_failed,
	"UPDATE report SET state = 'failed', error = left($2, 2000) WHERE id = $1::bigint"
	" AND (SELECT attempts >= max_attempts FROM job WHERE id = $3::bigint)");

static const char *const status_words[][2] = {
	{ "not_started", "not started" }, { "on_track", "on track" }, { "at_risk", "at risk" },
	{ "delayed", "delayed" }, { "completed", "completed" }, { "cancelled", "cancelled" },
};

static const char *status_word(const char *s)
{
	for (size_t i = 0; s && i < 6; i++)
		if (!strcmp(status_words[i][0], s))
			return status_words[i][1];
	return s ? s : "";
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* Database text as Markdown: every ASCII punctuation mark escaped, line
 * breaks as spaces. */
static void md(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n' || c == '\r' || c == '\t')
			buf_adds(b, " ");
		else if (c < 0x20 || c == 0x7F)
			continue;
		else if (c < 0x80 && strchr("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", c)) {
			buf_adds(b, "\\");
			buf_add(b, s, 1);
		} else
			buf_add(b, s, 1);
	}
}

/* A list of JSON strings (entity codes) as "A, B". */
static void md_list(struct buf *b, json_t *arr)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v) {
		if (i)
			buf_adds(b, ", ");
		md(b, json_string_value(v));
	}
	if (!json_array_size(arr))
		buf_adds(b, "none");
}

struct figure {
	const char *kind;
	int a, b, pillar;
	const char *caption;
	char name[48];     /* file stem, ours */
	char *alt;
	char *svg;         /* inline, prolog removed */
	bool drawn;
};

/* How a chart appears in the Markdown for each target. */
static void md_figure(struct buf *b, struct figure *f, bool html)
{
	if (!f->drawn)
		return;
	if (html) {
		buf_adds(b, "\n```{=html}\n<figure>");
		buf_adds(b, f->svg);
		buf_adds(b, "<figcaption>");
		buf_html(b, f->caption);
		buf_adds(b, "</figcaption></figure>\n```\n\n");
	} else {
		buf_adds(b, "\n![");
		md(b, f->caption);
		buf_printf(b, "](%s.png)\n\n", f->name);
	}
}

/* The actions of every pillar's list (missing, late), under a heading. */
static void md_compliance_list(struct buf *b, json_t *s, const char *list, const char *heading)
{
	json_t *p, *a;
	size_t i, k;
	bool any = false;

	buf_printf(b, "\n### %s\n\n", heading);
	json_array_foreach(json_object_get(s, "pillars"), i, p) {
		json_array_foreach(json_object_get(p, list), k, a) {
			buf_adds(b, "- ");
			md(b, str(a, "title"));
			buf_adds(b, " (");
			md_list(b, json_object_get(a, "leads"));
			buf_adds(b, ")\n");
			any = true;
		}
	}
	if (!any)
		buf_adds(b, "None.\n");
}

static void md_quarterly(struct buf *b, json_t *s, struct figure *figs, int nfigs, bool html)
{
	json_t *t = json_object_get(s, "totals"), *p, *a, *v;
	size_t i, k;

	buf_printf(b, "UN Network on Racial Discrimination and Protection of Minorities. Work Plan"
		      " cycle %s. Reporting deadline for %s: %s.\n\n",
		   str(s, "cycle"), str(s, "period"), str(s, "deadline"));
	buf_adds(b, "**Co-chairs in office:** ");
	json_array_foreach(json_object_get(s, "cochairs"), i, v) {
		buf_adds(b, i ? "; " : "");
		md(b, str(v, "name"));
		buf_printf(b, " (%s)", str(v, "kind"));
	}
	buf_adds(b, "\n\n## Headline figures\n\n"
		    "| Key actions | Completed | At risk | Delayed | Mean % complete |"
		    " Expected to report | Reported | On time |\n"
		    "|--------|--------|--------|--------|--------|--------|--------|--------|\n");
	buf_printf(b, "| %lld | %lld | %lld | %lld | %.1f | %lld | %lld | %lld |\n\n",
		   json_integer_value(json_object_get(t, "actions")),
		   json_integer_value(json_object_get(t, "completed")),
		   json_integer_value(json_object_get(t, "at_risk")),
		   json_integer_value(json_object_get(t, "delayed")),
		   json_number_value(json_object_get(t, "mean_percent")),
		   json_integer_value(json_object_get(t, "expected")),
		   json_integer_value(json_object_get(t, "reported")),
		   json_integer_value(json_object_get(t, "on_time")));
	md_figure(b, &figs[0], html);
	json_array_foreach(json_object_get(s, "pillars"), i, p) {
		json_t *acts = json_object_get(p, "actions");
		bool any = false;

		buf_printf(b, "## Pillar %lld: ", json_integer_value(json_object_get(p, "number")));
		md(b, str(p, "name"));
		buf_adds(b, "\n\nLeads: ");
		md_list(b, json_object_get(p, "leads"));
		buf_adds(b, ".");
		if (!strcmp(str(p, "status"), "inactive")) {
			buf_adds(b, " Inactive: ");
			md(b, str(p, "inactive_reason"));
		}
		buf_adds(b, "\n\n");
		if (!json_array_size(acts)) {
			buf_adds(b, "No key actions in this cycle.\n\n");
			continue;
		}
		/* the dashes set the column widths in Word: the title gets half */
		buf_adds(b, "| Key action | Leads | Status | % | Last update |\n"
			    "|" "------------------------------------" "|--------------|-----------|-----|-----------|\n");
		json_array_foreach(acts, k, a) {
			buf_adds(b, "| ");
			md(b, str(a, "title"));
			buf_adds(b, " | ");
			md_list(b, json_object_get(a, "leads"));
			buf_printf(b, " | %s | %lld | %s |\n", status_word(str(a, "status")),
				   json_integer_value(json_object_get(a, "percent")),
				   *str(a, "updated") ? str(a, "updated") : "none");
		}
		json_array_foreach(acts, k, a) {
			if (strcmp(str(a, "updated"), str(s, "period")) || !*str(a, "narrative"))
				continue;
			if (!any)
				buf_adds(b, "\n### Highlights\n\n");
			any = true;
			buf_adds(b, "- **");
			md(b, str(a, "title"));
			buf_adds(b, "**: ");
			md(b, str(a, "narrative"));
			buf_adds(b, "\n");
		}
		buf_adds(b, "\n");
		for (int f = 0; f < nfigs; f++)
			if (figs[f].pillar == json_integer_value(json_object_get(p, "number")))
				md_figure(b, &figs[f], html);
	}
	buf_adds(b, "## Key actions at risk or delayed\n\n");
	if (!json_array_size(json_object_get(s, "attention")))
		buf_adds(b, "None.\n\n");
	json_array_foreach(json_object_get(s, "attention"), i, a) {
		buf_printf(b, "- **Pillar %lld, ", json_integer_value(json_object_get(a, "pillar")));
		md(b, str(a, "title"));
		buf_printf(b, "** (%s, %lld%%): ", status_word(str(a, "status")),
			   json_integer_value(json_object_get(a, "percent")));
		md(b, *str(a, "narrative") ? str(a, "narrative") : "no narrative yet");
		buf_adds(b, "\n");
	}
	buf_adds(b, "\n## Reporting compliance\n\n| Lead entity | Expected | Reported | On time |\n"
		    "|---|---|---|---|\n");
	json_array_foreach(json_object_get(s, "entities"), i, v)
		buf_printf(b, "| %s | %lld | %lld | %lld |\n", str(v, "code"),
			   json_integer_value(json_object_get(v, "expected")),
			   json_integer_value(json_object_get(v, "reported")),
			   json_integer_value(json_object_get(v, "on_time")));
	md_compliance_list(b, s, "missing", "Not reported");
	md_compliance_list(b, s, "late", "Reported late");
	buf_adds(b, "\n## Trends\n\n");
	md_figure(b, &figs[1], html);
	md_figure(b, &figs[2], html);
	buf_adds(b, "## Annex: the data\n\nEvery key action in scope appears in the pillar tables"
		    " above; the CSV and JSON files of this report hold the same data.\n");
}

static void md_side_event(struct buf *b, json_t *s)
{
	json_t *ev = json_object_get(s, "event"), *p, *a;
	size_t i, k;

	buf_adds(b, "UN Network on Racial Discrimination and Protection of Minorities.\n\n");
	if (json_is_object(ev)) {
		buf_adds(b, "**");
		md(b, str(ev, "title"));
		buf_adds(b, "**  \n");
		md(b, str(ev, "date"));
		buf_adds(b, ", ");
		md(b, str(ev, "venue"));
		buf_adds(b, "\n\n");
	}
	buf_printf(b, "Progress of the Network's Work Plan (cycle %s) as of %s, as reported"
		      " publicly by the lead entities.\n\n", str(s, "cycle"), str(s, "period"));
	json_array_foreach(json_object_get(s, "pillars"), i, p) {
		buf_printf(b, "## Pillar %lld: ", json_integer_value(json_object_get(p, "number")));
		md(b, str(p, "name"));
		buf_adds(b, "\n\nLeads: ");
		md_list(b, json_object_get(p, "leads"));
		buf_adds(b, ".\n\n");
		if (!json_array_size(json_object_get(p, "actions")))
			buf_adds(b, "No public update yet.\n\n");
		json_array_foreach(json_object_get(p, "actions"), k, a) {
			buf_adds(b, "- **");
			md(b, str(a, "title"));
			buf_printf(b, "** (%s, %lld%%, %s): ", status_word(str(a, "status")),
				   json_integer_value(json_object_get(a, "percent")), str(a, "period"));
			md(b, str(a, "summary"));
			buf_adds(b, "\n");
		}
		buf_adds(b, "\n");
	}
}

/* One row per key action: the report's data for spreadsheets. */
static void csv_report(struct buf *b, json_t *s, bool quarterly)
{
	json_t *p, *a;
	size_t i, k;

	buf_adds(b, quarterly ? "pillar,pillar_name,action_id,title,leads,status,percent,last_update,narrative\r\n"
			      : "pillar,pillar_name,title,status,percent,period,public_summary\r\n");
	json_array_foreach(json_object_get(s, "pillars"), i, p) {
		json_array_foreach(json_object_get(p, "actions"), k, a) {
			char *leads = json_dumps(json_object_get(a, "leads"), JSON_COMPACT);

			buf_printf(b, "%lld,", json_integer_value(json_object_get(p, "number")));
			buf_csv(b, str(p, "name"), true);
			if (quarterly)
				buf_printf(b, ",%lld", json_integer_value(json_object_get(a, "id")));
			buf_adds(b, ",");
			buf_csv(b, str(a, "title"), true);
			if (quarterly) {
				buf_adds(b, ",");
				buf_csv(b, leads ? leads : "", false);
			}
			buf_printf(b, ",%s,%lld,", str(a, "status"),
				   json_integer_value(json_object_get(a, "percent")));
			buf_csv(b, str(a, quarterly ? "updated" : "period"), false);
			buf_adds(b, ",");
			buf_csv(b, str(a, quarterly ? "narrative" : "summary"), true);
			buf_adds(b, "\r\n");
			free(leads);
		}
	}
}

static const char print_css[] =
	"<style>\n"
	"@page { size: A4; margin: 18mm 16mm; }\n"
	"body { font-family: 'Noto Sans', 'Helvetica Neue', Arial, sans-serif; max-width: 60em;"
	" margin: auto; color: #222; line-height: 1.45; }\n"
	"table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1em; font-size: 0.9em; }\n"
	"th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }\n"
	"th { background: #eef2f6; }\n"
	"figure { margin: 1em 0; page-break-inside: avoid; } figure svg { width: 100%; height: auto; }\n"
	"figcaption { font-size: 0.85em; color: #555; }\n"
	"h2 { page-break-after: avoid; border-bottom: 1px solid #ccc; }\n"
	"tr { page-break-inside: avoid; }\n"
	"</style>\n";

static bool write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[160];
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

/* Runs pandoc on markdown in dir; the output in *res. */
static int pandoc(const char *dir, const char *to, const char *title, const char *markdown,
		  size_t len, struct child_result *res, char *err, size_t n)
{
	char meta[200], header[160], home[160], why[64], refdoc[200];
	/* no raw HTML or TeX from the text; our own charts come in as raw
	 * attribute blocks (```{=html}), for HTML only */
	const char *argv[] = { "/usr/bin/pandoc", "--from",
			       "markdown-raw_html-raw_tex-tex_math_dollars-citations-smart-implicit_figures",
			       "--to", to, "--standalone", "--metadata", meta, "--resource-path", dir,
			       "--include-in-header", header, "--wrap=none", "--output", "-",
			       NULL, NULL, NULL };
	const char *env[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", home, NULL };
	struct child_opts o = { .argv = argv, .envp = env, .cwd = dir, .input = markdown,
				.input_len = len, .timeout_ms = 60000, .max_out = FILE_MAX };
	int fd;

	snprintf(meta, sizeof meta, "title=%s", title);
	snprintf(header, sizeof header, "%s/print.css.html", dir);
	snprintf(home, sizeof home, "HOME=%s", dir);
	if (strcmp(to, "html5"))
		argv[2] = "markdown-raw_html-raw_tex-raw_attribute-tex_math_dollars-citations-smart-implicit_figures";
	fd = open(header, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, print_css, strlen(print_css)) != (ssize_t)strlen(print_css)) {
		if (fd >= 0)
			close(fd);
		snprintf(err, n, "cannot write the style sheet");
		return -1;
	}
	close(fd);
	if (!strcmp(to, "docx")) {
		/* our Word styles: Noto Sans, headings in blue (workers/reference.docx) */
		const struct embedded_file *ref = NULL;

		for (const struct embedded_file *f = embedded_files; f->path; f++)
			if (!strcmp(f->path, "workers/reference.docx"))
				ref = f;
		snprintf(refdoc, sizeof refdoc, "--reference-doc=%s/reference.docx", dir);
		if (!ref || !write_file(dir, "reference.docx", ref->data, ref->size)) {
			snprintf(err, n, "cannot write the Word reference document");
			return -1;
		}
		argv[15] = refdoc;
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
static int store(struct worker *w, const char *report, const char *format, const char *name,
		 const char *media, const char *bytes, size_t len, char *err, size_t n)
{
	unsigned char key[SHA256_LEN];
	char keyhex[2 * SHA256_LEN + 1], *what = xasprintf("report %s %s", report, name);
	PGresult *r;

	/* a report's file is named by the report and the file: frozen once stored */
	sha256(what, strlen(what), key);
	free(what);
	sha256_hex(key, keyhex);
	if (artifact_put(w->db, key, media, bytes, len, w->job->id) != DB_OK ||
	    db_query(w->db, &stmt_report_file, 4, (const char *const[]){ report, format, name, keyhex },
		     &r) != DB_OK) {
		snprintf(err, n, "cannot store %s: %s", name, db_error(w->db));
		return -1;
	}
	PQclear(r);
	return 0;
}

static void draw_figures(struct worker *w, struct figure *figs, int nfigs, const char *cycle,
			 const char *dir)
{
	for (int i = 0; i < nfigs; i++) {
		struct figure *f = &figs[i];
		const struct chart_kind *k = chart_kind_find(f->kind);
		char *data = NULL, err[256], per[PERIOD_STRLEN];
		struct child_result svg, png;
		json_t *params = json_object(), *dj;

		if (chart_fetch(w->db, k, f->a, f->b, cycle, f->pillar, &data) != DB_OK)
			continue;
		dj = json_loads(data, 0, NULL);
		if (!strcmp(f->kind, "status-by-pillar")) {
			period_format(f->a, per);
			json_object_set_new(params, "as_of", json_string(per));
		} else {
			period_format(f->a, per);
			json_object_set_new(params, "from", json_string(per));
			period_format(f->b, per);
			json_object_set_new(params, "to", json_string(per));
			if (f->pillar)
				json_object_set_new(params, "pillar", json_integer(f->pillar));
		}
		if (chart_draw(w, k, CHART_SVG, params, dj, &svg, err, sizeof err) == 0) {
			if (chart_draw(w, k, CHART_PNG, params, dj, &png, err, sizeof err) == 0) {
				char *start = strstr(svg.out, "<svg");
				char file[64];

				f->svg = xstrdup(start ? start : svg.out);
				snprintf(file, sizeof file, "%s.png", f->name);
				f->drawn = write_file(dir, file, png.out, png.out_len);
				child_result_free(&png);
			}
			child_result_free(&svg);
		}
		if (!f->drawn)
			log_warn("report chart %s left out: %s", f->name, err);
		json_decref(params);
		json_decref(dj);
		free(data);
		worker_tick(w);
	}
}

int job_build_report(struct worker *w, char *err, size_t n)
{
	json_int_t id = json_integer_value(json_object_get(w->job->payload, "report"));
	char report[24], dir[] = "/tmp/workplan-report-XXXXXX", title[120], stem[64], per[PERIOD_STRLEN],
	     jobid[24];
	struct figure figs[12];
	int nfigs = 0, p, first, rc = -1;
	bool quarterly;
	json_t *snap = NULL, *pl;
	const char *formats;
	struct buf mdhtml, mddocx, csv;
	PGresult *r;
	size_t i;

	snprintf(report, sizeof report, "%lld", (long long)id);
	snprintf(jobid, sizeof jobid, "%lld", w->job->id);
	memset(figs, 0, sizeof figs);
	buf_init(&mdhtml, FILE_MAX);
	buf_init(&mddocx, FILE_MAX);
	buf_init(&csv, FILE_MAX);
	if (db_query(w->db, &stmt_report_load, 1, (const char *const[]){ report }, &r) != DB_OK ||
	    PQntuples(r) != 1) {
		if (r)
			PQclear(r);
		snprintf(err, n, "report %s is missing", report);
		return -1;
	}
	quarterly = !strcmp(PQgetvalue(r, 0, 0), "quarterly");
	p = atoi(PQgetvalue(r, 0, 1));
	first = atoi(PQgetvalue(r, 0, 5));
	formats = xstrdup(PQgetvalue(r, 0, 3));
	snap = json_loads(PQgetvalue(r, 0, 4), 0, NULL);
	PQclear(r);
	{
		PGresult *u;

		if (db_query(w->db, &stmt_report_running, 1, (const char *const[]){ report }, &u) == DB_OK)
			PQclear(u);
	}
	period_format(p, per);
	snprintf(title, sizeof title, quarterly ? "Quarterly progress report, %s"
						: "Side-event pack: the Network's progress, %s", per);
	snprintf(stem, sizeof stem, "%s-%s-%s", quarterly ? "quarterly" : "side-event", per, report);
	if (!snap || !mkdtemp(dir)) {
		snprintf(err, n, "cannot prepare the report");
		goto out;
	}
	if (quarterly) {
		const char *cycle = str(snap, "cycle");

		figs[nfigs++] = (struct figure){ .kind = "status-by-pillar", .a = p,
						 .caption = "Status of key actions by pillar", .name = "status" };
		figs[nfigs++] = (struct figure){ .kind = "progress-trend", .a = first, .b = p,
						 .caption = "Mean percent complete by pillar, quarter by quarter",
						 .name = "trend" };
		figs[nfigs++] = (struct figure){ .kind = "reporting-heatmap", .a = first, .b = p,
						 .caption = "Share of expected key actions reported on time",
						 .name = "heatmap" };
		json_array_foreach(json_object_get(snap, "pillars"), i, pl) {
			if (nfigs < 12 && json_array_size(json_object_get(pl, "actions"))) {
				struct figure *f = &figs[nfigs++];

				*f = (struct figure){ .kind = "pillar-burnup", .a = first, .b = p,
						      .pillar = (int)json_integer_value(json_object_get(pl, "number")),
						      .caption = "Key actions planned and completed" };
				snprintf(f->name, sizeof f->name, "burnup-%d", f->pillar);
			}
		}
		draw_figures(w, figs, nfigs, cycle, dir);
	}
	/* the two Markdown sources differ only in how charts appear */
	for (int html = 0; html < 2; html++) {
		struct buf *b = html ? &mdhtml : &mddocx;

		if (quarterly)
			md_quarterly(b, snap, figs, nfigs, html);
		else
			md_side_event(b, snap);
	}
	csv_report(&csv, snap, quarterly);
	/* formats is a PostgreSQL array literal of known words: {html,md,...} */
	if (strstr(formats, "json")) {
		char *j = json_dumps(snap, JSON_INDENT(1) | JSON_ENSURE_ASCII), name[80];

		snprintf(name, sizeof name, "%s.json", stem);
		if (store(w, report, "json", name, "application/json", j, strlen(j), err, n)) {
			free(j);
			goto clean;
		}
		free(j);
	}
	if (strstr(formats, "md")) {
		char name[80], *doc = xasprintf("# %s\n\n%s", title, mddocx.data);

		snprintf(name, sizeof name, "%s.md", stem);
		rc = store(w, report, "md", name, "text/markdown; charset=utf-8", doc, strlen(doc), err, n);
		free(doc);
		if (rc)
			goto clean;
		rc = -1;
	}
	if (strstr(formats, "csv")) {
		char name[80];

		snprintf(name, sizeof name, "%s.csv", stem);
		if (store(w, report, "csv", name, "text/csv; charset=utf-8", csv.data, csv.len, err, n))
			goto clean;
	}
	for (int k = 0; k < 2; k++) {
		const char *fmt = k ? "docx" : "html";
		struct child_result res;
		char name[80];

		if (!strstr(formats, fmt))
			continue;
		if (pandoc(dir, k ? "docx" : "html5", title, k ? mddocx.data : mdhtml.data,
			   k ? mddocx.len : mdhtml.len, &res, err, n))
			goto clean;
		snprintf(name, sizeof name, "%s.%s", stem, fmt);
		rc = store(w, report, fmt, name,
			   k ? "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
			     : "text/html; charset=utf-8",
			   res.out, res.out_len, err, n);
		child_result_free(&res);
		if (rc)
			goto clean;
		rc = -1;
		worker_tick(w);
	}
	if (db_query(w->db, &stmt_report_done, 1, (const char *const[]){ report }, &r) == DB_OK) {
		PQclear(r);
		rc = 0;
	}
clean:
	for (int f = 0; f < nfigs; f++) {
		char path[160];

		snprintf(path, sizeof path, "%s/%s.png", dir, figs[f].name);
		unlink(path);
	}
	{
		char path[160];

		snprintf(path, sizeof path, "%s/print.css.html", dir);
		unlink(path);
		snprintf(path, sizeof path, "%s/reference.docx", dir);
		unlink(path);
	}
	rmdir(dir);
out:
	if (rc && db_query(w->db, &stmt_report_failed, 3, (const char *const[]){ report, err, jobid }, &r) == DB_OK)
		PQclear(r);
	for (int f = 0; f < nfigs; f++)
		free(figs[f].svg);
	json_decref(snap);
	free((char *)formats);
	buf_free(&mdhtml);
	buf_free(&mddocx);
	buf_free(&csv);
	return rc;
}
