/* The outbox's mail channel (SPEC 11): composes a message in its member's
 * language from the kind's data (lib/mail.c, mail/<language>.json), stores
 * it with the message before sending, and sends it through libcurl's SMTP.
 * A retry sends the stored bytes again, under the same Message-ID (the
 * outbox uid at the host of WORKPLAN_PUBLIC_URL), which the receiver
 * deduplicates on. Without WORKPLAN_SMTP_URL the message is held for
 * co-chairs to read in GET /v1/outbox. */
#include "clock.h"
#include "log.h"
#include "mail.h"
#include "sign.h"
#include "worker.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* well inside the outbox's 60 s lease */
#define SMTP_TIMEOUT_S 30
#define SMTP_CONNECT_TIMEOUT_S 10

DB_STMT(stmt_mail_member, "SELECT email, name, language, active FROM member WHERE id = $1::bigint");
/* A contributor's receipt (SPEC 13): gone once the contact was erased. */
DB_STMT(stmt_mail_input,
	"SELECT email, coalesce(name, '') AS name, language, email IS NOT NULL AS active"
	" FROM consultation_input WHERE id = $1::bigint");
/* Stored before sending, fenced as outbox_deliver's record is. */
DB_STMT(stmt_mail_store,
	"UPDATE outbox SET composed = $3::jsonb"
	" WHERE id = $1::bigint AND attempts = $2::int AND state = 'sending'");

/* The host of WORKPLAN_PUBLIC_URL, the right side of every Message-ID. */
static void public_host(const char *url, char *out, size_t n)
{
	const char *h = strstr(url, "://"), *end;

	h = h ? h + 3 : url;
	if (*h == '[')
		end = strchr(h, ']') ? strchr(h, ']') + 1 : h + strlen(h);
	else
		end = h + strcspn(h, ":/");
	snprintf(out, n, "%.*s", (int)(end - h), h);
}

/* The unsubscribe list a kind belongs to, or NULL when it has none. */
static const char *kind_list(const char *kind)
{
	if (!strcmp(kind, "reminder"))
		return "reminders";
	if (!strcmp(kind, "review-digest"))
		return "review-digest";
	return NULL;
}

/* The catalogue entry of a message: the kind, or for a reminder its
 * occasion (and the co-chairs' overdue list). */
static void text_kind(const struct message *m, char *out, size_t n)
{
	const char *occasion = json_string_value(json_object_get(m->data, "occasion"));

	if (!strcmp(m->kind, "reminder"))
		snprintf(out, n, "reminder-%s%s", occasion ? occasion : "",
			 json_is_true(json_object_get(m->data, "cochair")) ? "-cochair" : "");
	else
		snprintf(out, n, "%s", m->kind);
}

/* Composes m for its member into a new composed object ({to, to_name,
 * from, subject, text, message_id, raw}); NULL with d filled when it
 * cannot be. */
static json_t *compose(struct worker *w, const struct message *m, const char *email,
		       const char *name, const char *language, struct delivery *d)
{
	const char *list = kind_list(m->kind);
	char kind[64], host[300], mid[400], unsub[1200] = "", *subject, *text;
	unsigned char key[SIGN_KEY_LEN];
	json_t *vars, *out = NULL;
	struct mail mail;
	struct buf raw;
	time_t date;

	text_kind(m, kind, sizeof kind);
	if ((!strcmp(m->kind, "sign-in") || !strcmp(m->kind, "invitation")) &&
	    !json_is_string(json_object_get(m->data, "url"))) {
		snprintf(d->error, sizeof d->error, "the %s message has no url in its data", m->kind);
		return NULL;
	}
	vars = json_deep_copy(m->data);
	if (!json_is_object(vars)) {
		json_decref(vars);
		vars = json_object();
	}
	json_object_set_new(vars, "name", json_string(name));
	json_object_set_new(vars, "public_url", json_string(w->cfg->public_url));
	if (json_is_array(json_object_get(vars, "actions")))
		json_object_set_new(vars, "count", json_integer((json_int_t)json_array_size(json_object_get(vars, "actions"))));
	if (!mail_text(language, kind, vars, list != NULL, &subject, &text, d->error, sizeof d->error)) {
		json_decref(vars);
		return NULL;
	}
	json_decref(vars);
	if (list) {
		char sig[MAIL_SIG_STRLEN];

		if (sign_key(w->db, "unsubscribe", key) != DB_OK) {
			snprintf(d->error, sizeof d->error, "cannot read the unsubscribe key: %s", db_error(w->db));
			d->outcome = OUTCOME_RETRY;
			goto done;
		}
		mail_unsubscribe_sig(key, m->member_id, list, sig);
		snprintf(unsub, sizeof unsub, "%s/v1/unsubscribe?member=%lld&list=%s&sig=%s",
			 w->cfg->public_url, m->member_id, list, sig);
	}
	public_host(w->cfg->public_url, host, sizeof host);
	snprintf(mid, sizeof mid, "%s@%s", m->uid, host);
	/* the event's time, so that composing again gives the same bytes */
	if (!rfc3339_parse(m->created_at, false, &date))
		date = clock_now();
	mail = (struct mail){ .from = w->cfg->mail_from, .to = email, .to_name = name,
			      .subject = subject, .text = text, .message_id = mid,
			      .language = language, .date = date,
			      .list_unsubscribe = list ? unsub : NULL };
	buf_init(&raw, MAIL_MAX);
	if (mail_compose(&mail, &raw, d->error, sizeof d->error))
		out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "to", email, "to_name", name,
				"from", w->cfg->mail_from, "subject", subject, "text", text,
				"message_id", mid, "raw", raw.data);
	buf_free(&raw);
