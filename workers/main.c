/* workplan-worker: claims jobs from the queue in PostgreSQL and runs them.
 * Woken by LISTEN/NOTIFY, polling once a second as a fallback; any number
 * may run on any host that reaches the database. SIGTERM or SIGINT: finish
 * the current job, then exit. A SIGKILL loses nothing: the job's lease
 * runs out and another worker takes it again, and the next worker to start
 * on the host removes the killed one's temporary folders. Besides jobs:
 * the outbox's messages (workers/outbox.c), the scheduler of quarterly
 * reports and the hourly retention sweep. */
#include "config.h"
#include "clock.h"
#include "log.h"
#include "tmpdir.h"
#include "util.h"
#include "worker.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POLL_MS 1000

DB_STMT(stmt_schedule, "SELECT schedule_quarterly_report($1::timestamptz)");
/* reporting reminders and review digests (migration 019), once per member
 * and occasion however many workers run this */
DB_STMT(stmt_schedule_notifications, "SELECT schedule_notifications($1::timestamptz)");

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

void worker_tick(void *cls)
{
	struct worker *w = cls;
	bool ours = true;

	if (!w->job || now_us() - w->last_beat_us < w->lease_s * 1000000LL / 3)
		return;
	if (queue_heartbeat(w->db, w->job, w->lease_s, &ours) == DB_OK) {
		w->last_beat_us = now_us();
		if (!ours && !w->lost) {
			log_warn("job %lld: the lease went to another worker", w->job->id);
			w->lost = true;
		}
	}
}

/* Connects and LISTENs; true when listening. */
static bool worker_listen(struct db *db)
{
	if (db_listen(db, JOB_CHANNEL) != DB_OK)
		return false;
	log_info("connected; listening on %s", JOB_CHANNEL);
	return true;
}

