/* Query-string validation, cursors and list replies. */
#include "query.h"
#include "base64.h"
#include "clock.h"
#include "jspec.h"
#include "period.h"
#include "sign.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CURSOR_MAC 16

static void cursor_mac(const unsigned char key[SIGN_KEY_LEN], const char *path,
		       const char *sort_key, size_t n, unsigned char mac[SHA256_LEN])
{
	hmac_sha256_parts(key, SIGN_KEY_LEN, mac, path, strlen(path) + 1, sort_key, n,
			  (const void *)NULL);
}

/* "<base64url of the sort key>.<base64url of its MAC>"; false when the
 * key cannot be had (the database is down). */
static bool cursor_seal(struct request *rq, const char *sort_key, char *out, size_t n)
{
	unsigned char key[SIGN_KEY_LEN], mac[SHA256_LEN];
	size_t len = strlen(sort_key), o;

	if (sign_key(request_db(rq), "cursor", key) != DB_OK || len >= CURSOR_MAX)
		return false;
	cursor_mac(key, rq->path, sort_key, len, mac);
	base64_encode(sort_key, len, true, out, n);
	o = strlen(out);
	out[o++] = '.';
	base64_encode(mac, CURSOR_MAC, true, out + o, n - o);
	return true;
}

/* Checks a cursor against its MAC for this list and decodes it into
 * page->after_buf. */
static bool cursor_open(struct request *rq, struct page *page, json_t *errors)
{
	const char *s = page->after_arg, *dot = strchr(s, '.');
	unsigned char key[SIGN_KEY_LEN], mac[SHA256_LEN], given[CURSOR_MAC + 3];
	long n, m;

	if (!dot)
		goto forged;
	n = base64_decode(s, (size_t)(dot - s), true, (unsigned char *)page->after_buf, CURSOR_MAX - 1);
	m = base64_decode(dot + 1, strlen(dot + 1), true, given, sizeof given);
	if (n < 1 || m != CURSOR_MAC)
		goto forged;
	page->after_buf[n] = '\0';
	if (sign_key(request_db(rq), "cursor", key) != DB_OK) {
		js_error(errors, "after", "cannot be checked while the database is unavailable");
		return false;
	}
	cursor_mac(key, rq->path, page->after_buf, (size_t)n, mac);
	if (!equal_secret(mac, given, CURSOR_MAC))
		goto forged;
	page->after = page->after_buf;
	return true;
forged:
	js_error(errors, "after", "is not a cursor from this list");
	return false;
}

/* ISO 8601 as PostgreSQL reads it, kept to the forms we document:
 * 2024-05-01, 2024-05-01T10:00:00Z, 2024-05-01T10:00:00.123+02:00. */
static bool q_fail(struct query_state *st, const char *name, const char *msg)
{
	js_error(st->errors, name, msg);
	st->ok = false;
	return false;
}

static bool q_int(const char *v, long long min, long long max, long long *out)
{
	char *end;
	long long n;

	if (!*v || strlen(v) > 18)
		return false;
	n = strtoll(v, &end, 10);
	if (*end || n < min || n > max || v[0] == '+' || v[0] == ' ')
		return false;
	*out = n;
	return true;
}

static bool q_field_parse(struct query_state *st, const struct q_field *f, const char *v)
{
	char msg[200];

	if (f->present)
		*f->present = true;
	switch (f->type) {
	case Q_INT:
		if (!q_int(v, f->min, f->max, f->out)) {
			snprintf(msg, sizeof msg, "must be a whole number from %lld to %lld", f->min,
				 f->max);
			return q_fail(st, f->name, msg);
		}
		return true;
	case Q_PERIOD:
		if (!period_parse(v, f->out))
			return q_fail(st, f->name, "must be a period like 2024-Q3");
		return true;
	case Q_ENUM:
		for (int i = 0; f->choices[i]; i++) {
			if (!strcmp(v, f->choices[i])) {
				*(int *)f->out = i;
				return true;
			}
		}
		return q_fail(st, f->name, "is not one of the allowed values");
	case Q_TEXT:
		if (text_check(v, false) || text_chars(v) < 1 || text_chars(v) > (f->max ? f->max : 200))
			return q_fail(st, f->name, "must be one line of 1 to 200 characters");
		*(const char **)f->out = v;
		return true;
	case Q_TIME:
		if (!rfc3339_parse(v, true, &(time_t){ 0 }))
			return q_fail(st, f->name, "must be a date or an RFC 3339 time (2024-07-01T09:00:00Z)");
		*(const char **)f->out = v;
		return true;
	case Q_DATE:
		if (!date_valid(v))
			return q_fail(st, f->name, "must be a date YYYY-MM-DD");
		*(const char **)f->out = v;
		return true;
	}
	BUG("unknown query type %d", f->type);
	return false;
}

