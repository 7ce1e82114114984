/* bin/workplan, the command-line client of SPEC 14: what the sub-commands
 * share. main.c dispatches; conf.c keeps the URL and token; client.c
 * speaks HTTP (libcurl) with retries and turns answers into exit statuses;
 * one file per group of sub-commands. */
#ifndef WP_CLI_H
#define WP_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Exit statuses (SPEC 14, contract). */
enum {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,     /* the service answered with a problem */
	EXIT_USAGE = 2,       /* bad arguments or local set-up */
	EXIT_UNREACHABLE = 3, /* no answer, or 503, after the retries */
};

/* Options every sub-command takes. */
struct cli {
	bool json; /* print the API's JSON as is */
	const char *prog;
};
extern struct cli cli;

/* ---- conf.c: where the service is and who we are ---- */
struct conf {
	char url[1024];  /* no trailing slash */
	char token[512];
	char path[1024]; /* the config file */
};
/* The config file's path ($XDG_CONFIG_HOME/workplan/config, by default
 * ~/.config/workplan/config) into c->path; false (said on stderr) when
 * neither variable gives one. */
bool conf_path(struct conf *c);
/* URL and token from WORKPLAN_URL and WORKPLAN_TOKEN, else the file.
 * Returns EXIT_OK or EXIT_USAGE (said on stderr). */
int conf_load(struct conf *c);
/* Writes url and token to the file, mode 600, replacing it whole. */
int conf_save(const struct conf *c);
/* A URL we may send a token to: http(s)://, no spaces or controls;
 * copies it without trailing slashes. */
bool conf_url_ok(const char *url, char *out, size_t n);
/* A token we may put in a header: printable ASCII, no spaces. */
bool conf_token_ok(const char *token);

/* ---- client.c: requests ---- */
struct answer {
	long status;       /* 0: no answer */
	char *body;        /* NUL-ended */
	size_t len;
	json_t *json;      /* the body parsed when it is JSON */
	char type[128];    /* Content-Type */
	char location[512];
	int retry_after;   /* seconds, -1 when absent */
};

/* What a request may do when the network fails. */
enum retry { RETRY_NEVER, RETRY_SAFE };

struct request {
	const char *method;
	const char *path;          /* from "/v1/..." with its query */
	const char *content_type;  /* NULL: no body */
	const void *body;
	size_t body_len;
	const char *idempotency_key;
	enum retry retry;
	const char *save_to;       /* a 200's body goes to this file, not memory */
};

/* Sends r; fills a (free it with answer_free). Returns EXIT_OK for a 2xx,
 * EXIT_REFUSED for any other answer, EXIT_UNREACHABLE when none came
 * (said on stderr). A RETRY_SAFE request is sent again, up to 4 times in
 * all, when the connection fails or the answer is 429 or 503. */
int client_send(const struct conf *c, const struct request *r, struct answer *a);
int client_get(const struct conf *c, const char *path, struct answer *a);
void answer_free(struct answer *a);
/* Prints a problem answer on stderr: its title and detail on one line,
 * then one line per field ("  --percent: must be ..."); names maps the
 * API's field names to the command's options (NULL-ended pairs). With
 * --json the body also goes to stdout, as is. Returns EXIT_REFUSED. */
int client_problem(const struct answer *a, const char *what, const char *const *names);
/* A path with its query: each value escaped; NULL values left out.
 * base, then (name, value) pairs, NULL-ended. Caller frees. */
char *client_path(const char *base, ...);
/* Prints the answer's JSON on stdout as the API gave it. */
void client_print_json(const struct answer *a);
/* o[key] as text: a string as is, a number or true/false written out,
 * "-" for null or missing. Points into buf or o. */
const char *jtext(json_t *o, const char *key, char buf[32]);

/* ---- options ---- */
/* Parses a whole number in [min, max]; false (said on stderr) otherwise. */
bool opt_int(const char *opt, const char *s, long min, long max, long *out);
/* getopt_long's '?' for a command: the option it did not take. */
int opt_bad(const char *cmd, char **argv);
/* Usage errors: one line on stderr and the hint to --help; EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reads a whole file (or "-": stdin) of at most max bytes; caller frees.
 * NULL (said on stderr) when it cannot. */
char *read_file(const char *path, size_t max, size_t *len);

/* ---- the sub-commands: argc/argv start at the sub-command's name ---- */
int cmd_login(int argc, char **argv);
int cmd_actions(int argc, char **argv);
int cmd_update(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_template(int argc, char **argv);
int cmd_reporting(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_chart(int argc, char **argv);

#endif
