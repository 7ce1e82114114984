/* workplan-worker: what job handlers share. */
#ifndef WP_WORKER_H
#define WP_WORKER_H

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

#endif
