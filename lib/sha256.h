/* SHA-256 (FIPS 180-4): token hashes, migration checksums, artifact keys. */
#ifndef WP_SHA256_H
#define WP_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
	uint32_t h[8];
	uint64_t total;
	unsigned char block[64];
	size_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
void sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN]);
void sha256(const void *data, size_t n, unsigned char out[SHA256_LEN]);
/* Lower-case hex of a digest into hex[65]. */
void sha256_hex(const unsigned char d[SHA256_LEN], char hex[2 * SHA256_LEN + 1]);

#endif
