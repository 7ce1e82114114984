/* The job queue in PostgreSQL (SPEC section 5): enqueue once per key,
 * claim with FOR UPDATE SKIP LOCKED under a lease, heartbeat, finish.
 * The attempt number is a fencing token: a worker whose lease expired and
 * whose job was taken again can no longer finish it. */
#ifndef WP_QUEUE_H
#define WP_QUEUE_H

#include "db.h"

#include <jansson.h>
#include <stdbool.h>

#define JOB_CHANNEL "workplan_jobs"

struct job {
	long long id;
	char kind[32];
	char key[200];
	json_t *payload; /* owned; job_clear frees it */
	int attempt;     /* 1 for the first run */
	int max_attempts;
};

void job_clear(struct job *job);

/* Queues a job unless one with the same kind and key is queued or running;
 * *id is the job that will do the work either way. The payload is
 * borrowed (and stored as jsonb). */
enum db_rc queue_enqueue(struct db *db, const char *kind, const char *key,
			 const json_t *payload, int max_attempts, long long *id);
/* The same, recording member_id (0: nobody) as who asked for a new job.
 * Both answer DB_RETRY when a concurrent enqueue of the same key has not
 * committed yet as this one started: run the enclosing transaction again. */
enum db_rc queue_enqueue_for(struct db *db, const char *kind, const char *key,
			     const json_t *payload, int max_attempts, long long member_id,
			     long long *id);
/* Takes the next job that is due (or whose lease expired). *got is false
 * when there is none. */
enum db_rc queue_claim(struct db *db, const char *worker, int lease_s, struct job *job,
		       bool *got);
/* Extends the lease; *ours is false when the job was taken from us. */
enum db_rc queue_heartbeat(struct db *db, const struct job *job, int lease_s, bool *ours);
/* Marks it done (error NULL), or failed: queued again after a capped
 * exponential backoff, or failed for good after its last attempt. *ours as
 * above; nothing changes when it is false. */
enum db_rc queue_finish(struct db *db, const struct job *job, const char *error,
			int backoff_ms, bool *ours);
/* Jobs whose lease expired after their last attempt end failed. */
enum db_rc queue_reap(struct db *db);

#endif
