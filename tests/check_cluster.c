/* scripts/pg.sh, the private cluster behind make run and make test: it is
 * reused, and a half-made folder, a dead server's lock files or a taken
 * port are recovered from, not waited on. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DIR "var/test-cluster"

/* Runs pg.sh; returns its exit status and its stdout (conninfo) in out. */
static int pg(const char *action, char *out, size_t n)
{
	char cmd[1024];
	FILE *p;
	int rc;

	snprintf(cmd, sizeof cmd, "scripts/pg.sh %s " DIR " 2>>'%s/cluster.log'", action,
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

static int read_port(void)
{
	FILE *f = fopen(DIR "/port", "r");
	int port = 0;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &port), 1);
	fclose(f);
	return port;
}

static void sql_on(const char *conninfo, const char *sql)
{
	char cmd[1024];

	snprintf(cmd, sizeof cmd, "psql '%s dbname=postgres' -qAt -v ON_ERROR_STOP=1 -c \"%s\" >/dev/null",
		 conninfo, sql);
	ck_assert_msg(system(cmd) == 0, "%s failed", sql);
}

static void setup(void)
{
	/* a server left by an interrupted run would hold the folder's port */
	if (access(DIR "/data", F_OK) == 0)
		pg("stop", NULL, 0);
	ck_assert_int_eq(system("rm -rf " DIR), 0);
}

static void teardown(void)
{
	pg("stop", NULL, 0);
	ck_assert_int_eq(system("rm -rf " DIR), 0);
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

	ck_assert_int_eq(system("mkdir -p " DIR "/data && echo junk > " DIR "/data/PG_VERSION"), 0);
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
	f = fopen(DIR "/data/postmaster.pid", "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(pidline, sizeof pidline, f));
	fclose(f);
	ck_assert_int_eq(kill(atoi(pidline), SIGKILL), 0);
	usleep(300000);
	ck_assert_int_eq(access(DIR "/data/postmaster.pid", F_OK), 0);
	ck_assert_int_eq(pg("start", ci, sizeof ci), 0);
	sql_on(ci, "SELECT count(*) FROM survived");
}
END_TEST

START_TEST(taken_port_moves_the_cluster_to_a_free_one)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char ci[256];
	int port, fd, one = 1;

	ck_assert_int_eq(pg("start", ci, sizeof ci), 0);
	ck_assert_int_eq(pg("stop", NULL, 0), 0);
	port = read_port();
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	a.sin_port = htons(port);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(pg("start", ci, sizeof ci), 0);
	ck_assert_int_ne(read_port(), port);
	sql_on(ci, "SELECT 1");
	close(fd);
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
	tcase_add_test(tc, taken_port_moves_the_cluster_to_a_free_one);
	suite_add_tcase(s, tc);
	return t_run(s);
}
