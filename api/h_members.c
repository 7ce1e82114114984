/* /v1/me and /v1/members (SPEC 10): who the caller is; co-chairs list,
 * invite and edit members. An invitation is a sign-in token (7 days) and
 * its mail in the outbox, written in the transaction that adds the
 * member; deactivating a member revokes its tokens, ends its sessions and
 * spends its sign-in tokens in the transaction that deactivates it. The
 * database keeps an active co-chair (018_members.sql). Also the member's
 * own settings (/v1/me/notifications, SPEC 11) and personal API tokens
 * (/v1/me/tokens). */
#include "clock.h"
#include "config.h"
#include "handlers.h"
#include "jsonout.h"
#include "jspec.h"
#include "query.h"
#include "signin.h"
#include "token.h"
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Personal API tokens a member may hold at once. */
#define TOKENS_PER_MEMBER 20
#define TEXT_OF_(x) #x
#define TEXT_OF(x) TEXT_OF_(x)

DB_STMT(stmt_me,
	"SELECT json_build_object("
	"  'id', m.id, 'name', m.name, 'email', m.email, 'entity', m.entity, 'role', m.role,"
	"  'language', m.language, 'active', m.active, 'created_at', utc_text(m.created_at),"
	"  'version', m.version::text,"
	"  'pillars', coalesce((SELECT json_agg(DISTINCT pl.pillar ORDER BY pl.pillar)"
	"    FROM pillar_lead pl WHERE pl.entity = m.entity), '[]'),"
	/* what a member may post on: a co-chair any action in use, a lead
	 * those its entity leads (as POST .../updates decides), a viewer none */
	"  'actions', CASE m.role"
	"    WHEN 'cochair' THEN coalesce((SELECT json_agg(a.id ORDER BY a.id) FROM action a"
	"      WHERE NOT a.archived), '[]')"
	"    WHEN 'lead' THEN coalesce((SELECT json_agg(a.id ORDER BY a.id) FROM action a"
	"      WHERE NOT a.archived AND EXISTS (SELECT 1 FROM action_lead l"
	"        WHERE l.action_id = a.id AND l.entity = m.entity)), '[]')"
	"    ELSE '[]' END)::text"
	" FROM member m WHERE m.id = $1::bigint");
DB_STMT(stmt_members_list,
	"SELECT member_json(m)::text, m.id::text AS cursor FROM member m"
	" WHERE ($1::text IS NULL OR m.id > $1::bigint)"
	"   AND ($3::text IS NULL OR m.entity = $3) AND ($4::text IS NULL OR m.role = $4)"
	"   AND ($5::bool IS NULL OR m.active = $5::bool)"
	" ORDER BY m.id LIMIT $2");
DB_STMT(stmt_member_get, "SELECT member_json(m)::text FROM member m WHERE m.id = $1::bigint");
DB_STMT(stmt_member_lock,
	"SELECT member_json(m)::text AS json, m.version, m.active FROM member m"
	" WHERE m.id = $1::bigint FOR UPDATE");
DB_STMT(stmt_member_insert,
	"INSERT INTO member (name, email, entity, role, language, created_at)"
	" VALUES ($1, $2, $3, $4, $5, $6::timestamptz) RETURNING id::text");
DB_STMT(stmt_invitation_mail,
	"SELECT outbox_mail($1::bigint, 'invitation', jsonb_build_object('url', $2::text,"
	"  'expires_at', $3::text, 'invited_by', (SELECT name FROM member WHERE id = $4::bigint)),"
	"  $5::timestamptz)");
DB_STMT(stmt_member_update,
	"UPDATE member SET name = coalesce($2, name), entity = coalesce($3, entity),"
	" role = coalesce($4, role), language = coalesce($5, language),"
	" active = coalesce($6::bool, active),"
	/* the one place a member's version moves (012) */
	" version = version + 1"
	" WHERE id = $1::bigint");
