/* The places of chart requests waiting for a worker, and the thread that
 * resumes them (see chartwait.h).
 *
 * Ownership: a place belongs to its request (freed by chartwait_free when
 * the request completes). While WAITING its connection is suspended and
 * only this module resumes it, always under the lock, removing the place
 * from the list first; the thread never keeps a pointer to a place outside
 * the lock (its snapshot holds sequence numbers, sockets and job ids). */
#include "chartwait.h"
#include "buf.h"
#include "db.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define DONE_CHANNEL "workplan_job_done"
/* How often the states of the jobs waited on are read anyway, in case a
 * notification was missed (the listening connection was lost). */
#define POLL_MS 500

DB_STMT(stmt_jobs_ended,
	"SELECT id, state FROM job WHERE id = ANY($1::bigint[]) AND state IN ('done', 'failed')");

enum place_state { PLACE_RESERVED, PLACE_WAITING, PLACE_RESUMED };

struct chart_wait {
	struct chart_wait *prev, *next; /* in places until resumed or freed */
	unsigned long long seq;
	long long member_id;
	long long job;
	struct MHD_Connection *conn;
	int fd;                         /* the client's socket: watched for a hang-up */
	long long deadline_us;
	bool checked;                   /* its job's state was read since it started waiting */
	enum place_state state;
	enum chartwait_outcome outcome;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct chart_wait *places; /* RESERVED and WAITING */
static int nplaces, nwaiting;
static unsigned long long next_seq = 1;
static int max_waiting, per_member = 8;
static bool stopping;
static int wake_fd = -1;
static char *listen_url;

static void wake(void)
{
	uint64_t one = 1;

	if (wake_fd >= 0 && write(wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_warn("chart waits: cannot wake the waiting thread: %s", strerror(errno));
}

static void place_unlink(struct chart_wait *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		places = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	nplaces--;
	if (w->state == PLACE_WAITING)
		nwaiting--;
}

/* Ends a wait: the lock is held. The connection is resumed here, under
 * the lock, so that chartwait_stop returns only once every suspended
 * connection is resuming (libmicrohttpd takes its own lock inside, and
 * never calls us while holding it). */
static void place_resume(struct chart_wait *w, enum chartwait_outcome outcome)
{
	place_unlink(w);
	w->state = PLACE_RESUMED;
	w->outcome = outcome;
	MHD_resume_connection(w->conn);
}

enum chartwait_rc chartwait_reserve(long long member_id, struct chart_wait **out)
{
	struct chart_wait *w;
	int mine = 0;

	*out = NULL;
	pthread_mutex_lock(&lock);
	for (w = places; w && member_id; w = w->next)
		mine += w->member_id == member_id;
	if (member_id && mine >= per_member) {
		pthread_mutex_unlock(&lock);
		return CHARTWAIT_MEMBER_FULL;
	}
	if (stopping || nplaces >= max_waiting) {
		pthread_mutex_unlock(&lock);
		return CHARTWAIT_FULL;
	}
	w = xcalloc(1, sizeof *w);
	w->seq = next_seq++;
	w->member_id = member_id;
	w->fd = -1;
	w->state = PLACE_RESERVED;
	w->next = places;
	if (places)
		places->prev = w;
	places = w;
	nplaces++;
	pthread_mutex_unlock(&lock);
	*out = w;
	return CHARTWAIT_OK;
}

bool chartwait_suspend(struct chart_wait *w, struct MHD_Connection *conn, long long job)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

	pthread_mutex_lock(&lock);
	if (stopping || w->state != PLACE_RESERVED) {
		pthread_mutex_unlock(&lock);
		return false;
	}
	w->conn = conn;
	w->job = job;
	w->fd = ci ? ci->connect_fd : -1;
	w->deadline_us = now_us() + CHARTWAIT_MS * 1000LL;
	w->state = PLACE_WAITING;
	nwaiting++;
	/* suspended before the thread can see the place, so that it never
	 * resumes a connection that is not suspended yet */
	MHD_suspend_connection(conn);
	pthread_mutex_unlock(&lock);
	wake();
	return true;
}

enum chartwait_outcome chartwait_outcome(const struct chart_wait *w)
{
	enum chartwait_outcome o;

	pthread_mutex_lock(&lock);
	o = w->state == PLACE_RESUMED ? w->outcome : CHARTWAIT_PENDING;
	pthread_mutex_unlock(&lock);
	return o;
}

long long chartwait_job(const struct chart_wait *w)
{
	return w->job;
}

void chartwait_free(struct chart_wait *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&lock);
	if (w->state == PLACE_WAITING)
		BUG("a chart request completed while suspended");
	if (w->state != PLACE_RESUMED)
		place_unlink(w);
	pthread_mutex_unlock(&lock);
	free(w);
}

void chartwait_stop(void)
{
	struct chart_wait *w, *next;

	pthread_mutex_lock(&lock);
	stopping = true;
	for (w = places; w; w = next) {
		next = w->next;
		if (w->state == PLACE_WAITING)
			place_resume(w, CHARTWAIT_STOPPING);
	}
	pthread_mutex_unlock(&lock);
	wake();
}

int chartwait_per_member(void)
{
	return per_member;
}

int chartwait_waiting(void)
{
	int n;

	pthread_mutex_lock(&lock);
	n = nwaiting;
	pthread_mutex_unlock(&lock);
	return n;
}

/* What the thread learnt in one round: jobs that ended, clients that left,
 * places whose job state was read. */
struct round {
	int n;                     /* places in the snapshot */
	unsigned long long *seq;   /* [max_waiting] */
	long long *job;            /* [max_waiting] */
	bool *gone;                /* [max_waiting] */
	int nended;
	long long *ended;          /* [max_waiting]: job ids... */
	bool *failed;              /* ...and whether each failed */
	bool checked;              /* every snapshot place's job state was read */
};

/* Keeps an ended job that a place of the snapshot waits for (a place
 * that started waiting since reads its job's state in the next round). */
static void round_ended(struct round *r, long long job, bool failed)
{
	for (int i = 0; i < r->nended; i++)
		if (r->ended[i] == job)
			return;
	for (int i = 0; i < r->n; i++)
		if (r->job[i] == job) {
			/* at most one entry per job of the snapshot: it fits */
			if (r->nended < max_waiting) {
				r->ended[r->nended] = job;
				r->failed[r->nended++] = failed;
			}
			return;
		}
}

/* Notifications already read into libpq's buffer: "<id> <state>". */
static void take_notifications(struct db *db, struct round *r)
{
	PGnotify *note;

	while ((note = PQnotifies(db_conn(db)))) {
		long long id = atoll(note->extra);

		if (id > 0)
			round_ended(r, id, strstr(note->extra, "failed") != NULL);
		PQfreemem(note);
	}
}

/* The fallback: reads the states of the jobs of the snapshot. */
static bool read_states(struct db *db, struct round *r)
{
	struct buf ids;
	PGresult *res;
	bool ok;

	buf_init(&ids, (size_t)r->n * 24 + 8);
	buf_adds(&ids, "{");
	for (int i = 0; i < r->n; i++)
		buf_printf(&ids, "%s%lld", i ? "," : "", r->job[i]);
	buf_add(&ids, "}", 2);
	ok = db_query(db, &stmt_jobs_ended, 1, (const char *const[]){ ids.data }, &res) == DB_OK;
	if (ok) {
		for (int i = 0; i < PQntuples(res); i++)
			round_ended(r, atoll(PQgetvalue(res, i, 0)),
				    !strcmp(PQgetvalue(res, i, 1), "failed"));
		PQclear(res);
	}
	buf_free(&ids);
	return ok;
}

/* Applies a round to the places still waiting: resumes those whose job
 * ended, whose client left or whose time ran out. */
static void apply_round(const struct round *r)
{
	long long now = now_us();
	struct chart_wait *w, *next;
	int k = 0;

	pthread_mutex_lock(&lock);
	for (w = places; w; w = next) {
		enum chartwait_outcome o = CHARTWAIT_PENDING;

		next = w->next;
		if (w->state != PLACE_WAITING)
			continue;
		for (int i = 0; i < r->nended && o == CHARTWAIT_PENDING; i++)
			if (r->ended[i] == w->job)
				o = r->failed[i] ? CHARTWAIT_FAILED : CHARTWAIT_DONE;
		/* the snapshot is in list order: newer places come first */
		while (k < r->n && r->seq[k] > w->seq)
			k++;
		if (k < r->n && r->seq[k] == w->seq) {
			if (o == CHARTWAIT_PENDING && r->gone[k])
				o = CHARTWAIT_GONE;
			if (r->checked)
				w->checked = true;
		}
		if (o == CHARTWAIT_PENDING && now >= w->deadline_us)
			o = CHARTWAIT_TIMEOUT;
		if (o != CHARTWAIT_PENDING)
			place_resume(w, o);
	}
	pthread_mutex_unlock(&lock);
}

static void *chartwait_thread(void *arg)
{
	struct db *db = db_new(listen_url, "workplan-api-charts", 2000);
	struct pollfd *pfd = xcalloc((size_t)max_waiting + 2, sizeof *pfd);
	struct round r = {
		.seq = xcalloc((size_t)max_waiting, sizeof *r.seq),
		.job = xcalloc((size_t)max_waiting, sizeof *r.job),
		.gone = xcalloc((size_t)max_waiting, sizeof *r.gone),
		.ended = xcalloc((size_t)max_waiting, sizeof *r.ended),
		.failed = xcalloc((size_t)max_waiting, sizeof *r.failed),
	};
	PGconn *listening = NULL; /* the connection that LISTENs, if any */
	long long next_poll = 0;

	(void)arg;
	for (;;) {
		long long now, soonest;
		bool need_check = false;
		int timeout_ms;

		if (!listening) {
			if (db_listen(db, DONE_CHANNEL) == DB_OK) {
				listening = db_conn(db);
				log_info("chart waits: listening on %s", DONE_CHANNEL);
				next_poll = 0; /* anything may have ended meanwhile */
			}
		}
		/* the snapshot, newest first as in the list */
		r.n = 0;
		r.nended = 0;
		soonest = now_us() + POLL_MS * 1000LL;
		pthread_mutex_lock(&lock);
		for (struct chart_wait *w = places; w; w = w->next) {
			if (w->state != PLACE_WAITING)
				continue;
			r.seq[r.n] = w->seq;
			r.job[r.n] = w->job;
			r.gone[r.n] = false;
			pfd[2 + r.n] = (struct pollfd){ .fd = w->fd, .events = POLLRDHUP };
			need_check |= !w->checked;
			if (w->deadline_us < soonest)
				soonest = w->deadline_us;
			r.n++;
		}
		pthread_mutex_unlock(&lock);
		now = now_us();
		if (need_check || (r.n && now >= next_poll))
			timeout_ms = 0;
		else if (!r.n && listening)
			timeout_ms = -1; /* nothing waits: sleep until woken */
		else {
			if (r.n && next_poll < soonest)
				soonest = next_poll;
			timeout_ms = soonest > now ? (int)((soonest - now + 999) / 1000) : 0;
			if (!listening && timeout_ms > 250)
				timeout_ms = 250; /* to connect again soon */
		}
		pfd[0] = (struct pollfd){ .fd = wake_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = listening ? PQsocket(listening) : -1, .events = POLLIN };
		if (poll(pfd, (nfds_t)r.n + 2, timeout_ms) < 0 && errno != EINTR)
			log_warn("chart waits: poll: %s", strerror(errno));
		if (pfd[0].revents & POLLIN) {
			uint64_t n;

			if (read(wake_fd, &n, sizeof n) < 0 && errno != EAGAIN)
				log_warn("chart waits: %s", strerror(errno));
		}
		if (listening && pfd[1].revents) {
			if (!PQconsumeInput(listening) || PQstatus(listening) != CONNECTION_OK) {
				log_warn("chart waits: lost the listening connection; polling");
				listening = NULL;
			} else
				take_notifications(db, &r);
		}
		for (int i = 0; i < r.n; i++)
			r.gone[i] = (pfd[2 + i].revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
		r.checked = false;
		if (r.n && (need_check || now_us() >= next_poll)) {
			r.checked = read_states(db, &r);
			/* a reconnect inside the query would have dropped the LISTEN */
			if (listening && db_conn(db) != listening)
				listening = NULL;
			if (listening)
				take_notifications(db, &r);
			next_poll = now_us() + POLL_MS * 1000LL;
		}
		apply_round(&r);
	}
	return NULL;
}

void chartwait_start(const char *database_url, int waiting_max, int member_max)
{
	pthread_t t;

	per_member = member_max;
	listen_url = database_url ? xstrdup(database_url) : NULL;
	if (waiting_max <= 0)
		return; /* no request waits: every new chart is a 202 at once */
	max_waiting = waiting_max; /* before the thread sizes its arrays by it */
	wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wake_fd < 0 || pthread_create(&t, NULL, chartwait_thread, NULL)) {
		log_error("cannot start the chart waiting thread; chart requests will not wait");
		max_waiting = 0;
		return;
	}
	pthread_detach(t);
}