done:
	free(subject);
	free(text);
	return out;
}

struct reader {
	const char *p;
	size_t left;
};

static size_t read_message(char *dst, size_t size, size_t nmemb, void *cls)
{
	struct reader *r = cls;
	size_t n = size * nmemb < r->left ? size * nmemb : r->left;

	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
	return n;
}

/* Sends raw from the sender's address to to; the outcome into d. */
static void smtp_send(struct worker *w, const char *to, const char *raw, struct delivery *d)
{
	char from_name[320], from_addr[320], env_from[330], rcpt[330], errbuf[CURL_ERROR_SIZE] = "";
	struct reader r = { raw, strlen(raw) };
	struct curl_slist *rcpts;
	long code = 0;
	CURLcode rc;
	CURL *c;

	if (!mail_from_split(w->cfg->mail_from, from_name, sizeof from_name, from_addr, sizeof from_addr)) {
		d->outcome = OUTCOME_FAILED;
		snprintf(d->error, sizeof d->error, "WORKPLAN_MAIL_FROM has no address a mail can carry");
		return;
	}
	snprintf(env_from, sizeof env_from, "<%s>", from_addr);
	snprintf(rcpt, sizeof rcpt, "<%s>", to);
	c = curl_easy_init();
	rcpts = curl_slist_append(NULL, rcpt);
	if (!c || !rcpts) {
		d->outcome = OUTCOME_RETRY;
		snprintf(d->error, sizeof d->error, "libcurl cannot start a transfer");
		curl_easy_cleanup(c);
		curl_slist_free_all(rcpts);
		return;
	}
	curl_easy_setopt(c, CURLOPT_URL, w->cfg->smtp_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* STARTTLS whenever the server offers it */
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, env_from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
	curl_easy_setopt(c, CURLOPT_READDATA, &r);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)SMTP_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)SMTP_CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	curl_slist_free_all(rcpts);
	d->response_code = (int)code;
	if (rc == CURLE_OK) {
		d->outcome = OUTCOME_SENT;
		return;
	}
	/* a permanent refusal (5xx) ends it; a temporary one (4xx), no answer
	 * or no connection is tried again */
	d->outcome = code >= 500 && code < 600 ? OUTCOME_FAILED : OUTCOME_RETRY;
	if (code)
		snprintf(d->error, sizeof d->error, "SMTP answered %ld: %s", code,
			 errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else
		snprintf(d->error, sizeof d->error, "SMTP: %s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

void mail_deliver(struct worker *w, const struct message *m, struct delivery *d)
{
	char id[24], attempt[16];
	const char *raw, *to;
	json_t *composed;
	enum db_rc rc;
	PGresult *r, *stored;

	snprintf(id, sizeof id, "%lld", m->input_id ? m->input_id : m->member_id);
	rc = db_query(w->db, m->input_id ? &stmt_mail_input : &stmt_mail_member, 1,
		      (const char *const[]){ id }, &r);
	if (rc != DB_OK) {
		d->outcome = OUTCOME_RETRY;
		snprintf(d->error, sizeof d->error, "cannot read the addressee: %s", db_error(w->db));
		return;
	}
	if (PQntuples(r) == 0 || !db_bool(r, 0, "active")) {
		d->outcome = OUTCOME_CANCELLED;
		if (m->input_id)
			snprintf(d->error, sizeof d->error, "input %lld has no contact any more", m->input_id);
		else
			snprintf(d->error, sizeof d->error, "member %lld is no longer active", m->member_id);
		PQclear(r);
		return;
	}
	if (json_is_string(json_object_get(m->composed, "raw"))) {
		composed = json_incref(m->composed);
	} else {
		char *text;

		d->outcome = OUTCOME_FAILED;
		composed = compose(w, m, db_col(r, 0, "email"), db_col(r, 0, "name"),
				   db_col(r, 0, "language"), d);
		if (!composed) {
			PQclear(r);
			return;
		}
		text = json_dumps(composed, JSON_COMPACT);
		snprintf(id, sizeof id, "%lld", m->id);
		snprintf(attempt, sizeof attempt, "%d", m->attempt);
		rc = db_query(w->db, &stmt_mail_store, 3, (const char *const[]){ id, attempt, text }, &stored);
		free(text);
		if (rc == DB_OK)
			PQclear(stored);
		if (rc != DB_OK) {
			d->outcome = OUTCOME_RETRY;
			snprintf(d->error, sizeof d->error, "cannot store the composed message: %s",
				 db_error(w->db));
			json_decref(composed);
			PQclear(r);
			return;
		}
		d->composed = json_incref(composed);
	}
	PQclear(r);
	raw = json_string_value(json_object_get(composed, "raw"));
	to = json_string_value(json_object_get(composed, "to"));
	d->error[0] = '\0';
	if (!w->cfg->smtp_url) {
		d->outcome = OUTCOME_HELD;
		snprintf(d->error, sizeof d->error, "no SMTP server is set (WORKPLAN_SMTP_URL)");
	} else if (!to) {
		d->outcome = OUTCOME_FAILED;
		snprintf(d->error, sizeof d->error, "the stored message has no addressee");
	} else {
		smtp_send(w, to, raw, d);
	}
	json_decref(composed);
}
