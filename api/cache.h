/* Hot reads from memory, each kept with the tags of what it shows (an
 * action "A12", a pillar's lists "P3", a cycle's trend "C2024-2025", its
 * progress as of a quarter "Q2024-2025-8103", the lists across pillars
 * "L", ...; sql/migrations/023_cache_tags.sql names them, 025 the
 * quarters'). A write names the tags it changes: the notification on
 * workplan_data that its transaction sends carries them to every API
 * process, and this process takes them from its own connection before it
 * answers the write. An entry is good while none of its tags was named
 * since the read that made it began; "*", an unknown payload and the loss
 * of the listening connection drop everything, and while nothing listens,
 * nothing is kept or served; nor while a notification (or the end of the
 * connection) has reached this host and is not applied yet. Bounded by
 * WORKPLAN_CACHE_MB.
 *
 * A reader takes the version (an epoch) before it reads the database and
 * stores what it read under it; a tag named since then makes the entry
 * stale, so an entry never predates a write acknowledged before it could
 * be found. */
#ifndef WP_CACHE_H
#define WP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Starts the listening thread. budget_bytes bounds the keys and values. */
void cache_start(const char *database_url, size_t budget_bytes);

/* The current version; 0 while caching is off. */
uint64_t cache_version(void);
/* A write was acknowledged (or may have been) whose tags are unknown:
 * forget everything. */
void cache_invalidate(void);
/* A write changed what tags (space-separated, as a notification carries
 * them) name; NULL, "*" among them or anything malformed: everything. */
void cache_invalidate_tags(const char *tags);
/* Is tags a well-formed list of tags (no "*")? */
bool cache_tags_valid(const char *tags);

/* Calls use(value, ctx) under the cache's lock if key holds a value and
 * returns true; false on a miss. use must be quick and must not call in. */
bool cache_use(const void *key, size_t key_len, void (*use)(void *value, void *ctx),
	       void *ctx);
/* Stores value under key with its tags (NULL or "": "D", which every
 * write of data names), good from version on, if no tag was named since
 * (replacing an entry of the same key), and returns true; otherwise
 * returns false and the caller keeps value. cost: bytes to charge besides
 * the key. Once stored, drop(value) frees it when the entry goes. */
bool cache_put(uint64_t version, const void *key, size_t key_len, void *value, size_t cost,
	       void (*drop)(void *value), const char *tags);

struct cache_stats {
	unsigned long long hits, misses, entries, bytes, invalidations, tag_invalidations, stale;
	bool listening;
};
void cache_stats(struct cache_stats *out);

#endif
