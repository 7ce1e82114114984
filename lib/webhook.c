/* Webhook secrets, signatures and the SSRF guard (see webhook.h). */
#include "webhook.h"
#include "base64.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

bool webhook_secret_new(unsigned char bytes[WEBHOOK_SECRET_BYTES], char text[WEBHOOK_SECRET_STRLEN])
{
	size_t pre = strlen(WEBHOOK_SECRET_PREFIX);

	if (getrandom(bytes, WEBHOOK_SECRET_BYTES, 0) != WEBHOOK_SECRET_BYTES)
		return false;
	memcpy(text, WEBHOOK_SECRET_PREFIX, pre);
	base64_encode(bytes, WEBHOOK_SECRET_BYTES, false, text + pre, WEBHOOK_SECRET_STRLEN - pre);
	return true;
}

/* HMAC-SHA256 as a PRF: block i of the keystream is HMAC(key, "e" nonce
 * i); the MAC is HMAC(key, "m" nonce ciphertext). One key, two domains. */
static void seal_stream(const unsigned char key[SIGN_KEY_LEN], const unsigned char *nonce,
			const unsigned char *in, size_t len, unsigned char *out)
{
	unsigned char ks[SHA256_LEN];

	for (size_t i = 0; i < len; i++) {
		if (i % SHA256_LEN == 0) {
			unsigned char block = (unsigned char)(i / SHA256_LEN);

			hmac_sha256_parts(key, SIGN_KEY_LEN, ks, "e", (size_t)1, nonce, (size_t)SEAL_NONCE,
					  &block, (size_t)1, (const void *)NULL);
		}
		out[i] = in[i] ^ ks[i % SHA256_LEN];
	}
}

static void seal_mac(const unsigned char key[SIGN_KEY_LEN], const unsigned char *nonce,
		     const unsigned char *ct, size_t len, unsigned char mac[SHA256_LEN])
{
	hmac_sha256_parts(key, SIGN_KEY_LEN, mac, "m", (size_t)1, nonce, (size_t)SEAL_NONCE, ct, len,
			  (const void *)NULL);
}

bool seal(const unsigned char key[SIGN_KEY_LEN], const void *plain, size_t len, unsigned char *out)
{
	if (len > 64 || getrandom(out, SEAL_NONCE, 0) != SEAL_NONCE)
		return false;
	seal_stream(key, out, plain, len, out + SEAL_NONCE);
	seal_mac(key, out, out + SEAL_NONCE, len, out + SEAL_NONCE + len);
	return true;
}

long unseal(const unsigned char key[SIGN_KEY_LEN], const unsigned char *in, size_t len,
	    unsigned char *out, size_t n)
{
	unsigned char mac[SHA256_LEN];
	size_t plain;

	if (len < SEAL_OVERHEAD || len - SEAL_OVERHEAD > n)
		return -1;
	plain = len - SEAL_OVERHEAD;
	seal_mac(key, in, in + SEAL_NONCE, plain, mac);
	if (!equal_secret(mac, in + SEAL_NONCE + plain, SHA256_LEN))
		return -1;
	seal_stream(key, in, in + SEAL_NONCE, plain, out);
	return (long)plain;
}

void webhook_sign(const unsigned char *key, size_t key_len, const char *id, const char *timestamp,
		  const char *body, size_t body_len, char out[WEBHOOK_SIG_STRLEN])
{
	unsigned char mac[SHA256_LEN];

	hmac_sha256_parts(key, key_len, mac, id, strlen(id), ".", (size_t)1, timestamp,
			  strlen(timestamp), ".", (size_t)1, body, body_len, (const void *)NULL);
	base64_encode(mac, SHA256_LEN, false, out, WEBHOOK_SIG_STRLEN);
}

/* An IPv4 address (host order) in a refused range: what it is, or NULL. */
static const char *v4_refused(uint32_t a)
{
	static const struct {
		uint32_t net;
		int bits;
		const char *what;
	} ranges[] = {
		{ 0x00000000, 8, "unspecified" },   /* 0.0.0.0/8 */
		{ 0x0A000000, 8, "private" },       /* 10.0.0.0/8 */
		{ 0x64400000, 10, "shared (CGNAT)" }, /* 100.64.0.0/10 */
		{ 0x7F000000, 8, "loopback" },      /* 127.0.0.0/8 */
		{ 0xA9FE0000, 16, "link-local" },   /* 169.254.0.0/16 */
		{ 0xAC100000, 12, "private" },      /* 172.16.0.0/12 */
		{ 0xC0000000, 24, "reserved" },     /* 192.0.0.0/24 */
		{ 0xC0A80000, 16, "private" },      /* 192.168.0.0/16 */
		{ 0xC6120000, 15, "reserved" },     /* 198.18.0.0/15, benchmarking */
		{ 0xE0000000, 4, "multicast" },     /* 224.0.0.0/4 */
		{ 0xF0000000, 4, "reserved" },      /* 240.0.0.0/4, broadcast too */
	};

	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
		if ((a & (0xFFFFFFFFu << (32 - ranges[i].bits))) == ranges[i].net)
			return ranges[i].what;
	return NULL;
}

