/* Delivery of the outbox (SPEC 11; migration 016). A worker claims one due
 * message with SKIP LOCKED under a lease, hands it to its channel's
 * deliverer, and records the outcome with an attempt row, all fenced by
 * the attempt number: a worker whose lease ran out (it hung, or was
 * thought dead) records nothing. A worker killed after sending and before
 * recording leaves the message to be claimed again when the lease runs
 * out; it goes out again under the same uid, which the receiver
 * deduplicates on. So nothing committed is lost, and nothing is doubled
 * for a receiver that deduplicates.
 *
 * Retries follow one schedule for every channel: about 5 s, 5 min, 30 min,
 * 2 h, 5 h and 10 h after the attempts that failed, each with up to 10 %
 * of jitter, or later when the receiver asked (Retry-After, at most a
 * day); after the seventh attempt the message is failed. Times are the
 * service's clock (lib/clock.c), so tests move through the schedule with
 * WORKPLAN_NOW. */
#include "clock.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define LEASE_S 60
#define RETRY_AFTER_MAX_S (24 * 3600)

/* Seconds to wait after failed attempt n (1-based); the last entry ends it. */
static const int backoff_s[] = { 5, 300, 1800, 7200, 18000, 36000 };
#define ATTEMPTS_MAX ((int)ARRAY_LEN(backoff_s) + 1)

static const struct channel {
	const char *name;
	void (*deliver)(struct worker *w, const struct message *m, struct delivery *d);
} channels[] = {
	{ "webhook", webhook_deliver },
	{ "mail", mail_deliver },
	{ NULL, NULL },
};

/* Due messages in order; then those whose worker stopped renewing. */
DB_STMT(stmt_claim,
	"UPDATE outbox SET state = 'sending', attempts = attempts + 1, leased_by = $1,"
	"  lease_until = $2::timestamptz + make_interval(secs => $3::int)"
	" WHERE id = coalesce("
	"  (SELECT id FROM outbox WHERE state = 'queued'"
	"     AND coalesce(due_at, '-infinity') <= $2::timestamptz"
	"   ORDER BY coalesce(due_at, '-infinity'), id LIMIT 1 FOR UPDATE SKIP LOCKED),"
	"  (SELECT id FROM outbox WHERE state = 'sending' AND lease_until < $2::timestamptz"
	"     AND attempts < $4::int"
	"   ORDER BY coalesce(due_at, '-infinity'), id LIMIT 1 FOR UPDATE SKIP LOCKED))"
	" RETURNING id, uid, channel, kind, coalesce(member_id, 0) AS member_id,"
	"  coalesce(input_id, 0) AS input_id, coalesce(webhook_id, 0) AS webhook_id, data::text AS data, composed::text AS composed,"
	"  attempts, utc_text(created_at) AS created_at");

/* The outcome and its attempt row, in one statement; no row when the
 * lease went to another worker. $6 is the next attempt's time, or NULL
 * when the outcome is final. */
DB_STMT(stmt_record,
	"WITH o AS ("
	"  UPDATE outbox SET state = $4, due_at = $6::timestamptz, lease_until = NULL,"
	"   composed = coalesce($7::jsonb, composed),"
	"   sent_at = CASE WHEN $4 = 'sent' THEN $9::timestamptz END,"
	"   last_error = nullif(left($8, 2000), '')"
	"  WHERE id = $1::bigint AND attempts = $2::int AND state = 'sending' RETURNING id)"
	" INSERT INTO outbox_attempt (outbox_id, attempt, worker, started_at, duration_ms, outcome,"
	"  response_code, error)"
	" SELECT id, $2::int, $3, $9::timestamptz, $10::int, $5, nullif($11::int, 0),"
	"  nullif(left($8, 2000), '') FROM o"
	" RETURNING outbox_id");

DB_STMT(stmt_reap,
	"UPDATE outbox SET state = 'failed', lease_until = NULL,"
	"  last_error = coalesce(last_error || '; ', '') || 'the worker stopped during the last attempt'"
	" WHERE state = 'sending' AND lease_until < $1::timestamptz AND attempts >= $2::int");

static void message_clear(struct message *m)
{
	json_decref(m->data);
	json_decref(m->composed);
	memset(m, 0, sizeof *m);
}

static void message_read(PGresult *r, struct message *m)
{
	memset(m, 0, sizeof *m);
	m->id = db_int(r, 0, "id");
	snprintf(m->uid, sizeof m->uid, "%s", db_col(r, 0, "uid"));
	snprintf(m->channel, sizeof m->channel, "%s", db_col(r, 0, "channel"));
	snprintf(m->kind, sizeof m->kind, "%s", db_col(r, 0, "kind"));
	m->member_id = db_int(r, 0, "member_id");
	m->input_id = db_int(r, 0, "input_id");
	m->webhook_id = db_int(r, 0, "webhook_id");
	m->data = json_loads(db_col(r, 0, "data"), 0, NULL);
	if (!db_isnull(r, 0, "composed"))
		m->composed = json_loads(db_col(r, 0, "composed"), 0, NULL);
	m->attempt = (int)db_int(r, 0, "attempts");
	snprintf(m->created_at, sizeof m->created_at, "%s", db_col(r, 0, "created_at"));
}