static void run_job(struct worker *w, struct job *job, int backoff_ms)
{
	char err[1024] = "";
	long long t0 = now_us();
	bool ours = true;
	int rc;

	w->job = job;
	w->lost = false;
	w->last_beat_us = now_us();
	log_info("job %lld %s %s: attempt %d of %d", job->id, job->kind, job->key, job->attempt,
		 job->max_attempts);
	if (!job->payload)
		rc = snprintf(err, sizeof err, "the payload is not JSON");
	else if (!strcmp(job->kind, "noop"))
		rc = job_noop(w, err, sizeof err);
	else if (!strcmp(job->kind, "render_chart"))
		rc = job_render_chart(w, err, sizeof err);
	else if (!strcmp(job->kind, "build_report"))
		rc = job_build_report(w, err, sizeof err);
	else if (!strcmp(job->kind, "extract_input"))
		rc = job_extract_input(w, err, sizeof err);
	else
		rc = snprintf(err, sizeof err, "this worker has no handler for %s jobs", job->kind);
	/* outputs are stored by key before this, so finishing twice (after a
	 * crash right here) stores nothing twice */
	if (queue_finish(w->db, job, rc ? err : NULL, backoff_ms, &ours) != DB_OK)
		log_warn("job %lld: cannot record the outcome (%s); its lease will run out",
			 job->id, db_error(w->db));
	if (!ours)
		log_warn("job %lld: finished after its lease went to another worker; left to it", job->id);
	else if (rc)
		log_warn("job %lld failed after %lld ms: %s", job->id, (now_us() - t0) / 1000, err);
	else
		log_info("job %lld done in %lld ms", job->id, (now_us() - t0) / 1000);
	w->job = NULL;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct worker w = { 0 };
	long long backoff_ms = 100, last_reap = 0, last_schedule = 0, last_retention = 0;
	struct config cfg;
	char err[256], name[128], host[64] = "?";
	int job_backoff_ms = 2000, poll_ms = POLL_MS;
	bool listening = false;
	long v;

	log_init("workplan-worker");
	if (!config_load(&cfg, err, sizeof err)) {
		log_error("%s", err);
		return 2;
	}
	w.lease_s = 60;
	w.gnuplot_timeout_ms = 20000;
	w.gnuplot = getenv("WORKPLAN_GNUPLOT") ? getenv("WORKPLAN_GNUPLOT") : "/usr/bin/gnuplot";
	if (getenv("WORKPLAN_JOB_LEASE_S") && config_parse_int(getenv("WORKPLAN_JOB_LEASE_S"), 1, 3600, &v))
		w.lease_s = (int)v;
	if (getenv("WORKPLAN_JOB_BACKOFF_MS") &&
	    config_parse_int(getenv("WORKPLAN_JOB_BACKOFF_MS"), 1, 3600000, &v))
		job_backoff_ms = (int)v;
	/* the fallback poll; tests lengthen it to see what a NOTIFY does */
	if (getenv("WORKPLAN_POLL_MS") && config_parse_int(getenv("WORKPLAN_POLL_MS"), 10, 3600000, &v))
		poll_ms = (int)v;
	if (getenv("WORKPLAN_GNUPLOT_TIMEOUT_MS") &&
	    config_parse_int(getenv("WORKPLAN_GNUPLOT_TIMEOUT_MS"), 10, 600000, &v))
		w.gnuplot_timeout_ms = (int)v;
	gethostname(host, sizeof host - 1);
	snprintf(name, sizeof name, "%s:%d", host, (int)getpid());
	/* no SA_RESTART: a signal interrupts poll() so we exit promptly */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_info("started as %s", name);
	/* a worker killed mid-job left its gnuplot or pandoc folder behind */
	log_info("removed %d temporary folders of stopped workers from %s", tmpdir_sweep(),
		 tmpdir_parent());
	w.db = db_new(cfg.database_url, "workplan-worker", cfg.statement_timeout_ms);
	w.cfg = &cfg;
	while (!stopping) {
		struct job job;
		bool got = false;

		if (!listening) {
			listening = worker_listen(w.db);
			if (!listening) {
				log_warn("database unavailable (%s); retrying in %lld ms", db_error(w.db),
					 backoff_ms);
				usleep(backoff_ms * 1000);
				backoff_ms = backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2;
				continue;
			}
			backoff_ms = 100;
		}
		if (now_us() - last_reap > 5000000) {
			queue_reap(w.db);
			outbox_reap(w.db);
			last_reap = now_us();
		}
		/* the scheduler: each quarter's report, once, on its deadline */
		if (now_us() - last_schedule > 60000000) {
			char now[32];
			PGresult *r;

			clock_now_text(now);
			if (db_query(w.db, &stmt_schedule, 1, (const char *const[]){ now }, &r) == DB_OK) {
				if (!PQgetisnull(r, 0, 0))
					log_info("scheduled quarterly report %s", PQgetvalue(r, 0, 0));
				else
					log_debug("scheduler: no quarterly report left to schedule");
				PQclear(r);
				last_schedule = now_us();
			}
			if (db_query(w.db, &stmt_schedule_notifications, 1, (const char *const[]){ now },
				     &r) == DB_OK) {
				log_msg(atoi(PQgetvalue(r, 0, 0)) ? LOG_INFO : LOG_DEBUG,
					"scheduler at %s: %s reminders and digests written to the outbox", now,
					PQgetvalue(r, 0, 0));
				PQclear(r);
			}
		}
		/* each minute, whether the hourly sweep is due (one worker does it) */
		if (now_us() - last_retention > 60000000) {
			retention_sweep(w.db, name, cfg.retention_days);
			last_retention = now_us();
		}
		if (queue_claim(w.db, name, w.lease_s, &job, &got) != DB_OK) {
			listening = false;
			continue;
		}
		if (got) {
			run_job(&w, &job, job_backoff_ms);
			job_clear(&job);
			continue; /* there may be more */
		}
		/* then the outbox, one message at a time between jobs */
		if (outbox_deliver(&w, name, &got) != DB_OK) {
			listening = false;
			continue;
		}
		if (got)
			continue;
		if (db_wait(w.db, poll_ms) < 0) {
			log_warn("lost the database connection");
			listening = false;
		}
	}
	log_info("stopping on signal");
	db_free(w.db);
	return 0;
}
