/* Job queue statements. */
#include "queue.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DB_STMT(stmt_enqueue,
	"WITH ins AS (INSERT INTO job (kind, key, payload, max_attempts, requested_by)"
	"  VALUES ($1, $2, $3::jsonb, $4::int, nullif($5::bigint, 0))"
	"  ON CONFLICT (kind, key) WHERE state IN ('queued', 'running') DO NOTHING RETURNING id)"
	" SELECT id FROM ins UNION ALL"
	" SELECT id FROM job WHERE kind = $1 AND key = $2 AND state IN ('queued', 'running')"
	" LIMIT 1");
/* Due jobs first in order; then jobs whose worker stopped renewing. */
DB_STMT(stmt_claim,
	"UPDATE job SET state = 'running', attempts = attempts + 1, locked_by = $1,"
	"  locked_until = now() + make_interval(secs => $2::int),"
	"  started_at = coalesce(started_at, now())"
	" WHERE id = coalesce("
	"  (SELECT id FROM job WHERE state = 'queued' AND run_after <= now()"
	"   ORDER BY run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED),"
	"  (SELECT id FROM job WHERE state = 'running' AND locked_until < now()"
	"   AND attempts < max_attempts ORDER BY locked_until LIMIT 1 FOR UPDATE SKIP LOCKED))"
	" RETURNING id, kind, key, payload::text, attempts, max_attempts");
DB_STMT(stmt_heartbeat,
	"UPDATE job SET locked_until = now() + make_interval(secs => $3::int)"
	" WHERE id = $1::bigint AND attempts = $2::int AND state = 'running'");
DB_STMT(stmt_done,
	"UPDATE job SET state = 'done', finished_at = now(), locked_until = NULL, last_error = NULL"
	" WHERE id = $1::bigint AND attempts = $2::int AND state = 'running'");
DB_STMT(stmt_failed,
	"UPDATE job SET last_error = left($3, 4000), locked_until = NULL,"
	"  state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,"
	"  finished_at = CASE WHEN attempts >= max_attempts THEN now() END,"
	"  run_after = now() + least(make_interval(secs => 300),"
	"    make_interval(secs => $4::float8 / 1000 * power(2, attempts - 1)))"
	" WHERE id = $1::bigint AND attempts = $2::int AND state = 'running'");
DB_STMT(stmt_reap,
	"UPDATE job SET state = 'failed', finished_at = now(), locked_until = NULL,"
	"  last_error = coalesce(last_error || '; ', '') || 'the worker stopped during the last attempt'"
	" WHERE state = 'running' AND locked_until < now() AND attempts >= max_attempts");

void job_clear(struct job *job)
{
	json_decref(job->payload);
	memset(job, 0, sizeof *job);
}

enum db_rc queue_enqueue(struct db *db, const char *kind, const char *key,
			 const json_t *payload, int max_attempts, long long *id)
{
	return queue_enqueue_for(db, kind, key, payload, max_attempts, 0, id);
}

enum db_rc queue_enqueue_for(struct db *db, const char *kind, const char *key,
			     const json_t *payload, int max_attempts, long long member_id,
			     long long *id)
{
	char max[16], member[24], *text = json_dumps(payload, JSON_COMPACT);
	enum db_rc rc;
	PGresult *r;

	if (!text) {
		BUG("a %s job's payload is not a JSON document", kind);
		return DB_ERROR;
	}
	snprintf(max, sizeof max, "%d", max_attempts);
	snprintf(member, sizeof member, "%lld", member_id);
	rc = db_query(db, &stmt_enqueue, 5, (const char *const[]){ kind, key, text, max, member }, &r);
	free(text);
	if (rc != DB_OK)
		return rc;
	/* lost a race with a job that finished meanwhile: queue again */
	if (PQntuples(r) == 0) {
		PQclear(r);
		return DB_RETRY;
	}
	*id = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return DB_OK;
}

enum db_rc queue_claim(struct db *db, const char *worker, int lease_s, struct job *job,
		       bool *got)
{
	char lease[16];
	enum db_rc rc;
	PGresult *r;

	*got = false;
	snprintf(lease, sizeof lease, "%d", lease_s);
	rc = db_query(db, &stmt_claim, 2, (const char *const[]){ worker, lease }, &r);
	if (rc != DB_OK)
		return rc;
	if (PQntuples(r) == 1) {
		memset(job, 0, sizeof *job);
		job->id = db_int(r, 0, "id");
		snprintf(job->kind, sizeof job->kind, "%s", db_col(r, 0, "kind"));
		snprintf(job->key, sizeof job->key, "%s", db_col(r, 0, "key"));
		job->payload = json_loads(db_col(r, 0, "payload"), 0, NULL);
		job->attempt = (int)db_int(r, 0, "attempts");
		job->max_attempts = (int)db_int(r, 0, "max_attempts");
		*got = true;
	}
	PQclear(r);
	return DB_OK;
}

static enum db_rc fenced(struct db *db, struct db_stmt *s, int n, const char *const *p, bool *ours)
{
	PGresult *r;
	enum db_rc rc = db_query(db, s, n, p, &r);

	if (rc != DB_OK)
		return rc;
	*ours = atoi(PQcmdTuples(r)) == 1;
	PQclear(r);
	return DB_OK;
}

enum db_rc queue_heartbeat(struct db *db, const struct job *job, int lease_s, bool *ours)
{
	char id[24], attempt[16], lease[16];

	snprintf(id, sizeof id, "%lld", job->id);
	snprintf(attempt, sizeof attempt, "%d", job->attempt);
	snprintf(lease, sizeof lease, "%d", lease_s);
	return fenced(db, &stmt_heartbeat, 3, (const char *const[]){ id, attempt, lease }, ours);
}

enum db_rc queue_finish(struct db *db, const struct job *job, const char *error,
			int backoff_ms, bool *ours)
{
	char id[24], attempt[16], backoff[16];

	snprintf(id, sizeof id, "%lld", job->id);
	snprintf(attempt, sizeof attempt, "%d", job->attempt);
	snprintf(backoff, sizeof backoff, "%d", backoff_ms);
	if (!error)
		return fenced(db, &stmt_done, 2, (const char *const[]){ id, attempt }, ours);
	return fenced(db, &stmt_failed, 4, (const char *const[]){ id, attempt, error, backoff }, ours);
}

enum db_rc queue_reap(struct db *db)
{
	PGresult *r;
	enum db_rc rc = db_query(db, &stmt_reap, 0, NULL, &r);

	PQclear(r);
	return rc;
}
