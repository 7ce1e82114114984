/* HMAC-SHA256 (RFC 2104) and the service's own signing key, which every
 * API host reads from the database so that what one host signs (list
 * cursors) another accepts. */
#ifndef WP_SIGN_H
#define WP_SIGN_H

#include "db.h"
#include "sha256.h"

#include <stdbool.h>
#include <stddef.h>

void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
		 unsigned char out[SHA256_LEN]);
/* The same over several parts, each fed in turn: (ptr, len) pairs, NULL-ended. */
void hmac_sha256_parts(const void *key, size_t key_len, unsigned char out[SHA256_LEN], ...);

/* Compares n bytes in time independent of where they differ. */
bool equal_secret(const void *a, const void *b, size_t n);

#define SIGN_KEY_LEN 32
/* The signing key named name (from the server_secret table), read once
 * per process; DB_OK with key filled, or the failure. */
enum db_rc sign_key(struct db *db, const char *name, unsigned char key[SIGN_KEY_LEN]);

#endif
