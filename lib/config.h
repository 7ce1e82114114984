/* Settings from the environment, shared by the three programs. */
#ifndef WP_CONFIG_H
#define WP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_PROXIES_MAX 8

struct config {
	char listen_host[64];        /* WORKPLAN_LISTEN, default 127.0.0.1:8080 */
	unsigned short listen_port;
	const char *database_url;    /* DATABASE_URL; NULL: libpq's PG* variables */
	int threads;                 /* WORKPLAN_THREADS, default 16 */
	int statement_timeout_ms;    /* WORKPLAN_STATEMENT_TIMEOUT_MS, default 5000 */
	int max_connections;         /* WORKPLAN_MAX_CONNECTIONS, default 1024 */
	int cache_mb;                /* WORKPLAN_CACHE_MB, default 16; 0: no cache */
	int max_per_ip;              /* WORKPLAN_MAX_PER_IP, default 128 connections */
	int rate_limit;              /* WORKPLAN_RATE_LIMIT, default 100 requests/s; 0: off */
	int auth_failures;           /* WORKPLAN_AUTH_FAILURES, default 20 a minute per address; 0: off */
	int chart_waiting_max;       /* WORKPLAN_CHART_WAITING_MAX, default 256 suspended requests */
	int chart_queue_per_member;  /* WORKPLAN_CHART_QUEUE_PER_MEMBER, default 8 */
	int idle_timeout_s;          /* WORKPLAN_IDLE_TIMEOUT_S, default 15: idle connections closed */
	int retention_days;          /* WORKPLAN_RETENTION_DAYS, default 30 */
	/* WORKPLAN_PUBLIC_URL, default http://127.0.0.1:8080: the base of every
	 * link the service sends (no trailing slash), and its origin
	 * ("scheme://host[:port]"), which cookie-authenticated writes must
	 * carry in Origin */
	char public_url[512];
	char public_origin[300];
	bool public_https;           /* cookies get Secure */
	const char *smtp_url;        /* WORKPLAN_SMTP_URL; NULL: mail is held */
	char mail_from[320];         /* WORKPLAN_MAIL_FROM, default workplan@localhost */
	bool webhook_allow_private;  /* WORKPLAN_WEBHOOK_ALLOW_PRIVATE=1 */
	int inputs_per_hour;         /* WORKPLAN_INPUTS_PER_HOUR, default 5: public inputs per client address */
	/* WORKPLAN_TRUSTED_PROXIES: up to 8 addresses (IPv4 or IPv6, comma
	 * separated) of the load balancers in front; a request from one of
	 * them is counted against the address its last X-Forwarded-For names */
	unsigned char trusted_proxies[CONFIG_PROXIES_MAX][16];
	int ntrusted_proxies;
};

/* Parses "host:port", "[v6]:port" or ":port". On error returns false and
 * sets *err to a message. */
bool config_parse_listen(const char *s, char *host, size_t hostlen,
			 unsigned short *port, const char **err);
/* Parses a decimal integer in [min, max]; false on anything else. */
bool config_parse_int(const char *s, long min, long max, long *out);
/* Checks an absolute http(s) URL with no query, fragment or user part;
 * writes it without its trailing slash to url and its origin to origin. */
bool config_parse_public_url(const char *s, char *url, size_t urllen, char *origin,
			     size_t originlen, const char **err);
/* Loads everything; on error writes a message naming the variable. */
bool config_load(struct config *c, char *err, size_t errlen);

#endif
