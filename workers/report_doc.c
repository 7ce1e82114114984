/* The report as Markdown and CSV, written from its snapshot (SPEC section 7).
 *
 * Three documents: the internal quarterly report (narratives, compliance),
 * the public quarterly report and the side-event pack (public updates and
 * their public summaries only; the snapshot holds nothing else).
 *
 * Text from the database is escaped for Markdown character by character
 * (every ASCII punctuation mark gets a backslash), so it can never become a
 * link, an image, raw HTML or a file include. For the HTML page, tables
 * and charts are raw HTML blocks we write ourselves: database text in them
 * is escaped for HTML and kept on one line, so it cannot end the block. */
#include "embedded.h"
#include "mail.h"
#include "report.h"
#include "util.h"
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *report_catalogue(const char *language)
{
	char path[64];

	snprintf(path, sizeof path, "web/i18n/%s.json",
		 vocab_find(language_names, language) >= 0 ? language : "en");
	for (const struct embedded_file *f = embedded_files; f->path; f++)
		if (!strcmp(f->path, path))
			return json_loadb(f->data, f->size, 0, NULL);
	return NULL;
}

const char *report_text(const struct report_doc *d, const char *key)
{
	const char *s = json_string_value(json_object_get(d->text, key));

	return s ? s : key;
}

void report_textf(struct buf *b, const struct report_doc *d, const char *key, const json_t *vars)
{
	mail_fill(report_text(d, key), vars, b);
}

/* A status as words inside a sentence ("on track"). */
static const char *status_text(const struct report_doc *d, const char *status)
{
	char key[48];

	if (vocab_find(status_names, status) < 0)
		return status ? status : "";
	snprintf(key, sizeof key, "report.status.%s", status);
	return report_text(d, key);
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static long long num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
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

/* Database text inside our raw HTML: escaped, on one line. */
static void html(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		char one[2] = { *s, '\0' };

		if (c == '\n' || c == '\r' || c == '\t')
			buf_adds(b, " ");
		else if (c >= 0x20 && c != 0x7F)
			buf_html(b, one);
	}
}

/* A list of JSON strings (entity codes) as "A, B"; caller frees. */
static char *list_text(const struct report_doc *d, json_t *arr)
{
	struct buf b;
	json_t *v;
	size_t i;

	buf_init(&b, 1 << 16);
	json_array_foreach(arr, i, v) {
		buf_adds(&b, i ? ", " : "");
		buf_adds(&b, json_string_value(v));
	}
	if (!json_array_size(arr))
		buf_adds(&b, report_text(d, "report.none"));
	return buf_steal(&b, NULL);
}

/* Tables: pipe tables for Markdown and Word (the separator's dashes set
 * Word's column widths when a line is long), HTML with th scope for the
 * page. The first cell of each row heads that row. */
struct table {
	struct buf *b;
	enum report_target t;
};

static void table_begin(struct table *tb, struct buf *b, enum report_target t, const char *const *heads,
			const char *rule)
{
	*tb = (struct table){ .b = b, .t = t };
	if (t == REPORT_HTML) {
		buf_adds(b, "\n```{=html}\n<table>\n<thead>\n<tr>");
		for (; *heads; heads++) {
			buf_adds(b, "<th scope=\"col\">");
			html(b, *heads);
			buf_adds(b, "</th>");
		}
		buf_adds(b, "</tr>\n</thead>\n<tbody>\n");
	} else {
		buf_adds(b, "\n|");
		for (; *heads; heads++) {
			buf_adds(b, " ");
			md(b, *heads);
			buf_adds(b, " |");
		}
		buf_printf(b, "\n%s\n", rule);
	}
}

static void table_row(struct table *tb, const char *const *cells)
{
	struct buf *b = tb->b;

	if (tb->t == REPORT_HTML) {
		buf_adds(b, "<tr>");
		for (int i = 0; cells[i]; i++) {
			buf_adds(b, i ? "<td>" : "<th scope=\"row\">");
			html(b, cells[i]);
			buf_adds(b, i ? "</td>" : "</th>");
		}
		buf_adds(b, "</tr>\n");
	} else {
		buf_adds(b, "|");
		for (int i = 0; cells[i]; i++) {
			buf_adds(b, " ");
			md(b, cells[i]);
			buf_adds(b, " |");
		}
		buf_adds(b, "\n");
	}
}

static void table_end(struct table *tb)
{
	buf_adds(tb->b, tb->t == REPORT_HTML ? "</tbody>\n</table>\n```\n\n" : "\n");
}

