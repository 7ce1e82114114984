/* Chart kinds, shared by the API (which gathers the data and names the
 * artifact) and the worker (which draws it with gnuplot). */
#ifndef WP_CHART_H
#define WP_CHART_H

#include "db.h"
#include "sha256.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum chart_format { CHART_SVG, CHART_PNG, CHART_PDF, CHART_JSON };

struct chart_kind {
	const char *name;     /* "status-by-pillar" */
	const char *template; /* "charts/status-by-pillar.gp" */
	const char *what;     /* title, before the period */
};

/* NULL when unknown. */
const struct chart_kind *chart_kind_find(const char *name);
/* "svg" -> CHART_SVG ...; false when unknown. */
bool chart_format_parse(const char *s, enum chart_format *out);
const char *chart_format_name(enum chart_format f);
const char *chart_media_type(enum chart_format f);
/* The embedded text of a chart file ("charts/common.gp"), or NULL. */
const char *chart_file(const char *path);
/* The artifact key: SHA-256 of kind, format, parameters (canonical JSON),
 * both templates and the data (canonical JSON). */
void chart_key(const struct chart_kind *k, enum chart_format f, const char *params,
	       const char *data, unsigned char out[SHA256_LEN]);

/* The data drawn by a chart, as JSON text (caller frees): status-by-pillar
 * takes quarter a and cycle; the others quarters a to b and, for
 * progress-trend (optional) and pillar-burnup, a pillar (0: none). */
enum db_rc chart_fetch(struct db *db, const struct chart_kind *k, int a, int b, const char *cycle,
		       int pillar, char **json);
/* The text of a chart's .json twin, {"kind","params","alt","data"}, with
 * data (chart_fetch's text) spliced in as it is: its numbers keep the
 * decimals PostgreSQL gave them, where a round trip through a double
 * would write 10.3 as 10.300000000000001. Caller frees. */
char *chart_twin_new(const struct chart_kind *k, json_t *params, const char *alt, const char *data);

#endif
