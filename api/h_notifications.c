/* Notifications (SPEC 11): the outbox as co-chairs see it, what the
 * reporting reminders of a quarter sent and have due, and the one-click
 * unsubscribe links of reminders and digests (RFC 8058): signed with the
 * service's 'unsubscribe' key, acting on POST only. */
#include "clock.h"
#include "handlers.h"
#include "jspec.h"
#include "mail.h"
#include "period.h"
#include "query.h"
#include "sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Newest first. A held mail's text is shown (that is how co-chairs read
 * mail with no SMTP server), but never a sign-in mail's: its link signs
 * its member in. */
DB_STMT(stmt_outbox_list,
	"SELECT json_build_object('id', o.id, 'uid', o.uid, 'channel', o.channel, 'kind', o.kind,"
	"   'state', o.state,"
	"   'recipient', CASE WHEN m.id IS NOT NULL THEN json_build_object('id', m.id, 'name', m.name,"
	"     'email', m.email) END,"
	"   'webhook', o.webhook_id, 'subject', o.composed->>'subject', 'attempts', o.attempts,"
	"   'last_error', o.last_error, 'created_at', utc_text(o.created_at),"
	"   'due_at', utc_text(o.due_at), 'sent_at', utc_text(o.sent_at),"
	"   'text', CASE WHEN o.state = 'held' AND o.kind <> 'sign-in' THEN o.composed->>'text' END)::text,"
	"  o.id::text AS cursor"
	" FROM outbox o LEFT JOIN member m ON m.id = o.member_id"
	" WHERE ($1::text IS NULL OR o.id < $1::bigint)"
	"   AND ($3::text IS NULL OR o.state = $3) AND ($4::text IS NULL OR o.kind = $4)"
	"   AND ($5::text IS NULL OR o.channel = $5)"
	" ORDER BY o.id DESC LIMIT $2");

/* Per occasion of quarter $1 at instant $2: when its round started, the
 * reminders sent, and, while it is open or to come, whom it has due now;
 * $3 limits both to the members of one entity. */
DB_STMT(stmt_reminders,
	"WITH t AS (SELECT ($2::timestamptz AT TIME ZONE 'UTC')::date AS d)"
	" SELECT json_build_object('period', period_text($1::int), 'deadline', period_deadline($1::int),"
	"  'occasions', (SELECT json_agg(json_build_object('occasion', o.occasion,"
	"     'first_day', o.first_day, 'last_day', o.last_day,"
	"     'state', CASE WHEN t.d < o.first_day THEN 'upcoming' WHEN t.d <= o.last_day THEN 'open'"
	"       ELSE 'closed' END,"
	"     'started_at', utc_text(rr.started_at),"
	"     'sent', coalesce((SELECT json_agg(json_build_object('member', json_build_object('id', m.id,"
	"         'name', m.name, 'entity', m.entity), 'actions', r.actions,"
	"         'created_at', utc_text(r.created_at), 'outbox', json_build_object('id', ob.id,"
	"         'state', ob.state)) ORDER BY m.id)"
	"       FROM reminder r JOIN member m ON m.id = r.member_id"
	"       LEFT JOIN outbox ob ON ob.uid = r.outbox_uid"
	"       WHERE r.period = $1::int AND r.occasion = o.occasion"
	"         AND ($3::text IS NULL OR m.entity = $3)), '[]'),"
	"     'due', CASE WHEN t.d <= o.last_day THEN coalesce((SELECT json_agg(json_build_object("
	"         'member', json_build_object('id', m.id, 'name', m.name, 'entity', m.entity),"
	"         'actions', d.actions) ORDER BY m.id)"
	"       FROM reminder_due($1::int, o.occasion) d JOIN member m ON m.id = d.member_id"
	"       WHERE ($3::text IS NULL OR m.entity = $3) AND NOT EXISTS (SELECT 1 FROM reminder r"
	"         WHERE r.period = $1::int AND r.occasion = o.occasion AND r.member_id = m.id)), '[]')"
	"       ELSE '[]' END) ORDER BY o.first_day)"
	"   FROM reminder_occasions($1::int) o CROSS JOIN t"
	"   LEFT JOIN reminder_round rr ON rr.period = $1::int AND rr.occasion = o.occasion))::text");