static const struct figure *figure_of(const struct report_doc *d, const char *kind, int pillar)
{
	for (int i = 0; i < d->nfigs; i++)
		if (!strcmp(d->figs[i].kind, kind) && d->figs[i].pillar == pillar)
			return &d->figs[i];
	return NULL;
}

static void md_figure(struct buf *b, const struct figure *f, enum report_target t)
{
	if (!f || !f->drawn)
		return;
	if (t == REPORT_HTML) {
		buf_adds(b, "\n```{=html}\n<figure>");
		buf_adds(b, f->svg);
		buf_adds(b, "<figcaption>");
		html(b, f->caption);
		buf_adds(b, "</figcaption></figure>\n```\n\n");
	} else {
		/* a PNG file of the report, next to the .md file (and in pandoc's
		 * folder for the Word file) */
		buf_adds(b, "\n![");
		md(b, f->caption);
		buf_printf(b, "](%s.png)\n\n", f->name);
	}
}

static void md_cochairs(struct buf *b, const struct report_doc *d, json_t *s)
{
	json_t *v;
	size_t i;

	buf_printf(b, "## %s\n\n", report_text(d, "report.cochairs"));
	json_array_foreach(json_object_get(s, "cochairs"), i, v) {
		char key[48];

		snprintf(key, sizeof key, "report.cochair.%s", str(v, "kind"));
		buf_adds(b, "- ");
		md(b, str(v, "name"));
		buf_adds(b, " (");
		md(b, report_text(d, key));
		buf_adds(b, ")\n");
	}
	if (!json_array_size(json_object_get(s, "cochairs")))
		buf_printf(b, "%s\n", report_text(d, "report.none_recorded"));
	buf_adds(b, "\n");
}

/* The headline figures, one per row: eight columns do not fit a page of
 * A4 in Word, whose narrow cells break words mid-word. */
static void md_headline(struct buf *b, const struct report_doc *d, enum report_target t)
{
	json_t *tot = json_object_get(d->snap, "totals");
	char v[8][32];
	const char *const keys[] = { "actions", "completed", "at_risk", "delayed", "mean_percent", "expected",
				     "reported", "on_time" };
	struct table tb;

	buf_printf(b, "## %s\n", report_text(d, "report.headline"));
	table_begin(&tb, b, t,
		    (const char *const[]){ report_text(d, "report.col.measure"), report_text(d, "report.col.value"),
					   NULL },
		    "|---------------|------|");
	for (int i = 0; i < (d->public ? 5 : 8); i++) {
		char label[48];

		if (strcmp(keys[i], "mean_percent"))
			snprintf(v[i], sizeof v[i], "%lld", num(tot, keys[i]));
		else
			snprintf(v[i], sizeof v[i], "%.1f", json_number_value(json_object_get(tot, keys[i])));
		snprintf(label, sizeof label, "report.total.%s", keys[i]);
		table_row(&tb, (const char *const[]){ report_text(d, label), v[i], NULL });
	}
	table_end(&tb);
}

/* "Pillar 3" */
static void pillar_words(struct buf *b, const struct report_doc *d, long long number)
{
	json_t *vars = json_pack("{s:I}", "number", (json_int_t)number);

	report_textf(b, d, "report.pillar", vars);
	json_decref(vars);
}

static void md_pillar_heading(struct buf *b, const struct report_doc *d, json_t *p)
{
	char *leads = list_text(d, json_object_get(p, "leads"));
	struct buf name;
	json_t *vars;

	buf_init(&name, 1 << 16);
	md(&name, str(p, "name"));
	vars = json_pack("{s:I, s:s}", "number", (json_int_t)num(p, "number"), "name", name.data ? name.data : "");
	buf_adds(b, "## ");
	report_textf(b, d, "report.pillar_heading", vars);
	json_decref(vars);
	buf_free(&name);
	buf_printf(b, "\n\n%s ", report_text(d, "report.leads"));
	md(b, leads);
	buf_adds(b, ".");
	if (!strcmp(str(p, "status"), "inactive")) {
		buf_printf(b, " %s ", report_text(d, "report.inactive"));
		md(b, str(p, "inactive_reason"));
	}
	buf_adds(b, "\n\n");
	free(leads);
}