/* Seconds until the attempt after failed attempt n: the schedule's, with
 * up to 10 % more at random (so receivers that failed together are not
 * retried together), or the receiver's Retry-After when that is later. */
static long retry_delay_s(int n, long retry_after_s)
{
	long s = backoff_s[n - 1];
	unsigned short r = 0;

	if (getrandom(&r, sizeof r, 0) == sizeof r)
		s += (long)((double)s * 0.1 * r / 65535.0);
	if (retry_after_s > RETRY_AFTER_MAX_S)
		retry_after_s = RETRY_AFTER_MAX_S;
	return retry_after_s > s ? retry_after_s : s;
}

static const char *outcome_state(enum outcome o, int attempt)
{
	switch (o) {
	case OUTCOME_SENT:
		return "sent";
	case OUTCOME_HELD:
		return "held";
	case OUTCOME_CANCELLED:
		return "cancelled";
	case OUTCOME_RETRY:
		return attempt < ATTEMPTS_MAX ? "queued" : "failed";
	case OUTCOME_FAILED:
		break;
	}
	return "failed";
}

/* The attempt log's word for an outcome. */
static const char *outcome_word(enum outcome o, int attempt)
{
	switch (o) {
	case OUTCOME_SENT:
		return "sent";
	case OUTCOME_HELD:
		return "held";
	case OUTCOME_RETRY:
		return attempt < ATTEMPTS_MAX ? "retry" : "failed";
	case OUTCOME_CANCELLED:
	case OUTCOME_FAILED:
		break;
	}
	return "failed";
}

static void deliver(struct worker *w, const struct message *m, struct delivery *d)
{
	for (const struct channel *c = channels; c->name; c++)
		if (!strcmp(c->name, m->channel)) {
			c->deliver(w, m, d);
			return;
		}
	d->outcome = OUTCOME_FAILED;
	snprintf(d->error, sizeof d->error, "this worker cannot deliver on channel %s", m->channel);
}

enum db_rc outbox_deliver(struct worker *w, const char *worker, bool *got)
{
	char now[32], lease[16], max[16], attempt[16], id[24], due[32] = "", ms[24], code[16];
	struct delivery d = { .outcome = OUTCOME_FAILED };
	struct message m;
	const char *state;
	char *composed = NULL;
	long long t0;
	enum db_rc rc;
	PGresult *r;

	*got = false;
	clock_now_text(now);
	snprintf(lease, sizeof lease, "%d", LEASE_S);
	snprintf(max, sizeof max, "%d", ATTEMPTS_MAX);
	rc = db_query(w->db, &stmt_claim, 4, (const char *const[]){ worker, now, lease, max }, &r);
	if (rc != DB_OK)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return DB_OK;
	}
	*got = true;
	message_read(r, &m);
	PQclear(r);
	t0 = now_us();
	if (!m.data)
		snprintf(d.error, sizeof d.error, "the message's data is not JSON");
	else
		deliver(w, &m, &d);
	state = outcome_state(d.outcome, m.attempt);
	if (d.outcome == OUTCOME_RETRY && m.attempt < ATTEMPTS_MAX) {
		time_t at = clock_now() + retry_delay_s(m.attempt, d.retry_after_s);
		struct tm tm;

		gmtime_r(&at, &tm);
		strftime(due, sizeof due, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (d.composed)
		composed = json_dumps(d.composed, JSON_COMPACT);
	snprintf(id, sizeof id, "%lld", m.id);
	snprintf(attempt, sizeof attempt, "%d", m.attempt);
	snprintf(ms, sizeof ms, "%lld", (now_us() - t0) / 1000);
	snprintf(code, sizeof code, "%d", d.response_code);
	rc = db_query(w->db, &stmt_record, 11,
		      (const char *const[]){ id, attempt, worker, state, outcome_word(d.outcome, m.attempt),
					     due[0] ? due : NULL, composed, d.error, now, ms, code },
		      &r);
	if (rc == DB_OK) {
		if (PQntuples(r) == 0)
			log_warn("outbox %lld: its lease went to another worker; the outcome (%s) is left to it",
				 m.id, state);
		else if (d.outcome == OUTCOME_SENT || d.outcome == OUTCOME_HELD)
			log_info("outbox %lld %s %s: %s", m.id, m.channel, m.kind, state);
		else
			log_warn("outbox %lld %s %s attempt %d: %s (%s)", m.id, m.channel, m.kind,
				 m.attempt, state, d.error);
		PQclear(r);
	} else {
		log_warn("outbox %lld: cannot record the outcome (%s); the lease will run out and it goes again",
			 m.id, db_error(w->db));
	}
	free(composed);
	json_decref(d.composed);
	message_clear(&m);
	return rc;
}

enum db_rc outbox_reap(struct db *db)
{
	char now[32], max[16];
	enum db_rc rc;
	PGresult *r;

	clock_now_text(now);
	snprintf(max, sizeof max, "%d", ATTEMPTS_MAX);
	rc = db_query(db, &stmt_reap, 2, (const char *const[]){ now, max }, &r);
	if (rc == DB_OK)
		PQclear(r);
	return rc;
}
