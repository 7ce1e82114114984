/* The documents of a report (workers/report_doc.c): the Markdown that
 * pandoc turns into HTML and Word and that is itself the .md file, and the
 * CSV; written from the snapshot JSON for the build_report job. */
#ifndef WP_REPORT_H
#define WP_REPORT_H

#include "buf.h"

#include <jansson.h>
#include <stdbool.h>

struct figure {
	const char *kind;
	int a, b, pillar;
	const char *caption;
	char name[112];    /* the PNG file of the report: <stem>-<chart>.png */
	char *svg;         /* inline, prolog removed */
	bool drawn;
};

/* The .md file and the Word file show charts as the report's PNG files
 * and tables as pipe tables; the HTML page inlines charts as SVG and
 * writes its tables itself, so header cells carry their scope. */
enum report_target { REPORT_MD, REPORT_HTML };

struct report_doc {
	json_t *snap;            /* report_quarterly(), report_quarterly_public(), report_side_event(),
				  * report_consultation() */
	bool quarterly;
	bool consultation;       /* report_consultation(): a call's inputs and their outcome */
	bool public;             /* public summaries only */
	const struct figure *figs;
	int nfigs;
	json_t *text;            /* the catalogue of its language: report_catalogue() */
};

/* The web app's catalogue of language (web/i18n/<language>.json, en when
 * there is none), whose report.* texts are the report's fixed texts, as
 * the app shows them; caller json_decref's. */
json_t *report_catalogue(const char *language);
/* The catalogue's text for key ("report.headline"), or key itself. */
const char *report_text(const struct report_doc *d, const char *key);
/* That text with its {placeholders} filled from vars, appended to b. */
void report_textf(struct buf *b, const struct report_doc *d, const char *key, const json_t *vars);

void report_markdown(struct buf *b, const struct report_doc *d, enum report_target t);
/* One row per key action (a consultation report: per input and pillar). */
void report_csv(struct buf *b, const struct report_doc *d);

#endif
