/* bin/workplan: the command-line client of the Workplan service (SPEC 14).
 * Dispatches to one sub-command; options common to all (--json, --help)
 * may also come before the sub-command's name. */
#include "cli.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct cli cli = { .prog = "workplan" };

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "login", cmd_login, "keep the service's URL and your token (read from standard input)" },
	{ "actions", cmd_actions, "list key actions with their latest status" },
	{ "update", cmd_update, "post a quarter's status update on a key action" },
	{ "template", cmd_template, "download your key actions as a CSV or XLSX template to fill" },
	{ "import", cmd_import, "post a quarter's updates from a filled CSV or XLSX template" },
	{ "reporting", cmd_reporting, "who has reported for a quarter, and what is missing" },
	{ "report", cmd_report, "build (co-chairs) or fetch a quarterly report or side-event pack" },
	{ "chart", cmd_chart, "download a chart (SVG, PNG, PDF or its data as JSON)" },
};

static void help(FILE *f)
{
	fprintf(f, "Usage: workplan [--json] COMMAND [ARGS]\n\n"
		   "The Workplan service from the command line (see workplan(1)).\n\nCommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'workplan COMMAND --help' tells more. --json prints the service's JSON as is.\n"
		   "Exit status: 0 done, 1 refused by the service, 2 usage, 3 service unreachable.\n"
		   "Environment: WORKPLAN_URL and WORKPLAN_TOKEN override the file that\n"
		   "'workplan login' writes ($XDG_CONFIG_HOME/workplan/config).\n");
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s%s: ", cli.prog, cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'workplan%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
	return EXIT_USAGE;
}

int opt_bad(const char *cmd, char **argv)
{
	return usage_error(cmd, "option '%s' is unknown or needs a value", argv[optind - 1]);
}

bool opt_int(const char *opt, const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max) {
		fprintf(stderr, "%s: %s must be a whole number from %ld to %ld, not '%s'\n", cli.prog,
			opt, min, max, s);
		return false;
	}
	*out = v;
	return true;
}

char *read_file(const char *path, size_t max, size_t *len)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	size_t n = 0, cap = 4096;
	char *data;
	ssize_t k;

	if (fd < 0) {
		fprintf(stderr, "%s: cannot open %s: %s\n", cli.prog, path, strerror(errno));
		return NULL;
	}
	data = malloc(cap);
	if (!data)
		abort();
	for (;;) {
		if (cap - n < 2) {
			cap *= 2;
			data = realloc(data, cap);
			if (!data)
				abort();
		}
		k = read(fd, data + n, cap - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += k;
		if (n > max)
			break;
	}
	if (fd != 0)
		close(fd);
	if (k < 0 || n > max) {
		if (k < 0)
			fprintf(stderr, "%s: cannot read %s: %s\n", cli.prog, path, strerror(errno));
		else
			fprintf(stderr, "%s: %s is larger than %zu bytes\n", cli.prog, path, max);
		free(data);
		return NULL;
	}
	data[n] = '\0';
	*len = n;
	return data;
}

int main(int argc, char **argv)
{
	int i = 1, rc;

	/* each command reports its own bad options (opt_bad) */
	opterr = 0;
	/* options before the command's name */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json")) {
			cli.json = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			help(stdout);
			return EXIT_OK;
		} else {
			return usage_error(NULL, "unknown option '%s'", argv[i]);
		}
	}
	if (i == argc) {
		help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		help(stdout);
		return EXIT_OK;
	}
	for (size_t k = 0; k < sizeof commands / sizeof *commands; k++) {
		if (strcmp(argv[i], commands[k].name))
			continue;
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			fprintf(stderr, "%s: libcurl did not start\n", cli.prog);
			return EXIT_UNREACHABLE;
		}
		rc = commands[k].run(argc - i, argv + i);
		curl_global_cleanup();
		return rc;
	}
	return usage_error(NULL, "no command '%s'", argv[i]);
}
