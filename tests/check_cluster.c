/* scripts/pg.sh, the private cluster behind make run and make test: it is
 * reused, a half-made folder or a dead server's lock files are recovered
 * from, not waited on, and it is reachable by the project alone: no TCP
 * listener, a socket folder of its owner's, no trust, even for an older
 * cluster made open. */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLUSTER "var/test-cluster"
#define CLUSTER2 "var/test-cluster-2"

/* Runs pg.sh on folder dir; returns its exit status and its stdout
 * (conninfo) in out. */
static int pg_in(const char *dir, const char *action, char *out, size_t n)
{
	char cmd[1024];
	FILE *p;
	int rc;

	snprintf(cmd, sizeof cmd, "scripts/pg.sh %s %s 2>>'%s/cluster.log'", action, dir,
		 getenv("WORKPLAN_TEST_LOGDIR") ? getenv("WORKPLAN_TEST_LOGDIR") : "/tmp");
	p = t_popen(cmd);
	ck_assert_ptr_nonnull(p);
	if (!out || !fgets(out, (int)n, p))
		while (fgetc(p) != EOF)
			;
	if (out)
		out[strcspn(out, "\n")] = '\0';
	rc = pclose(p);
	return WEXITSTATUS(rc);
}

static int pg(const char *action, char *out, size_t n)
{
	return pg_in(CLUSTER, action, out, n);
}

static int read_port_in(const char *dir)
{
	char path[256];
	FILE *f;
	int port = 0;

	snprintf(path, sizeof path, "%s/port", dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &port), 1);
	fclose(f);
	return port;
}

static int read_port(void)
{
	return read_port_in(CLUSTER);
}

static void sql_on(const char *conninfo, const char *sql)
{
	char cmd[1024];

	snprintf(cmd, sizeof cmd, "psql '%s dbname=postgres' -qAt -v ON_ERROR_STOP=1 -c \"%s\" >/dev/null",
		 conninfo, sql);
	ck_assert_msg(system(cmd) == 0, "%s failed", sql);
}

/* The first line psql prints for sql, or "" (caller frees); NULL when
 * psql fails. */
static char *sql_value(const char *conninfo, const char *sql)
{
	char cmd[1024], line[512] = "";
	FILE *p;

	snprintf(cmd, sizeof cmd, "psql '%s dbname=postgres' -qAtX -v ON_ERROR_STOP=1 -c \"%s\"",
		 conninfo, sql);
	p = t_popen(cmd);
	ck_assert_ptr_nonnull(p);
	if (fgets(line, sizeof line, p))
		line[strcspn(line, "\n")] = '\0';
	while (fgetc(p) != EOF)
		;
	return pclose(p) == 0 ? strdup(line) : NULL;
}

/* Runs cmd through the shell; its exit status, and its output in out. */
static int run(const char *cmd, char *out, size_t n)
{
	FILE *p = t_popen(cmd);
	size_t len = 0;
	int c;

	ck_assert_ptr_nonnull(p);
	while ((c = fgetc(p)) != EOF)
		if (len + 1 < n)
			out[len++] = (char)c;
	out[len] = '\0';
	return WEXITSTATUS(pclose(p));
}

/* pg.sh gives the cluster to 'postgres' when root runs it. */
static uid_t cluster_owner(void)
{
	struct passwd *pw;

	if (getuid() != 0)
		return getuid();
	pw = getpwnam("postgres");
	ck_assert_ptr_nonnull(pw);
	return pw->pw_uid;
}

static pid_t postmaster_pid(const char *dir)
{
	char path[256], line[32] = "";
	FILE *f;

	snprintf(path, sizeof path, "%s/data/postmaster.pid", dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	fclose(f);
	return (pid_t)atoi(line);
}

/* Whether process pid holds a listening TCP socket, IPv4 or IPv6: its
 * descriptors' socket inodes against the kernel's table of TCP sockets
 * (state 0A is LISTEN). Other programs' sockets do not count. */
static bool listens_on_tcp(pid_t pid)
{
	static const char *const tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	unsigned long inodes[256];
	size_t n = 0;
	char path[64], link[128], line[512];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	d = opendir(path);
	ck_assert_msg(d != NULL, "cannot read %s", path);
	while ((e = readdir(d)) && n < 256) {
		char fd_path[320];
		ssize_t len;

		snprintf(fd_path, sizeof fd_path, "%s/%s", path, e->d_name);
		len = readlink(fd_path, link, sizeof link - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%lu]", &inodes[n]) == 1)
			n++;
	}
	closedir(d);
	for (size_t t = 0; t < 2; t++) {
		FILE *f = fopen(tables[t], "r");

		if (!f)
			continue;
		while (fgets(line, sizeof line, f)) {
			char state[8];
			unsigned long inode;

			if (sscanf(line, "%*s %*s %*s %7s %*s %*s %*s %*s %*s %lu", state, &inode) != 2 ||
			    strcmp(state, "0A"))
				continue;
			for (size_t i = 0; i < n; i++) {
				if (inodes[i] == inode) {
					fclose(f);
					return true;
				}
			}
		}
		fclose(f);
	}
	return false;
}

/* Asserts that no line of the cluster's pg_hba.conf lets anyone in on TCP
 * or without authentication. */
static void assert_hba_trusts_no_one(const char *dir)
{
	char path[256], line[512];
	int rules = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/data/pg_hba.conf", dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f)) {
		char type[32];

		line[strcspn(line, "#\n")] = '\0';
		if (sscanf(line, "%31s", type) != 1)
			continue;
		rules++;
		ck_assert_msg(strncmp(type, "host", 4), "pg_hba.conf admits TCP: %s", line);
		ck_assert_msg(!strstr(line, "trust"), "pg_hba.conf trusts: %s", line);
	}
	fclose(f);
	ck_assert_int_gt(rules, 0);
}

