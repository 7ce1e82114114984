/* Token buckets in a fixed table, each slot under one of a few locks. */
#include "limit.h"
#include "util.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096
#define LOCKS 64

struct bucket {
	uint64_t who;      /* hash of the caller; 0: free */
	double tokens;
	long long at_us;   /* when tokens was last brought up to date */
};

/* connections open from one address, and those accepted but not yet
 * started (pending: reserved at accept, so that threads accepting at once
 * cannot all pass the check; a reservation libmicrohttpd never starts,
 * having dropped the connection, lapses after PENDING_US); freed when
 * nothing is counted */
struct peer {
	struct peer *next;
	unsigned char addr[16];
	int open, pending;
	long long pending_us; /* when the newest reservation was made */
};

#define PENDING_US 2000000LL

struct limit {
	double rate, burst; /* per second; rate 0: no limit */
	struct bucket buckets[SLOTS];
};

static struct limit limits[LIMIT_KINDS];
static pthread_mutex_t locks[LOCKS];
static struct peer *peers[SLOTS];
static pthread_mutex_t peers_lock = PTHREAD_MUTEX_INITIALIZER;
static int max_open;

void limit_init(int per_second, int auth_failures_per_min, int per_address)
{
	limits[LIMIT_REQUESTS].rate = per_second;
	limits[LIMIT_REQUESTS].burst = 2.0 * per_second;
	limits[LIMIT_AUTH_FAILURES].rate = auth_failures_per_min / 60.0;
	limits[LIMIT_AUTH_FAILURES].burst = auth_failures_per_min;
	limits[LIMIT_SIGNIN_LINKS].rate = 1.0 / SIGNIN_LINKS_EVERY_S;
	limits[LIMIT_SIGNIN_LINKS].burst = SIGNIN_LINKS_BURST;
	max_open = per_address;
	for (int i = 0; i < LOCKS; i++)
		pthread_mutex_init(&locks[i], NULL);
}

/* Brings who's bucket up to date and takes n (0 or 1) from it. */
static bool bucket_take(enum limit_kind kind, const void *who, size_t len, int n,
			int *retry_after_s)
{
	struct limit *l = &limits[kind];
	uint64_t h = hash64(who, len), tag = h | 1; /* never 0, the free mark */
	struct bucket *b = &l->buckets[h % SLOTS];
	pthread_mutex_t *m = &locks[h % LOCKS];
	long long now = now_us();
	bool ok;

	if (l->rate <= 0)
		return true;
	pthread_mutex_lock(m);
	if (b->who != tag) {
		b->who = tag;
		b->tokens = l->burst;
	} else {
		b->tokens += (now - b->at_us) / 1e6 * l->rate;
		if (b->tokens > l->burst)
			b->tokens = l->burst;
	}
	b->at_us = now;
	ok = b->tokens >= 1;
	if (ok)
		b->tokens -= n;
	else
		*retry_after_s = (int)((1 - b->tokens) / l->rate) + 1;
	pthread_mutex_unlock(m);
	return ok;
}

bool limit_take(enum limit_kind kind, const void *who, size_t n, int *retry_after_s)
{
	return bucket_take(kind, who, n, 1, retry_after_s);
}

bool limit_allows(enum limit_kind kind, const void *who, size_t n, int *retry_after_s)
{
	return bucket_take(kind, who, n, 0, retry_after_s);
}

bool limit_addr(const struct sockaddr *sa, unsigned char out[16])
{
	memset(out, 0, 16);
	if (sa && sa->sa_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa && sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

static struct peer **peer_at(const unsigned char addr[16])
{
	struct peer **p = &peers[hash64(addr, 16) % SLOTS];

	while (*p && memcmp((*p)->addr, addr, 16))
		p = &(*p)->next;
	return p;
}

static void peer_drop_if_idle(struct peer **at)
{
	struct peer *p = *at;

	if (p->open <= 0 && p->pending <= 0) {
		*at = p->next;
		free(p);
	}
}

bool limit_conn_allowed(const struct sockaddr *sa)
{
	unsigned char addr[16];
	struct peer **at, *p;
	long long now = now_us();
	bool ok;

	if (!limit_addr(sa, addr))
		return true;
	pthread_mutex_lock(&peers_lock);
	at = peer_at(addr);
	if (!*at) {
		*at = xcalloc(1, sizeof **at);
		memcpy((*at)->addr, addr, 16);
	}
	p = *at;
	if (p->pending && now - p->pending_us > PENDING_US)
		p->pending = 0;
	ok = p->open + p->pending < max_open;
	if (ok) {
		p->pending++;
		p->pending_us = now;
	} else {
		peer_drop_if_idle(at);
	}
	pthread_mutex_unlock(&peers_lock);
	return ok;
}

void limit_conn_count(const struct sockaddr *sa, int delta)
{
	unsigned char addr[16];
	struct peer **at, *p;

	if (!limit_addr(sa, addr))
		return;
	pthread_mutex_lock(&peers_lock);
	at = peer_at(addr);
	if (!*at && delta > 0) {
		*at = xcalloc(1, sizeof **at);
		memcpy((*at)->addr, addr, 16);
	}
	p = *at;
	if (p) {
		p->open += delta;
		if (delta > 0 && p->pending > 0)
			p->pending--;
		peer_drop_if_idle(at);
	}
	pthread_mutex_unlock(&peers_lock);
}
