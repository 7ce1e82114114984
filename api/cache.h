/* Hot reads from memory. Entries are valid for one data version: every
 * write this process acknowledges, every notification on workplan_data
 * (any process's committed write) and every loss of the listening
 * connection moves the version on and empties the cache; while nothing
 * listens, nothing is cached. Bounded by WORKPLAN_CACHE_MB.
 *
 * A reader takes the version before it reads the database and stores what
 * it read under that version: if a write moved the version on meanwhile,
 * the store is refused, so an entry never predates a write acknowledged
 * before it could be found. */
#ifndef WP_CACHE_H
#define WP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Starts the listening thread. budget_bytes bounds the keys and values. */
void cache_start(const char *database_url, size_t budget_bytes);

/* The current version; 0 while caching is off. */
uint64_t cache_version(void);
/* A write was acknowledged (or may have been): forget everything. */
void cache_invalidate(void);

/* Calls use(value, ctx) under the cache's lock if key holds a value and
 * returns true; false on a miss. use must be quick and must not call in. */
bool cache_use(const void *key, size_t key_len, void (*use)(void *value, void *ctx),
	       void *ctx);
/* Stores value under key if version is still current (replacing an entry
 * of the same key) and returns true; otherwise returns false and the
 * caller keeps value. cost: bytes to charge besides the key. Once stored,
 * drop(value) frees it when the entry goes. */
bool cache_put(uint64_t version, const void *key, size_t key_len, void *value, size_t cost,
	       void (*drop)(void *value));

struct cache_stats {
	unsigned long long hits, misses, entries, bytes, invalidations;
	bool listening;
};
void cache_stats(struct cache_stats *out);

#endif
