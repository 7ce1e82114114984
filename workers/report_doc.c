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
#include "report.h"
#include "util.h"
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
static char *list_text(json_t *arr)
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
		buf_adds(&b, "none");
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

static void md_cochairs(struct buf *b, json_t *s)
{
	json_t *v;
	size_t i;

	buf_adds(b, "## Co-chairs in office\n\n");
	json_array_foreach(json_object_get(s, "cochairs"), i, v) {
		buf_adds(b, "- ");
		md(b, str(v, "name"));
		buf_printf(b, " (%s)\n", str(v, "kind"));
	}
	if (!json_array_size(json_object_get(s, "cochairs")))
		buf_adds(b, "None recorded.\n");
	buf_adds(b, "\n");
}

/* The headline figures, one per row: eight columns do not fit a page of
 * A4 in Word, whose narrow cells break words mid-word. */
static void md_headline(struct buf *b, const struct report_doc *d, enum report_target t)
{
	json_t *tot = json_object_get(d->snap, "totals");
	char v[8][32];
	const char *const labels[] = { "Key actions in scope", "Completed", "At risk", "Delayed",
				       "Mean percent complete", "Expected to report", "Reported",
				       "Reported on time" };
	const char *const keys[] = { "actions", "completed", "at_risk", "delayed", NULL, "expected",
				     "reported", "on_time" };
	struct table tb;

	buf_adds(b, "## Headline figures\n");
	table_begin(&tb, b, t, (const char *const[]){ "Measure", "Value", NULL }, "|---------------|------|");
	for (int i = 0; i < (d->public ? 5 : 8); i++) {
		if (keys[i])
			snprintf(v[i], sizeof v[i], "%lld", num(tot, keys[i]));
		else
			snprintf(v[i], sizeof v[i], "%.1f", json_number_value(json_object_get(tot, "mean_percent")));
		table_row(&tb, (const char *const[]){ labels[i], v[i], NULL });
	}
	table_end(&tb);
}

static void md_pillar_heading(struct buf *b, json_t *p)
{
	char *leads = list_text(json_object_get(p, "leads"));

	buf_printf(b, "## Pillar %lld: ", num(p, "number"));
	md(b, str(p, "name"));
	buf_adds(b, "\n\nLeads: ");
	md(b, leads);
	buf_adds(b, ".");
	if (!strcmp(str(p, "status"), "inactive")) {
		buf_adds(b, " Inactive: ");
		md(b, str(p, "inactive_reason"));
	}
	buf_adds(b, "\n\n");
	free(leads);
}