/* Internal: every key action with its state, then this quarter's narratives. */
static void md_pillar_actions(struct buf *b, const struct report_doc *d, json_t *s, json_t *p,
			      enum report_target t)
{
	json_t *acts = json_object_get(p, "actions"), *a;
	struct table tb;
	bool any = false;
	size_t k;

	if (!json_array_size(acts)) {
		buf_printf(b, "%s\n\n", report_text(d, "report.no_actions"));
		return;
	}
	/* the dashes set the column widths in Word: the title gets half */
	table_begin(&tb, b, t,
		    (const char *const[]){ report_text(d, "report.col.action"), report_text(d, "report.col.leads"),
					   report_text(d, "report.col.status"), report_text(d, "report.col.percent"),
					   report_text(d, "report.col.last_update"), NULL },
		    "|------------------------------------|--------------|-----------|-----|-----------|");
	json_array_foreach(acts, k, a) {
		char *leads = list_text(d, json_object_get(a, "leads")), pct[16];

		snprintf(pct, sizeof pct, "%lld", num(a, "percent"));
		table_row(&tb, (const char *const[]){ str(a, "title"), leads, status_text(d, str(a, "status")), pct,
						      *str(a, "updated") ? str(a, "updated")
									 : report_text(d, "report.none"),
						      NULL });
		free(leads);
	}
	table_end(&tb);
	json_array_foreach(acts, k, a) {
		if (strcmp(str(a, "updated"), str(s, "period")) || !*str(a, "narrative"))
			continue;
		if (!any)
			buf_printf(b, "### %s\n\n", report_text(d, "report.highlights"));
		any = true;
		buf_adds(b, "- **");
		md(b, str(a, "title"));
		buf_adds(b, "**: ");
		md(b, str(a, "narrative"));
		buf_adds(b, "\n");
	}
	buf_adds(b, "\n");
}

/* Public: the key actions with a public update, and its public summary. */
static void md_public_actions(struct buf *b, const struct report_doc *d, json_t *p)
{
	json_t *a;
	size_t k;

	if (!json_array_size(json_object_get(p, "actions")))
		buf_printf(b, "%s\n\n", report_text(d, "report.no_public_update"));
	json_array_foreach(json_object_get(p, "actions"), k, a) {
		buf_adds(b, "- **");
		md(b, str(a, "title"));
		buf_printf(b, "** (%s, %lld%%, %s): ", status_text(d, str(a, "status")), num(a, "percent"),
			   str(a, "period"));
		md(b, str(a, "summary"));
		buf_adds(b, "\n");
	}
	buf_adds(b, "\n");
}

static void md_attention(struct buf *b, const struct report_doc *d, json_t *s)
{
	json_t *a;
	size_t i;

	buf_printf(b, "## %s\n\n", report_text(d, "report.attention"));
	if (!json_array_size(json_object_get(s, "attention")))
		buf_printf(b, "%s\n\n", report_text(d, "report.none_sentence"));
	json_array_foreach(json_object_get(s, "attention"), i, a) {
		buf_adds(b, "- **");
		pillar_words(b, d, num(a, "pillar"));
		buf_adds(b, ", ");
		md(b, str(a, "title"));
		buf_printf(b, "** (%s, %lld%%): ", status_text(d, str(a, "status")), num(a, "percent"));
		md(b, *str(a, "narrative") ? str(a, "narrative") : report_text(d, "report.no_narrative"));
		buf_adds(b, "\n");
	}
	buf_adds(b, "\n");
}

/* The actions of every pillar's list (missing, late), under a heading. */
static void md_compliance_list(struct buf *b, const struct report_doc *d, json_t *s, const char *list,
			       const char *heading)
{
	json_t *p, *a;
	size_t i, k;
	bool any = false;

	buf_printf(b, "\n### %s\n\n", report_text(d, heading));
	json_array_foreach(json_object_get(s, "pillars"), i, p) {
		json_array_foreach(json_object_get(p, list), k, a) {
			char *leads = list_text(d, json_object_get(a, "leads"));

			buf_adds(b, "- ");
			md(b, str(a, "title"));
			buf_adds(b, " (");
			md(b, leads);
			buf_adds(b, ")\n");
			any = true;
			free(leads);
		}
	}
	if (!any)
		buf_printf(b, "%s\n", report_text(d, "report.none_sentence"));
}