/* Asserts what a cluster made by pg.sh must be: no TCP listener, a socket
 * folder and socket of its owner's alone, no trust. */
static void assert_closed(const char *dir, const char *conninfo)
{
	char path[256];
	char *listen = sql_value(conninfo, "SHOW listen_addresses");
	struct stat st;

	ck_assert_ptr_nonnull(listen);
	ck_assert_str_eq(listen, "");
	free(listen);
	ck_assert_msg(!listens_on_tcp(postmaster_pid(dir)), "the server listens on TCP");
	snprintf(path, sizeof path, "%s/run", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_msg((st.st_mode & 07777) == 0700, "%s has mode %o", path, st.st_mode & 07777);
	ck_assert_int_eq(st.st_uid, cluster_owner());
	snprintf(path, sizeof path, "%s/run/.s.PGSQL.%d", dir, read_port_in(dir));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_msg((st.st_mode & 077) == 0, "%s has mode %o", path, st.st_mode & 07777);
	assert_hba_trusts_no_one(dir);
}

static void remove_cluster(const char *dir)
{
	char cmd[256];

	/* a server left by an interrupted run would hold the folder */
	pg_in(dir, "stop", NULL, 0);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void setup(void)
{
	remove_cluster(CLUSTER);
	remove_cluster(CLUSTER2);
}

static void teardown(void)
{
	remove_cluster(CLUSTER);
	remove_cluster(CLUSTER2);
}

START_TEST(second_start_reuses_the_running_cluster_and_its_data)
{
	char a[256], b[256];

	ck_assert_int_eq(pg("start", a, sizeof a), 0);
	sql_on(a, "CREATE TABLE kept (x int)");
	ck_assert_int_eq(pg("start", b, sizeof b), 0);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(pg("stop", NULL, 0), 0);
	ck_assert_int_eq(pg("start", b, sizeof b), 0);
	sql_on(b, "SELECT count(*) FROM kept");
}
END_TEST

START_TEST(half_initialised_folder_is_made_again)
{
	char ci[256];

	ck_assert_int_eq(system("mkdir -p " CLUSTER "/data && echo junk > " CLUSTER "/data/PG_VERSION"), 0);
	ck_assert_int_eq(pg("start", ci, sizeof ci), 0);
	sql_on(ci, "SELECT 1");
}
END_TEST

START_TEST(dead_server_lock_files_are_cleared)
{
	char ci[256], pidline[32];
	FILE *f;

	ck_assert_int_eq(pg("start", ci, sizeof ci), 0);
	sql_on(ci, "CREATE TABLE survived (x int)");
	f = fopen(CLUSTER "/data/postmaster.pid", "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(pidline, sizeof pidline, f));
	fclose(f);
	ck_assert_int_eq(kill(atoi(pidline), SIGKILL), 0);
	usleep(300000);
	ck_assert_int_eq(access(CLUSTER "/data/postmaster.pid", F_OK), 0);
	ck_assert_int_eq(pg("start", ci, sizeof ci), 0);
	sql_on(ci, "SELECT count(*) FROM survived");
}
END_TEST

START_TEST(cluster_is_reachable_by_its_socket_alone)
{
	char ci[256];

	ck_assert_int_eq(pg("start", ci, sizeof ci), 0);
	ck_assert_msg(strstr(ci, "host=/"), "conninfo %s names no socket folder", ci);
	assert_closed(CLUSTER, ci);
}
END_TEST

/* The port only names the socket file: a program on that TCP port, or
 * another cluster with the same number, does not matter. */
START_TEST(taken_tcp_port_and_other_clusters_do_not_matter)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char ci[256], ci2[256], cmd[1024], out[2048];
	int port, fd, one = 1;

	ck_assert_int_eq(pg("start", ci, sizeof ci), 0);
	ck_assert_int_eq(pg("stop", NULL, 0), 0);
	port = read_port();
	/* held by this test, or already by some other program: taken either way */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	a.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0)
		ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(pg("start", ci, sizeof ci), 0);
	ck_assert_int_eq(read_port(), port);
	sql_on(ci, "CREATE TABLE first_only (x int)");
	ck_assert_int_eq(pg_in(CLUSTER2, "start", ci2, sizeof ci2), 0);
	ck_assert_int_eq(read_port_in(CLUSTER2), port);
	ck_assert_str_ne(ci, ci2);
	sql_on(ci, "SELECT count(*) FROM first_only");
	/* each its own: the second has no such table */
	snprintf(cmd, sizeof cmd, "psql '%s dbname=postgres' -qAtX -c 'TABLE first_only' 2>&1", ci2);
	ck_assert_int_ne(run(cmd, out, sizeof out), 0);
	ck_assert_msg(strstr(out, "does not exist"), "%s", out);
	close(fd);
}
END_TEST

/* Run as root (CI, this machine): 'nobody' can reach the folder but not
 * the socket in it, and with the socket laid open the server still refuses
 * an OS user that is not the project's. */
START_TEST(another_local_user_cannot_connect)
{
	char ci[256], cmd[1024], out[2048];

	ck_assert_int_eq(pg("start", ci, sizeof ci), 0);
	ck_assert_msg(system("runuser -u nobody -- test -x " CLUSTER) == 0,
		      "nobody cannot even reach " CLUSTER ": the test would prove nothing");
	snprintf(cmd, sizeof cmd,
		 "runuser -u nobody -- psql '%s dbname=postgres' -qAtX -c 'SELECT 1' 2>&1", ci);
	ck_assert_int_ne(run(cmd, out, sizeof out), 0);
	ck_assert_msg(strstr(out, "Permission denied"), "%s", out);
	ck_assert_int_eq(system("chmod 755 " CLUSTER "/run && chmod 777 " CLUSTER "/run/.s.PGSQL.*"), 0);
	ck_assert_int_ne(run(cmd, out, sizeof out), 0);
	ck_assert_msg(strstr(out, "authentication failed"), "%s", out);
}
END_TEST

/* A cluster made by an earlier pg.sh: trust over TCP on 127.0.0.1, a
 * socket anyone may use. _i = 1: its server still runs. */
START_TEST(older_open_cluster_is_closed_on_its_next_start)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof a;
	char ci[256], run_dir[PATH_MAX], cmd[2 * PATH_MAX + 256];
	int fd, port;
	FILE *f;

	ck_assert_int_eq(pg("start", ci, sizeof ci), 0);
	sql_on(ci, "CREATE TABLE kept (x int)");
	ck_assert_int_eq(pg("stop", NULL, 0), 0);
	/* a TCP port free at the moment, as the earlier pg.sh chose one */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	port = ntohs(a.sin_port);
	close(fd);
	ck_assert_ptr_nonnull(realpath(CLUSTER "/run", run_dir));
	f = fopen(CLUSTER "/port", "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%d\n", port);
	fclose(f);
	f = fopen(CLUSTER "/data/postgresql.auto.conf", "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n", port,
		run_dir);
	fclose(f);
	f = fopen(CLUSTER "/data/pg_hba.conf", "w");
	ck_assert_ptr_nonnull(f);
	fputs("local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n", f);
	fclose(f);
	ck_assert_int_eq(system("chmod 755 " CLUSTER "/run"), 0);
	if (_i == 1) {
		char home[PATH_MAX];

		/* by its real path: in a private home (/root) the cluster lives
		 * elsewhere, linked from var/, and postgres cannot pass /root */
		ck_assert_ptr_nonnull(realpath(CLUSTER, home));
		snprintf(cmd, sizeof cmd,
			 "cd / && %s \"$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_ctl\""
			 " -D '%s/data' -l '%s/log' -w -t 60 start >/dev/null",
			 getuid() == 0 ? "runuser -u postgres --" : "", home, home);
		ck_assert_int_eq(system(cmd), 0);
		ck_assert_msg(listens_on_tcp(postmaster_pid(CLUSTER)), "the older cluster was not made open");
	}
	ck_assert_int_eq(pg("start", ci, sizeof ci), 0);
	ck_assert_int_eq(read_port(), port);
	assert_closed(CLUSTER, ci);
	sql_on(ci, "SELECT count(*) FROM kept");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("cluster");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, second_start_reuses_the_running_cluster_and_its_data);
	tcase_add_test(tc, half_initialised_folder_is_made_again);
	tcase_add_test(tc, dead_server_lock_files_are_cleared);
	tcase_add_test(tc, cluster_is_reachable_by_its_socket_alone);
	tcase_add_test(tc, taken_tcp_port_and_other_clusters_do_not_matter);
	tcase_add_loop_test(tc, older_open_cluster_is_closed_on_its_next_start, 0, 2);
	/* only root can be someone else */
	if (getuid() == 0)
		tcase_add_test(tc, another_local_user_cannot_connect);
	suite_add_tcase(s, tc);
	return t_run(s);
}