/* Deactivation: nothing the member held works any more. */
DB_STMT(stmt_member_cut_off,
	"WITH t AS (UPDATE api_token SET revoked_at = $2::timestamptz"
	"   WHERE member_id = $1::bigint AND revoked_at IS NULL),"
	" s AS (UPDATE member_session SET ended_at = $2::timestamptz"
	"   WHERE member_id = $1::bigint AND ended_at IS NULL)"
	" UPDATE signin_token SET used_at = $2::timestamptz"
	" WHERE member_id = $1::bigint AND used_at IS NULL");
DB_STMT(stmt_settings_get,
	"SELECT json_build_object('reminders', reminders, 'review_digest', review_digest,"
	" 'language', language)::text FROM member WHERE id = $1::bigint");
/* Changes only what differs, so that a write that changes nothing moves
 * no version and leaves no audit row. */
DB_STMT(stmt_settings_update,
	"UPDATE member SET reminders = coalesce($2::bool, reminders),"
	" review_digest = coalesce($3, review_digest), language = coalesce($4, language),"
	" version = version + 1"
	" WHERE id = $1::bigint AND (reminders, review_digest, language) IS DISTINCT FROM"
	"  (coalesce($2::bool, reminders), coalesce($3, review_digest), coalesce($4, language))");
DB_STMT(stmt_tokens_list,
	"SELECT json_build_object('id', t.id, 'label', t.label, 'created_at', utc_text(t.created_at),"
	"  'last_used_at', utc_text(t.last_used_at))::text, t.id::text AS cursor"
	" FROM api_token t WHERE t.member_id = $3::bigint AND t.revoked_at IS NULL"
	"   AND ($1::text IS NULL OR t.id > $1::bigint)"
	" ORDER BY t.id LIMIT $2");
DB_STMT(stmt_tokens_count,
	"SELECT (SELECT count(*) FROM api_token t WHERE t.member_id = m.id AND t.revoked_at IS NULL)"
	"  AS n FROM member m WHERE m.id = $1::bigint FOR UPDATE OF m");
DB_STMT(stmt_token_insert,
	"INSERT INTO api_token (member_id, label, hash) VALUES ($1::bigint, $2, $3::bytea)"
	" RETURNING json_build_object('id', id, 'label', label, 'created_at', utc_text(created_at),"
	"  'last_used_at', NULL, 'token', $4::text)::text");
DB_STMT(stmt_token_revoke,
	"UPDATE api_token SET revoked_at = $3::timestamptz"
	" WHERE id = $1::bigint AND member_id = $2::bigint AND revoked_at IS NULL");

/* What a write transaction says when it rolls back. */
struct outcome {
	struct request *rq;
	enum problem problem;
	const char *detail;
	json_t *errors; /* for PROBLEM_VALIDATION */
	char *result;
	bool unchanged;
};

static enum db_rc refuse(struct outcome *o, enum problem p, const char *detail)
{
	o->problem = p;
	o->detail = detail;
	return DB_ABORT;
}

static enum db_rc begin_as_caller(struct db *db, struct request *rq)
{
	char actor[32];

	request_actor(rq, actor);
	return db_set_actor(db, actor);
}

/* Answers a write transaction's end rc: status with o.result when it
 * committed (or 200 with it when it changed nothing; 204 without one),
 * the problem it chose, or the database's failure. headers go with a
 * success. Frees o's result. */
static int answer_write(struct request *rq, enum db_rc rc, struct outcome *o, unsigned status,
			const char *const *headers)
{
	int ret;

	if (rc == DB_OK || (rc == DB_ABORT && o->unchanged)) {
		json_decref(o->errors);
		ret = o->result ? reply_full(rq, rc == DB_OK ? status : 200, "application/json",
					     o->result, strlen(o->result), headers)
				: reply_empty(rq, 204, NULL);
	} else if (rc == DB_ABORT && o->problem == PROBLEM_VALIDATION) {
		ret = reply_invalid(rq, o->errors);
	} else {
		json_decref(o->errors);
		ret = rc == DB_ABORT ? reply_problem(rq, o->problem, o->detail, NULL)
				     : reply_db_failure(rq, rc);
	}
	free(o->result);
	return ret;
}

