/* workplan reporting [--period P]: GET /v1/reporting as two tables, per
 * pillar (with the actions still missing) and per lead entity. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

static const char reporting_help[] =
	"Usage: workplan reporting [--period P] [--json]\n\n"
	"Who has reported for quarter P (YYYY-Qn; default: the current quarter):\n"
	"per pillar and per lead entity, the key actions expected, reported, reported\n"
	"on time (by the deadline, 15 days after the quarter ends), and the ids of\n"
	"those still missing.\n\n"
	"  --json   print GET /v1/reporting's answer as is\n";

int cmd_reporting(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "period", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *period = NULL;
	struct answer a = { 0 };
	char *path, b[6][32];
	struct conf c;
	json_t *v, *m;
	size_t i, k;
	int o, rc;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'P': period = optarg; break;
		case 'j': cli.json = true; break;
		case 'h': fputs(reporting_help, stdout); return EXIT_OK;
		default: return opt_bad("reporting", argv);
		}
	}
	if (optind < argc)
		return usage_error("reporting", "unexpected '%s'", argv[optind]);
	rc = conf_load(&c);
	if (rc != EXIT_OK)
		return rc;
	path = client_path("/v1/reporting", "period", period, NULL);
	rc = client_get(&c, path, &a);
	free(path);
	if (rc == EXIT_REFUSED) {
		rc = client_problem(&a, "reporting", (const char *const[]){ "period", "--period", NULL });
	} else if (rc == EXIT_OK && cli.json) {
		client_print_json(&a);
	} else if (rc == EXIT_OK) {
		printf("Reporting for %s (deadline %s)\n\n", jtext(a.json, "period", b[0]),
		       jtext(a.json, "deadline", b[1]));
		printf("%-6s %8s %8s %7s %7s  %s\n", "PILLAR", "EXPECTED", "REPORTED", "ON TIME",
		       "MISSING", "MISSING ACTIONS");
		json_array_foreach(json_object_get(a.json, "pillars"), i, v) {
			printf("%-6s %8s %8s %7s %7s  ", jtext(v, "number", b[0]), jtext(v, "expected", b[1]),
			       jtext(v, "reported", b[2]), jtext(v, "on_time", b[3]),
			       jtext(v, "missing", b[4]));
			json_array_foreach(json_object_get(v, "missing_actions"), k, m)
				printf("%s%lld", k ? " " : "", (long long)json_integer_value(m));
			printf("\n");
		}
		printf("\n%-8s %8s %8s %7s\n", "ENTITY", "EXPECTED", "REPORTED", "ON TIME");
		json_array_foreach(json_object_get(a.json, "entities"), i, v)
			printf("%-8s %8s %8s %7s\n", jtext(v, "code", b[0]), jtext(v, "expected", b[1]),
			       jtext(v, "reported", b[2]), jtext(v, "on_time", b[3]));
	}
	answer_free(&a);
	return rc;
}
