/* PostgreSQL access: one connection object per thread, statements prepared
 * lazily on each connection (and again after a reconnect), a status type
 * that tells a retryable failure from an outage from our own bug, and a
 * transaction runner that retries serialization failures. */
#ifndef WP_DB_H
#define WP_DB_H

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

enum db_rc {
	DB_OK,         /* ran; the result may have zero rows */
	DB_RETRY,      /* serialization failure or deadlock: run the transaction again */
	DB_DOWN,       /* no usable connection: answer 503 */
	DB_CONSTRAINT, /* integrity violation (SQLSTATE class 23): db_error says which */
	DB_INVALID,    /* the database refused the data (class 22, raised P0001) */
	DB_ABORT,      /* a transaction body chose to roll back; its context says why */
	DB_ERROR,      /* anything else: a bug */
};

/* A named statement. Declare each one static next to the function that
 * runs it: DB_STMT(stmt_pillars_list, "SELECT ..."). */
struct db_stmt {
	const char *name;
	const char *sql;
	atomic_int slot; /* assigned on first use; 0 = not yet */
};
#define DB_STMT(var, text) static struct db_stmt var = { #var, text, 0 }
#define DB_MAX_STMTS 512

struct db;

/* Does not connect yet. conninfo NULL means libpq's PG* variables. */
struct db *db_new(const char *conninfo, const char *application_name,
		  int statement_timeout_ms);
void db_free(struct db *db);
/* Connects when there is no healthy connection. DB_OK or DB_DOWN; after a
 * failed attempt, further attempts within 250 ms fail at once. */
enum db_rc db_connect(struct db *db);
PGconn *db_conn(struct db *db);
/* The primary message (and constraint, if any) of the last failure. */
const char *db_error(const struct db *db);
const char *db_error_constraint(const struct db *db);

/* Runs a prepared statement. On DB_OK *res holds the result (caller
 * PQclears it); otherwise *res is NULL. Text parameters; NULL is SQL NULL. */
enum db_rc db_query(struct db *db, struct db_stmt *s, int nparams,
		    const char *const *params, PGresult **res);
/* The same with libpq's lengths and formats (either may be NULL): a
 * parameter with format 1 is binary, lengths[i] bytes at params[i], as a
 * bytea is sent (its SQL says $n::bytea), never spelled out in hex. */
enum db_rc db_query_params(struct db *db, struct db_stmt *s, int nparams,
			   const char *const *params, const int *lengths, const int *formats,
			   PGresult **res);
/* Result columns by name, so a reader sees which is which: the text of
 * column name in row (a NULL reads as ""), whether it is NULL, a boolean
 * ('t'), an integer. A name the result does not have is our bug: logged
 * (BUG, with the caller's file and line), then read as NULL. */
#define db_col(r, row, name) db_col_at(r, row, name, __FILE__, __LINE__)
#define db_isnull(r, row, name) db_isnull_at(r, row, name, __FILE__, __LINE__)
#define db_bool(r, row, name) (db_col(r, row, name)[0] == 't')
#define db_int(r, row, name) atoll(db_col(r, row, name))
const char *db_col_at(const PGresult *r, int row, const char *name, const char *file, int line);
bool db_isnull_at(const PGresult *r, int row, const char *name, const char *file, int line);

/* Runs one or more SQL commands without parameters (scripts, BEGIN, ...). */
enum db_rc db_exec(struct db *db, const char *sql);

/* BEGIN; fn; COMMIT, re-run up to 5 times on DB_RETRY. fn returns DB_OK to
 * commit; anything else rolls back and is returned. */
typedef enum db_rc (*db_txn_fn)(struct db *db, void *ctx);
enum db_rc db_transaction(struct db *db, db_txn_fn fn, void *ctx);

/* Connects when need be and LISTENs on channel (an identifier). */
enum db_rc db_listen(struct db *db, const char *channel);
/* Waits up to timeout_ms for notifications on a listening connection and
 * returns how many arrived (0 on time-out), or -1 when the connection is
 * lost (notifications may then have been missed). */
int db_wait(struct db *db, int timeout_ms);
/* The same, handing each notification's payload to each (in the order
 * they arrived) before returning. */
int db_wait_each(struct db *db, int timeout_ms, void (*each)(const char *payload, void *ctx),
		 void *ctx);

/* The connection's socket, or -1 when not connected. */
int db_socket(struct db *db);

/* Names who acts in the current transaction, for the audit trail. */
enum db_rc db_set_actor(struct db *db, const char *actor);

/* Counts of connections open right now across all struct db. */
int db_open_connections(void);

#endif
