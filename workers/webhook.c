/* The webhook channel of the outbox (SPEC 11; workers/outbox.c claims,
 * retries and records). One attempt: POST {"type","timestamp","data"} to
 * the endpoint, signed after Standard Webhooks v1 with its secret (and
 * the previous one for 24 hours after a rotation), webhook-id being the
 * outbox row's uid, the same on every attempt.
 *
 * SSRF: the URL was checked when registered, but a name may resolve
 * elsewhere since (DNS rebinding), so every address libcurl is about to
 * connect to is checked here, in its socket callback, unless
 * WORKPLAN_WEBHOOK_ALLOW_PRIVATE. No proxy from the environment, no
 * redirect followed, http and https only, 10 s in all, the answer read
 * up to a bound. */
#include "clock.h"
#include "log.h"
#include "util.h"
#include "webhook.h"
#include "worker.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define TIMEOUT_MS 10000
#define ANSWER_MAX (64 * 1024) /* read no more of an answer; keep 300 bytes for the log */

DB_STMT(stmt_hook_target,
	"SELECT url, active, secret, previous_secret,"
	"  coalesce(previous_until > $2::timestamptz, false) AS both_secrets"
	" FROM webhook WHERE id = $1::bigint");
DB_STMT(stmt_hook_gone,
	"UPDATE webhook SET active = false, disabled_reason = $2, version = version + 1,"
	"  updated_at = $3::timestamptz WHERE id = $1::bigint AND active");

struct exchange {
	bool allow_private;
	char refused[160];       /* why a connection was not made */
	long retry_after_s;
	size_t read;             /* bytes of the answer seen */
	char excerpt[301];
	size_t excerpt_len;
};

/* Every address libcurl connects to passes here: the check that DNS
 * rebinding cannot get around. */
static curl_socket_t open_checked(void *cls, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct exchange *x = cls;
	const char *why = x->allow_private ? NULL : webhook_addr_refused(&a->addr);
	char text[INET6_ADDRSTRLEN] = "?";

	(void)purpose;
	if (!why)
		return socket(a->family, a->socktype, a->protocol);
	if (a->family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)&a->addr)->sin_addr, text, sizeof text);
	else if (a->family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)&a->addr)->sin6_addr, text, sizeof text);
	snprintf(x->refused, sizeof x->refused, "refused to connect to %s, a %s address", text, why);
	return CURL_SOCKET_BAD;
}

static size_t on_body(char *p, size_t size, size_t n, void *cls)
{
	struct exchange *x = cls;
	size_t len = size * n, room = sizeof x->excerpt - 1 - x->excerpt_len;

	if (x->read + len > ANSWER_MAX)
		return 0; /* enough: libcurl stops with a write error */
	x->read += len;
	if (room) {
		memcpy(x->excerpt + x->excerpt_len, p, len < room ? len : room);
		x->excerpt_len += len < room ? len : room;
		x->excerpt[x->excerpt_len] = '\0';
	}
	return len;
}

/* Retry-After: seconds, or an HTTP date (read against the service's clock). */
static size_t on_header(char *p, size_t size, size_t n, void *cls)
{
	struct exchange *x = cls;
	size_t len = size * n;
	char v[128];

	if (len > 12 && len < 12 + sizeof v && !strncasecmp(p, "Retry-After:", 12)) {
		char *s = v, *end;
		long secs;

		memcpy(v, p + 12, len - 12);
		v[len - 12] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		s[strcspn(s, "\r\n")] = '\0';
		secs = strtol(s, &end, 10);
		if (end != s && !*end && secs >= 0) {
			x->retry_after_s = secs;
		} else {
			time_t at = curl_getdate(s, NULL);

			if (at > 0)
				x->retry_after_s = at > clock_now() ? (long)(at - clock_now()) : 0;
		}
	}
	return len;
}

/* The endpoint's secrets, unsealed: 1 or 2 of them, or -1. */
static int hook_secrets(struct worker *w, PGresult *r, unsigned char secrets[2][64], long lens[2])
{
	unsigned char key[SIGN_KEY_LEN];
	const char *cols[2] = { "secret", "previous_secret" };
	int n = db_bool(r, 0, "both_secrets") ? 2 : 1;

	if (sign_key(w->db, "webhook", key) != DB_OK)
		return -1;
	for (int i = 0; i < n; i++) {
		size_t len;
		unsigned char *sealed = PQunescapeBytea((const unsigned char *)db_col(r, 0, cols[i]), &len);

		lens[i] = sealed ? unseal(key, sealed, len, secrets[i], 64) : -1;
		PQfreemem(sealed);
		if (lens[i] < 0)
			return -1;
	}
	return n;
}

