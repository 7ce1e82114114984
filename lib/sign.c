/* HMAC-SHA256 over our SHA-256, and the signing keys kept in PostgreSQL. */
#include "sign.h"
#include "util.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#define BLOCK 64

static void hmac_pads(const void *key, size_t key_len, unsigned char ipad[BLOCK],
		      unsigned char opad[BLOCK])
{
	unsigned char k[BLOCK] = { 0 };

	if (key_len > BLOCK)
		sha256(key, key_len, k);
	else
		memcpy(k, key, key_len);
	for (int i = 0; i < BLOCK; i++) {
		ipad[i] = k[i] ^ 0x36;
		opad[i] = k[i] ^ 0x5c;
	}
}

void hmac_sha256_parts(const void *key, size_t key_len, unsigned char out[SHA256_LEN], ...)
{
	unsigned char ipad[BLOCK], opad[BLOCK], inner[SHA256_LEN];
	struct sha256 h;
	const void *part;
	va_list ap;

	hmac_pads(key, key_len, ipad, opad);
	sha256_init(&h);
	sha256_update(&h, ipad, BLOCK);
	va_start(ap, out);
	while ((part = va_arg(ap, const void *)))
		sha256_update(&h, part, va_arg(ap, size_t));
	va_end(ap);
	sha256_final(&h, inner);
	sha256_init(&h);
	sha256_update(&h, opad, BLOCK);
	sha256_update(&h, inner, SHA256_LEN);
	sha256_final(&h, out);
}

void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
		 unsigned char out[SHA256_LEN])
{
	hmac_sha256_parts(key, key_len, out, msg, msg_len, (const void *)NULL);
}

bool equal_secret(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

DB_STMT(stmt_sign_key, "SELECT secret FROM server_secret WHERE name = $1");

/* Keys by name, kept once read: they never change while a process runs. */
#define MAX_KEYS 8
static struct {
	char name[32];
	unsigned char key[SIGN_KEY_LEN];
} keys[MAX_KEYS];
static int nkeys;
static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;

static bool key_known(const char *name, unsigned char key[SIGN_KEY_LEN])
{
	bool found = false;

	pthread_mutex_lock(&keys_lock);
	for (int i = 0; i < nkeys && !found; i++) {
		if (!strcmp(keys[i].name, name)) {
			memcpy(key, keys[i].key, SIGN_KEY_LEN);
			found = true;
		}
	}
	pthread_mutex_unlock(&keys_lock);
	return found;
}

enum db_rc sign_key(struct db *db, const char *name, unsigned char key[SIGN_KEY_LEN])
{
	size_t len;
	unsigned char *bytes;
	enum db_rc rc;
	PGresult *r;

	if (key_known(name, key))
		return DB_OK;
	rc = db_query(db, &stmt_sign_key, 1, (const char *const[]){ name }, &r);
	if (rc != DB_OK)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		BUG("no signing key '%s' in server_secret", name);
		return DB_ERROR;
	}
	bytes = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &len);
	PQclear(r);
	if (!bytes || len != SIGN_KEY_LEN) {
		PQfreemem(bytes);
		BUG("signing key '%s' is not %d bytes", name, SIGN_KEY_LEN);
		return DB_ERROR;
	}
	memcpy(key, bytes, SIGN_KEY_LEN);
	PQfreemem(bytes);
	pthread_mutex_lock(&keys_lock);
	if (nkeys < MAX_KEYS && strlen(name) < sizeof keys[0].name) {
		snprintf(keys[nkeys].name, sizeof keys[nkeys].name, "%s", name);
		memcpy(keys[nkeys++].key, key, SIGN_KEY_LEN);
	}
	pthread_mutex_unlock(&keys_lock);
	return DB_OK;
}
