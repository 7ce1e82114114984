/* Environment configuration. */
#include "clock.h"
#include "config.h"

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

bool config_load(struct config *c, char *err, size_t errlen)
{
	const char *listen = getenv("WORKPLAN_LISTEN");
	const char *why;

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
	       config_int("WORKPLAN_RETENTION_DAYS", 30, 1, 36500, &c->retention_days, err, errlen);
}