void query_arg(struct query_state *st, const char *key, const char *value)
{
	const struct q_field *f;
	char name[64];

	snprintf(name, sizeof name, "%s", key);
	if (text_check(name, false))
		snprintf(name, sizeof name, "(unprintable)");
	for (int i = 0; i < st->nseen; i++) {
		if (!strcmp(st->seen[i], key)) {
			q_fail(st, name, "is given more than once");
			return;
		}
	}
	if (st->nseen < 16 && strlen(key) < 32)
		snprintf(st->seen[st->nseen++], 32, "%s", key);
	if (!value)
		value = "";
	if (st->page && !strcmp(key, "limit")) {
		if (!q_int(value, 1, PAGE_MAX, &st->page->limit))
			q_fail(st, "limit", "must be a whole number from 1 to 500");
		return;
	}
	if (st->page && !strcmp(key, "after")) {
		if (!*value || strlen(value) > 2 * CURSOR_MAX)
			q_fail(st, "after", "is not a cursor from this list");
		else
			st->page->after_arg = value;
		return;
	}
	for (f = st->spec; f && f->name; f++)
		if (!strcmp(f->name, key))
			break;
	if (!f || !f->name) {
		q_fail(st, name, "is not a parameter of this resource");
		return;
	}
	q_field_parse(st, f, value);
}

void query_begin(struct query_state *st, const struct q_field *spec, struct page *page,
		 json_t *errors)
{
	*st = (struct query_state){ .spec = spec, .page = page, .errors = errors, .ok = true };
	if (page) {
		page->limit = PAGE_DEFAULT;
		page->after = page->after_arg = NULL;
	}
	for (const struct q_field *f = spec; f && f->name; f++)
		if (f->present)
			*f->present = false;
}

bool query_ok(const struct query_state *st)
{
	return st->ok;
}

static enum MHD_Result q_each(void *cls, enum MHD_ValueKind kind, const char *key,
			      const char *value)
{
	(void)kind;
	query_arg(cls, key, value);
	return MHD_YES;
}

bool query_parse(struct request *rq, const struct q_field *spec, struct page *page,
		 json_t *errors)
{
	struct query_state st;

	query_begin(&st, spec, page, errors);
	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, q_each, &st);
	if (query_ok(&st) && page && page->after_arg)
		return cursor_open(rq, page, errors);
	return query_ok(&st);
}

void page_fetch(const struct page *page, char out[24])
{
	snprintf(out, 24, "%lld", page->limit + 1);
}

int reply_list(struct request *rq, struct db_stmt *s, int nparams, const char *const *params,
	       const struct page *page)
{
	struct buf b;
	char *body;
	size_t len;
	int n, shown, ret;
	PGresult *r;
	enum db_rc rc = db_query(request_db(rq), s, nparams, params, &r);

	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	n = PQntuples(r);
	shown = n > page->limit ? (int)page->limit : n;

	buf_init(&b, 64 << 20);
	buf_adds(&b, "{\"items\":[");
	for (int i = 0; i < shown; i++) {
		if (i)
			buf_adds(&b, ",");
		buf_add(&b, PQgetvalue(r, i, 0), PQgetlength(r, i, 0));
	}
	buf_adds(&b, "],\"next\":");
	if (n > shown) {
		char cursor[2 * CURSOR_MAX];

		if (!cursor_seal(rq, PQgetvalue(r, shown - 1, PQnfields(r) - 1), cursor,
				 sizeof cursor)) {
			PQclear(r);
			buf_free(&b);
			return reply_db_failure(rq, DB_DOWN);
		}
		buf_printf(&b, "\"%s\"}", cursor);
	} else {
		buf_adds(&b, "null}");
	}
	PQclear(r);
	body = buf_steal(&b, &len);
	ret = reply_json(rq, 200, body, len);
	free(body);
	return ret;
}

int reply_plain_list(struct request *rq, struct db_stmt *s, const char *extra)
{
	struct page page;
	json_t *errors = json_array();
	char fetch[24];

	if (!query_parse(rq, NULL, &page, errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	page_fetch(&page, fetch);
	return reply_list(rq, s, extra ? 3 : 2, (const char *const[]){ page.after, fetch, extra },
			  &page);
}
