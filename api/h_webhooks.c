/* /v1/webhooks (SPEC 11): co-chairs register endpoints for events; the
 * outbox delivers them (workers/webhook.c). The secret is shown once, in
 * the answer that made it (creation, rotation), and kept sealed under
 * the server key 'webhook' (lib/webhook.h, docs/security.md). A URL is
 * checked when registered (lib/webhook.c: http(s), no credentials, no
 * private address unless WORKPLAN_WEBHOOK_ALLOW_PRIVATE) and again by
 * the worker on the address it connects to. PATCH takes If-Match. */
#include "clock.h"
#include "config.h"
#include "handlers.h"
#include "jspec.h"
#include "query.h"
#include "util.h"
#include "vocab.h"
#include "webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DB_STMT(stmt_webhooks_list,
	"SELECT webhook_json(w)::text, w.id::text AS cursor FROM webhook w"
	" WHERE ($1::text IS NULL OR w.id > $1::bigint) ORDER BY w.id LIMIT $2");
DB_STMT(stmt_webhook_get, "SELECT webhook_json(w)::text FROM webhook w WHERE w.id = $1::bigint");
DB_STMT(stmt_webhook_insert,
	"INSERT INTO webhook (url, events, description, secret, created_by, created_at, updated_at)"
	" VALUES ($1, $2::text[], coalesce($3, ''), $4::bytea, $5::bigint, $6::timestamptz,"
	"  $6::timestamptz)"
	" RETURNING id, webhook_json(webhook)::text AS json");
DB_STMT(stmt_webhook_lock,
	"SELECT webhook_json(w)::text AS json, w.version FROM webhook w WHERE w.id = $1::bigint"
	" FOR UPDATE");
/* $5: true to enable, false to disable, NULL to leave as it is */
DB_STMT(stmt_webhook_update,
	"UPDATE webhook SET url = coalesce($2, url), events = coalesce($3::text[], events),"
	"  description = coalesce($4, description), active = coalesce($5::bool, active),"
	"  disabled_reason = CASE WHEN $5::bool THEN NULL WHEN NOT $5::bool"
	"   THEN coalesce(disabled_reason, 'disabled by a co-chair') ELSE disabled_reason END,"
	"  version = version + 1, updated_at = $6::timestamptz"
	" WHERE id = $1::bigint RETURNING webhook_json(webhook)::text AS json");
DB_STMT(stmt_webhook_rotate,
	"UPDATE webhook SET previous_secret = secret,"
	"  previous_until = $3::timestamptz + interval '24 hours', secret = $2::bytea,"
	"  version = version + 1, updated_at = $3::timestamptz"
	" WHERE id = $1::bigint RETURNING webhook_json(webhook)::text AS json");
DB_STMT(stmt_webhook_delete, "DELETE FROM webhook WHERE id = $1::bigint");
DB_STMT(stmt_deliveries_list,
	"SELECT webhook_delivery_json(o)::text, o.id::text AS cursor FROM outbox o"
	" WHERE o.webhook_id = $3::bigint AND ($1::text IS NULL OR o.id < $1::bigint)"
	" ORDER BY o.id DESC LIMIT $2");
DB_STMT(stmt_webhook_exists, "SELECT active FROM webhook WHERE id = $1::bigint");
/* Due at once under the same uid (the receiver's webhook-id); one more
 * attempt, whatever the count. Workers wake on the outbox's channel. */
DB_STMT(stmt_delivery_retry,
	"UPDATE outbox SET state = 'queued', due_at = NULL, lease_until = NULL"
	" WHERE id = $1::bigint AND webhook_id = $2::bigint AND state <> 'sending'"
	" RETURNING webhook_delivery_json(outbox)::text AS json,"
	"  pg_notify('workplan_jobs', 'outbox')::text AS notified");
DB_STMT(stmt_delivery_state,
	"SELECT state FROM outbox WHERE id = $1::bigint AND webhook_id = $2::bigint");

/* One write on a webhook, in a transaction. */
struct hook_write {
	struct request *rq;
	char id[24];
	const char *if_match;      /* PATCH, DELETE */
	/* what changes (NULL: not asked) */
	const char *url, *events, *description, *active;
	const unsigned char *sealed; /* a new secret, sealed */
	/* outcome */
	enum problem problem;
	const char *detail;
	char *json;                /* the webhook after the write */
};

static const char webhook_events_hint[] =
	"update.created, update.reviewed, report.done, report.published, reporting.overdue";

