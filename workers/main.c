/* workplan-worker: the batch worker. It connects, LISTENs for job
 * notifications and, on SIGTERM or SIGINT, finishes what it is doing and
 * exits. A lost connection is re-established with backoff. Job processing
 * itself (claim, lease, retries, charts, reports) arrives with the queue. */
#include "config.h"
#include "db.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define JOB_CHANNEL "workplan_jobs"
#define POLL_MS 5000

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Connects and LISTENs; true when listening. */
static bool worker_listen(struct db *db)
{
	if (db_connect(db) != DB_OK)
		return false;
	if (db_exec(db, "LISTEN " JOB_CHANNEL) != DB_OK) {
		log_warn("cannot LISTEN: %s", db_error(db));
		return false;
	}
	log_info("connected; listening on %s", JOB_CHANNEL);
	return true;
}

/* Waits for a notification, a signal or the poll interval. false when the
 * connection was lost. */
static bool worker_wait(struct db *db)
{
	PGconn *conn = db_conn(db);
	struct pollfd pfd = { .fd = PQsocket(conn), .events = POLLIN };
	PGnotify *n;

	if (poll(&pfd, 1, POLL_MS) < 0 && errno != EINTR)
		return false;
	if (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK)
		return false;
	while ((n = PQnotifies(conn))) {
		log_debug("notified on %s: %s", n->relname, n->extra);
		PQfreemem(n);
	}
	return true;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	long long backoff_ms = 100;
	struct config cfg;
	char err[256];
	struct db *db;
	bool listening = false;

	log_init("workplan-worker");
	if (!config_load(&cfg, err, sizeof err)) {
		log_error("%s", err);
		return 2;
	}
	/* no SA_RESTART: a signal interrupts poll() so we exit promptly */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	db = db_new(cfg.database_url, "workplan-worker", cfg.statement_timeout_ms);
	log_info("started (pid %d)", (int)getpid());
	while (!stopping) {
		if (!listening) {
			listening = worker_listen(db);
			if (!listening) {
				log_warn("database unavailable (%s); retrying in %lld ms", db_error(db),
					 backoff_ms);
				usleep(backoff_ms * 1000);
				backoff_ms = backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2;
				continue;
			}
			backoff_ms = 100;
		}
		if (!worker_wait(db)) {
			log_warn("lost the database connection");
			listening = false;
			db_free(db);
			db = db_new(cfg.database_url, "workplan-worker", cfg.statement_timeout_ms);
		}
	}
	log_info("stopping on signal");
	db_free(db);
	return 0;
}
