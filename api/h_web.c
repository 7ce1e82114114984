/* The web app (SPEC 12): every path outside /v1 is answered from the files
 * of web/, compiled into the program (tools/embed.c), so a request path is
 * only ever compared with that list and never reaches the file system.
 *
 *   /assets/<bundle>/<file>  a file of web/, cached for a year (immutable):
 *                            <bundle> is a hash of every file of web/, so
 *                            any change of any file moves every URL, and
 *                            modules import each other by relative URLs
 *                            with no build step;
 *   anything else            the app shell (web/index.html with the bundle
 *                            filled in), revalidated on every use; the
 *                            client routes from there.
 *
 * Every answer carries the Content-Security-Policy of SPEC 12 and the
 * other security headers. See docs/design.md, "The web app". */
#include "embedded.h"
#include "handlers.h"
#include "sha256.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEB_DIR "web/"
#define ASSETS "/assets/"
#define BUNDLE_LEN 12 /* hex digits of the bundle hash: 48 bits */
#define SHELL_MARK "{{bundle}}" /* in web/index.html: where the bundle goes */

#define WEB_CSP \
	"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; " \
	"frame-ancestors 'none'"

/* The security headers of every page and asset; then the caching and
 * ETag pair (filled in per answer) and the end. */
#define WEB_HEADERS                                                               \
	"Content-Security-Policy", WEB_CSP, "Referrer-Policy", "no-referrer",       \
	"X-Frame-Options", "DENY", "Cross-Origin-Opener-Policy", "same-origin",     \
	"Cross-Origin-Resource-Policy", "same-origin", "Permissions-Policy",        \
	"camera=(), microphone=(), geolocation=(), payment=()"

static const struct {
	const char *ext;
	const char *type;
} web_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".json", "application/json; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".md", "text/markdown; charset=utf-8" },
};

struct web_file {
	const char *path; /* under web/, e.g. "app.js" */
	const char *data;
	size_t size;
	const char *type;
	char etag[ETAG_STRLEN];
};

static struct web_file *web_files;
static size_t web_nfiles;
static char web_bundle[BUNDLE_LEN + 1];
static char *shell;
static size_t shell_len;
static char shell_etag[ETAG_STRLEN];
static pthread_once_t web_once = PTHREAD_ONCE_INIT;

static const char *type_of(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < ARRAY_LEN(web_types); i++) {
		size_t e = strlen(web_types[i].ext);

		if (n > e && !strcmp(path + n - e, web_types[i].ext))
			return web_types[i].type;
	}
	return "application/octet-stream";
}

/* The shell: web/index.html with every SHELL_MARK replaced by the bundle. */
static void shell_build(const struct web_file *index)
{
	size_t mark = strlen(SHELL_MARK);
	const char *p = index->data, *end = index->data + index->size, *m;
	struct buf b;

	buf_init(&b, 1 << 20);
	while ((m = memmem(p, (size_t)(end - p), SHELL_MARK, mark))) {
		buf_add(&b, p, (size_t)(m - p));
		buf_adds(&b, web_bundle);
		p = m + mark;
	}
	buf_add(&b, p, (size_t)(end - p));
	shell_len = b.len;
	shell = xmalloc(b.len + 1);
	memcpy(shell, b.data, b.len);
	buf_free(&b);
	etag_of(shell, shell_len, shell_etag);
}

static void web_load(void)
{
	const struct web_file *index = NULL;
	unsigned char d[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];
	struct sha256 h;
	size_t n = 0;

	for (const struct embedded_file *f = embedded_files; f->path; f++)
		n += !strncmp(f->path, WEB_DIR, strlen(WEB_DIR));
	web_files = xmalloc((n ? n : 1) * sizeof *web_files);
	sha256_init(&h);
	for (const struct embedded_file *f = embedded_files; f->path; f++) {
		struct web_file *w = &web_files[web_nfiles];

		if (strncmp(f->path, WEB_DIR, strlen(WEB_DIR)))
			continue;
		w->path = f->path + strlen(WEB_DIR);
		w->data = f->data;
		w->size = f->size;
		w->type = type_of(w->path);
		etag_of(f->data, f->size, w->etag);
		if (!strcmp(w->path, "index.html"))
			index = w;
		sha256_update(&h, f->path, strlen(f->path) + 1);
		sha256_update(&h, f->data, f->size);
		web_nfiles++;
	}
	sha256_final(&h, d);
	sha256_hex(d, hex);
	snprintf(web_bundle, sizeof web_bundle, "%.*s", BUNDLE_LEN, hex);
	if (!index) {
		BUG("web/index.html is not compiled in");
		static const struct web_file none = { "index.html", "", 0, "text/html", "" };
		index = &none;
	}
	shell_build(index);
}

bool web_serves(const char *path)
{
	return strcmp(path, "/v1") && strncmp(path, "/v1/", 4);
}

const char *web_bundle_id(void)
{
	pthread_once(&web_once, web_load);
	return web_bundle;
}

static const struct web_file *asset_find(const char *path)
{
	const char *rel;

	/* /assets/<bundle>/<file>: only the current bundle's files */
	if (strncmp(path, ASSETS, strlen(ASSETS)))
		return NULL;
	path += strlen(ASSETS);
	if (strncmp(path, web_bundle, BUNDLE_LEN) || path[BUNDLE_LEN] != '/')
		return NULL;
	rel = path + BUNDLE_LEN + 1;
	/* an exact match in the compiled-in list; the shell is a template */
	for (size_t i = 0; i < web_nfiles; i++)
		if (!strcmp(web_files[i].path, rel) && strcmp(rel, "index.html"))
			return &web_files[i];
	return NULL;
}

int h_web(struct request *rq)
{
	const struct web_file *f;

	pthread_once(&web_once, web_load);
	/* /assets and below: files only, never the shell */
	if (!strncmp(rq->path, ASSETS, strlen(ASSETS) - 1) &&
	    (!rq->path[strlen(ASSETS) - 1] || rq->path[strlen(ASSETS) - 1] == '/')) {
		f = asset_find(rq->path);
		if (!f)
			return reply_problem(rq, PROBLEM_NOT_FOUND,
					     "no such file in this version of the web app", NULL);
		return reply_full(rq, 200, f->type, f->data, f->size,
				  (const char *const[]){ WEB_HEADERS, "Cache-Control",
							 "public, max-age=31536000, immutable",
							 "ETag", f->etag, NULL });
	}
	return reply_full(rq, 200, "text/html; charset=utf-8", shell, shell_len,
			  (const char *const[]){ WEB_HEADERS, "Cache-Control", "no-cache", "ETag",
						 shell_etag, NULL });
}
