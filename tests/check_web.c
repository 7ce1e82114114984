/* The web app as served by workplan-api (api/h_web.c), over real HTTP:
 * every file of web/ at a fingerprinted URL with its content type, a
 * strong ETag and a year's immutable caching; the app shell at every
 * other path outside /v1, revalidated on each use; the Content-Security-
 * Policy of SPEC 12 and the security headers on both; /v1 untouched; no
 * request path ever reaches a file outside web/. */
#include "harness.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CSP                                                                              \
	"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; " \
	"frame-ancestors 'none'"
#define IMMUTABLE "public, max-age=31536000, immutable"

static struct server srv;
static char db[64];
static char bundle[64]; /* "/assets/<hash>/", from the shell */

/* A file of the source tree, whole; caller frees. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return s;
}

static void setup(void)
{
	struct resp *r;
	const char *p, *q;

	t_db_create(db, sizeof db, true);
	t_server_start(&srv, db);
	r = t_get(&srv, "/", NULL);
	ck_assert_int_eq(r->status, 200);
	p = strstr(r->body, "/assets/");
	ck_assert_msg(p != NULL, "the shell links no asset:\n%s", r->body);
	q = strchr(p + strlen("/assets/"), '/');
	ck_assert(q && (size_t)(q - p + 1) < sizeof bundle);
	snprintf(bundle, sizeof bundle, "%.*s", (int)(q - p + 1), p);
	t_resp_free(r);
}

static void teardown(void)
{
	t_server_stop(&srv);
}

static void assert_header(const struct resp *r, const char *name, const char *want)
{
	char *v = t_header(r, name);

	ck_assert_msg(v && !strcmp(v, want), "%s: %s, not %s", name, v ? v : "(none)", want);
	free(v);
}

/* The headers every page and file of the app carries. */
static void assert_security_headers(const struct resp *r)
{
	assert_header(r, "Content-Security-Policy", CSP);
	assert_header(r, "X-Content-Type-Options", "nosniff");
	assert_header(r, "Referrer-Policy", "no-referrer");
	assert_header(r, "X-Frame-Options", "DENY");
}

static void assert_strong_etag(const struct resp *r)
{
	char *etag = t_header(r, "ETag");

	ck_assert_msg(etag && etag[0] == '"' && etag[strlen(etag) - 1] == '"',
		      "not a strong ETag: %s", etag ? etag : "(none)");
	free(etag);
}

START_TEST(the_shell_is_served_at_every_app_path_with_the_csp_and_no_cache)
{
	static const char *const paths[] = { "/", "/sign-in", "/pillars/3", "/actions/12",
					     "/review", "/no/such/page", "/v1x" };
	struct resp *first = t_get(&srv, "/", NULL);

	ck_assert_int_eq(first->status, 200);
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
		struct resp *r = t_get(&srv, paths[i], NULL);

		ck_assert_msg(r->status == 200, "%s: %ld", paths[i], r->status);
		assert_header(r, "Content-Type", "text/html; charset=utf-8");
		assert_header(r, "Cache-Control", "no-cache");
		assert_security_headers(r);
		assert_strong_etag(r);
		ck_assert_msg(r->len == first->len && !memcmp(r->body, first->body, r->len),
			      "%s is not the shell", paths[i]);
		t_resp_free(r);
	}
	/* the shell names its files by the bundle, never by the template's mark */
	ck_assert_ptr_null(strstr(first->body, "{{bundle}}"));
	ck_assert_ptr_nonnull(strstr(first->body, "<script type=\"module\""));
	t_resp_free(first);
}
END_TEST

START_TEST(the_shell_answers_304_to_its_etag)
{
	struct resp *r = t_get(&srv, "/overview", NULL), *again;
	char *etag = t_header(r, "ETag"), hdr[128];

	snprintf(hdr, sizeof hdr, "If-None-Match: %s", etag);
	again = t_http(&srv, "GET", "/", NULL, NULL, NULL, 0, hdr);
	ck_assert_int_eq(again->status, 304);
	ck_assert_uint_eq(again->len, 0);
	assert_header(again, "ETag", etag);
	assert_header(again, "Cache-Control", "no-cache");
	assert_header(again, "Content-Security-Policy", CSP);
	t_resp_free(again);
	free(etag);
	t_resp_free(r);
}
END_TEST

