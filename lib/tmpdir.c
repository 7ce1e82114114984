/* Private temporary folders, named for the worker that made them. */
#include "tmpdir.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *tmpdir_parent(void)
{
	/* plain characters only: the path reaches the programs' arguments */
	static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-";
	const char *t = getenv("TMPDIR");

	if (!t || t[0] != '/' || strlen(t) > 200 || strspn(t, plain) != strlen(t))
		return "/tmp";
	return t;
}

bool tmpdir_make(const char *what, char *path, size_t n)
{
	int len = snprintf(path, n, "%s/" TMPDIR_PREFIX "%d-%s-XXXXXX", tmpdir_parent(), (int)getpid(),
			   what);

	if (len < 0 || (size_t)len >= n) {
		errno = ENAMETOOLONG;
		return false;
	}
	return mkdtemp(path) != NULL;
}

/* Removes name in the folder dirfd, and all it holds when it is a folder:
 * each folder is opened without following a link, and what is in it is
 * removed relative to that descriptor, so a link put in place meanwhile
 * leads nowhere. Depth is bounded; what lies deeper stays. */
static void remove_at(int dirfd, const char *name, int depth)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *e;
	DIR *d;

	if (fd < 0) {
		unlinkat(dirfd, name, 0); /* a file or a link */
		return;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (depth < 16)
			remove_at(fd, e->d_name, depth + 1);
	}
	closedir(d);
	unlinkat(dirfd, name, AT_REMOVEDIR);
}

void tmpdir_remove(const char *path)
{
	remove_at(AT_FDCWD, path, 0);
}

/* The pid a folder's name gives, or 0 when it is not one of ours. */
static pid_t folder_pid(const char *name)
{
	const char *p = name + strlen(TMPDIR_PREFIX);
	char *end;
	long v;

	if (strncmp(name, TMPDIR_PREFIX, strlen(TMPDIR_PREFIX)) || *p < '1' || *p > '9')
		return 0;
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno || *end != '-' || v <= 0 || v > 0x7fffffff)
		return 0;
	return (pid_t)v;
}

int tmpdir_sweep(void)
{
	const char *parent = tmpdir_parent();
	DIR *d = opendir(parent);
	struct dirent *e;
	int removed = 0;

	if (!d) {
		log_warn("cannot read %s to remove the temporary folders of stopped workers: %s", parent,
			 strerror(errno));
		return 0;
	}
	while ((e = readdir(d))) {
		pid_t pid = folder_pid(e->d_name);
		struct stat st;

		if (!pid || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
			continue;
		/* alive (EPERM: alive, another user's): its folder is in use */
		if (pid != getpid() && (kill(pid, 0) == 0 || errno != ESRCH))
			continue;
		remove_at(dirfd(d), e->d_name, 0);
		log_info("removed %s/%s: its worker (pid %d) is gone", parent, e->d_name, (int)pid);
		removed++;
	}
	closedir(d);
	return removed;
}
