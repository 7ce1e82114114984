/* Environment configuration. */
#include "clock.h"
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool config_parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s || *s == ' ')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool config_parse_listen(const char *s, char *host, size_t hostlen,
			 unsigned short *port, const char **err)
{
	const char *colon, *h = s;
	size_t n;
	long p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':') {
			*err = "expected [address]:port";
			return false;
		}
		h = s + 1;
		n = close - h;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			*err = "expected host:port";
			return false;
		}
		n = colon - s;
	}
	if (n >= hostlen) {
		*err = "host is too long";
		return false;
	}
	if (!config_parse_int(colon + 1, 0, 65535, &p)) {
		*err = "port must be a number from 0 to 65535";
		return false;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	if (!n)
		snprintf(host, hostlen, "0.0.0.0");
	*port = (unsigned short)p;
	return true;
}

bool config_parse_public_url(const char *s, char *url, size_t urllen, char *origin,
			     size_t originlen, const char **err)
{
	bool https = !strncmp(s, "https://", 8);
	const char *host = s + (https ? 8 : 7), *p;
	size_t hostlen, n;

	if (!https && strncmp(s, "http://", 7)) {
		*err = "expected an http:// or https:// URL";
		return false;
	}
	hostlen = strcspn(host, "/");
	if (!hostlen) {
		*err = "the URL has no host";
		return false;
	}
	for (p = host; p < host + hostlen; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-:[]", *p)) {
			*err = "the host may hold letters, digits and . - : [ ] only";
			return false;
		}
	for (p = host + hostlen; *p; p++)
		if (*p <= ' ' || *p >= 127 || strchr("?#\"<>\\`{}|^", *p)) {
			*err = "the path may not hold a query, a fragment, spaces or quotes";
			return false;
		}
	n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		n--;
	/* the origin a browser sends: lower case, without the scheme's own port */
	if (hostlen >= 3 && !strncmp(host + hostlen - 3, ":80", 3) && !https)
		hostlen -= 3;
	else if (hostlen >= 4 && !strncmp(host + hostlen - 4, ":443", 4) && https)
		hostlen -= 4;
	if (n >= urllen || (size_t)(host - s) + hostlen >= originlen) {
		*err = "the URL is too long";
		return false;
	}
	memcpy(url, s, n);
	url[n] = '\0';
	n = (size_t)(host - s) + hostlen;
	for (size_t i = 0; i < n; i++)
		origin[i] = (char)tolower((unsigned char)s[i]);
	origin[n] = '\0';
	return true;
}

/* A mail address, or a display name and an address in angle brackets:
 * printable, one line, an @. */
static bool mail_from_ok(const char *s)
{
	if (!strchr(s, '@') || strlen(s) >= 320)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 127)
			return false;
	return true;
}

static bool config_int(const char *name, long def, long min, long max, int *out,
		       char *err, size_t errlen)
{
	const char *s = getenv(name);
	long v = def;

	if (s && !config_parse_int(s, min, max, &v)) {
		snprintf(err, errlen, "%s must be a whole number from %ld to %ld, not \"%s\"",
			 name, min, max, s);
		return false;
	}
	*out = (int)v;
	return true;
}

/* "a, b, ...": addresses as limit_addr() keeps them (IPv4 mapped into
 * IPv6), so that a peer compares with memcmp. */
static bool config_proxies(const char *s, struct config *c, char *err, size_t errlen)
{
	char list[512], *save = NULL;

	c->ntrusted_proxies = 0;
	if (!s || !*s)
		return true;
	if (strlen(s) >= sizeof list) {
		snprintf(err, errlen, "WORKPLAN_TRUSTED_PROXIES is too long");
		return false;
	}
	snprintf(list, sizeof list, "%s", s);
	for (char *a = strtok_r(list, ", ", &save); a; a = strtok_r(NULL, ", ", &save)) {
		unsigned char *out;

		if (c->ntrusted_proxies == CONFIG_PROXIES_MAX) {
			snprintf(err, errlen, "WORKPLAN_TRUSTED_PROXIES holds more than %d addresses",
				 CONFIG_PROXIES_MAX);
			return false;
		}
		out = c->trusted_proxies[c->ntrusted_proxies++];
		memset(out, 0, 16);
		out[10] = out[11] = 0xff;
		if (inet_pton(AF_INET, a, out + 12) != 1 && inet_pton(AF_INET6, a, out) != 1) {
			snprintf(err, errlen, "WORKPLAN_TRUSTED_PROXIES: \"%.60s\" is not an IP address", a);
			return false;
		}
	}
	return true;
}

