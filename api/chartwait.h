/* Chart requests waiting for a worker without holding a pool thread.
 *
 * A request whose chart is not drawn yet takes a place (chartwait_reserve),
 * queues the job, then suspends its connection (chartwait_suspend) and
 * returns to libmicrohttpd. One thread of this module LISTENs on
 * workplan_job_done (announced when a chart job ends) and, as a fallback,
 * polls the states of the jobs waited on; it resumes a connection when its
 * job ended, when CHARTWAIT_MS have passed, when the client hung up, or
 * when the server stops. libmicrohttpd then calls the handler again for
 * the same request, which reads chartwait_outcome and answers.
 *
 * Bounds: at most max_waiting suspended requests in all (beyond: no wait,
 * the caller is told to come back) and at most per_member places taken by
 * one member (beyond: 429). */
#ifndef WP_CHARTWAIT_H
#define WP_CHARTWAIT_H

#include <microhttpd.h>
#include <stdbool.h>

#define CHARTWAIT_MS 10000

enum chartwait_outcome {
	CHARTWAIT_PENDING,  /* not resumed yet */
	CHARTWAIT_DONE,     /* the job is done: the image is stored */
	CHARTWAIT_FAILED,   /* the job failed for good */
	CHARTWAIT_TIMEOUT,  /* still not done after CHARTWAIT_MS */
	CHARTWAIT_GONE,     /* the client closed its connection */
	CHARTWAIT_STOPPING, /* the server is shutting down */
};

enum chartwait_rc {
	CHARTWAIT_OK,
	CHARTWAIT_MEMBER_FULL, /* this member holds per_member places already */
	CHARTWAIT_FULL,        /* max_waiting places are taken, or the server stops */
};

struct chart_wait;

/* Starts the listening thread. max_waiting 0: no request ever waits. */
void chartwait_start(const char *database_url, int max_waiting, int per_member);
/* The per-member bound, also applied to the jobs a member has queued. */
int chartwait_per_member(void);

/* Takes a place for member_id (0: anonymous, counted only in the total).
 * On CHARTWAIT_OK *out is the place, which the caller owns and frees with
 * chartwait_free once the request is over. */
enum chartwait_rc chartwait_reserve(long long member_id, struct chart_wait **out);
/* Suspends conn (from its access handler, in its pool thread) until job
 * ends or another outcome above. false when the server is stopping: not
 * suspended, answer now. */
bool chartwait_suspend(struct chart_wait *w, struct MHD_Connection *conn, long long job);
/* What ended the wait; CHARTWAIT_PENDING before the connection resumed. */
enum chartwait_outcome chartwait_outcome(const struct chart_wait *w);
long long chartwait_job(const struct chart_wait *w);
/* Gives the place back; NULL is fine. */
void chartwait_free(struct chart_wait *w);

/* Resumes every suspended request (outcome CHARTWAIT_STOPPING) and lets
 * none wait from now on: call it before MHD_stop_daemon, which must not
 * find a suspended connection. */
void chartwait_stop(void);

/* Requests suspended right now. */
int chartwait_waiting(void);

#endif
