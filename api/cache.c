/* The cache: one hash table under a read-write lock, entries in insertion
 * order for eviction, an epoch counter, the epoch at which each tag (by
 * its hash, in a table of slots) was last named, and a thread that
 * LISTENs. Entries go stale lazily: a hit checks its tags' slots. Two tags
 * that share a slot drop together, which costs a miss and never a stale
 * read. */
#include "cache.h"
#include "db.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CACHE_CHANNEL "workplan_data"
#define NBUCKETS 4096
#define NSLOTS 65536
#define TAGS_MAX 12 /* per entry */
#define TAG_MAX 40 /* characters of one tag */

struct entry {
	struct entry *chain;        /* same bucket */
	struct entry *older, *newer; /* insertion order */
	uint64_t hash;
	size_t cost;
	uint64_t epoch; /* good while none of its tags was named after it */
	int ntags;
	uint32_t tags[TAGS_MAX]; /* slots */
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
static atomic_ullong named[NSLOTS]; /* the epoch at which a tag was last named */
static atomic_ullong all_named;     /* the same for everything */
static atomic_bool listening;
static atomic_int listen_fd = -1; /* the listening connection's socket */
static atomic_bool reading;       /* the listening thread is taking in what came */
static atomic_ullong hits, misses, invalidations, tag_invalidations, stale;
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
	atomic_store(&all_named, atomic_fetch_add(&version, 1) + 1);
	atomic_fetch_add(&invalidations, 1);
	for (size_t i = 0; i < NBUCKETS && entries; i++)
		while (buckets[i])
			remove_at(&buckets[i]);
	pthread_rwlock_unlock(&lock);
}

/* One tag: a capital letter (or "*"), then letters, digits and '-'. */
static size_t tag_len(const char *s)
{
	size_t n = 0;

	if (!((*s >= 'A' && *s <= 'Z') || *s == '*'))
		return 0;
	while (s[++n] && s[n] != ' ')
		if (!((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '-') || n >= TAG_MAX)
			return 0;
	return n;
}

/* The slots of tags into out (max of them); -1 if malformed, "*", or more. */
static int tag_slots(const char *tags, uint32_t *out, int max)
{
	int n = 0;

	for (const char *s = tags; *s;) {
		size_t len = tag_len(s);

		if (!len || *s == '*' || n == max)
			return -1;
		out[n++] = (uint32_t)(hash64(s, len) & (NSLOTS - 1));
		s += len;
		if (*s == ' ' && s[1])
			s++;
		else if (*s)
			return -1;
	}
	return n;
}

bool cache_tags_valid(const char *tags)
{
	uint32_t slot[TAGS_MAX];

	return tags && tag_slots(tags, slot, TAGS_MAX) >= 0;
}

void cache_invalidate_tags(const char *tags)
{
	uint64_t epoch;
	const char *s;

	if (!tags || !*tags) {
		cache_invalidate();
		return;
	}
	/* checked whole first: a malformed payload is everything */
	for (s = tags; *s;) {
		size_t len = tag_len(s);

		if (!len || *s == '*' || (s[len] == ' ' && !s[len + 1])) {
			cache_invalidate();
			return;
		}
		s += len + (s[len] == ' ');
	}
	epoch = atomic_fetch_add(&version, 1) + 1;
	for (s = tags; *s;) {
		size_t len = tag_len(s);

		atomic_store(&named[hash64(s, len) & (NSLOTS - 1)], epoch);
		s += len + (s[len] == ' ');
	}
	atomic_fetch_add(&tag_invalidations, 1);
}

/* Has none of e's tags been named since e's read began? */
static bool fresh(const struct entry *e)
{
	if (atomic_load(&all_named) > e->epoch)
		return false;
	for (int i = 0; i < e->ntags; i++)
		if (atomic_load(&named[e->tags[i]]) > e->epoch)
			return false;
	return true;
}

/* Has a notification (or the end of the connection) reached this host
 * that the listening thread has not applied yet? Then nothing is served
 * from memory: how stale an entry may be is bounded by the notification's
 * journey to this host, not by when the listening thread gets a core. */
static bool unheard(void)
{
	struct pollfd p = { .fd = atomic_load(&listen_fd), .events = POLLIN };

	return p.fd < 0 || poll(&p, 1, 0) != 0 || atomic_load(&reading);
}

bool cache_use(const void *key, size_t key_len, void (*use)(void *value, void *ctx), void *ctx)
{
	uint64_t h = hash64(key, key_len);
	struct entry *e = NULL;

	pthread_rwlock_rdlock(&lock);
	if (atomic_load(&listening) && !unheard()) {
		e = *slot_of(h, key, key_len);
		if (e && !fresh(e)) {
			atomic_fetch_add(&stale, 1);
			e = NULL;
		}
	}
	if (e)
		use(e->value, ctx);
	pthread_rwlock_unlock(&lock);
	atomic_fetch_add(e ? &hits : &misses, 1);
	return e != NULL;
}

bool cache_put(uint64_t v, const void *key, size_t key_len, void *value, size_t cost,
	       void (*drop)(void *value), const char *tags)
{
	uint64_t h = hash64(key, key_len);
	struct entry **at, *e;
	uint32_t slot[TAGS_MAX];
	int ntags = tag_slots(tags && *tags ? tags : "D", slot, TAGS_MAX);

	cost += sizeof *e + key_len;
	if (!v || cost > budget / 16 || ntags < 1)
		return false;
	e = xmalloc(sizeof *e + key_len);
	*e = (struct entry){ .hash = h, .cost = cost, .epoch = v, .ntags = ntags, .value = value,
			     .drop = drop, .key_len = key_len };
	memcpy(e->tags, slot, sizeof slot);
	memcpy(e->key, key, key_len);
	pthread_rwlock_wrlock(&lock);
	if (!cache_version() || !fresh(e)) {
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
	out->tag_invalidations = atomic_load(&tag_invalidations);
	out->stale = atomic_load(&stale);
	out->listening = atomic_load(&listening);
}

static void heard(const char *payload, void *ctx)
{
	(void)ctx;
	cache_invalidate_tags(payload);
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
		atomic_store(&listen_fd, db_socket(db));
		cache_invalidate();
		atomic_store(&listening, true);
		log_info("cache on: listening on %s", CACHE_CHANNEL);
		for (;;) {
			struct pollfd p = { .fd = db_socket(db), .events = POLLIN };
			int n;

			if (poll(&p, 1, 1000) < 0 && errno != EINTR)
				break;
			atomic_store(&reading, true);
			n = db_wait_each(db, 0, heard, NULL);
			if (n < 0)
				break; /* reading stays set until the cache is off */
			atomic_store(&reading, false);
		}
		atomic_store(&listening, false);
		atomic_store(&listen_fd, -1);
		cache_invalidate();
		atomic_store(&reading, false);
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