/* The body, as sent on every attempt. */
static char *hook_body(const struct message *m)
{
	json_t *o = json_pack("{s:s, s:s, s:O}", "type", m->kind, "timestamp", m->created_at, "data",
			      m->data);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

static void hook_disable(struct worker *w, const struct message *m)
{
	char id[24], now[32], reason[128];
	PGresult *r;

	clock_now_text(now);
	snprintf(id, sizeof id, "%lld", m->webhook_id);
	snprintf(reason, sizeof reason, "the receiver answered 410 Gone at %s", now);
	if (db_query(w->db, &stmt_hook_gone, 3, (const char *const[]){ id, reason, now }, &r) == DB_OK)
		PQclear(r);
	else
		log_warn("webhook %lld: cannot disable it (%s)", m->webhook_id, db_error(w->db));
}

/* POSTs body to url with the signature headers; fills d from the answer. */
static void hook_post(struct worker *w, const char *url, const char *id, const char *body,
		      const char *signature, const char *ts, struct delivery *d)
{
	struct exchange x = { .allow_private = w->cfg->webhook_allow_private };
	struct curl_slist *h = NULL;
	char line[600];
	CURL *c = curl_easy_init();
	CURLcode rc;
	long code = 0;

	if (!c) {
		d->outcome = OUTCOME_RETRY;
		snprintf(d->error, sizeof d->error, "libcurl could not start");
		return;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	snprintf(line, sizeof line, "webhook-id: %s", id);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof line, "webhook-timestamp: %s", ts);
	h = curl_slist_append(h, line);
	h = curl_slist_append(h, signature);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "workplan-webhooks/1");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_checked);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	d->response_code = (int)code;
	d->retry_after_s = x.retry_after_s;
	if (code >= 200 && code < 300) {
		d->outcome = OUTCOME_SENT;
	} else if (code == 410) {
		d->outcome = OUTCOME_FAILED;
		snprintf(d->error, sizeof d->error, "410 Gone: the endpoint is disabled");
	} else if (code >= 300 && code < 400) {
		char *loc = NULL;

		d->outcome = OUTCOME_RETRY;
		curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
		snprintf(d->error, sizeof d->error, "HTTP %ld: a redirect (to %.200s), not followed", code,
			 loc ? loc : "nowhere");
	} else if (code) {
		d->outcome = OUTCOME_RETRY;
		snprintf(d->error, sizeof d->error, "HTTP %ld: %s", code, x.excerpt);
	} else {
		d->outcome = OUTCOME_RETRY;
		if (x.refused[0])
			snprintf(d->error, sizeof d->error, "%s", x.refused);
		else if (rc == CURLE_OPERATION_TIMEDOUT)
			snprintf(d->error, sizeof d->error, "no answer within %d s", TIMEOUT_MS / 1000);
		else
			snprintf(d->error, sizeof d->error, "%s", curl_easy_strerror(rc));
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

void webhook_deliver(struct worker *w, const struct message *m, struct delivery *d)
{
	unsigned char secrets[2][64];
	long lens[2];
	char id[24], now[32], ts[24], sig[WEBHOOK_SIG_STRLEN], header[200], *body = NULL, *url = NULL;
	PGresult *r;
	int n;

	clock_now_text(now);
	snprintf(id, sizeof id, "%lld", m->webhook_id);
	if (db_query(w->db, &stmt_hook_target, 2, (const char *const[]){ id, now }, &r) != DB_OK) {
		d->outcome = OUTCOME_RETRY;
		snprintf(d->error, sizeof d->error, "cannot read the endpoint: %s", db_error(w->db));
		return;
	}
	if (PQntuples(r) != 1 || !db_bool(r, 0, "active")) {
		d->outcome = OUTCOME_CANCELLED;
		snprintf(d->error, sizeof d->error, "the endpoint is disabled");
		PQclear(r);
		return;
	}
	n = hook_secrets(w, r, secrets, lens);
	url = xstrdup(db_col(r, 0, "url"));
	PQclear(r);
	body = hook_body(m);
	if (n < 0 || !body || strlen(body) > WEBHOOK_BODY_MAX) {
		d->outcome = OUTCOME_FAILED;
		snprintf(d->error, sizeof d->error, "%s",
			 n < 0 ? "the endpoint's secret cannot be unsealed with this server's key"
			       : "the body would be 20 KB or more");
		goto out;
	}
	/* the timestamp signed is the one sent: read the clock once */
	snprintf(ts, sizeof ts, "%lld", (long long)clock_now());
	snprintf(header, sizeof header, "webhook-signature:");
	for (int i = 0; i < n; i++) {
		webhook_sign(secrets[i], (size_t)lens[i], m->uid, ts, body, strlen(body), sig);
		snprintf(header + strlen(header), sizeof header - strlen(header), " v1,%s", sig);
	}
	hook_post(w, url, m->uid, body, header, ts, d);
	if (d->response_code == 410)
		hook_disable(w, m);
out:
	explicit_bzero(secrets, sizeof secrets);
	free(body);
	free(url);
}
