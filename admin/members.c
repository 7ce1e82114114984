/* Members, their bearer tokens and sign-in links. */
#include "admin.h"
#include "config.h"
#include "signin.h"
#include "token.h"

#include <stdio.h>
#include <string.h>

DB_STMT(stmt_member_add,
	"INSERT INTO member (name, email, entity, role) VALUES ($1, $2, $3, $4) RETURNING id");
DB_STMT(stmt_member_by_email, "SELECT id FROM member WHERE lower(email) = lower($1)");
DB_STMT(stmt_token_add,
	"INSERT INTO api_token (member_id, label, hash) VALUES ($1, $2, $3::bytea) RETURNING id");
DB_STMT(stmt_token_list,
	"SELECT t.id, t.label,"
	" to_char(t.created_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	" coalesce(to_char(t.last_used_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '-'),"
	" coalesce(to_char(t.revoked_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '-')"
	" FROM api_token t JOIN member m ON m.id = t.member_id"
	" WHERE lower(m.email) = lower($1) ORDER BY t.id");
DB_STMT(stmt_token_revoke,
	"UPDATE api_token SET revoked_at = coalesce(revoked_at, now())"
	" WHERE id = $1::text::bigint RETURNING id");

static int need(const char *value, const char *option)
{
	if (value)
		return 0;
	fprintf(stderr, "workplan-admin: %s is required (see --help)\n", option);
	return 2;
}

static int explain_rejection(struct db *db, enum db_rc rc, const char *what)
{
	const char *c = db_error_constraint(db);

	if (rc == DB_CONSTRAINT && !strcmp(c, "member_email"))
		fprintf(stderr, "workplan-admin: %s: a member with that email exists already\n", what);
	else if (rc == DB_CONSTRAINT && !strcmp(c, "member_entity_fkey"))
		fprintf(stderr, "workplan-admin: %s: unknown entity code (see GET /v1/entities)\n", what);
	else if (rc == DB_CONSTRAINT && *c)
		fprintf(stderr, "workplan-admin: %s: %s (%s)\n", what, db_error(db), c);
	else
		return admin_db_fail(db, what);
	return 1;
}

int cmd_member_add(struct db *db, int argc, char **argv)
{
	static const char *const opts[] = { "--name", "--email", "--entity", "--role", NULL };
	const char *v[4] = { NULL };
	enum db_rc rc;
	PGresult *r;
	int bad;

	if (!admin_options(argc, argv, opts, v))
		return 2;
	bad = need(v[0], "--name") | need(v[1], "--email") | need(v[2], "--entity") |
	      need(v[3], "--role");
	if (bad)
		return bad;
	if (strcmp(v[3], "cochair") && strcmp(v[3], "lead") && strcmp(v[3], "viewer")) {
		fprintf(stderr, "workplan-admin: --role must be cochair, lead or viewer\n");
		return 2;
	}
	rc = db_query(db, &stmt_member_add, 4, v, &r);
	if (rc != DB_OK)
		return explain_rejection(db, rc, "cannot add the member");
	printf("member %s added: %s <%s>, %s of %s\n", PQgetvalue(r, 0, 0), v[0], v[1], v[3], v[2]);
	PQclear(r);
	return 0;
}

/* The member id for an email, or NULL (after printing why). */
static char *member_id(struct db *db, const char *email, char out[32])
{
	PGresult *r;

	if (db_query(db, &stmt_member_by_email, 1, &email, &r) != DB_OK) {
		admin_db_fail(db, "cannot look up the member");
		return NULL;
	}
	if (PQntuples(r) != 1) {
		fprintf(stderr, "workplan-admin: no member has the email %s\n", email);
		PQclear(r);
		return NULL;
	}
	snprintf(out, 32, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return out;
}

int cmd_token_create(struct db *db, int argc, char **argv)
{
	static const char *const opts[] = { "--email", "--label", NULL };
	const char *v[2] = { NULL };
	unsigned char hash[SHA256_LEN];
	char token[TOKEN_STRLEN], id[32];
	enum db_rc rc;
	PGresult *r;

	if (!admin_options(argc, argv, opts, v) || need(v[0], "--email"))
		return 2;
	if (!member_id(db, v[0], id))
		return 1;
	if (!token_generate(token)) {
		fprintf(stderr, "workplan-admin: the kernel gave no random bytes\n");
		return 1;
	}
	token_hash(token, hash);
	rc = db_query_params(db, &stmt_token_add, 3,
			     (const char *const[]){ id, v[1] ? v[1] : "", (const char *)hash },
			     (const int[]){ 0, 0, SHA256_LEN }, (const int[]){ 0, 0, 1 }, &r);
	if (rc != DB_OK)
		return explain_rejection(db, rc, "cannot store the token");
	fprintf(stderr, "token %s created for %s; it is shown once, keep it safe\n",
		PQgetvalue(r, 0, 0), v[0]);
	PQclear(r);
	printf("%s\n", token);
	return 0;
}

int cmd_token_list(struct db *db, int argc, char **argv)
{
	static const char *const opts[] = { "--email", NULL };
	const char *v[1] = { NULL };
	char id[32];
	PGresult *r;

	if (!admin_options(argc, argv, opts, v) || need(v[0], "--email"))
		return 2;
	if (!member_id(db, v[0], id))
		return 1;
	if (db_query(db, &stmt_token_list, 1, v, &r) != DB_OK)
		return admin_db_fail(db, "cannot list the tokens");
	printf("%-6s %-20s %-20s %-20s %s\n", "id", "label", "created", "last_used", "revoked");
	for (int i = 0; i < PQntuples(r); i++)
		printf("%-6s %-20s %-20s %-20s %s\n", PQgetvalue(r, i, 0),
		       *PQgetvalue(r, i, 1) ? PQgetvalue(r, i, 1) : "-", PQgetvalue(r, i, 2),
		       PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
	PQclear(r);
	return 0;
}

int cmd_token_revoke(struct db *db, int argc, char **argv)
{
	static const char *const opts[] = { "--id", NULL };
	const char *v[1] = { NULL };
	enum db_rc rc;
	PGresult *r;

	if (!admin_options(argc, argv, opts, v) || need(v[0], "--id"))
		return 2;
	rc = db_query(db, &stmt_token_revoke, 1, v, &r);
	if (rc == DB_INVALID) {
		fprintf(stderr, "workplan-admin: --id must be a token id (see token list)\n");
		return 2;
	}
	if (rc != DB_OK)
		return admin_db_fail(db, "cannot revoke the token");
	if (PQntuples(r) != 1) {
		fprintf(stderr, "workplan-admin: no token has the id %s\n", v[0]);
		PQclear(r);
		return 1;
	}
	PQclear(r);
	printf("token %s revoked\n", v[0]);
	return 0;
}

DB_STMT(stmt_member_active, "SELECT id::text, active FROM member WHERE lower(email) = lower($1)");

/* A sign-in link for an operator to hand over (and for make run): the
 * same 15-minute, one-time link a member gets by mail, printed instead. */
int cmd_link(struct db *db, int argc, char **argv)
{
	static const char *const opts[] = { "--email", NULL };
	const char *v[1] = { NULL };
	struct config cfg;
	struct signin s;
	char err[256];
	enum db_rc rc;
	PGresult *r;

	if (!admin_options(argc, argv, opts, v) || need(v[0], "--email"))
		return 2;
	if (!config_load(&cfg, err, sizeof err)) {
		fprintf(stderr, "workplan-admin: %s\n", err);
		return 2;
	}
	if (db_query(db, &stmt_member_active, 1, v, &r) != DB_OK)
		return admin_db_fail(db, "cannot look up the member");
	if (PQntuples(r) != 1 || !db_bool(r, 0, "active")) {
		fprintf(stderr, "workplan-admin: no active member has the email %s\n", v[0]);
		PQclear(r);
		return 1;
	}
	if (!signin_new(&s, cfg.public_url, SIGNIN_LINK_S)) {
		PQclear(r);
		fprintf(stderr, "workplan-admin: cannot make a sign-in link (randomness or length)\n");
		return 1;
	}
	rc = signin_store(db, &s, db_col(r, 0, "id"), "link", NULL);
	PQclear(r);
	if (rc != DB_OK)
		return admin_db_fail(db, "cannot store the sign-in link");
	fprintf(stderr, "sign-in link for %s: works once, until %s\n", v[0], s.expires_at);
	printf("%s\n", s.url);
	return 0;
}
