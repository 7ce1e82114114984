/* workplan-api: the HTTP server. libmicrohttpd runs an internal epoll
 * thread pool; each pool thread opens its own PostgreSQL connection on
 * first use. SIGTERM or SIGINT: stop accepting, answer the chart requests
 * suspended while a worker draws, let requests in flight finish (up to
 * 10 s), exit. */
#include "cache.h"
#include "chartwait.h"
#include "config.h"
#include "http.h"
#include "limit.h"
#include "log.h"
#include "util.h"

#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_warn("libmicrohttpd: %s", msg);
}

static bool resolve(const char *host, unsigned short port, struct sockaddr_storage *ss)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res;
	char service[8];
	int err;

	snprintf(service, sizeof service, "%u", port);
	err = getaddrinfo(host, service, &hints, &res);
	if (err) {
		log_error("cannot resolve listen address %s: %s", host, gai_strerror(err));
		return false;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return true;
}

/* Connections per client address: refused at accept beyond the limit. */
static enum MHD_Result accept_connection(void *cls, const struct sockaddr *addr, socklen_t len)
{
	(void)cls;
	(void)len;
	return limit_conn_allowed(addr) ? MHD_YES : MHD_NO;
}

static void count_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			     enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	(void)cls;
	(void)socket_context;
	if (ci)
		limit_conn_count(ci->client_addr, toe == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
}

int main(void)
{
	struct sockaddr_storage addr;
	struct MHD_Daemon *d;
	struct config cfg;
	char err[256];
	sigset_t sigs;
	int sig;
	long long deadline;
	MHD_socket listen_fd;
	const union MHD_DaemonInfo *info;

	log_init("workplan-api");
	if (!config_load(&cfg, err, sizeof err)) {
		log_error("%s", err);
		return 2;
	}
	if (!resolve(cfg.listen_host, cfg.listen_port, &addr))
		return 2;
	/* Block the signals before any thread starts, then wait for them here. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	http_init(cfg.database_url, cfg.statement_timeout_ms);
	http_set_config(&cfg);
	cache_start(cfg.database_url, (size_t)cfg.cache_mb << 20);
	limit_init(cfg.rate_limit, cfg.auth_failures, cfg.max_per_ip);
	chartwait_start(cfg.database_url, cfg.chart_waiting_max, cfg.chart_queue_per_member);

	d = MHD_start_daemon(
		/* chart requests wait for a worker suspended (api/chartwait.c) */
		MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME |
			(addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		0, accept_connection, NULL, http_access, NULL,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg.threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg.max_connections,
		MHD_OPTION_NOTIFY_CONNECTION, count_connection, NULL,
		/* a connection that sends nothing for 15 s (by default) is closed */
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg.idle_timeout_s,
		/* room for an 8 KiB target with 100 parameters and 16 KiB of
		 * headers, so that our own limits answer first, with problems */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
		MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL,
		MHD_OPTION_URI_LOG_CALLBACK, http_uri_log, NULL,
		MHD_OPTION_END);
	if (!d) {
		log_error("cannot listen on %s:%u (in use? set WORKPLAN_LISTEN)", cfg.listen_host,
			  cfg.listen_port);
		return 1;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	log_info("listening on %s:%u with %d threads", cfg.listen_host,
		 info ? info->port : cfg.listen_port, cfg.threads);

	while (sigwait(&sigs, &sig) != 0)
		;
	log_info("%s: draining", strsignal(sig));
	listen_fd = MHD_quiesce_daemon(d);
	/* libmicrohttpd must find no suspended connection when it stops */
	chartwait_stop();
	deadline = now_us() + 10 * 1000000LL;
	while (http_in_flight() > 0 && now_us() < deadline)
		usleep(10000);
	MHD_stop_daemon(d);
	if (listen_fd != MHD_INVALID_SOCKET)
		close(listen_fd);
	log_info("stopped");
	return 0;
}