static void md_compliance(struct buf *b, const struct report_doc *d, json_t *s, enum report_target t)
{
	struct table tb;
	json_t *v;
	size_t i;

	buf_printf(b, "## %s\n", report_text(d, "report.compliance"));
	table_begin(&tb, b, t,
		    (const char *const[]){ report_text(d, "report.col.entity"), report_text(d, "report.col.expected"),
					   report_text(d, "report.col.reported"), report_text(d, "report.col.on_time"),
					   NULL },
		    "|---|---|---|---|");
	json_array_foreach(json_object_get(s, "entities"), i, v) {
		char e[24], r[24], o[24];

		snprintf(e, sizeof e, "%lld", num(v, "expected"));
		snprintf(r, sizeof r, "%lld", num(v, "reported"));
		snprintf(o, sizeof o, "%lld", num(v, "on_time"));
		table_row(&tb, (const char *const[]){ str(v, "code"), e, r, o, NULL });
	}
	table_end(&tb);
	md_compliance_list(b, d, s, "missing", "report.not_reported");
	md_compliance_list(b, d, s, "late", "report.reported_late");
	buf_adds(b, "\n");
}

static void md_quarterly(struct buf *b, const struct report_doc *d, enum report_target t)
{
	json_t *s = d->snap, *p;
	size_t i;

	json_t *vars = json_pack("{s:s, s:s, s:s}", "cycle", str(s, "cycle"), "period", str(s, "period"),
				 "deadline", str(s, "deadline"));

	buf_printf(b, "%s ", report_text(d, "report.network"));
	report_textf(b, d, "report.intro", vars);
	buf_adds(b, "\n\n");
	json_decref(vars);
	if (d->public)
		buf_printf(b, "%s\n\n", report_text(d, "report.public_note"));
	md_cochairs(b, d, s);
	md_headline(b, d, t);
	md_figure(b, figure_of(d, "status-by-pillar", 0), t);
	json_array_foreach(json_object_get(s, "pillars"), i, p) {
		md_pillar_heading(b, d, p);
		if (d->public)
			md_public_actions(b, d, p);
		else
			md_pillar_actions(b, d, s, p, t);
		md_figure(b, figure_of(d, "pillar-burnup", (int)num(p, "number")), t);
	}
	if (!d->public) {
		md_attention(b, d, s);
		md_compliance(b, d, s, t);
	}
	buf_printf(b, "## %s\n\n", report_text(d, "report.trends"));
	md_figure(b, figure_of(d, "progress-trend", 0), t);
	md_figure(b, figure_of(d, "reporting-heatmap", 0), t);
	buf_printf(b, "## %s\n\n%s\n", report_text(d, "report.annex"),
		   report_text(d, d->public ? "report.annex.public" : "report.annex.internal"));
}

static void md_side_event(struct buf *b, const struct report_doc *d)
{
	json_t *s = d->snap, *ev = json_object_get(s, "event"), *p, *vars;
	size_t i;

	buf_printf(b, "%s\n\n", report_text(d, "report.network"));
	if (json_is_object(ev)) {
		buf_adds(b, "**");
		md(b, str(ev, "title"));
		buf_adds(b, "**  \n");
		md(b, str(ev, "date"));
		buf_adds(b, ", ");
		md(b, str(ev, "venue"));
		buf_adds(b, "\n\n");
	}
	vars = json_pack("{s:s, s:s}", "cycle", str(s, "cycle"), "period", str(s, "period"));
	report_textf(b, d, "report.side_event_intro", vars);
	buf_adds(b, "\n\n");
	json_decref(vars);
	json_array_foreach(json_object_get(s, "pillars"), i, p) {
		md_pillar_heading(b, d, p);
		md_public_actions(b, d, p);
	}
}

/* A value of a vocabulary in the report's language: the catalogue's
 * report.<vocabulary>.<value>, else the value as words ("partly_accepted"
 * -> "partly accepted"); country and language codes stay codes. */
static const char *value_text(const struct report_doc *d, const char *vocabulary, const char *value,
			      char *out, size_t n)
{
	char key[96];
	const char *s;

	snprintf(key, sizeof key, "report.%s.%s", vocabulary, value);
	s = json_string_value(json_object_get(d->text, key));
	snprintf(out, n, "%s", s ? s : value);
	for (char *p = out; !s && *p; p++)
		if (*p == '_')
			*p = ' ';
	return out;
}

