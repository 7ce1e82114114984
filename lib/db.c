/* Connections, lazily prepared statements and the transaction runner. */
#include "db.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db {
	char *conninfo;
	char *application_name;
	int statement_timeout_ms;
	PGconn *conn;
	unsigned char prepared[DB_MAX_STMTS];
	char error[512];
	char constraint[128];
};

static atomic_int next_slot = 1;
static atomic_int open_connections;
/* Last failed connection attempt by any thread; 0 once one succeeds, so
 * every thread reconnects as soon as the server is back. */
static atomic_llong failed_at_us;

struct db *db_new(const char *conninfo, const char *application_name,
		  int statement_timeout_ms)
{
	struct db *db = xcalloc(1, sizeof *db);

	db->conninfo = conninfo ? xstrdup(conninfo) : NULL;
	db->application_name = xstrdup(application_name);
	db->statement_timeout_ms = statement_timeout_ms;
	return db;
}

static void db_disconnect(struct db *db)
{
	if (!db->conn)
		return;
	PQfinish(db->conn);
	db->conn = NULL;
	atomic_fetch_sub(&open_connections, 1);
	memset(db->prepared, 0, sizeof db->prepared);
}

void db_free(struct db *db)
{
	if (!db)
		return;
	db_disconnect(db);
	free(db->conninfo);
	free(db->application_name);
	free(db);
}

static void db_set_error(struct db *db, const char *msg, const char *constraint)
{
	size_t n;

	snprintf(db->error, sizeof db->error, "%s", msg ? msg : "unknown error");
	n = strlen(db->error);
	while (n && (db->error[n - 1] == '\n' || db->error[n - 1] == ' '))
		db->error[--n] = '\0';
	snprintf(db->constraint, sizeof db->constraint, "%s", constraint ? constraint : "");
}

const char *db_error(const struct db *db)
{
	return db->error;
}

const char *db_error_constraint(const struct db *db)
{
	return db->constraint;
}

PGconn *db_conn(struct db *db)
{
	return db->conn;
}

int db_open_connections(void)
{
	return atomic_load(&open_connections);
}

enum db_rc db_connect(struct db *db)
{
	const char *keys[] = { "connect_timeout", "dbname", "application_name", NULL };
	const char *vals[] = { "3", db->conninfo, db->application_name, NULL };
	char set[160];
	long long failed;
	PGresult *r;

	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		return DB_OK;
	db_disconnect(db);
	/* Do not hammer a server that is down: one attempt per 250 ms, by
	 * whichever thread claims it (moving the mark to now) first; the
	 * others, the API's pool and its listeners alike, fail at once. */
	failed = atomic_load(&failed_at_us);
	if (failed && (now_us() - failed < 250000 ||
		       !atomic_compare_exchange_strong(&failed_at_us, &failed, now_us()))) {
		db_set_error(db, "the database was unreachable moments ago", NULL);
		return DB_DOWN;
	}
	/* dbname comes after connect_timeout, so a conninfo may override it */
	db->conn = PQconnectdbParams(keys, vals, 1);
	atomic_fetch_add(&open_connections, 1);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		db_set_error(db, PQerrorMessage(db->conn), NULL);
		db_disconnect(db);
		atomic_store(&failed_at_us, now_us());
		return DB_DOWN;
	}
	snprintf(set, sizeof set, "SET statement_timeout = %d; SET TIME ZONE 'UTC'; SET client_min_messages = warning; SET jit = off",
		 db->statement_timeout_ms);
	r = PQexec(db->conn, set);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		db_set_error(db, PQerrorMessage(db->conn), NULL);
		PQclear(r);
		db_disconnect(db);
		atomic_store(&failed_at_us, now_us());
		return DB_DOWN;
	}
	PQclear(r);
	atomic_store(&failed_at_us, 0);
	return DB_OK;
}

/* Maps a failed result to a status, remembering its message. */
static enum db_rc db_classify(struct db *db, PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	db_set_error(db, msg ? msg : PQerrorMessage(db->conn),
		     r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL);
	if (PQstatus(db->conn) != CONNECTION_OK || !state) {
		db_disconnect(db);
		return DB_DOWN;
	}
	if (!strcmp(state, "40001") || !strcmp(state, "40P01"))
		return DB_RETRY;
	/* 08: connection exception (but a protocol violation is our bug);
	 * 57P0x: shutdown, crash, cannot connect now */
	if ((!strncmp(state, "08", 2) && strcmp(state, "08P01")) || !strncmp(state, "57P0", 4)) {
		db_disconnect(db);
		return DB_DOWN;
	}
	/* statement_timeout (or a lock wait) ran out: the database is too
	 * busy for this request now, which is an outage to the caller */
	if (!strcmp(state, "57014") || !strcmp(state, "55P03"))
		return DB_DOWN;
	if (!strncmp(state, "23", 2))
		return DB_CONSTRAINT;
	if (!strncmp(state, "22", 2) || !strcmp(state, "P0001"))
		return DB_INVALID;
	return DB_ERROR;
}

static int db_slot(struct db_stmt *s)
{
	int slot = atomic_load(&s->slot);

	if (!slot) {
		int want = atomic_fetch_add(&next_slot, 1), none = 0;

		if (want >= DB_MAX_STMTS)
			abort(); /* raise DB_MAX_STMTS */
		atomic_compare_exchange_strong(&s->slot, &none, want);
		slot = atomic_load(&s->slot);
	}
	return slot;
}

