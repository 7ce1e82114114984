/* The cache: one hash table under a read-write lock, entries in insertion
 * order for eviction, a version counter, and a thread that LISTENs. */
#include "cache.h"
#include "db.h"
#include "log.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CACHE_CHANNEL "workplan_data"
#define NBUCKETS 4096

struct entry {
	struct entry *chain;        /* same bucket */
	struct entry *older, *newer; /* insertion order */
	uint64_t hash;
	size_t cost;
	void *value;
	void (*drop)(void *value);
	size_t key_len;
	unsigned char key[];
};

/* writers first: an invalidation must not wait behind a stream of hits */
static pthread_rwlock_t lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static struct entry *buckets[NBUCKETS];
static struct entry *oldest, *newest;
static size_t bytes, entries, budget;
static atomic_ullong version = 1;
static atomic_bool listening;
static atomic_ullong hits, misses, invalidations;
static char *listen_url;

uint64_t cache_version(void)
{
	return atomic_load(&listening) ? atomic_load(&version) : 0;
}

static struct entry **slot_of(uint64_t h, const void *key, size_t n)
{
	struct entry **e = &buckets[h & (NBUCKETS - 1)];

	for (; *e; e = &(*e)->chain)
		if ((*e)->hash == h && (*e)->key_len == n && !memcmp((*e)->key, key, n))
			break;
	return e;
}

/* Unlinks *at (in its bucket) and frees it; the write lock is held. */
static void remove_at(struct entry **at)
{
	struct entry *e = *at;

	*at = e->chain;
	if (e->older)
		e->older->newer = e->newer;
	else
		oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		newest = e->older;
	bytes -= e->cost;
	entries--;
	e->drop(e->value);
	free(e);
}

void cache_invalidate(void)
{
	pthread_rwlock_wrlock(&lock);
	atomic_fetch_add(&version, 1);
	atomic_fetch_add(&invalidations, 1);
	for (size_t i = 0; i < NBUCKETS && entries; i++)
		while (buckets[i])
			remove_at(&buckets[i]);
	pthread_rwlock_unlock(&lock);
}

bool cache_use(const void *key, size_t key_len, void (*use)(void *value, void *ctx), void *ctx)
{
	uint64_t h = hash64(key, key_len);
	struct entry *e;

	pthread_rwlock_rdlock(&lock);
	e = *slot_of(h, key, key_len);
	if (e)
		use(e->value, ctx);
	pthread_rwlock_unlock(&lock);
	atomic_fetch_add(e ? &hits : &misses, 1);
	return e != NULL;
}

bool cache_put(uint64_t v, const void *key, size_t key_len, void *value, size_t cost,
	       void (*drop)(void *value))
{
	uint64_t h = hash64(key, key_len);
	struct entry **at, *e;

	cost += sizeof *e + key_len;
	if (!v || cost > budget / 16)
		return false;
	e = xmalloc(sizeof *e + key_len);
	*e = (struct entry){ .hash = h, .cost = cost, .value = value, .drop = drop,
			     .key_len = key_len };
	memcpy(e->key, key, key_len);
	pthread_rwlock_wrlock(&lock);
	if (v != cache_version()) {
		pthread_rwlock_unlock(&lock);
		free(e);
		return false;
	}
	at = slot_of(h, key, key_len);
	if (*at)
		remove_at(at);
	*at = e;
	e->older = newest;
	if (newest)
		newest->newer = e;
	else
		oldest = e;
	newest = e;
	bytes += cost;
	entries++;
	while (bytes > budget && oldest != e)
		remove_at(slot_of(oldest->hash, oldest->key, oldest->key_len));
	pthread_rwlock_unlock(&lock);
	return true;
}

void cache_stats(struct cache_stats *out)
{
	pthread_rwlock_rdlock(&lock);
	out->entries = entries;
	out->bytes = bytes;
	pthread_rwlock_unlock(&lock);
	out->hits = atomic_load(&hits);
	out->misses = atomic_load(&misses);
	out->invalidations = atomic_load(&invalidations);
	out->listening = atomic_load(&listening);
}

/* Listens for committed writes; caching is on only while it listens. */
static void *cache_listen(void *arg)
{
	struct db *db = db_new(listen_url, "workplan-api-cache", 5000);

	(void)arg;
	for (;;) {
		if (db_listen(db, CACHE_CHANNEL) != DB_OK) {
			usleep(250000);
			continue;
		}
		/* from here on no committed write goes unnoticed */
		cache_invalidate();
		atomic_store(&listening, true);
		log_info("cache on: listening on %s", CACHE_CHANNEL);
		for (int n; (n = db_wait(db, 1000)) >= 0;)
			if (n)
				cache_invalidate();
		atomic_store(&listening, false);
		cache_invalidate();
		log_warn("cache off: lost the listening connection (%s)", db_error(db));
	}
	return NULL;
}

void cache_start(const char *database_url, size_t budget_bytes)
{
	pthread_t t;

	budget = budget_bytes;
	listen_url = database_url ? xstrdup(database_url) : NULL;
	if (!budget)
		return; /* caching disabled */
	if (pthread_create(&t, NULL, cache_listen, NULL)) {
		log_error("cannot start the cache's listening thread; caching off");
		return;
	}
	pthread_detach(t);
}
