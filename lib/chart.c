/* The chart kinds of SPEC section 6 and how their artifacts are named. */
#include "chart.h"
#include "embedded.h"

#include <string.h>

static const struct chart_kind kinds[] = {
	{ "status-by-pillar", "charts/status-by-pillar.gp", "Status of key actions by pillar" },
	{ "progress-trend", "charts/progress-trend.gp", "Mean percent complete by pillar" },
	{ "reporting-heatmap", "charts/reporting-heatmap.gp", "Share of key actions reported on time" },
	{ "pillar-burnup", "charts/pillar-burnup.gp", "Key actions planned and completed" },
};

static const char *const formats[] = { "svg", "png", "pdf", "json" };
static const char *const media[] = { "image/svg+xml", "image/png", "application/pdf",
				     "application/json" };

const struct chart_kind *chart_kind_find(const char *name)
{
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (!strcmp(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

bool chart_format_parse(const char *s, enum chart_format *out)
{
	for (int i = 0; i < 4; i++) {
		if (!strcmp(s, formats[i])) {
			*out = (enum chart_format)i;
			return true;
		}
	}
	return false;
}

const char *chart_format_name(enum chart_format f)
{
	return formats[f];
}

const char *chart_media_type(enum chart_format f)
{
	return media[f];
}

const char *chart_file(const char *path)
{
	for (const struct embedded_file *f = embedded_files; f->path; f++)
		if (!strcmp(f->path, path))
			return f->data;
	return NULL;
}

void chart_key(const struct chart_kind *k, enum chart_format f, const char *params,
	       const char *data, unsigned char out[SHA256_LEN])
{
	const char *parts[] = { k->name, formats[f], params, chart_file("charts/common.gp"),
				chart_file(k->template), data };
	struct sha256 s;

	sha256_init(&s);
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		const char *p = parts[i] ? parts[i] : "";

		/* length-prefixed, so no two inputs hash alike */
		sha256_update(&s, &(size_t){ strlen(p) }, sizeof(size_t));
		sha256_update(&s, p, strlen(p));
	}
	sha256_final(&s, out);
}
