/* Running external programs (gnuplot, pandoc): posix_spawn, no shell, the
 * input written to the child's stdin, stdout and stderr captured into
 * bounded buffers, a time limit past which the child is killed. The caller
 * owns nothing of the child afterwards: every fd and the process are
 * cleaned up before child_run returns. */
#ifndef WP_CHILD_H
#define WP_CHILD_H

#include <stdbool.h>
#include <stddef.h>

struct child_result {
	int exit_code;      /* when exited normally, else -1 */
	int signal;         /* when killed by a signal, else 0 */
	bool timed_out;     /* killed at the time limit */
	bool too_large;     /* stdout passed max_out; killed */
	char *out;          /* stdout, NUL-terminated; caller frees */
	size_t out_len;
	char *err;          /* stderr (first 8 KiB), NUL-terminated; caller frees */
};

struct child_opts {
	const char *const *argv;  /* argv[0] is an absolute path */
	const char *const *envp;  /* the child's whole environment */
	const char *cwd;          /* NULL: inherit */
	const char *input;        /* written to stdin, then stdin is closed */
	size_t input_len;
	int timeout_ms;
	size_t max_out;
	/* called about once a second while the child runs (may be NULL) */
	void (*tick)(void *ctx);
	void *ctx;
};

/* 0 when the child ran (see res for how it ended); -1 when it could not
 * be started (errno says why). */
int child_run(const struct child_opts *o, struct child_result *res);
void child_result_free(struct child_result *res);
/* "exited with status 2", "killed by signal 9 (time limit)" ... */
void child_describe(const struct child_result *res, char *out, size_t n);

#endif