static uint32_t v4_at(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

const char *webhook_addr_refused(const struct sockaddr *sa)
{
	static const unsigned char zero[16] = { 0 };
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
	static const unsigned char nat64[12] = { 0, 0x64, 0xFF, 0x9B };
	const unsigned char *b;

	if (sa->sa_family == AF_INET)
		return v4_refused(ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr));
	if (sa->sa_family != AF_INET6)
		return "not an internet";
	b = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	if (!memcmp(b, zero, 16))
		return "unspecified";
	if (!memcmp(b, zero, 15) && b[15] == 1)
		return "loopback";
	/* an IPv4 address inside IPv6: ::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::a.b.c.d */
	if (!memcmp(b, mapped, 12) || !memcmp(b, zero, 12) || !memcmp(b, nat64, 12))
		return v4_refused(v4_at(b + 12));
	if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80)
		return "link-local";
	if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0)
		return "site-local";
	if ((b[0] & 0xFE) == 0xFC)
		return "unique-local";
	if (b[0] == 0xFF)
		return "multicast";
	return NULL;
}

/* Every address host resolves to must be allowed; a message otherwise. */
static bool host_check(const char *host, const char *port, bool allow_private, char *err,
		       size_t err_len)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res, *ai;
	char h[256];
	size_t n = strlen(host);
	int e;

	/* libcurl gives an IPv6 literal in its brackets */
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof h) {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
	} else {
		snprintf(h, sizeof h, "%s", host);
	}
	e = getaddrinfo(h, port, &hints, &res);
	if (e) {
		snprintf(err, err_len, "its host %s does not resolve (%s)", h, gai_strerror(e));
		return false;
	}
	for (ai = res; ai && !allow_private; ai = ai->ai_next) {
		const char *why = webhook_addr_refused(ai->ai_addr);
		char text[INET6_ADDRSTRLEN] = "?";

		if (!why)
			continue;
		if (ai->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr, text,
				  sizeof text);
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr, text,
				  sizeof text);
		snprintf(err, err_len, "its host resolves to %s, a %s address, which webhooks may not reach",
			 text, why);
		freeaddrinfo(res);
		return false;
	}
	freeaddrinfo(res);
	return true;
}

bool webhook_url_check(const char *url, bool allow_private, char *norm, size_t norm_len, char *err,
		       size_t err_len)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *part = NULL, *full = NULL;
	CURLU *u;
	bool ok = false;
	size_t n = strlen(url);

	if (n > WEBHOOK_URL_MAX) {
		snprintf(err, err_len, "must be at most %d characters", WEBHOOK_URL_MAX);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (url[i] <= 0x20 || url[i] >= 0x7F) {
			snprintf(err, err_len, "must be printable ASCII without spaces (percent-encode the rest)");
			return false;
		}
	u = curl_url();
	if (!u) {
		snprintf(err, err_len, "cannot be checked now");
		return false;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
		snprintf(err, err_len, "must be an absolute http or https URL");
		goto out;
	}
	if (strcasecmp(scheme, "https") && strcasecmp(scheme, "http")) {
		snprintf(err, err_len, "must be an http or https URL");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
		snprintf(err, err_len, "must not hold a user name or password");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_ZONEID, &part, 0) == CURLUE_OK) {
		snprintf(err, err_len, "must not have a fragment or an IPv6 zone");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK) {
		snprintf(err, err_len, "must be an absolute http or https URL");
		goto out;
	}
	if (strlen(full) >= norm_len || strlen(full) > WEBHOOK_URL_MAX) {
		snprintf(err, err_len, "must be at most %d characters", WEBHOOK_URL_MAX);
		goto out;
	}
	if (!host_check(host, port, allow_private, err, err_len))
		goto out;
	snprintf(norm, norm_len, "%s", full);
	ok = true;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(part);
	curl_free(full);
	curl_url_cleanup(u);
	return ok;
}
