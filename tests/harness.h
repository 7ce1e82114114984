/* End-to-end test harness: throwaway databases on the test cluster, the
 * real binaries started on free ports, HTTP through libcurl. Every helper
 * fails the running test (ck_abort) when the set-up itself breaks. */
#ifndef WP_HARNESS_H
#define WP_HARNESS_H

#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct server {
	pid_t pid;
	int port;
	char dbname[64];
	bool faults; /* runs the API built with fault points (api/fault.h) */
};

struct resp {
	long status;
	char *body;
	size_t len;
	json_t *json;        /* parsed body when it is JSON, else NULL */
	char headers[16384]; /* raw response headers */
	bool headers_cut;    /* some did not fit in headers */
};

/* A fresh database: seeded from the migrated and seeded template, or empty. */
void t_db_create(char *dbname, size_t n, bool seeded);
/* The conninfo of a database on the test cluster. */
const char *t_conninfo(const char *dbname);
/* The first column of the first row of sql, or NULL; caller frees. */
char *t_sql(const char *dbname, const char *sql);
long t_sql_long(const char *dbname, const char *sql);

/* Runs bin/workplan-admin with args (NULL-terminated) against dbname.
 * Returns the exit status; stdout and stderr go to out and err when not NULL. */
int t_admin(const char *dbname, char **out, char **err, ...);
/* A member with that role and entity, and a new token for them. */
char *t_member_token(const char *dbname, const char *email, const char *role,
		     const char *entity);

void t_server_start(struct server *s, const char *dbname);
/* The same with extra "NAME=value" settings (NULL-terminated). */
void t_server_start_env(struct server *s, const char *dbname, const char *const *env);
/* The same, with the API built with fault points (api/fault.h): env
 * names the one to trigger with WORKPLAN_FAULT=name. */
void t_server_start_faults(struct server *s, const char *dbname, const char *const *env);
/* Starts it again on the same port and database (after a crash). */
void t_server_restart(struct server *s, const char *const *env);
/* Starts bin/workplan-worker on dbname with extra "NAME=value" settings
 * (NULL-terminated); its log goes to the test log folder. */
pid_t t_worker_start(const char *dbname, const char *const *env);
/* Waits up to ms for the log of a worker t_worker_start started to hold
 * text; true if it does. */
bool t_worker_log_has(pid_t pid, const char *text, int ms);
/* SIGTERM (or sig) and wait; returns the exit status as waitpid gives it. */
int t_worker_stop(pid_t pid, int sig);
void t_server_stop(struct server *s);

/* One HTTP request. token and content_type may be NULL; body may be NULL.
 * extra_header is one "Name: value" line or NULL. */
struct resp *t_http(const struct server *s, const char *method, const char *path,
		    const char *token, const char *content_type, const char *body,
		    size_t body_len, const char *extra_header);
/* The same from a local address of ours ("127.0.0.2"; NULL: any). */
struct resp *t_http_from(const struct server *s, const char *from, const char *method,
			 const char *path, const char *token, const char *content_type,
			 const char *body, size_t body_len, const char *extra_header);
struct resp *t_get(const struct server *s, const char *path, const char *token);
/* GETs path every 20 ms until the answer has that status (returned) or ms
 * have passed (NULL). */
struct resp *t_get_until(const struct server *s, const char *path, const char *token,
			 long status, int ms);
/* The value of a response header, or NULL; caller frees. */
char *t_header(const struct resp *r, const char *name);
void t_resp_free(struct resp *r);
/* Asserts r is an RFC 9457 problem of this type and status. */
void t_assert_problem(const struct resp *r, long status, const char *slug);

/* A TCP port nobody listens on now. */
int t_free_port(void);
/* A raw TCP connection to the server from a local address of ours (NULL:
 * 127.0.0.1), to address to (NULL: 127.0.0.1); -1 if refused. */
int t_connect(const struct server *s, const char *from, const char *to);
/* Reads from fd until the peer closes or ms pass; what came, NUL-ended,
 * into buf (at most n - 1 bytes). *closed tells whether the peer closed. */
size_t t_recv(int fd, char *buf, size_t n, int ms, bool *closed);
/* The value of a metric's sample in /metrics; a missing metric fails the
 * test (a test that compares against it would otherwise pass). */
double t_metric(const struct server *s, const char *name);
/* Waits until the API's cache hears of every write (it keeps nothing,
 * tokens included, until then), as after a start. */
void t_cache_listening(const struct server *s);
/* Milliseconds on the monotonic clock. */
long long t_ms(void);
/* Stoplight Prism's validating proxy (tests/openapi/node_modules), in
 * front of the running api and judging each exchange by api/openapi.json:
 * a request to p goes through Prism to api. */
void t_prism_start(struct server *p, const struct server *api);
/* Ends Prism's whole process group. */
void t_prism_stop(struct server *p);
/* Asserts that Prism found the answer r true to the document: no
 * sl-violations header and no problem of Prism's own making. With
 * bad_request the request itself may break the document (a test of what
 * the server refuses); the answer still may not. */
void t_assert_no_violations(const struct resp *r, bool bad_request);

/* popen(cmd, "r"), without handing cmd any descriptor but 0, 1 and 2. */
FILE *t_popen(const char *cmd);

/* The private cluster's control script and folder (for outage tests). */
void t_cluster(const char *action);


/* A real SMTP server (tests/tools/smtpd.py, Debian's python3-aiosmtpd) on
 * a loopback port; it stores each message it accepts, as received, in dir
 * (see the tool for how it answers). For the mail suites. */
struct smtpd {
	pid_t pid;
	int port;
	char dir[512];
};
/* Starts one on port (0: a free one), in a new empty folder. */
void t_smtpd_start(struct smtpd *m, int port);
void t_smtpd_stop(struct smtpd *m);
/* Messages stored so far; t_smtpd_wait waits up to ms for n of them. */
int t_smtpd_count(const struct smtpd *m);
int t_smtpd_wait(const struct smtpd *m, int n, int ms);
/* Message i (from 1) as received (caller frees), its envelope ("from\nto\n"),
 * and as tests/tools/mailparse.py (Python's email package) reads it. */
char *t_smtpd_raw(const struct smtpd *m, int i);
char *t_smtpd_envelope(const struct smtpd *m, int i);
json_t *t_smtpd_mail(const struct smtpd *m, int i);
/* A mail file parsed by tests/tools/mailparse.py; caller decrefs. */
json_t *t_mail_parse(const char *path);
/* Creates or removes a control file in the server's folder (tempfail-all, slow). */
void t_smtpd_flag(const struct smtpd *m, const char *name, bool on);

/* One HTTP request with any header lines ("Name: value", NULL-ended; a
 * "Name:" line removes one curl would add), from a local address of ours
 * (NULL: any). body may be NULL. */
struct resp *t_http_headers(const struct server *s, const char *from, const char *method,
			    const char *path, const char *body, size_t body_len,
			    const char *const *headers);

/* Runs a suite, printing check's summary; the process exit status. */
int t_run(Suite *s);
#endif