/* The first row's first column, kept in o->result. */
static enum db_rc keep_first(struct db *db, struct db_stmt *s, int n, const char *const *p,
			     struct outcome *o)
{
	PGresult *r;
	enum db_rc rc = db_query(db, s, n, p, &r);

	if (rc != DB_OK)
		return rc;
	free(o->result);
	o->result = PQntuples(r) ? strdup(PQgetvalue(r, 0, 0)) : NULL;
	PQclear(r);
	return DB_OK;
}

static void caller_id(struct request *rq, char out[24])
{
	snprintf(out, 24, "%lld", rq->who.member_id);
}

int h_me(struct request *rq)
{
	char id[24];

	caller_id(rq, id);
	return reply_document(rq, &stmt_me, 1, (const char *const[]){ id }, "no such member");
}

int h_members_list(struct request *rq)
{
	static const char *const bools[] = { "false", "true", NULL };
	const char *entity = NULL;
	int role = -1, active = -1;
	const struct q_field spec[] = {
		{ .name = "entity", .type = Q_TEXT, .max = 16, .out = &entity },
		{ .name = "role", .type = Q_ENUM, .choices = member_role_names, .out = &role },
		{ .name = "active", .type = Q_ENUM, .choices = bools, .out = &active },
		{ 0 },
	};
	struct page page;
	json_t *errors = json_array();
	char fetch[24];

	if (!query_parse(rq, spec, &page, errors))
		return reply_invalid(rq, errors);
	json_decref(errors);
	page_fetch(&page, fetch);
	return reply_list(rq, &stmt_members_list, 5,
			  (const char *const[]){ page.after, fetch, entity,
						 role >= 0 ? member_role_names[role] : NULL,
						 active >= 0 ? bools[active] : NULL },
			  &page);
}

int h_member_get(struct request *rq)
{
	char id[24];
	long long n;

	if (!request_id(rq, 0, &n))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such member", NULL);
	snprintf(id, sizeof id, "%lld", n);
	return reply_document(rq, &stmt_member_get, 1, (const char *const[]){ id }, "no such member");
}

/* ---- invitations ---- */

struct member_create {
	struct outcome o;
	const char *name, *email, *entity;
	int role, language;
	char id[24];
	struct signin invitation;
};

/* A refused member: which field, or a conflict. */
static enum db_rc member_rejected(struct db *db, struct outcome *o, enum db_rc rc)
{
	const char *c = db_error_constraint(db);

	if (rc != DB_CONSTRAINT)
		return rc;
	if (!strcmp(c, "member_email"))
		return refuse(o, PROBLEM_CONFLICT, "a member with this email exists already");
	if (!strcmp(c, "member_last_cochair"))
		return refuse(o, PROBLEM_CONFLICT,
			      "this is the last active co-chair: make another member co-chair first");
	if (!strcmp(c, "member_entity_fkey")) {
		js_error(o->errors, "entity", "must be an entity code (see /v1/entities)");
		return refuse(o, PROBLEM_VALIDATION, NULL);
	}
	return rc;
}

static enum db_rc member_create_txn(struct db *db, void *cls)
{
	struct member_create *m = cls;
	char inviter[24];
	enum db_rc rc;
	PGresult *r;

