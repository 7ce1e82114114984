/* workplan-worker: what job handlers share. */
#ifndef WP_WORKER_H
#define WP_WORKER_H

#include "chart.h"
#include "config.h"
#include "child.h"
#include "db.h"
#include "queue.h"

#include <stddef.h>

struct worker {
	struct db *db;
	const struct config *cfg;
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
/* the text of a consultation input's attachment (SPEC 13): workers/job_extract.c */
int job_extract_input(struct worker *w, char *err, size_t n);

/* The outbox (SPEC 11, workers/outbox.c): a message claimed for delivery. */
struct message {
	long long id;
	char uid[40];            /* what the receiver deduplicates on */
	char channel[8];         /* "mail" or "webhook" */
	char kind[48];
	long long member_id;     /* a mail's addressee: a member, */
	long long input_id;      /* or the contributor of a consultation input (SPEC 13) */
	long long webhook_id;    /* a webhook delivery's endpoint */
	json_t *data;            /* owned */
	json_t *composed;        /* owned: what an earlier attempt composed, or NULL */
	int attempt;             /* 1 for the first */
	char created_at[32];
};

enum outcome {
	OUTCOME_SENT,
	OUTCOME_RETRY,     /* try again after the backoff (or the receiver's Retry-After) */
	OUTCOME_FAILED,    /* never again */
	OUTCOME_HELD,      /* a mail kept for co-chairs to read: no SMTP server is set */
	OUTCOME_CANCELLED, /* nobody to deliver to any more */
};

/* What a deliverer reports; outbox_deliver records it. */
struct delivery {
	enum outcome outcome;
	int response_code;       /* the SMTP or HTTP answer; 0 when none came */
	long retry_after_s;      /* the receiver's Retry-After; 0 when none */
	json_t *composed;        /* the message as composed, stored with it (stolen); or NULL */
	char error[512];
};

/* Deliverers, one per channel: compose (or take m->composed) and send,
 * within a time limit well inside the outbox lease. */
void mail_deliver(struct worker *w, const struct message *m, struct delivery *d);
void webhook_deliver(struct worker *w, const struct message *m, struct delivery *d);

/* Claims the next due message and delivers it; *got is false when none
 * was due. worker names who claims (for the attempt log). */
enum db_rc outbox_deliver(struct worker *w, const char *worker, bool *got);
/* Messages whose worker stopped during their last attempt end failed. */
enum db_rc outbox_reap(struct db *db);

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