DB_STMT(stmt_unsubscribe_get,
	"SELECT CASE $2 WHEN 'reminders' THEN reminders ELSE review_digest <> 'off' END AS subscribed"
	" FROM member WHERE id = $1::bigint");
/* The member's version moves with its settings, as in every API write. */
DB_STMT(stmt_unsubscribe,
	"UPDATE member SET version = version + 1,"
	"  reminders = CASE WHEN $2 = 'reminders' THEN false ELSE reminders END,"
	"  review_digest = CASE WHEN $2 = 'review-digest' THEN 'off' ELSE review_digest END"
	" WHERE id = $1::bigint"
	"   AND (CASE $2 WHEN 'reminders' THEN reminders ELSE review_digest <> 'off' END)"
	" RETURNING id");

static const char *const outbox_states[] = { "queued", "sending", "held", "sent", "failed", "cancelled", NULL };
static const char *const outbox_channels[] = { "mail", "webhook", NULL };
static const char *const unsubscribe_lists[] = { "reminders", "review-digest", NULL };

int h_outbox_list(struct request *rq)
{
	int state = 0, channel = 0;
	const char *kind;
	bool has_state, has_kind, has_channel;
	const struct q_field spec[] = {
		{ .name = "state", .type = Q_ENUM, .choices = outbox_states, .out = &state, .present = &has_state },
		{ .name = "kind", .type = Q_TEXT, .max = 40, .out = &kind, .present = &has_kind },
		{ .name = "channel", .type = Q_ENUM, .choices = outbox_channels, .out = &channel,
		  .present = &has_channel },
		{ 0 },
	};
	struct page page;
	json_t *errors = json_array();
	char fetch[24];

	if (!query_parse(rq, spec, &page, errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	page_fetch(&page, fetch);
	return reply_list(rq, &stmt_outbox_list, 5,
			  (const char *const[]){ page.after, fetch, has_state ? outbox_states[state] : NULL,
						 has_kind ? kind : NULL,
						 has_channel ? outbox_channels[channel] : NULL },
			  &page);
}

int h_reminders(struct request *rq)
{
	int period = period_of_time(clock_now()) - 1;
	const struct q_field spec[] = {
		{ .name = "period", .type = Q_PERIOD, .out = &period },
		{ 0 },
	};
	json_t *errors = json_array();
	char cycle[16], p[16], now[32];
	enum db_rc rc = DB_OK;

	/* by default the quarter whose reporting round runs now */
	if (!query_parse(rq, spec, NULL, errors) ||
	    !progress_scope(rq, &period, "period", NULL, cycle, errors, &rc, NULL)) {
		if (rc != DB_OK) {
			json_decref(errors);
			return reply_db_failure(rq, rc);
		}
		return reply_invalid(rq, errors);
	}
	json_decref(errors);
	snprintf(p, sizeof p, "%d", period);
	clock_now_text(now);
	return reply_document(rq, &stmt_reminders, 3,
			      (const char *const[]){ p, now, rq->who.role == ROLE_COCHAIR ? NULL : rq->who.entity },
			      "no such quarter");
}

/* The link's member, list and signature, checked; false when the reply
 * is queued in *ret. */
static bool unsubscribe_link(struct request *rq, long long *member, const char **list, int *ret)
{
	int which = 0;
	const char *sig = NULL;
	bool has_list = false;
	const struct q_field spec[] = {
		{ .name = "member", .type = Q_INT, .min = 1, .max = (long long)1 << 62, .out = member },
		{ .name = "list", .type = Q_ENUM, .choices = unsubscribe_lists, .out = &which,
		  .present = &has_list },
		{ .name = "sig", .type = Q_TEXT, .max = 64, .out = &sig },
		{ 0 },
	};
	unsigned char key[SIGN_KEY_LEN];
	char want[MAIL_SIG_STRLEN];
	json_t *errors = json_array();
	enum db_rc rc;

	if (query_parse(rq, spec, NULL, errors)) {
		if (!*member)
			js_error(errors, "member", "is required");
		if (!has_list)
			js_error(errors, "list", "is required");
		if (!sig)
			js_error(errors, "sig", "is required");
	}
	if (json_array_size(errors)) {
		*ret = reply_invalid(rq, errors);
		return false;
	}
	json_decref(errors);
	*list = unsubscribe_lists[which];
	rc = sign_key(request_db(rq), "unsubscribe", key);
	if (rc != DB_OK) {
		*ret = reply_db_failure(rq, rc);
		return false;
	}
	mail_unsubscribe_sig(key, *member, *list, want);
	if (strlen(sig) != strlen(want) || !equal_secret(sig, want, strlen(want))) {
		*ret = reply_problem(rq, PROBLEM_FORBIDDEN,
				     "this unsubscribe link is not one the service made (its signature does not match)",
				     NULL);
		return false;
	}
	return true;
}

static int unsubscribe_reply(struct request *rq, long long member, const char *list, bool subscribed)
{
	json_t *j = json_pack("{s:I, s:s, s:b, s:s}", "member", (json_int_t)member, "list", list,
			      "subscribed", subscribed, "detail",
			      subscribed ? "send a POST to this same URL to stop these messages (RFC 8058); a GET changes nothing"
					 : "these messages are off; turn them on again in your notification settings");
	char *body = json_dumps(j, JSON_COMPACT);
	int ret = reply_json(rq, 200, body, strlen(body));

	free(body);
	json_decref(j);
	return ret;
}

/* GET: what the link would do. Changes nothing (mail scanners and link
 * previews fetch links). */
int h_unsubscribe_get(struct request *rq)
{
	long long member = 0;
	const char *list;
	char id[24];
	enum db_rc rc;
	PGresult *r;
	bool subscribed;
	int ret;

	if (!unsubscribe_link(rq, &member, &list, &ret))
		return ret;
	snprintf(id, sizeof id, "%lld", member);
	rc = db_query(request_db(rq), &stmt_unsubscribe_get, 2, (const char *const[]){ id, list }, &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	if (PQntuples(r) == 0) {
		PQclear(r);
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such member", NULL);
	}
	subscribed = db_bool(r, 0, "subscribed");
	PQclear(r);
	return unsubscribe_reply(rq, member, list, subscribed);
}

struct unsubscribe {
	char id[24];
	const char *list;
};

static enum db_rc unsubscribe_txn(struct db *db, void *cls)
{
	struct unsubscribe *u = cls;
	char actor[48];
	enum db_rc rc;
	PGresult *r;

	snprintf(actor, sizeof actor, "unsubscribe:member:%s", u->id);
	rc = db_set_actor(db, actor);
	if (rc == DB_OK)
		rc = db_query(db, &stmt_unsubscribe, 2, (const char *const[]){ u->id, u->list }, &r);
	if (rc == DB_OK)
		PQclear(r);
	return rc;
}

/* POST (RFC 8058 one-click; the form body List-Unsubscribe=One-Click is
 * not needed: the signed URL is what acts). Doing it twice is harmless. */
int h_unsubscribe_post(struct request *rq)
{
	struct unsubscribe u;
	long long member = 0;
	enum db_rc rc;
	PGresult *r;
	int ret;

	if (!unsubscribe_link(rq, &member, &u.list, &ret))
		return ret;
	snprintf(u.id, sizeof u.id, "%lld", member);
	rc = db_query(request_db(rq), &stmt_unsubscribe_get, 2, (const char *const[]){ u.id, u.list }, &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	if (PQntuples(r) == 0) {
		PQclear(r);
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such member", NULL);
	}
	PQclear(r);
	rc = db_transaction(request_db(rq), unsubscribe_txn, &u);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	return unsubscribe_reply(rq, member, u.list, false);
}