	rc = begin_as_caller(db, m->o.rq);
	if (rc != DB_OK)
		return rc;
	rc = db_query(db, &stmt_member_insert, 6,
		      (const char *const[]){ m->name, m->email, m->entity, member_role_names[m->role],
					     language_names[m->language], m->invitation.now },
		      &r);
	if (rc != DB_OK)
		return member_rejected(db, &m->o, rc);
	snprintf(m->id, sizeof m->id, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	caller_id(m->o.rq, inviter);
	rc = signin_store(db, &m->invitation, m->id, "invitation", inviter);
	if (rc != DB_OK)
		return rc;
	rc = db_query(db, &stmt_invitation_mail, 5,
		      (const char *const[]){ m->id, m->invitation.url, m->invitation.expires_at, inviter,
					     m->invitation.now },
		      &r);
	if (rc != DB_OK)
		return rc;
	PQclear(r);
	return keep_first(db, &stmt_member_get, 1, (const char *const[]){ m->id }, &m->o);
}

int h_member_create(struct request *rq)
{
	struct member_create m = { .o = { .rq = rq }, .language = LANGUAGE_EN };
	const struct js_field spec[] = {
		{ .name = "name", .type = JS_STRING, .flags = JS_REQUIRED, .min = 1, .max = 200,
		  .out = &m.name },
		{ .name = "email", .type = JS_EMAIL, .flags = JS_REQUIRED, .max = 254, .out = &m.email },
		{ .name = "entity", .type = JS_STRING, .flags = JS_REQUIRED, .min = 1, .max = 16,
		  .out = &m.entity },
		{ .name = "role", .type = JS_ENUM, .flags = JS_REQUIRED, .choices = member_role_names,
		  .out = &m.role },
		{ .name = "language", .type = JS_ENUM, .choices = language_names, .out = &m.language },
		{ 0 },
	};
	char location[48], etag[ETAG_STRLEN], *body = NULL, *normal;
	enum db_rc rc;
	json_t *doc;
	size_t len;
	int ret;

	m.o.errors = json_array();
	if (!js_validate(rq->json, spec, m.o.errors))
		return reply_invalid(rq, m.o.errors);
	if (!signin_new(&m.invitation, http_config()->public_url, SIGNIN_INVITATION_S)) {
		json_decref(m.o.errors);
		return reply_problem(rq, PROBLEM_INTERNAL, "no randomness for a token", NULL);
	}
	rc = db_transaction(request_db(rq), member_create_txn, &m);
	if (rc != DB_OK || !m.o.result)
		return answer_write(rq, rc == DB_OK ? DB_ERROR : rc, &m.o, 201, NULL);
	/* committed: the member, its invitation, and the member's own ETag
	 * (what a PATCH sends in If-Match) */
	normal = json_normal(m.o.result, strlen(m.o.result), &len);
	etag_of(normal ? normal : m.o.result, normal ? len : strlen(m.o.result), etag);
	doc = json_pack("{s:o, s:{s:s, s:s}}", "member", json_loads(m.o.result, 0, NULL),
			"invitation", "url", m.invitation.url, "expires_at", m.invitation.expires_at);
	body = doc ? json_text(doc, &len) : NULL;
	snprintf(location, sizeof location, "/v1/members/%s", m.id);
	ret = body ? reply_full(rq, 201, "application/json", body, len,
				(const char *const[]){ "Location", location, "ETag", etag, NULL })
		   : reply_problem(rq, PROBLEM_INTERNAL, "an internal error occurred", NULL);
	json_decref(doc);
	json_decref(m.o.errors);
	free(normal);
	free(body);
	free(m.o.result);
	return ret;
}

/* ---- edits ---- */

struct member_patch {
	struct outcome o;
	char id[24];
	const char *if_match, *name, *entity;
	int role, language;
	bool has_role, has_language, has_active, active;
	char *before;
};

static enum db_rc member_patch_txn(struct db *db, void *cls)
{
	struct member_patch *p = cls;
	char now[32];
	bool was_active;
	enum db_rc rc;
	PGresult *r;

