/* posix_spawn with pipes, a poll loop, and limits. Ownership: the three
 * pipe pairs are created here; the child's ends are closed in the parent
 * right after spawning, the parent's ends before returning. */
#include "child.h"
#include "buf.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ERR_MAX 8192

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int child_run(const struct child_opts *o, struct child_result *res)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	struct buf ob, eb;
	long long deadline, next_tick;
	size_t written = 0;
	pid_t pid;
	int status, rc, saved;

	memset(res, 0, sizeof *res);
	res->exit_code = -1;
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
		saved = errno;
		close_fd(&in[0]), close_fd(&in[1]), close_fd(&out[0]), close_fd(&out[1]);
		close_fd(&err[0]), close_fd(&err[1]);
		errno = saved;
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	if (o->cwd)
		posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
	rc = posix_spawn(&pid, o->argv[0], &fa, NULL, (char *const *)o->argv,
			 (char *const *)o->envp);
	posix_spawn_file_actions_destroy(&fa);
	close_fd(&in[0]);
	close_fd(&out[1]);
	close_fd(&err[1]);
	if (rc) {
		close_fd(&in[1]), close_fd(&out[0]), close_fd(&err[0]);
		errno = rc;
		return -1;
	}
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	if (!o->input_len)
		close_fd(&in[1]);
	buf_init(&ob, o->max_out);
	buf_init(&eb, ERR_MAX);
	deadline = now_us() + (long long)o->timeout_ms * 1000;
	next_tick = now_us() + 1000000;
	while (out[0] >= 0 || err[0] >= 0) {
		struct pollfd p[3] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 },
				       { in[1], POLLOUT, 0 } };
		long long now = now_us();
		char chunk[16384];
		ssize_t n;

		if (now >= deadline) {
			res->timed_out = true;
			break;
		}
		if (o->tick && now >= next_tick) {
			o->tick(o->ctx);
			next_tick = now + 1000000;
		}
		if (poll(p, 3, 100) < 0 && errno != EINTR)
			break;
		if (p[2].revents & (POLLOUT | POLLERR | POLLHUP)) {
			n = write(in[1], o->input + written, o->input_len - written);
			if (n > 0)
				written += (size_t)n;
			if (n < 0 && errno != EAGAIN)
				written = o->input_len; /* the child closed its stdin */
			if (written >= o->input_len)
				close_fd(&in[1]);
		}
		for (int k = 0; k < 2; k++) {
			int *fd = k ? &err[0] : &out[0];

			if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(*fd, chunk, sizeof chunk);
			if (n <= 0) {
				if (n == 0 || errno != EINTR)
					close_fd(fd);
				continue;
			}
			if (k == 1)
				buf_add(&eb, chunk, (size_t)n); /* stderr past 8 KiB is dropped */
			else if (!buf_add(&ob, chunk, (size_t)n))
				res->too_large = true;
		}
		if (res->too_large)
			break;
	}
	if (res->timed_out || res->too_large)
		kill(pid, SIGKILL);
	close_fd(&in[1]);
	close_fd(&out[0]);
	close_fd(&err[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status))
		res->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		res->signal = WTERMSIG(status);
	res->out = buf_steal(&ob, &res->out_len);
	res->err = buf_steal(&eb, NULL);
	return 0;
}

void child_result_free(struct child_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}

void child_describe(const struct child_result *res, char *out, size_t n)
{
	if (res->timed_out)
		snprintf(out, n, "killed at the time limit");
	else if (res->too_large)
		snprintf(out, n, "killed: output larger than the limit");
	else if (res->signal)
		snprintf(out, n, "killed by signal %d (%s)", res->signal, strsignal(res->signal));
	else
		snprintf(out, n, "exited with status %d", res->exit_code);
}
