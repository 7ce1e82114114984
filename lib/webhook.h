/* What the API and the worker share about webhooks (SPEC 11): secrets
 * (made, sealed for storage, unsealed to sign), the Standard Webhooks v1
 * signature, and the SSRF guard: which addresses a webhook may reach and
 * the check of a URL when it is registered. The worker checks again, on
 * the address it actually connects to (workers/webhook.c). */
#ifndef WP_WEBHOOK_H
#define WP_WEBHOOK_H

#include "sign.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define WEBHOOK_SECRET_BYTES 32
#define WEBHOOK_SECRET_PREFIX "whsec_"
/* "whsec_" + base64 of 32 bytes (44 characters with padding) + NUL */
#define WEBHOOK_SECRET_STRLEN (6 + 44 + 1)
#define WEBHOOK_URL_MAX 2000
/* The body of a delivery stays under this (SPEC 11: under 20 KB). */
#define WEBHOOK_BODY_MAX (20 * 1000 - 1)
/* A sealed secret: a 16-byte nonce, the secret XORed with a keystream,
 * a 32-byte MAC. */
#define SEAL_NONCE 16
#define SEAL_OVERHEAD (SEAL_NONCE + SHA256_LEN)
#define SEALED_SECRET_LEN (WEBHOOK_SECRET_BYTES + SEAL_OVERHEAD)
/* base64 of a SHA-256 (44 characters) + NUL */
#define WEBHOOK_SIG_STRLEN 45

/* A new secret: its bytes and its text ("whsec_..."); false when the
 * kernel gives no randomness. */
bool webhook_secret_new(unsigned char bytes[WEBHOOK_SECRET_BYTES],
			char text[WEBHOOK_SECRET_STRLEN]);

/* Seals len bytes (len <= 64) under key into out (len + SEAL_OVERHEAD
 * bytes); false without randomness. unseal returns the length, or -1
 * when the bytes were not sealed under this key or were altered. */
bool seal(const unsigned char key[SIGN_KEY_LEN], const void *plain, size_t len, unsigned char *out);
long unseal(const unsigned char key[SIGN_KEY_LEN], const unsigned char *in, size_t len,
	    unsigned char *out, size_t n);

/* base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>"). */
void webhook_sign(const unsigned char *key, size_t key_len, const char *id, const char *timestamp,
		  const char *body, size_t body_len, char out[WEBHOOK_SIG_STRLEN]);

/* NULL when a webhook may connect to address sa; otherwise what the
 * address is ("loopback", "private", "link-local", ...): loopback,
 * private, shared (CGNAT), link-local, unique-local, unspecified,
 * multicast and reserved ranges, also as IPv4-mapped, IPv4-compatible or
 * NAT64 IPv6 addresses. */
const char *webhook_addr_refused(const struct sockaddr *sa);

/* Checks a webhook URL: http or https, no user or password, no fragment,
 * printable ASCII, at most WEBHOOK_URL_MAX characters, a host that
 * resolves, and (unless allow_private) to no refused address. On success
 * writes the URL as libcurl normalised it to norm; otherwise a message to
 * err. */
bool webhook_url_check(const char *url, bool allow_private, char *norm, size_t norm_len, char *err,
		       size_t err_len);

#endif