	rc = begin_as_caller(db, p->o.rq);
	if (rc != DB_OK)
		return rc;
	rc = db_query(db, &stmt_member_lock, 1, (const char *const[]){ p->id }, &r);
	if (rc != DB_OK)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return refuse(&p->o, PROBLEM_NOT_FOUND, "no such member");
	}
	if (!version_matches(p->if_match, db_col(r, 0, "json"), db_col(r, 0, "version"))) {
		PQclear(r);
		return refuse(&p->o, PROBLEM_PRECONDITION_FAILED,
			      "the member changed since you read it: GET it again");
	}
	free(p->before);
	p->before = strdup(db_col(r, 0, "json"));
	was_active = db_bool(r, 0, "active");
	PQclear(r);
	rc = db_query(db, &stmt_member_update, 6,
		      (const char *const[]){ p->id, p->name, p->entity,
					     p->has_role ? member_role_names[p->role] : NULL,
					     p->has_language ? language_names[p->language] : NULL,
					     p->has_active ? (p->active ? "true" : "false") : NULL },
		      &r);
	if (rc != DB_OK)
		return member_rejected(db, &p->o, rc);
	PQclear(r);
	if (was_active && p->has_active && !p->active) {
		clock_now_text(now);
		rc = db_query(db, &stmt_member_cut_off, 2, (const char *const[]){ p->id, now }, &r);
		if (rc != DB_OK)
			return rc;
		PQclear(r);
	}
	rc = keep_first(db, &stmt_member_get, 1, (const char *const[]){ p->id }, &p->o);
	if (rc != DB_OK)
		return rc;
	/* a write that changes nothing leaves no version and no audit row */
	if (json_text_same(p->before, p->o.result, (const char *const[]){ "version", NULL })) {
		p->o.unchanged = true;
		return DB_ABORT;
	}
	return DB_OK;
}

int h_member_patch(struct request *rq)
{
	struct member_patch p = { .o = { .rq = rq } };
	const struct js_field spec[] = {
		{ .name = "name", .type = JS_STRING, .min = 1, .max = 200, .out = &p.name },
		{ .name = "entity", .type = JS_STRING, .min = 1, .max = 16, .out = &p.entity },
		{ .name = "role", .type = JS_ENUM, .choices = member_role_names, .out = &p.role,
		  .present = &p.has_role },
		{ .name = "language", .type = JS_ENUM, .choices = language_names, .out = &p.language,
		  .present = &p.has_language },
		{ .name = "active", .type = JS_BOOL, .out = &p.active, .present = &p.has_active },
		{ 0 },
	};
	long long n;
	int ret;

	if (!request_id(rq, 0, &n))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such member", NULL);
	snprintf(p.id, sizeof p.id, "%lld", n);
	p.o.errors = json_array();
	if (!js_validate(rq->json, spec, p.o.errors))
		return reply_invalid(rq, p.o.errors);
	p.if_match = request_header(rq, "If-Match");
	if (!p.if_match) {
		json_decref(p.o.errors);
		return reply_problem(rq, PROBLEM_PRECONDITION_REQUIRED,
				     "send If-Match with the member's ETag or version", NULL);
	}
	ret = answer_write(rq, db_transaction(request_db(rq), member_patch_txn, &p), &p.o, 200, NULL);
	free(p.before);
	return ret;
}

/* ---- the caller's own settings (SPEC 11) ---- */

int h_me_notifications(struct request *rq)
{
	char id[24];

	caller_id(rq, id);
	return reply_document(rq, &stmt_settings_get, 1, (const char *const[]){ id }, "no such member");
}

struct settings_patch {
	struct outcome o;
	bool reminders, has_reminders, has_digest, has_language;
	int digest, language;
};

static enum db_rc settings_patch_txn(struct db *db, void *cls)
{
	struct settings_patch *s = cls;
	char id[24];
	enum db_rc rc;
	PGresult *r;

	caller_id(s->o.rq, id);
	rc = begin_as_caller(db, s->o.rq);
	if (rc == DB_OK)
		rc = db_query(db, &stmt_settings_update, 4,
			      (const char *const[]){
				      id, s->has_reminders ? (s->reminders ? "true" : "false") : NULL,
				      s->has_digest ? review_digest_names[s->digest] : NULL,
				      s->has_language ? language_names[s->language] : NULL },
			      &r);
	if (rc != DB_OK)
		return rc;
	PQclear(r);
	return keep_first(db, &stmt_settings_get, 1, (const char *const[]){ id }, &s->o);
}

int h_me_notifications_patch(struct request *rq)
{
	struct settings_patch s = { .o = { .rq = rq } };
	const struct js_field spec[] = {
		{ .name = "reminders", .type = JS_BOOL, .out = &s.reminders, .present = &s.has_reminders },
		{ .name = "review_digest", .type = JS_ENUM, .choices = review_digest_names,
		  .out = &s.digest, .present = &s.has_digest },
		{ .name = "language", .type = JS_ENUM, .choices = language_names, .out = &s.language,
		  .present = &s.has_language },
		{ 0 },
	};

	s.o.errors = json_array();
	if (!js_validate(rq->json, spec, s.o.errors))
		return reply_invalid(rq, s.o.errors);
	return answer_write(rq, db_transaction(request_db(rq), settings_patch_txn, &s), &s.o, 200,
			    NULL);
}

