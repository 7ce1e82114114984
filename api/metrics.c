/* Counters kept with atomics, rendered in the Prometheus text format:
 * requests by route and status, latency histogram by route, database
 * connections open and in use, requests in flight. */
#include "metrics.h"
#include "cache.h"
#include "chartwait.h"
#include "http.h"
#include "util.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_ROUTES METRICS_MAX_ROUTES
#define STATUS_MIN 100
#define STATUS_MAX 599

static const double bucket_s[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
				   0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS ARRAY_LEN(bucket_s)

struct route_stats {
	atomic_ulong by_status[STATUS_MAX - STATUS_MIN + 1];
	atomic_ulong buckets[NBUCKETS + 1]; /* last: +Inf */
	atomic_ullong sum_us;
	atomic_ulong count;
};

/* slot MAX_ROUTES holds requests that matched no route, the next one
 * those of the web app (api/h_web.c) */
#define WEB_SLOT (MAX_ROUTES + 1)
static struct route_stats stats[WEB_SLOT + 1];
static atomic_int db_busy;
static atomic_ulong auth_failed, auth_limited;

void metrics_request(int route, int status, long long us)
{
	struct route_stats *s = &stats[route == METRICS_WEB         ? WEB_SLOT
				       : route >= 0 && route < MAX_ROUTES ? route
									  : MAX_ROUTES];
	size_t b = 0;

	if (status >= STATUS_MIN && status <= STATUS_MAX)
		atomic_fetch_add(&s->by_status[status - STATUS_MIN], 1);
	while (b < NBUCKETS && us > bucket_s[b] * 1e6)
		b++;
	atomic_fetch_add(&s->buckets[b], 1);
	atomic_fetch_add(&s->sum_us, (unsigned long long)us);
	atomic_fetch_add(&s->count, 1);
}

void metrics_auth_failure(bool limited)
{
	atomic_fetch_add(limited ? &auth_limited : &auth_failed, 1);
}

void metrics_db_busy(int delta)
{
	atomic_fetch_add(&db_busy, delta);
}

static void route_label(size_t i, char *out, size_t n)
{
	if (i == MAX_ROUTES)
		snprintf(out, n, "unmatched");
	else if (i == WEB_SLOT)
		snprintf(out, n, "web");
	else
		snprintf(out, n, "%s %s", api_routes[i].method, api_routes[i].pattern);
}

/* The outbox's messages by channel and state, every pair (0 when none);
 * left out while the database is unreachable. */
DB_STMT(stmt_outbox_metrics,
	"SELECT c.channel, s.state, count(o.id) AS n"
	" FROM unnest('{mail,webhook}'::text[]) AS c (channel)"
	" CROSS JOIN unnest('{queued,sending,held,sent,failed,cancelled}'::text[]) AS s (state)"
	" LEFT JOIN outbox o ON o.channel = c.channel AND o.state = s.state"
	" GROUP BY c.channel, s.state ORDER BY c.channel, s.state");

static void outbox_metrics(struct request *rq, struct buf *b)
{
	PGresult *r;

	if (db_query(request_db(rq), &stmt_outbox_metrics, 0, NULL, &r) != DB_OK)
		return;
	buf_adds(b, "# HELP workplan_outbox_messages Notifications in the outbox, by channel and state.\n"
		    "# TYPE workplan_outbox_messages gauge\n");
	for (int i = 0; i < PQntuples(r); i++)
		buf_printf(b, "workplan_outbox_messages{channel=\"%s\",state=\"%s\"} %s\n",
			   db_col(r, i, "channel"), db_col(r, i, "state"), db_col(r, i, "n"));
	PQclear(r);
}

int h_metrics(struct request *rq)
{
	struct buf b;
	char label[128];
	size_t nroutes = api_route_count();
	struct cache_stats cs;
	char *text;
	size_t len;
	int ret;

	buf_init(&b, 4 << 20);
	buf_adds(&b, "# HELP workplan_http_requests_total HTTP requests answered, by route and status.\n"
		     "# TYPE workplan_http_requests_total counter\n");
	for (size_t i = 0; i <= WEB_SLOT; i++) {
		if (i >= nroutes && i < MAX_ROUTES)
			continue;
		route_label(i, label, sizeof label);
		for (int st = STATUS_MIN; st <= STATUS_MAX; st++) {
			unsigned long n = atomic_load(&stats[i].by_status[st - STATUS_MIN]);

			if (n)
				buf_printf(&b, "workplan_http_requests_total{route=\"%s\",status=\"%d\"} %lu\n",
					   label, st, n);
		}
	}
	buf_adds(&b, "# HELP workplan_http_request_duration_seconds Time from request to response, by route.\n"
		     "# TYPE workplan_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i <= WEB_SLOT; i++) {
		unsigned long cum = 0, count = atomic_load(&stats[i].count);

		if ((i >= nroutes && i < MAX_ROUTES) || !count)
			continue;
		route_label(i, label, sizeof label);
		for (size_t k = 0; k <= NBUCKETS; k++) {
			cum += atomic_load(&stats[i].buckets[k]);
			if (k < NBUCKETS)
				buf_printf(&b, "workplan_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lu\n",
					   label, bucket_s[k], cum);
			else
				buf_printf(&b, "workplan_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lu\n",
					   label, cum);
		}
		buf_printf(&b, "workplan_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", label,
			   atomic_load(&stats[i].sum_us) / 1e6);
		buf_printf(&b, "workplan_http_request_duration_seconds_count{route=\"%s\"} %lu\n", label,
			   count);
	}
	buf_printf(&b, "# HELP workplan_db_connections_open Database connections open in this process.\n"
		       "# TYPE workplan_db_connections_open gauge\n"
		       "workplan_db_connections_open %d\n"
		       "# HELP workplan_db_connections_in_use Database connections serving a request now.\n"
		       "# TYPE workplan_db_connections_in_use gauge\n"
		       "workplan_db_connections_in_use %d\n"
		       "# HELP workplan_http_requests_in_flight Requests being served now.\n"
		       "# TYPE workplan_http_requests_in_flight gauge\n"
		       "workplan_http_requests_in_flight %d\n"
		       "# HELP workplan_chart_requests_waiting Chart requests suspended until a worker draws their chart.\n"
		       "# TYPE workplan_chart_requests_waiting gauge\n"
		       "workplan_chart_requests_waiting %d\n",
		   db_open_connections(), atomic_load(&db_busy), http_in_flight(), chartwait_waiting());
	buf_printf(&b, "# HELP workplan_auth_failures_total Requests whose token authenticates nobody.\n"
		       "# TYPE workplan_auth_failures_total counter\n"
		       "workplan_auth_failures_total %lu\n"
		       "# HELP workplan_auth_limited_total Requests refused before any token lookup: their address failed too often.\n"
		       "# TYPE workplan_auth_limited_total counter\n"
		       "workplan_auth_limited_total %lu\n",
		   atomic_load(&auth_failed), atomic_load(&auth_limited));
	cache_stats(&cs);
	buf_printf(&b, "# HELP workplan_cache_hits_total Reads answered from memory (and token checks).\n"
		       "# TYPE workplan_cache_hits_total counter\n"
		       "workplan_cache_hits_total %llu\n"
		       "# HELP workplan_cache_misses_total Cacheable reads (and token checks) that went to the database.\n"
		       "# TYPE workplan_cache_misses_total counter\n"
		       "workplan_cache_misses_total %llu\n"
		       "# HELP workplan_cache_invalidations_total Times the whole cache was emptied (a write of unknown reach, a lost listening connection).\n"
		       "# TYPE workplan_cache_invalidations_total counter\n"
		       "workplan_cache_invalidations_total %llu\n"
		       "# HELP workplan_cache_tag_invalidations_total Writes that made stale only what their tags name.\n"
		       "# TYPE workplan_cache_tag_invalidations_total counter\n"
		       "workplan_cache_tag_invalidations_total %llu\n"
		       "# HELP workplan_cache_stale_total Entries found but stale (counted as misses too).\n"
		       "# TYPE workplan_cache_stale_total counter\n"
		       "workplan_cache_stale_total %llu\n"
		       "# HELP workplan_cache_entries Entries in the cache now.\n"
		       "# TYPE workplan_cache_entries gauge\n"
		       "workplan_cache_entries %llu\n"
		       "# HELP workplan_cache_bytes Bytes the cache holds now.\n"
		       "# TYPE workplan_cache_bytes gauge\n"
		       "workplan_cache_bytes %llu\n"
		       "# HELP workplan_cache_listening 1 while the cache hears of every write.\n"
		       "# TYPE workplan_cache_listening gauge\n"
		       "workplan_cache_listening %d\n",
		   cs.hits, cs.misses, cs.invalidations, cs.tag_invalidations, cs.stale, cs.entries, cs.bytes, cs.listening);
	outbox_metrics(rq, &b);
	text = buf_steal(&b, &len);
	ret = reply_text(rq, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
	return ret;
}