static const char *type_for(const char *path)
{
	static const char *const types[][2] = {
		{ ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".json", "application/json; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".md", "text/markdown; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof types / sizeof *types; i++)
		if (!strcmp(dot, types[i][0]))
			return types[i][1];
	return NULL;
}

/* Checks every file under dir (a folder of web/) as an asset. */
static int check_folder(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_msg(d != NULL, "no folder %s", dir);
	while ((e = readdir(d))) {
		char path[512], url[600], hdr[128];
		struct stat st;
		struct resp *r, *again;
		char *want, *etag;
		size_t len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		ck_assert_int_eq(stat(path, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			n += check_folder(path);
			continue;
		}
		if (!strcmp(path, "web/index.html"))
			continue;
		snprintf(url, sizeof url, "%s%s", bundle, path + strlen("web/"));
		r = t_get(&srv, url, NULL);
		ck_assert_msg(r->status == 200, "%s: %ld", url, r->status);
		want = slurp(path, &len);
		ck_assert_msg(r->len == len && !memcmp(r->body, want, len),
			      "%s is not %s as it is in the tree", url, path);
		free(want);
		ck_assert_msg(type_for(path), "%s: a file type the test does not know", path);
		assert_header(r, "Content-Type", type_for(path));
		assert_header(r, "Cache-Control", IMMUTABLE);
		assert_security_headers(r);
		assert_strong_etag(r);
		/* a revalidation keeps the caching of the 200 */
		etag = t_header(r, "ETag");
		snprintf(hdr, sizeof hdr, "If-None-Match: %s", etag);
		again = t_http(&srv, "GET", url, NULL, NULL, NULL, 0, hdr);
		ck_assert_int_eq(again->status, 304);
		assert_header(again, "ETag", etag);
		assert_header(again, "Cache-Control", IMMUTABLE);
		free(etag);
		t_resp_free(again);
		t_resp_free(r);
		n++;
	}
	closedir(d);
	return n;
}

START_TEST(every_file_of_web_is_served_as_is_with_its_type_and_immutable)
{
	ck_assert_int_ge(check_folder("web"), 4);
}
END_TEST

START_TEST(files_of_another_version_or_unknown_are_404_problems)
{
	static const char *const paths[] = { "/assets/000000000000/app.js", "/assets/app.js",
					     "/assets/", "/assets" };
	char url[128];
	struct resp *r;

	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
		r = t_get(&srv, paths[i], NULL);
		t_assert_problem(r, 404, "not-found");
		t_resp_free(r);
	}
	/* nor is the shell's template, nor a folder, served as a file */
	snprintf(url, sizeof url, "%sindex.html", bundle);
	r = t_get(&srv, url, NULL);
	t_assert_problem(r, 404, "not-found");
	t_resp_free(r);
	snprintf(url, sizeof url, "%si18n", bundle);
	r = t_get(&srv, url, NULL);
	t_assert_problem(r, 404, "not-found");
	t_resp_free(r);
}
END_TEST

START_TEST(v1_stays_the_api_with_its_own_404)
{
	static const char *const paths[] = { "/v1", "/v1/", "/v1/nope", "/v1/assets/x.js" };

	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
		struct resp *r = t_get(&srv, paths[i], NULL);
		char *csp = t_header(r, "Content-Security-Policy");

		t_assert_problem(r, 404, "not-found");
		ck_assert_ptr_null(csp);
		t_resp_free(r);
	}
	/* and the API's answers are what they were */
	struct resp *r = t_get(&srv, "/v1/health", NULL);

	ck_assert_int_eq(r->status, 200);
	assert_header(r, "Content-Type", "application/json");
	t_resp_free(r);
}
END_TEST