/* counts: [{"value":v,"inputs":n}] as a table of two columns. */
static void md_counts(struct buf *b, const struct report_doc *d, json_t *counts, const char *vocabulary,
		      const char *head, enum report_target t)
{
	struct table tb;
	json_t *v;
	size_t i;

	if (!json_array_size(counts)) {
		buf_printf(b, "\n%s\n\n", report_text(d, "report.none_sentence"));
		return;
	}
	table_begin(&tb, b, t, (const char *const[]){ report_text(d, head), report_text(d, "report.col.inputs"), NULL },
		    "|--------------------|------|");
	json_array_foreach(counts, i, v) {
		char n[24], w[128];

		snprintf(n, sizeof n, "%lld", num(v, "inputs"));
		table_row(&tb, (const char *const[]){ value_text(d, vocabulary, str(v, "value"), w, sizeof w), n,
						      NULL });
	}
	table_end(&tb);
}

/* Each input of a list: its title, state and public answer, and the key
 * actions it led to. */
static void md_inputs(struct buf *b, const struct report_doc *d, json_t *inputs)
{
	json_t *in, *a;
	size_t i, k;
	char w[128];

	json_array_foreach(inputs, i, in) {
		buf_adds(b, "- **");
		md(b, str(in, "title"));
		buf_printf(b, "** (%s)", value_text(d, "input_state", str(in, "state"), w, sizeof w));
		if (*str(in, "public_answer")) {
			buf_adds(b, ": ");
			md(b, str(in, "public_answer"));
		}
		json_array_foreach(json_object_get(in, "actions"), k, a) {
			if (!k)
				buf_printf(b, " %s ", report_text(d, "report.consultation.led_to"));
			else
				buf_adds(b, "; ");
			md(b, str(a, "title"));
		}
		buf_adds(b, "\n");
	}
	buf_adds(b, "\n");
}

/* A call's inputs: counts, then by pillar with their state and public
 * answer, then the key actions they led to. Nothing of who sent them is
 * in the snapshot but their type, language and country. */
static void md_consultation(struct buf *b, const struct report_doc *d, enum report_target t)
{
	json_t *s = d->snap, *c = json_object_get(s, "consultation"), *p, *a, *v, *vars;
	const char *key;
	struct buf title;
	struct table tb;
	size_t i;

	buf_init(&title, 1 << 16);
	md(&title, str(c, "title"));
	vars = json_pack("{s:s, s:s, s:s, s:I}", "title", title.data ? title.data : "", "opens",
			 str(c, "opens_at"), "closes", str(c, "closes_at"), "inputs", (json_int_t)num(s, "inputs"));
	buf_printf(b, "%s ", report_text(d, "report.network"));
	report_textf(b, d, "report.consultation.intro", vars);
	json_decref(vars);
	buf_free(&title);
	buf_printf(b, "\n\n## %s\n", report_text(d, "report.consultation.by_state"));
	table_begin(&tb, b, t,
		    (const char *const[]){ report_text(d, "report.col.state"), report_text(d, "report.col.inputs"),
					   NULL },
		    "|--------------------|------|");
	json_object_foreach(json_object_get(s, "by_state"), key, v) {
		char n[24], w[128];

		snprintf(n, sizeof n, "%lld", (long long)json_integer_value(v));
		table_row(&tb, (const char *const[]){ value_text(d, "input_state", key, w, sizeof w), n, NULL });
	}
	table_end(&tb);
	buf_printf(b, "## %s\n\n### %s\n", report_text(d, "report.consultation.who"),
		   report_text(d, "report.consultation.by_type"));
	md_counts(b, d, json_object_get(s, "by_contributor_type"), "contributor", "report.col.contributor_type", t);
	buf_printf(b, "### %s\n", report_text(d, "report.consultation.by_language"));
	md_counts(b, d, json_object_get(s, "by_language"), "language", "report.col.language", t);
	buf_printf(b, "### %s\n", report_text(d, "report.consultation.by_country"));
	md_counts(b, d, json_object_get(s, "by_country"), "country", "report.col.country", t);
	json_array_foreach(json_object_get(s, "pillars"), i, p) {
		struct buf name;

		buf_init(&name, 1 << 16);
		md(&name, str(p, "name"));
		vars = json_pack("{s:I, s:s}", "number", (json_int_t)num(p, "number"), "name",
				 name.data ? name.data : "");
		buf_adds(b, "## ");
		report_textf(b, d, "report.pillar_heading", vars);
		buf_adds(b, "\n\n");
		json_decref(vars);
		buf_free(&name);
		md_inputs(b, d, json_object_get(p, "inputs"));
	}
	if (json_array_size(json_object_get(s, "unassigned"))) {
		buf_printf(b, "## %s\n\n", report_text(d, "report.consultation.unassigned"));
		md_inputs(b, d, json_object_get(s, "unassigned"));
	}
	buf_printf(b, "## %s\n", report_text(d, "report.consultation.actions"));
	if (!json_array_size(json_object_get(s, "actions")))
		buf_printf(b, "\n%s\n\n", report_text(d, "report.consultation.none_yet"));
	else {
		table_begin(&tb, b, t,
			    (const char *const[]){ report_text(d, "report.col.action"),
						   report_text(d, "report.col.pillar"),
						   report_text(d, "report.col.inputs"), NULL },
			    "|------------------------------------|------|------|");
		json_array_foreach(json_object_get(s, "actions"), i, a) {
			char pillar[24], n[24];

			snprintf(pillar, sizeof pillar, "%lld", num(a, "pillar"));
			snprintf(n, sizeof n, "%lld", num(a, "inputs"));
			table_row(&tb, (const char *const[]){ str(a, "title"), pillar, n, NULL });
		}
		table_end(&tb);
	}
	buf_printf(b, "## %s\n\n%s\n", report_text(d, "report.annex"),
		   report_text(d, "report.consultation.annex"));
}

