/* HTTP for the client: one libcurl request at a time, bearer token,
 * bounded answers, retries where they cannot double anything, and the
 * translation of answers into exit statuses and readable problem lines. */
#include "cli.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Largest answer kept in memory (JSON); files are streamed to disk. */
#define ANSWER_MAX (64u << 20)
/* Largest file downloaded. */
#define FILE_MAX (1024ull << 20)
#define ATTEMPTS 4
/* longest wait a Retry-After may ask of us */
#define RETRY_AFTER_MAX 10

struct transfer {
	struct answer *a;
	size_t cap;
	const char *save_to;
	char tmp[1100];
	int fd;              /* the temp file of save_to, -1 until opened */
	unsigned long long saved;
	bool too_big;
	bool write_failed;
};

static void *xrealloc_(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		abort();
	return p;
}

static size_t on_header(char *data, size_t size, size_t n, void *cls)
{
	struct transfer *t = cls;
	size_t len = size * n;
	char line[600], *v;

	if (len >= sizeof line)
		return len;
	memcpy(line, data, len);
	line[len] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (!strncmp(line, "HTTP/", 5)) {
		/* a new answer (after 100 Continue): start over */
		t->a->type[0] = t->a->location[0] = '\0';
		t->a->retry_after = -1;
		t->a->status = 0;
		v = strchr(line, ' ');
		if (v)
			t->a->status = strtol(v + 1, NULL, 10);
		return len;
	}
	v = strchr(line, ':');
	if (!v)
		return len;
	*v++ = '\0';
	while (*v == ' ' || *v == '\t')
		v++;
	if (!strcasecmp(line, "Content-Type"))
		snprintf(t->a->type, sizeof t->a->type, "%s", v);
	else if (!strcasecmp(line, "Location"))
		snprintf(t->a->location, sizeof t->a->location, "%s", v);
	else if (!strcasecmp(line, "Retry-After"))
		t->a->retry_after = atoi(v);
	return len;
}

/* The temp file of a download in progress, removed if we are stopped. */
static volatile sig_atomic_t tmp_live;
static char tmp_path[1100];

