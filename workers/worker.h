/* workplan-worker: what job handlers share. */
#ifndef WP_WORKER_H
#define WP_WORKER_H

#include "chart.h"
#include "child.h"
#include "db.h"
#include "queue.h"

#include <stddef.h>

struct worker {
	struct db *db;
	const struct job *job;   /* the job being run */
	int lease_s;
	long long last_beat_us;
	bool lost;               /* the lease went to another worker */
	int gnuplot_timeout_ms;
	const char *gnuplot;     /* path of the gnuplot binary */
};

/* Renews the job's lease when a third of it has passed. Handlers call it
 * while they work (child_run calls it once a second). */
void worker_tick(void *w);

/* Job handlers: 0 when done, else an error message in err. Outputs are
 * stored under a key derived from their inputs, so running a job twice
 * stores nothing twice. */
int job_noop(struct worker *w, char *err, size_t n);
int job_render_chart(struct worker *w, char *err, size_t n);
int job_build_report(struct worker *w, char *err, size_t n);

/* Removes what the retention period has passed for (workers/retention.c),
 * unless another worker did within the hour. worker names who sweeps. */
void retention_sweep(struct db *db, const char *worker, int days);

/* Draws a chart with gnuplot; on success res->out holds the bytes (caller
 * frees with child_result_free). */
int chart_draw(struct worker *w, const struct chart_kind *k, enum chart_format f, json_t *params,
	       json_t *data, struct child_result *res, char *err, size_t n);
/* Stores bytes under key, once (a second store of the same key is a no-op). */
enum db_rc artifact_put(struct db *db, const unsigned char key[SHA256_LEN], const char *media_type,
			const char *bytes, size_t len, long long job_id);

#endif