/* The rest of an input's row, after its pillar's cells. */
static void csv_input(struct buf *b, json_t *in)
{
	json_t *a;
	size_t k;

	buf_printf(b, ",%lld,", num(in, "id"));
	buf_csv(b, str(in, "title"), true);
	buf_printf(b, ",%s,", str(in, "state"));
	buf_csv(b, str(in, "public_answer"), true);
	buf_adds(b, ",");
	json_array_foreach(json_object_get(in, "actions"), k, a)
		buf_printf(b, "%s%lld", k ? ";" : "", num(a, "id"));
	buf_adds(b, "\r\n");
}

/* One row per input and pillar (an input of no pillar: one row, pillar empty). */
static void csv_consultation(struct buf *b, const struct report_doc *d)
{
	json_t *p, *in;
	size_t i;

	buf_adds(b, "pillar,pillar_name,input_id,title,state,public_answer,action_ids\r\n");
	json_array_foreach(json_object_get(d->snap, "pillars"), i, p)
		for (size_t k = 0; k < json_array_size(json_object_get(p, "inputs")); k++) {
			in = json_array_get(json_object_get(p, "inputs"), k);
			buf_printf(b, "%lld,", num(p, "number"));
			buf_csv(b, str(p, "name"), true);
			csv_input(b, in);
		}
	json_array_foreach(json_object_get(d->snap, "unassigned"), i, in) {
		buf_adds(b, ",");
		csv_input(b, in);
	}
}

void report_markdown(struct buf *b, const struct report_doc *d, enum report_target t)
{
	if (d->consultation)
		md_consultation(b, d, t);
	else if (d->quarterly)
		md_quarterly(b, d, t);
	else
		md_side_event(b, d);
}

void report_csv(struct buf *b, const struct report_doc *d)
{
	bool internal = !d->public;
	json_t *p, *a;
	size_t i, k;

	if (d->consultation) {
		csv_consultation(b, d);
		return;
	}
	buf_adds(b, internal ? "pillar,pillar_name,action_id,title,leads,status,percent,last_update,updated_at,narrative\r\n"
			     : "pillar,pillar_name,title,status,percent,period,updated_at,public_summary\r\n");
	json_array_foreach(json_object_get(d->snap, "pillars"), i, p) {
		json_array_foreach(json_object_get(p, "actions"), k, a) {
			buf_printf(b, "%lld,", num(p, "number"));
			buf_csv(b, str(p, "name"), true);
			if (internal)
				buf_printf(b, ",%lld", num(a, "id"));
			buf_adds(b, ",");
			buf_csv(b, str(a, "title"), true);
			if (internal) {
				char *leads = json_dumps(json_object_get(a, "leads"), JSON_COMPACT);

				buf_adds(b, ",");
				buf_csv(b, leads ? leads : "", false);
				free(leads);
			}
			buf_printf(b, ",%s,%lld,", str(a, "status"), num(a, "percent"));
			buf_csv(b, str(a, internal ? "updated" : "period"), false);
			buf_adds(b, ",");
			buf_csv(b, str(a, "updated_at"), false);
			buf_adds(b, ",");
			buf_csv(b, str(a, internal ? "narrative" : "summary"), true);
			buf_adds(b, "\r\n");
		}
	}
}