static void on_stop(int sig)
{
	if (tmp_live)
		unlink(tmp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void tmp_track(const char *path)
{
	struct sigaction sa = { .sa_handler = on_stop };

	tmp_live = 0;
	if (!path)
		return;
	snprintf(tmp_path, sizeof tmp_path, "%s", path);
	tmp_live = 1;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* A 200 answer to a download goes to a temp file beside save_to,
 * renamed into place once whole: a broken or interrupted download
 * leaves nothing. */
static bool save_chunk(struct transfer *t, const char *data, size_t len)
{
	if (t->fd < 0) {
		snprintf(t->tmp, sizeof t->tmp, "%s.XXXXXX", t->save_to);
		t->fd = mkostemp(t->tmp, O_CLOEXEC);
		if (t->fd < 0) {
			fprintf(stderr, "%s: cannot write %s: %s\n", cli.prog, t->save_to, strerror(errno));
			return false;
		}
		tmp_track(t->tmp);
	}
	if (t->saved + len > FILE_MAX) {
		t->too_big = true;
		return false;
	}
	for (size_t done = 0; done < len;) {
		ssize_t k = write(t->fd, data + done, len - done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			fprintf(stderr, "%s: cannot write %s: %s\n", cli.prog, t->save_to, strerror(errno));
			return false;
		}
		done += k;
	}
	t->saved += len;
	return true;
}

static size_t on_body(char *data, size_t size, size_t n, void *cls)
{
	struct transfer *t = cls;
	struct answer *a = t->a;
	size_t len = size * n;

	if (t->save_to && a->status == 200) {
		if (!save_chunk(t, data, len)) {
			t->write_failed = true;
			return 0;
		}
		return len;
	}
	if (a->len + len > ANSWER_MAX) {
		t->too_big = true;
		return 0;
	}
	if (a->len + len + 1 > t->cap) {
		t->cap = (a->len + len + 1) * 2;
		a->body = xrealloc_(a->body, t->cap);
	}
	memcpy(a->body + a->len, data, len);
	a->len += len;
	a->body[a->len] = '\0';
	return len;
}

void answer_free(struct answer *a)
{
	free(a->body);
	json_decref(a->json);
	memset(a, 0, sizeof *a);
}

static bool is_json(const char *type)
{
	return !strncasecmp(type, "application/json", 16) ||
	       !strncasecmp(type, "application/problem+json", 24);
}

/* Failures where the request may not have reached the service, or its
 * answer did not reach us: worth another attempt when that is safe. */
static bool transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* One attempt. Returns the libcurl code; a->status is 0 without an answer. */
static CURLcode attempt(const struct conf *c, const struct request *r, struct transfer *t,
			char *err)
{
	struct curl_slist *h = NULL;
	char line[700], *url;
	CURL *curl = curl_easy_init();
	CURLcode rc;

	if (!curl)
		abort();
	url = malloc(strlen(c->url) + strlen(r->path) + 1);
	if (!url)
		abort();
	strcpy(url, c->url);
	strcat(url, r->path);
	snprintf(line, sizeof line, "Authorization: Bearer %s", c->token);
	h = curl_slist_append(h, line);
	h = curl_slist_append(h, "Accept: application/json, application/problem+json, */*");
	/* no 100-continue round trip: our bodies are small */
	h = curl_slist_append(h, "Expect:");
	if (r->content_type) {
		snprintf(line, sizeof line, "Content-Type: %s", r->content_type);
		h = curl_slist_append(h, line);
	}
	if (r->idempotency_key) {
		snprintf(line, sizeof line, "Idempotency-Key: %s", r->idempotency_key);
		h = curl_slist_append(h, line);
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "workplan-cli/1");
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	/* a redirect would carry the token elsewhere: not followed */
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	/* a stalled transfer ends; a slow large one does not */
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, t);
	if (r->content_type) {
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
	}
	if (strcmp(r->method, r->content_type ? "POST" : "GET"))
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, r->method);
	err[0] = '\0';
	rc = curl_easy_perform(curl);
	curl_easy_cleanup(curl);
	curl_slist_free_all(h);
	free(url);
	return rc;
}

static void transfer_reset(struct transfer *t)
{
	answer_free(t->a);
	t->a->retry_after = -1;
	t->cap = 0;
	t->saved = 0;
	t->too_big = t->write_failed = false;
	if (t->fd >= 0) {
		close(t->fd);
		unlink(t->tmp);
		tmp_track(NULL);
		t->fd = -1;
	}
}

/* The downloaded file into place, readable as any file the user makes. */
static bool transfer_keep(struct transfer *t)
{
	mode_t mask = umask(0);
	bool ok;

	umask(mask);
	if (t->fd < 0 && !save_chunk(t, "", 0))
		return false;
	ok = !fchmod(t->fd, 0666 & ~mask) && !fsync(t->fd);
	ok = !close(t->fd) && ok;
	t->fd = -1;
	if (!ok || rename(t->tmp, t->save_to)) {
		fprintf(stderr, "%s: cannot write %s: %s\n", cli.prog, t->save_to, strerror(errno));
		unlink(t->tmp);
		tmp_track(NULL);
		return false;
	}
	tmp_track(NULL);
	return true;
}

int client_send(const struct conf *c, const struct request *r, struct answer *a)
{
	struct transfer t = { .a = a, .save_to = r->save_to, .fd = -1 };
	char err[CURL_ERROR_SIZE];
	double delay = 0.5;
	CURLcode rc = CURLE_OK;

	memset(a, 0, sizeof *a);
	/* the path goes after the configured URL: one taken from an answer
	 * ("@elsewhere/x") must not make another host of it, nor get the token */
	if (r->path[0] != '/' || r->path[strcspn(r->path, " \t\r\n")]) {
		fprintf(stderr, "%s: the service named a file at \"%.80s\", which is not a path on it\n",
			cli.prog, r->path);
		return EXIT_REFUSED;
	}
	for (int i = 1; i <= ATTEMPTS; i++) {
		transfer_reset(&t);
		rc = attempt(c, r, &t, err);
		if (t.write_failed) {
			transfer_reset(&t);
			return EXIT_USAGE;
		}
		if (t.too_big) {
			fprintf(stderr, "%s: the answer to %s %s is too large\n", cli.prog, r->method, r->path);
			transfer_reset(&t);
			return EXIT_REFUSED;
		}
		if (rc == CURLE_OK && a->status != 429 && a->status != 503)
			break;
		if (r->retry != RETRY_SAFE || i == ATTEMPTS || (rc != CURLE_OK && !transient(rc)))
			break;
		if (rc == CURLE_OK && a->retry_after >= 0)
			delay = a->retry_after < RETRY_AFTER_MAX ? a->retry_after : RETRY_AFTER_MAX;
		if (rc == CURLE_OK)
			fprintf(stderr, "%s: the service answered %ld; trying again in %.1f s (%d of %d)\n",
				cli.prog, a->status, delay, i + 1, ATTEMPTS);
		else
			fprintf(stderr, "%s: %s %s: %s; trying again in %.1f s (%d of %d)\n", cli.prog,
				r->method, r->path, err[0] ? err : curl_easy_strerror(rc), delay, i + 1,
				ATTEMPTS);
		sleep_s(delay);
		delay *= 2;
	}
	if (rc != CURLE_OK) {
		fprintf(stderr, "%s: cannot reach %s: %s\n", cli.prog, c->url,
			err[0] ? err : curl_easy_strerror(rc));
		transfer_reset(&t);
		return EXIT_UNREACHABLE;
	}
	if (a->body && is_json(a->type))
		a->json = json_loadb(a->body, a->len, 0, NULL);
	if (a->status >= 200 && a->status < 300) {
		if (r->save_to && a->status == 200 && !transfer_keep(&t))
			return EXIT_USAGE;
		return EXIT_OK;
	}
	if (a->status == 503) {
		fprintf(stderr, "%s: %s is unavailable (503); try again later\n", cli.prog, c->url);
		return EXIT_UNREACHABLE;
	}
	return EXIT_REFUSED;
}

int client_get(const struct conf *c, const char *path, struct answer *a)
{
	const struct request r = { .method = "GET", .path = path, .retry = RETRY_SAFE };

	return client_send(c, &r, a);
}

int client_problem(const struct answer *a, const char *what, const char *const *names)
{
	const char *title = json_string_value(json_object_get(a->json, "title"));
	const char *detail = json_string_value(json_object_get(a->json, "detail"));
	json_t *errors = json_object_get(a->json, "errors"), *e;
	size_t i;

	if (a->status >= 300 && a->status < 400) {
		fprintf(stderr, "%s: %s: the service answered %ld, a redirect to %s, not followed (the "
				"token goes to the URL you gave, nowhere else): check that URL\n",
			cli.prog, what, a->status, a->location[0] ? a->location : "(nowhere)");
		return EXIT_REFUSED;
	}
	if (cli.json && a->json)
		client_print_json(a);
	fprintf(stderr, "%s: %s refused: %s (%ld)%s%s\n", cli.prog, what,
		title ? title : "the service said no", a->status, detail ? ": " : "",
		detail ? detail : "");
	json_array_foreach(errors, i, e) {
		const char *field = json_string_value(json_object_get(e, "field"));
		const char *message = json_string_value(json_object_get(e, "message"));

		for (const char *const *n = names; n && *n && field; n += 2)
			if (!strcmp(n[0], field)) {
				field = n[1];
				break;
			}
		fprintf(stderr, "  %s: %s\n", field ? field : "(request)", message ? message : "is not valid");
	}
	if (a->status == 401)
		fprintf(stderr, "  the token was not accepted: run 'workplan login URL' with a valid one\n");
	if (!a->json && a->body && a->len)
		fprintf(stderr, "  %.*s\n", (int)strcspn(a->body, "\r\n"), a->body);
	return EXIT_REFUSED;
}

char *client_path(const char *base, ...)
{
	size_t cap = strlen(base) + 1;
	const char *name, *value;
	char *out, sep = '?';
	va_list ap;

	va_start(ap, base);
	while ((name = va_arg(ap, const char *))) {
		value = va_arg(ap, const char *);
		if (value)
			cap += strlen(name) + 2 + 3 * strlen(value);
	}
	va_end(ap);
	out = malloc(cap);
	if (!out)
		abort();
	strcpy(out, base);
	va_start(ap, base);
	while ((name = va_arg(ap, const char *))) {
		char *v;

		value = va_arg(ap, const char *);
		if (!value)
			continue;
		v = curl_easy_escape(NULL, value, 0);
		if (!v)
			abort();
		sprintf(out + strlen(out), "%c%s=%s", sep, name, v);
		curl_free(v);
		sep = '&';
	}
	va_end(ap);
	return out;
}

void client_print_json(const struct answer *a)
{
	if (a->body)
		fwrite(a->body, 1, a->len, stdout);
	if (a->len && a->body[a->len - 1] != '\n')
		putchar('\n');
}

const char *jtext(json_t *o, const char *key, char buf[32])
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(buf, 32, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, 32, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, 32, "%s", json_is_true(v) ? "true" : "false");
	else
		snprintf(buf, 32, "-");
	return buf;
}