static enum db_rc db_query_once(struct db *db, struct db_stmt *s, int nparams,
				const char *const *params, const int *lengths, const int *formats,
				PGresult **res)
{
	int slot = db_slot(s);
	char name[16];
	enum db_rc rc;
	PGresult *r;

	snprintf(name, sizeof name, "s%d", slot);
	if (!db->prepared[slot]) {
		r = PQprepare(db->conn, name, s->sql, nparams, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			rc = db_classify(db, r);
			PQclear(r);
			if (rc == DB_ERROR)
				BUG("cannot prepare %s: %s", s->name, db->error);
			return rc;
		}
		PQclear(r);
		db->prepared[slot] = 1;
	}
	r = PQexecPrepared(db->conn, name, nparams, params, lengths, formats, 0);
	switch (PQresultStatus(r)) {
	case PGRES_TUPLES_OK:
	case PGRES_COMMAND_OK:
		*res = r;
		return DB_OK;
	default:
		rc = db_classify(db, r);
		PQclear(r);
		if (rc == DB_ERROR)
			log_error("statement %s failed: %s", s->name, db->error);
		return rc;
	}
}

static enum db_rc db_exec_once(struct db *db, const char *sql)
{
	enum db_rc rc = DB_OK;
	PGresult *r = PQexec(db->conn, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = db_classify(db, r);
	PQclear(r);
	return rc;
}

/* A connection may have died while idle (the server restarted): outside a
 * transaction nothing is lost by reconnecting and trying once more. */
static bool db_may_retry(struct db *db, bool was_idle, enum db_rc rc)
{
	return rc == DB_DOWN && was_idle && db_connect(db) == DB_OK;
}

enum db_rc db_query_params(struct db *db, struct db_stmt *s, int nparams,
			   const char *const *params, const int *lengths, const int *formats,
			   PGresult **res)
{
	enum db_rc rc;
	bool idle;

	*res = NULL;
	if (db_connect(db) != DB_OK)
		return DB_DOWN;
	idle = PQtransactionStatus(db->conn) == PQTRANS_IDLE;
	rc = db_query_once(db, s, nparams, params, lengths, formats, res);
	if (db_may_retry(db, idle, rc))
		rc = db_query_once(db, s, nparams, params, lengths, formats, res);
	return rc;
}

enum db_rc db_query(struct db *db, struct db_stmt *s, int nparams,
		    const char *const *params, PGresult **res)
{
	return db_query_params(db, s, nparams, params, NULL, NULL, res);
}

static int db_field(const PGresult *r, int row, const char *name, const char *file, int line)
{
	int col = PQfnumber(r, name);

	if (col < 0 || row < 0 || row >= PQntuples(r)) {
		log_bug(file, line, "the result has no column %s in row %d", name, row);
		return -1;
	}
	return col;
}

const char *db_col_at(const PGresult *r, int row, const char *name, const char *file, int line)
{
	int col = db_field(r, row, name, file, line);

	return col < 0 ? "" : PQgetvalue(r, row, col);
}

bool db_isnull_at(const PGresult *r, int row, const char *name, const char *file, int line)
{
	int col = db_field(r, row, name, file, line);

	return col < 0 || PQgetisnull(r, row, col);
}

enum db_rc db_exec(struct db *db, const char *sql)
{
	enum db_rc rc;
	bool idle;

	if (db_connect(db) != DB_OK)
		return DB_DOWN;
	idle = PQtransactionStatus(db->conn) == PQTRANS_IDLE;
	rc = db_exec_once(db, sql);
	if (db_may_retry(db, idle, rc))
		rc = db_exec_once(db, sql);
	return rc;
}

enum db_rc db_transaction(struct db *db, db_txn_fn fn, void *ctx)
{
	enum db_rc rc = DB_RETRY;

	for (int attempt = 0; attempt < 5 && rc == DB_RETRY; attempt++) {
		rc = db_exec(db, "BEGIN");
		if (rc != DB_OK)
			return rc;
		rc = fn(db, ctx);
		if (rc == DB_OK)
			rc = db_exec(db, "COMMIT");
		if (rc != DB_OK && db->conn)
			PQclear(PQexec(db->conn, "ROLLBACK"));
	}
	return rc;
}

enum db_rc db_listen(struct db *db, const char *channel)
{
	char sql[96];

	snprintf(sql, sizeof sql, "LISTEN %s", channel);
	return db_exec(db, sql);
}

int db_socket(struct db *db)
{
	return db->conn ? PQsocket(db->conn) : -1;
}

int db_wait(struct db *db, int timeout_ms)
{
	return db_wait_each(db, timeout_ms, NULL, NULL);
}

int db_wait_each(struct db *db, int timeout_ms, void (*each)(const char *payload, void *ctx),
		 void *ctx)
{
	struct pollfd pfd = { .fd = db->conn ? PQsocket(db->conn) : -1, .events = POLLIN };
	int n = 0;
	PGnotify *note;

	if (pfd.fd < 0)
		return -1;
	if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR)
		return -1;
	if (!PQconsumeInput(db->conn) || PQstatus(db->conn) != CONNECTION_OK) {
		db_set_error(db, PQerrorMessage(db->conn), NULL);
		db_disconnect(db);
		return -1;
	}
	while ((note = PQnotifies(db->conn))) {
		if (each)
			each(note->extra, ctx);
		PQfreemem(note);
		n++;
	}
	return n;
}

DB_STMT(stmt_set_actor, "SELECT set_config('workplan.actor', $1, true)");

enum db_rc db_set_actor(struct db *db, const char *actor)
{
	PGresult *r;
	enum db_rc rc = db_query(db, &stmt_set_actor, 1, &actor, &r);

	PQclear(r);
	return rc;
}