/* ---- personal API tokens ---- */

int h_me_tokens(struct request *rq)
{
	char id[24];

	caller_id(rq, id);
	return reply_plain_list(rq, &stmt_tokens_list, id);
}

struct token_create {
	struct outcome o;
	const char *label;
	char token[TOKEN_STRLEN];
};

static enum db_rc token_create_txn(struct db *db, void *cls)
{
	struct token_create *t = cls;
	unsigned char hash[SHA256_LEN];
	char id[24];
	enum db_rc rc;
	PGresult *r;

	caller_id(t->o.rq, id);
	rc = begin_as_caller(db, t->o.rq);
	/* the member's row locked: two requests at once count one another */
	if (rc == DB_OK)
		rc = db_query(db, &stmt_tokens_count, 1, (const char *const[]){ id }, &r);
	if (rc != DB_OK)
		return rc;
	if (PQntuples(r) != 1 || db_int(r, 0, "n") >= TOKENS_PER_MEMBER) {
		PQclear(r);
		return refuse(&t->o, PROBLEM_CONFLICT,
			      "you hold " TEXT_OF(TOKENS_PER_MEMBER) " tokens, the most a member may: "
			      "delete one you no longer use");
	}
	PQclear(r);
	token_hash(t->token, hash);
	rc = db_query_params(db, &stmt_token_insert, 4,
			     (const char *const[]){ id, t->label, (const char *)hash, t->token },
			     (const int[]){ 0, 0, SHA256_LEN, 0 }, (const int[]){ 0, 0, 1, 0 }, &r);
	if (rc != DB_OK)
		return rc;
	free(t->o.result);
	t->o.result = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return DB_OK;
}

int h_me_token_create(struct request *rq)
{
	struct token_create t = { .o = { .rq = rq } };
	const struct js_field spec[] = {
		{ .name = "label", .type = JS_STRING, .flags = JS_REQUIRED, .min = 1, .max = 100,
		  .out = &t.label },
		{ 0 },
	};
	int ret;

	t.o.errors = json_array();
	if (!js_validate(rq->json, spec, t.o.errors))
		return reply_invalid(rq, t.o.errors);
	if (!token_generate(t.token)) {
		json_decref(t.o.errors);
		return reply_problem(rq, PROBLEM_INTERNAL, "no randomness for a token", NULL);
	}
	ret = answer_write(rq, db_transaction(request_db(rq), token_create_txn, &t), &t.o, 201, NULL);
	memset(t.token, 0, sizeof t.token);
	return ret;
}

struct token_delete {
	struct outcome o;
	char id[24];
};

static enum db_rc token_delete_txn(struct db *db, void *cls)
{
	struct token_delete *t = cls;
	char member[24], now[32];
	enum db_rc rc;
	PGresult *r;

	caller_id(t->o.rq, member);
	clock_now_text(now);
	rc = begin_as_caller(db, t->o.rq);
	if (rc == DB_OK)
		rc = db_query(db, &stmt_token_revoke, 3, (const char *const[]){ t->id, member, now }, &r);
	if (rc != DB_OK)
		return rc;
	if (!atoi(PQcmdTuples(r))) {
		PQclear(r);
		return refuse(&t->o, PROBLEM_NOT_FOUND, "you hold no such token");
	}
	PQclear(r);
	return DB_OK;
}

int h_me_token_delete(struct request *rq)
{
	struct token_delete t = { .o = { .rq = rq } };
	long long n;

	if (!request_id(rq, 0, &n))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "you hold no such token", NULL);
	snprintf(t.id, sizeof t.id, "%lld", n);
	return answer_write(rq, db_transaction(request_db(rq), token_delete_txn, &t), &t.o, 204, NULL);
}