/* The events as a PostgreSQL array literal ("{a,b}"), or NULL after
 * appending to errors: unknown names (one entry each) and repeats. */
static char *events_literal(json_t *events, json_t *errors)
{
	bool seen[WEBHOOK_EVENT_COUNT] = { false };
	struct buf b;
	bool ok = true;
	json_t *v;
	size_t i;

	buf_init(&b, 256);
	buf_adds(&b, "{");
	json_array_foreach(events, i, v) {
		const char *name = json_string_value(v);
		int k = vocab_find(webhook_event_names, name);
		char msg[300];

		if (k < 0) {
			snprintf(msg, sizeof msg, "\"%.60s\" is not an event; the events: %s", name,
				 webhook_events_hint);
			js_error(errors, "events", msg);
			ok = false;
		} else if (seen[k]) {
			snprintf(msg, sizeof msg, "lists %s twice", name);
			js_error(errors, "events", msg);
			ok = false;
		} else {
			seen[k] = true;
			buf_printf(&b, "%s%s", b.len > 1 ? "," : "", name);
		}
	}
	buf_adds(&b, "}");
	if (!ok) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

/* A new secret: its text for the answer, sealed for the table. */
static enum db_rc secret_make(struct db *db, char text[WEBHOOK_SECRET_STRLEN],
			      unsigned char sealed[SEALED_SECRET_LEN])
{
	unsigned char key[SIGN_KEY_LEN], bytes[WEBHOOK_SECRET_BYTES];
	enum db_rc rc = sign_key(db, "webhook", key);

	if (rc != DB_OK)
		return rc;
	if (!webhook_secret_new(bytes, text) || !seal(key, bytes, sizeof bytes, sealed)) {
		BUG("no randomness from the kernel");
		return DB_ERROR;
	}
	return DB_OK;
}

/* The webhook's JSON with "secret" added, as a malloc'd string. */
static char *with_secret(const char *json, const char *secret)
{
	json_t *o = json_loads(json, 0, NULL);
	char *s;

	if (!o)
		return xstrdup(json);
	json_object_set_new(o, "secret", json_string(secret));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static bool hook_id(struct request *rq, int i, char out[24])
{
	long long id;

	if (!request_id(rq, i, &id))
		return false;
	snprintf(out, 24, "%lld", id);
	return true;
}

static enum db_rc hook_fail(struct hook_write *w, enum problem p, const char *detail)
{
	w->problem = p;
	w->detail = detail;
	return DB_ABORT;
}

/* Locks the webhook and checks If-Match when given. */
static enum db_rc hook_lock(struct db *db, struct hook_write *w)
{
	enum db_rc rc = write_begin(db, w->rq, NULL, NULL);
	PGresult *r;
	bool found, fresh = true;

	if (rc == DB_OK)
		rc = db_query(db, &stmt_webhook_lock, 1, (const char *const[]){ w->id }, &r);
	if (rc != DB_OK)
		return rc;
	found = PQntuples(r) == 1;
	if (found && w->if_match)
		fresh = version_matches(w->if_match, db_col(r, 0, "json"), db_col(r, 0, "version"));
	PQclear(r);
	if (!found)
		return hook_fail(w, PROBLEM_NOT_FOUND, "no such webhook");
	if (!fresh)
		return hook_fail(w, PROBLEM_PRECONDITION_FAILED,
				 "the webhook changed since you read it: GET it again");
	return DB_OK;
}

static enum db_rc hook_create_txn(struct db *db, void *cls)
{
	struct hook_write *w = cls;
	char member[24], now[32];
	enum db_rc rc = write_begin(db, w->rq, member, now);

	if (rc != DB_OK)
		return rc;
	return write_result(db, &stmt_webhook_insert, 6,
			    (const char *const[]){ w->url, w->events, w->description,
						   (const char *)w->sealed, member, now },
			    (const int[]){ 0, 0, 0, SEALED_SECRET_LEN, 0, 0 },
			    (const int[]){ 0, 0, 0, 1, 0, 0 }, &w->json, w->id);
}

static enum db_rc hook_patch_txn(struct db *db, void *cls)
{
	struct hook_write *w = cls;
	char now[32];
	enum db_rc rc = hook_lock(db, w);

	if (rc != DB_OK)
		return rc;
	clock_now_text(now);
	return write_result(db, &stmt_webhook_update, 6,
			    (const char *const[]){ w->id, w->url, w->events, w->description, w->active,
						   now },
			    NULL, NULL, &w->json, w->id);
}

static enum db_rc hook_rotate_txn(struct db *db, void *cls)
{
	struct hook_write *w = cls;
	char now[32];
	enum db_rc rc = hook_lock(db, w);

	if (rc != DB_OK)
		return rc;
	clock_now_text(now);
	return write_result(db, &stmt_webhook_rotate, 3,
			    (const char *const[]){ w->id, (const char *)w->sealed, now },
			    (const int[]){ 0, SEALED_SECRET_LEN, 0 }, (const int[]){ 0, 1, 0 }, &w->json, w->id);
}

static enum db_rc hook_delete_txn(struct db *db, void *cls)
{
	struct hook_write *w = cls;
	enum db_rc rc = hook_lock(db, w);
	PGresult *r;

	if (rc != DB_OK)
		return rc;
	rc = db_query(db, &stmt_webhook_delete, 1, (const char *const[]){ w->id }, &r);
	if (rc == DB_OK)
		PQclear(r);
	return rc;
}

/* The answer to a write: status with the webhook (and the new secret). */
static int hook_reply(struct request *rq, struct hook_write *w, enum db_rc rc, unsigned status,
		      const char *secret)
{
	char location[64];
	char *body;
	int ret;

	if (rc == DB_ABORT)
		ret = reply_problem(rq, w->problem, w->detail, NULL);
	else if (rc != DB_OK)
		ret = reply_db_failure(rq, rc);
	else if (status == 204)
		ret = reply_empty(rq, 204, NULL);
	else {
		body = secret ? with_secret(w->json, secret) : xstrdup(w->json);
		snprintf(location, sizeof location, "/v1/webhooks/%s", w->id);
		ret = reply_full(rq, status, "application/json", body, strlen(body),
				 status == 201 ? (const char *const[]){ "Location", location, NULL }
					       : NULL);
		free(body);
	}
	free(w->json);
	return ret;
}

/* The body of POST (create) and PATCH: url checked (and normalised into
 * norm), events as an array literal (*events, freed by the caller). */
static bool hook_body(struct request *rq, bool create, struct hook_write *w, char *norm,
		      size_t norm_len, char **events, json_t *errors, bool *active_present,
		      bool *active)
{
	const char *url = NULL;
	json_t *list = NULL;
	struct js_field spec[] = {
		{ .name = "url", .type = JS_STRING, .flags = create ? JS_REQUIRED : 0, .min = 1,
		  .max = WEBHOOK_URL_MAX, .out = &url },
		{ .name = "events", .type = JS_STRINGS, .flags = create ? JS_REQUIRED : 0, .min = 1,
		  .max = WEBHOOK_EVENT_COUNT, .out = &list },
		{ .name = "description", .type = JS_STRING, .max = 500, .out = &w->description },
		{ .name = "active", .type = JS_BOOL, .out = active, .present = active_present },
		{ 0 },
	};
	char err[300];
	bool ok;

	/* a new webhook is active; PATCH enables and disables it */
	if (create)
		memset(&spec[3], 0, sizeof spec[3]);
	ok = js_validate(rq->json, spec, errors);
	if (list && !(*events = events_literal(list, errors)))
		ok = false;
	if (url) {
		if (webhook_url_check(url, http_config()->webhook_allow_private, norm, norm_len, err, sizeof err)) {
			w->url = norm;
		} else {
			js_error(errors, "url", err);
			ok = false;
		}
	}
	return ok;
}

int h_webhook_create(struct request *rq)
{
	struct hook_write w = { .rq = rq };
	char norm[WEBHOOK_URL_MAX + 1], *events = NULL, secret[WEBHOOK_SECRET_STRLEN];
	unsigned char sealed[SEALED_SECRET_LEN];
	json_t *errors = json_array();
	bool active_present = false, active = true;
	enum db_rc rc;
	int ret;

	if (!hook_body(rq, true, &w, norm, sizeof norm, &events, errors, &active_present, &active)) {
		free(events);
		return reply_invalid(rq, errors);
	}
	json_decref(errors);
	w.events = events;
	rc = secret_make(request_db(rq), secret, sealed);
	w.sealed = sealed;
	if (rc == DB_OK)
		rc = db_transaction(request_db(rq), hook_create_txn, &w);
	ret = hook_reply(rq, &w, rc, 201, secret);
	free(events);
	return ret;
}

int h_webhooks_list(struct request *rq)
{
	return reply_plain_list(rq, &stmt_webhooks_list, NULL);
}

int h_webhook_get(struct request *rq)
{
	char id[24];

	if (!hook_id(rq, 0, id))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such webhook", NULL);
	return reply_document(rq, &stmt_webhook_get, 1, (const char *const[]){ id }, "no such webhook");
}

int h_webhook_patch(struct request *rq)
{
	struct hook_write w = { .rq = rq };
	char norm[WEBHOOK_URL_MAX + 1], *events = NULL;
	json_t *errors = json_array();
	bool active_present = false, active = false;
	int ret;

	if (!hook_id(rq, 0, w.id)) {
		json_decref(errors);
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such webhook", NULL);
	}
	if (!hook_body(rq, false, &w, norm, sizeof norm, &events, errors, &active_present, &active)) {
		free(events);
		return reply_invalid(rq, errors);
	}
	json_decref(errors);
	w.if_match = request_header(rq, "If-Match");
	if (!w.if_match) {
		free(events);
		return reply_problem(rq, PROBLEM_PRECONDITION_REQUIRED,
				     "send If-Match with the webhook's ETag or version", NULL);
	}
	w.events = events;
	w.active = active_present ? (active ? "true" : "false") : NULL;
	ret = hook_reply(rq, &w, db_transaction(request_db(rq), hook_patch_txn, &w), 200, NULL);
	free(events);
	return ret;
}

int h_webhook_delete(struct request *rq)
{
	struct hook_write w = { .rq = rq };

	if (!hook_id(rq, 0, w.id))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such webhook", NULL);
	w.if_match = request_header(rq, "If-Match");
	return hook_reply(rq, &w, db_transaction(request_db(rq), hook_delete_txn, &w), 204, NULL);
}

int h_webhook_rotate(struct request *rq)
{
	struct hook_write w = { .rq = rq };
	char secret[WEBHOOK_SECRET_STRLEN];
	unsigned char sealed[SEALED_SECRET_LEN];
	enum db_rc rc;

	if (!hook_id(rq, 0, w.id))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such webhook", NULL);
	w.if_match = request_header(rq, "If-Match");
	rc = secret_make(request_db(rq), secret, sealed);
	w.sealed = sealed;
	if (rc == DB_OK)
		rc = db_transaction(request_db(rq), hook_rotate_txn, &w);
	return hook_reply(rq, &w, rc, 200, secret);
}

int h_webhook_deliveries(struct request *rq)
{
	char id[24];
	enum db_rc rc;
	PGresult *r;
	bool found;

	if (!hook_id(rq, 0, id))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such webhook", NULL);
	rc = db_query(request_db(rq), &stmt_webhook_exists, 1, (const char *const[]){ id }, &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	found = PQntuples(r) == 1;
	PQclear(r);
	if (!found)
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such webhook", NULL);
	return reply_plain_list(rq, &stmt_deliveries_list, id);
}

int h_webhook_delivery_retry(struct request *rq)
{
	char id[24], d[24];
	enum db_rc rc;
	PGresult *r;
	int ret;

	if (!hook_id(rq, 0, id) || !hook_id(rq, 1, d))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such delivery", NULL);
	rc = db_query(request_db(rq), &stmt_webhook_exists, 1, (const char *const[]){ id }, &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	if (PQntuples(r) != 1 || !db_bool(r, 0, "active")) {
		ret = PQntuples(r) != 1
			      ? reply_problem(rq, PROBLEM_NOT_FOUND, "no such webhook", NULL)
			      : reply_problem(rq, PROBLEM_CONFLICT,
					      "the webhook is disabled: PATCH it with \"active\":true first",
					      NULL);
		PQclear(r);
		return ret;
	}
	PQclear(r);
	rc = db_query(request_db(rq), &stmt_delivery_retry, 2, (const char *const[]){ d, id }, &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	if (PQntuples(r) == 1) {
		ret = reply_json(rq, 202, db_col(r, 0, "json"), strlen(db_col(r, 0, "json")));
		PQclear(r);
		return ret;
	}
	PQclear(r);
	rc = db_query(request_db(rq), &stmt_delivery_state, 2, (const char *const[]){ d, id }, &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	ret = PQntuples(r) ? reply_problem(rq, PROBLEM_CONFLICT,
					   "the delivery is being attempted right now", NULL)
			   : reply_problem(rq, PROBLEM_NOT_FOUND, "no such delivery of this webhook",
					   NULL);
	PQclear(r);
	return ret;
}