START_TEST(app_paths_take_get_and_head_only)
{
	struct resp *r = t_http(&srv, "POST", "/", NULL, "application/json", "{}", 2, NULL);
	char *allow;

	t_assert_problem(r, 405, "method-not-allowed");
	allow = t_header(r, "Allow");
	ck_assert_str_eq(allow, "GET, HEAD");
	free(allow);
	t_resp_free(r);
	r = t_http(&srv, "DELETE", "/sign-in", NULL, NULL, NULL, 0, NULL);
	t_assert_problem(r, 405, "method-not-allowed");
	t_resp_free(r);
	r = t_http(&srv, "HEAD", "/", NULL, NULL, NULL, 0, NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_uint_eq(r->len, 0);
	assert_header(r, "Content-Security-Policy", CSP);
	t_resp_free(r);
}
END_TEST

/* Sends a request line as is (libcurl would tidy the path) and returns
 * the answer's status, its body in body. */
static int raw_get(const char *target, char *out, size_t n)
{
	char req[1024];
	int fd = t_connect(&srv, NULL, NULL), len, st = 0;
	bool closed;

	ck_assert_int_ge(fd, 0);
	len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		       target);
	ck_assert_int_eq(send(fd, req, (size_t)len, MSG_NOSIGNAL), len);
	t_recv(fd, out, n, 5000, &closed);
	close(fd);
	sscanf(out, "HTTP/1.%*d %d", &st);
	return st;
}

START_TEST(no_path_reaches_a_file_outside_web)
{
	/* what the program also carries (SQL, chart templates, the API
	 * document) and what the machine holds */
	static const char *const tails[] = {
		"../sql/migrations/001_schema.sql", "../../sql/migrations/001_schema.sql",
		"%2e%2e/sql/migrations/001_schema.sql", "%2E%2E/%2E%2E/etc/passwd",
		"..%5csql%5cmigrations%5c001_schema.sql", "..\\..\\api\\openapi.json",
		"i18n/../../api/openapi.json", "./app.js", "i18n//en.json", "app.js%00.png",
		"app.js/", "/etc/passwd", "../../../../../../etc/passwd", "..%2f..%2fetc%2fpasswd",
		"%252e%252e/api/openapi.json", "....//....//etc/passwd",
	};
	static const char *const roots[] = { "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
					     "/..%5c..%5cetc%5cpasswd", "/sql/migrations/001_schema.sql",
					     "/web/index.html", "/../web/app.js" };
	static char out[262144];
	struct resp *shell = t_get(&srv, "/", NULL);
	char target[512];

	for (size_t i = 0; i < sizeof tails / sizeof *tails + sizeof roots / sizeof *roots; i++) {
		int st;
		const char *body;

		if (i < sizeof tails / sizeof *tails)
			snprintf(target, sizeof target, "%s%s", bundle, tails[i]);
		else
			snprintf(target, sizeof target, "%s", roots[i - sizeof tails / sizeof *tails]);
		st = raw_get(target, out, sizeof out);
		body = strstr(out, "\r\n\r\n");
		body = body ? body + 4 : "";
		ck_assert_msg(st == 400 || st == 404 || (st == 200 && !strcmp(body, shell->body)),
			      "%s: %d\n%s", target, st, out);
		ck_assert_msg(!strstr(out, "CREATE TABLE") && !strstr(out, "root:") &&
				      !strstr(out, "\"openapi\"") && !strstr(out, "import "),
			      "%s answered a file:\n%.400s", target, out);
		/* under /assets/ only the bundle's own files are answered */
		if (i < sizeof tails / sizeof *tails)
			ck_assert_msg(st == 400 || st == 404, "%s: %d", target, st);
	}
	t_resp_free(shell);
}
END_TEST

START_TEST(web_requests_are_counted_as_their_own_route)
{
	const char *name = "workplan_http_requests_total{route=\"web\",status=\"200\"}";
	double before = t_metric(&srv, name);
	struct resp *r = t_get(&srv, "/reports", NULL);

	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	ck_assert_double_eq(t_metric(&srv, name), before + 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("web");
	TCase *tc = tcase_create("web");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, the_shell_is_served_at_every_app_path_with_the_csp_and_no_cache);
	tcase_add_test(tc, the_shell_answers_304_to_its_etag);
	tcase_add_test(tc, every_file_of_web_is_served_as_is_with_its_type_and_immutable);
	tcase_add_test(tc, files_of_another_version_or_unknown_are_404_problems);
	tcase_add_test(tc, v1_stays_the_api_with_its_own_404);
	tcase_add_test(tc, app_paths_take_get_and_head_only);
	tcase_add_test(tc, no_path_reaches_a_file_outside_web);
	tcase_add_test(tc, web_requests_are_counted_as_their_own_route);
	suite_add_tcase(s, tc);
	return t_run(s);
}