/* Internal: every key action with its state, then this quarter's narratives. */
static void md_pillar_actions(struct buf *b, json_t *s, json_t *p, enum report_target t)
{
	json_t *acts = json_object_get(p, "actions"), *a;
	struct table tb;
	bool any = false;
	size_t k;

	if (!json_array_size(acts)) {
		buf_adds(b, "No key actions in this cycle.\n\n");
		return;
	}
	/* the dashes set the column widths in Word: the title gets half */
	table_begin(&tb, b, t, (const char *const[]){ "Key action", "Leads", "Status", "%", "Last update", NULL },
		    "|------------------------------------|--------------|-----------|-----|-----------|");
	json_array_foreach(acts, k, a) {
		char *leads = list_text(json_object_get(a, "leads")), pct[16], words[STATUS_WORDS_MAX];

		snprintf(pct, sizeof pct, "%lld", num(a, "percent"));
		table_row(&tb, (const char *const[]){ str(a, "title"), leads,
						      status_words(str(a, "status"), words, false), pct,
						      *str(a, "updated") ? str(a, "updated") : "none", NULL });
		free(leads);
	}
	table_end(&tb);
	json_array_foreach(acts, k, a) {
		if (strcmp(str(a, "updated"), str(s, "period")) || !*str(a, "narrative"))
			continue;
		if (!any)
			buf_adds(b, "### Highlights\n\n");
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
static void md_public_actions(struct buf *b, json_t *p)
{
	json_t *a;
	char words[STATUS_WORDS_MAX];
	size_t k;

	if (!json_array_size(json_object_get(p, "actions")))
		buf_adds(b, "No public update yet.\n\n");
	json_array_foreach(json_object_get(p, "actions"), k, a) {
		buf_adds(b, "- **");
		md(b, str(a, "title"));
		buf_printf(b, "** (%s, %lld%%, %s): ", status_words(str(a, "status"), words, false),
			   num(a, "percent"),
			   str(a, "period"));
		md(b, str(a, "summary"));
		buf_adds(b, "\n");
	}
	buf_adds(b, "\n");
}

static void md_attention(struct buf *b, json_t *s)
{
	json_t *a;
	char words[STATUS_WORDS_MAX];
	size_t i;

	buf_adds(b, "## Key actions at risk or delayed\n\n");
	if (!json_array_size(json_object_get(s, "attention")))
		buf_adds(b, "None.\n\n");
	json_array_foreach(json_object_get(s, "attention"), i, a) {
		buf_printf(b, "- **Pillar %lld, ", num(a, "pillar"));
		md(b, str(a, "title"));
		buf_printf(b, "** (%s, %lld%%): ", status_words(str(a, "status"), words, false),
			   num(a, "percent"));
		md(b, *str(a, "narrative") ? str(a, "narrative") : "no narrative yet");
		buf_adds(b, "\n");
	}
	buf_adds(b, "\n");
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
			char *leads = list_text(json_object_get(a, "leads"));

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
		buf_adds(b, "None.\n");
}

static void md_compliance(struct buf *b, json_t *s, enum report_target t)
{
	struct table tb;
	json_t *v;
	size_t i;

	buf_adds(b, "## Reporting compliance\n");
	table_begin(&tb, b, t, (const char *const[]){ "Lead entity", "Expected", "Reported", "On time", NULL },
		    "|---|---|---|---|");
	json_array_foreach(json_object_get(s, "entities"), i, v) {
		char e[24], r[24], o[24];

		snprintf(e, sizeof e, "%lld", num(v, "expected"));
		snprintf(r, sizeof r, "%lld", num(v, "reported"));
		snprintf(o, sizeof o, "%lld", num(v, "on_time"));
		table_row(&tb, (const char *const[]){ str(v, "code"), e, r, o, NULL });
	}
	table_end(&tb);
	md_compliance_list(b, s, "missing", "Not reported");
	md_compliance_list(b, s, "late", "Reported late");
	buf_adds(b, "\n");
}

static void md_quarterly(struct buf *b, const struct report_doc *d, enum report_target t)
{
	json_t *s = d->snap, *p;
	size_t i;

	buf_printf(b, "UN Network on Racial Discrimination and Protection of Minorities. Work Plan"
		      " cycle %s. Reporting deadline for %s: %s.\n\n",
		   str(s, "cycle"), str(s, "period"), str(s, "deadline"));
	if (d->public)
		buf_adds(b, "The figures and charts count every key action in scope. Under each pillar"
			    " are the key actions whose lead entities made an update public, with its"
			    " public summary.\n\n");
	md_cochairs(b, s);
	md_headline(b, d, t);
	md_figure(b, figure_of(d, "status-by-pillar", 0), t);
	json_array_foreach(json_object_get(s, "pillars"), i, p) {
		md_pillar_heading(b, p);
		if (d->public)
			md_public_actions(b, p);
		else
			md_pillar_actions(b, s, p, t);
		md_figure(b, figure_of(d, "pillar-burnup", (int)num(p, "number")), t);
	}
	if (!d->public) {
		md_attention(b, s);
		md_compliance(b, s, t);
	}
	buf_adds(b, "## Trends\n\n");
	md_figure(b, figure_of(d, "progress-trend", 0), t);
	md_figure(b, figure_of(d, "reporting-heatmap", 0), t);
	buf_adds(b, d->public ? "## Annex: the data\n\nThe CSV and JSON files of this report hold the"
				" public updates listed above.\n"
			      : "## Annex: the data\n\nEvery key action in scope appears in the pillar tables"
				" above; the CSV and JSON files of this report hold the same data.\n");
}

static void md_side_event(struct buf *b, const struct report_doc *d)
{
	json_t *s = d->snap, *ev = json_object_get(s, "event"), *p;
	size_t i;

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
		md_pillar_heading(b, p);
		md_public_actions(b, p);
	}
}

/* A value of the vocabulary as words: "partly_accepted" -> "partly accepted". */
static const char *words_of(const char *value, char *out, size_t n)
{
	snprintf(out, n, "%s", value);
	for (char *p = out; *p; p++)
		if (*p == '_')
			*p = ' ';
	return out;
}

/* counts: [{"value":v,"inputs":n}] as a table of two columns. */
static void md_counts(struct buf *b, json_t *counts, const char *head, enum report_target t)
{
	struct table tb;
	json_t *v;
	size_t i;

	if (!json_array_size(counts)) {
		buf_adds(b, "\nNone.\n\n");
		return;
	}
	table_begin(&tb, b, t, (const char *const[]){ head, "Inputs", NULL }, "|--------------------|------|");
	json_array_foreach(counts, i, v) {
		char n[24], w[64];

		snprintf(n, sizeof n, "%lld", num(v, "inputs"));
		table_row(&tb, (const char *const[]){ words_of(str(v, "value"), w, sizeof w), n, NULL });
	}
	table_end(&tb);
}

/* Each input of a list: its title, state and public answer, and the key
 * actions it led to. */
static void md_inputs(struct buf *b, json_t *inputs)
{
	json_t *in, *a;
	size_t i, k;
	char w[32];

	json_array_foreach(inputs, i, in) {
		buf_adds(b, "- **");
		md(b, str(in, "title"));
		buf_printf(b, "** (%s)", words_of(str(in, "state"), w, sizeof w));
		if (*str(in, "public_answer")) {
			buf_adds(b, ": ");
			md(b, str(in, "public_answer"));
		}
		json_array_foreach(json_object_get(in, "actions"), k, a) {
			buf_adds(b, k ? "; " : " Key actions: ");
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
	json_t *s = d->snap, *c = json_object_get(s, "consultation"), *p, *a, *v;
	const char *key;
	struct table tb;
	size_t i;

	buf_adds(b, "UN Network on Racial Discrimination and Protection of Minorities. Call for inputs: **");
	md(b, str(c, "title"));
	buf_adds(b, "**, open from ");
	md(b, str(c, "opens_at"));
	buf_adds(b, " to ");
	md(b, str(c, "closes_at"));
	buf_printf(b, " (UTC). Inputs received: %lld.\n\n", num(s, "inputs"));
	buf_adds(b, "## Inputs by state\n");
	table_begin(&tb, b, t, (const char *const[]){ "State", "Inputs", NULL }, "|--------------------|------|");
	json_object_foreach(json_object_get(s, "by_state"), key, v) {
		char n[24], w[32];

		snprintf(n, sizeof n, "%lld", (long long)json_integer_value(v));
		table_row(&tb, (const char *const[]){ words_of(key, w, sizeof w), n, NULL });
	}
	table_end(&tb);
	buf_adds(b, "## Who sent inputs\n\n### By contributor type\n");
	md_counts(b, json_object_get(s, "by_contributor_type"), "Contributor type", t);
	buf_adds(b, "### By language\n");
	md_counts(b, json_object_get(s, "by_language"), "Language", t);
	buf_adds(b, "### By country\n");
	md_counts(b, json_object_get(s, "by_country"), "Country", t);
	json_array_foreach(json_object_get(s, "pillars"), i, p) {
		buf_printf(b, "## Pillar %lld: ", num(p, "number"));
		md(b, str(p, "name"));
		buf_adds(b, "\n\n");
		md_inputs(b, json_object_get(p, "inputs"));
	}
	if (json_array_size(json_object_get(s, "unassigned"))) {
		buf_adds(b, "## Inputs not assigned to a pillar\n\n");
		md_inputs(b, json_object_get(s, "unassigned"));
	}
	buf_adds(b, "## Key actions the inputs led to\n");
	if (!json_array_size(json_object_get(s, "actions")))
		buf_adds(b, "\nNone yet.\n\n");
	else {
		table_begin(&tb, b, t, (const char *const[]){ "Key action", "Pillar", "Inputs", NULL },
			    "|------------------------------------|------|------|");
		json_array_foreach(json_object_get(s, "actions"), i, a) {
			char pillar[24], n[24];

			snprintf(pillar, sizeof pillar, "%lld", num(a, "pillar"));
			snprintf(n, sizeof n, "%lld", num(a, "inputs"));
			table_row(&tb, (const char *const[]){ str(a, "title"), pillar, n, NULL });
		}
		table_end(&tb);
	}
	buf_adds(b, "## Annex: the data\n\nThe CSV and JSON files of this report hold the inputs listed"
		    " above, with their state, public answer and key actions.\n");
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