bool config_load(struct config *c, char *err, size_t errlen)
{
	const char *listen = getenv("WORKPLAN_LISTEN");
	const char *why, *s;

	memset(c, 0, sizeof *c);
	if (!clock_init(err, errlen))
		return false;
	if (!listen || !*listen)
		listen = "127.0.0.1:8080";
	if (!config_parse_listen(listen, c->listen_host, sizeof c->listen_host,
				 &c->listen_port, &why)) {
		snprintf(err, errlen, "WORKPLAN_LISTEN=\"%s\": %s", listen, why);
		return false;
	}
	s = getenv("WORKPLAN_PUBLIC_URL");
	if (!s || !*s)
		s = "http://127.0.0.1:8080";
	if (!config_parse_public_url(s, c->public_url, sizeof c->public_url, c->public_origin,
				     sizeof c->public_origin, &why)) {
		snprintf(err, errlen, "WORKPLAN_PUBLIC_URL=\"%s\": %s", s, why);
		return false;
	}
	c->public_https = !strncmp(c->public_url, "https:", 6);
	c->smtp_url = getenv("WORKPLAN_SMTP_URL");
	if (c->smtp_url && !*c->smtp_url)
		c->smtp_url = NULL;
	if (c->smtp_url && strncmp(c->smtp_url, "smtp://", 7) && strncmp(c->smtp_url, "smtps://", 8)) {
		snprintf(err, errlen, "WORKPLAN_SMTP_URL must start with smtp:// or smtps://");
		return false;
	}
	s = getenv("WORKPLAN_MAIL_FROM");
	if (!s || !*s)
		s = "workplan@localhost";
	if (!mail_from_ok(s)) {
		snprintf(err, errlen, "WORKPLAN_MAIL_FROM must be one line with an address, not \"%.100s\"", s);
		return false;
	}
	snprintf(c->mail_from, sizeof c->mail_from, "%s", s);
	s = getenv("WORKPLAN_WEBHOOK_ALLOW_PRIVATE");
	if (s && *s && strcmp(s, "0") && strcmp(s, "1")) {
		snprintf(err, errlen, "WORKPLAN_WEBHOOK_ALLOW_PRIVATE must be 0 or 1");
		return false;
	}
	c->webhook_allow_private = s && !strcmp(s, "1");
	if (!config_proxies(getenv("WORKPLAN_TRUSTED_PROXIES"), c, err, errlen))
		return false;
	c->database_url = getenv("DATABASE_URL");
	if (c->database_url && !*c->database_url)
		c->database_url = NULL;
	return config_int("WORKPLAN_THREADS", 16, 1, 256, &c->threads, err, errlen) &&
	       config_int("WORKPLAN_STATEMENT_TIMEOUT_MS", 5000, 10, 3600000,
			  &c->statement_timeout_ms, err, errlen) &&
	       config_int("WORKPLAN_MAX_CONNECTIONS", 1024, 1, 65536, &c->max_connections,
			  err, errlen) &&
	       config_int("WORKPLAN_CACHE_MB", 16, 0, 4096, &c->cache_mb, err, errlen) &&
	       config_int("WORKPLAN_MAX_PER_IP", 128, 1, 65536, &c->max_per_ip, err, errlen) &&
	       config_int("WORKPLAN_RATE_LIMIT", 100, 0, 1000000, &c->rate_limit, err, errlen) &&
	       config_int("WORKPLAN_AUTH_FAILURES", 20, 0, 1000000, &c->auth_failures, err, errlen) &&
	       config_int("WORKPLAN_CHART_WAITING_MAX", 256, 0, 65536, &c->chart_waiting_max, err,
			  errlen) &&
	       config_int("WORKPLAN_CHART_QUEUE_PER_MEMBER", 8, 1, 10000,
			  &c->chart_queue_per_member, err, errlen) &&
	       config_int("WORKPLAN_IDLE_TIMEOUT_S", 15, 1, 3600, &c->idle_timeout_s, err, errlen) &&
	       config_int("WORKPLAN_RETENTION_DAYS", 30, 1, 36500, &c->retention_days, err, errlen) &&
	       config_int("WORKPLAN_INPUTS_PER_HOUR", 5, 1, 100000, &c->inputs_per_hour, err, errlen);
}
