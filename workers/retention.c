/* The retention sweep (docs/design.md, "Retention"). Chart images go when
 * no report holds them, no chart job in flight is drawing them, and nobody
 * asked for them (the API notes each serving in last_used_at, at most once
 * an hour) in the retention period; jobs go that long after they ended.
 * One worker sweeps at a time, at most once an hour per database: the
 * sweep is claimed by a conditional UPDATE of the one row of
 * retention_sweep, which a second worker finds already moved on. Deletes
 * go in batches, each its own statement, so locks are held briefly and
 * statement_timeout is never near. */
#include "log.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>

#define BATCH 500
/* per sweep; what is left goes in the next one */
#define BATCHES_MAX 200

DB_STMT(stmt_retention_claim,
	"UPDATE retention_sweep SET started_at = now(), started_by = $1, finished_at = NULL"
	" WHERE started_at IS NULL OR started_at <= now() - interval '1 hour'"
	" RETURNING 1");
/* FOR UPDATE: a chart job that stores the same key meanwhile (ON CONFLICT
 * DO UPDATE, which renews last_used_at) waits for this batch, or this
 * batch skips its row; either way its image stays. */
DB_STMT(stmt_retention_artifacts,
	"WITH gone AS (DELETE FROM artifact WHERE key IN ("
	"  SELECT a.key FROM artifact a"
	"  WHERE greatest(a.created_at, a.last_used_at) < now() - make_interval(days => $1::int)"
	"    AND NOT EXISTS (SELECT 1 FROM report_artifact ra WHERE ra.artifact_key = a.key)"
	"    AND NOT EXISTS (SELECT 1 FROM job j WHERE j.kind = 'render_chart'"
	"      AND j.key = encode(a.key, 'hex') AND j.state IN ('queued', 'running'))"
	"  LIMIT $2::int FOR UPDATE SKIP LOCKED) RETURNING 1)"
	" SELECT count(*) FROM gone");
/* artifacts and reports forget the job (ON DELETE SET NULL) */
DB_STMT(stmt_retention_jobs,
	"WITH gone AS (DELETE FROM job WHERE id IN ("
	"  SELECT id FROM job WHERE state IN ('done', 'failed')"
	"    AND coalesce(finished_at, created_at) < now() - make_interval(days => $1::int)"
	"  LIMIT $2::int FOR UPDATE SKIP LOCKED) RETURNING 1)"
	" SELECT count(*) FROM gone");
DB_STMT(stmt_retention_done,
	"UPDATE retention_sweep SET finished_at = now(), artifacts = $1::bigint, jobs = $2::bigint");

struct batch {
	struct db_stmt *stmt;
	const char *days;
	long long n;
};

/* One batch; the report rows that forget their job are audited as the
 * sweep's doing. */
static enum db_rc batch_txn(struct db *db, void *cls)
{
	struct batch *b = cls;
	char limit[16];
	enum db_rc rc;
	PGresult *r;

	snprintf(limit, sizeof limit, "%d", BATCH);
	rc = db_set_actor(db, "worker:retention");
	if (rc == DB_OK)
		rc = db_query(db, b->stmt, 2, (const char *const[]){ b->days, limit }, &r);
	if (rc != DB_OK)
		return rc;
	b->n = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return DB_OK;
}

/* Deletes in batches until one comes back short; false on a failure. */
static bool sweep(struct db *db, struct db_stmt *stmt, const char *days, long long *total)
{
	struct batch b = { .stmt = stmt, .days = days };

	*total = 0;
	for (int i = 0; i < BATCHES_MAX; i++) {
		enum db_rc rc = db_transaction(db, batch_txn, &b);

		if (rc != DB_OK) {
			log_warn("retention sweep stopped: %s", db_error(db));
			return false;
		}
		*total += b.n;
		if (b.n < BATCH)
			break;
	}
	return true;
}

void retention_sweep(struct db *db, const char *worker, int days)
{
	char d[16], na[24], nj[24];
	long long artifacts = 0, jobs = 0;
	PGresult *r;
	bool ours;

	if (db_query(db, &stmt_retention_claim, 1, &worker, &r) != DB_OK)
		return;
	ours = PQntuples(r) == 1;
	PQclear(r);
	if (!ours)
		return; /* another worker swept within the hour */
	snprintf(d, sizeof d, "%d", days);
	if (!sweep(db, &stmt_retention_artifacts, d, &artifacts) ||
	    !sweep(db, &stmt_retention_jobs, d, &jobs))
		return;
	snprintf(na, sizeof na, "%lld", artifacts);
	snprintf(nj, sizeof nj, "%lld", jobs);
	if (db_query(db, &stmt_retention_done, 2, (const char *const[]){ na, nj }, &r) == DB_OK)
		PQclear(r);
	log_info("retention sweep done: %lld artifacts and %lld jobs past %d days removed", artifacts,
		 jobs, days);
}
