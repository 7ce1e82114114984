/* The worker's private temporary folders (gnuplot's data file, pandoc's
 * images and templates): each under one parent, $TMPDIR (else /tmp),
 * named workplan-worker-<pid>-<what>-XXXXXX, mode 0700. A worker killed
 * mid-job leaves its folder behind; the next worker to start on the host
 * removes the folders whose worker is gone (tmpdir_sweep). */
#ifndef WP_TMPDIR_H
#define WP_TMPDIR_H

#include <stdbool.h>
#include <stddef.h>

#define TMPDIR_PREFIX "workplan-worker-"
/* room for a folder's path and a file name in it */
#define TMPDIR_PATH_MAX 512

/* The parent: $TMPDIR when it is an absolute path of at most 200 bytes
 * of letters, digits and / . _ -, else /tmp. Borrowed. */
const char *tmpdir_parent(void);
/* Makes a new private folder for what (letters only, e.g. "chart") and
 * writes its path into path; false (errno set) when it cannot. */
bool tmpdir_make(const char *what, char *path, size_t n);
/* Removes the folder and everything in it; symbolic links are removed,
 * never followed. */
void tmpdir_remove(const char *path);
/* Removes the folders of workers that are no longer running: those named
 * for a process that does not exist, or for this process (which has made
 * none yet: a folder with its pid is a dead worker's whose pid came back,
 * as pid 1 does in a container). Only folders this user owns. Returns how
 * many went. Run it at start, before making any folder. */
int tmpdir_sweep(void);

#endif
