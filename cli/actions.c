/* workplan actions [--mine] [--pillar N]: key actions with their latest
 * update, every page of GET /v1/actions followed; --mine keeps those the
 * caller's entity leads (its entity from GET /v1/me). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char actions_help[] =
	"Usage: workplan actions [--mine] [--pillar N] [--cycle C] [--json]\n\n"
	"Lists the key actions with their latest update: id, pillar, year, status,\n"
	"percent complete, the quarter of that update, and the title.\n\n"
	"  --mine       only the actions your entity leads (those a lead may post on)\n"
	"  --pillar N   only pillar N (1 to 8)\n"
	"  --cycle C    only cycle C (2021, 2022-2023, 2024-2025)\n"
	"  --json       {\"items\":[...]} with every action as GET /v1/actions gives it\n";

int cmd_actions(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mine", no_argument, NULL, 'm' },
		{ "pillar", required_argument, NULL, 'p' },
		{ "cycle", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *pillar = NULL, *cycle = NULL;
	char entity[32] = "", b[7][32];
	json_t *items, *v;
	struct answer a = { 0 };
	struct conf c;
	bool mine = false;
	char *after = NULL;
	long n;
	int o, rc;
	size_t i;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'm': mine = true; break;
		case 'p':
			if (!opt_int("--pillar", optarg, 1, 8, &n))
				return EXIT_USAGE;
			pillar = optarg;
			break;
		case 'c': cycle = optarg; break;
		case 'j': cli.json = true; break;
		case 'h': fputs(actions_help, stdout); return EXIT_OK;
		default: return opt_bad("actions", argv);
		}
	}
	if (optind < argc)
		return usage_error("actions", "unexpected '%s'", argv[optind]);
	items = json_array();
	rc = conf_load(&c);
	if (rc == EXIT_OK && mine) {
		rc = client_get(&c, "/v1/me", &a);
		if (rc == EXIT_REFUSED)
			rc = client_problem(&a, "actions", NULL);
		else if (rc == EXIT_OK)
			snprintf(entity, sizeof entity, "%s", jtext(a.json, "entity", b[0]));
		answer_free(&a);
	}
	/* every page, 500 at a time */
	while (rc == EXIT_OK) {
		char *path = client_path("/v1/actions", "limit", "500", "pillar", pillar, "cycle", cycle,
					 "lead", mine ? entity : NULL, "after", after, NULL);
		json_t *next;

		rc = client_get(&c, path, &a);
		free(path);
		free(after);
		after = NULL;
		if (rc == EXIT_REFUSED)
			rc = client_problem(&a, "actions", (const char *const[]){ "pillar", "--pillar",
										 "cycle", "--cycle", NULL });
		if (rc != EXIT_OK)
			break;
		json_array_extend(items, json_object_get(a.json, "items"));
		next = json_object_get(a.json, "next");
		if (json_is_string(next))
			after = strdup(json_string_value(next));
		answer_free(&a);
		if (!after)
			break;
	}
	answer_free(&a);
	if (rc == EXIT_OK && cli.json) {
		json_t *doc = json_pack("{s:O,s:n}", "items", items, "next");

		json_dumpf(doc, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(doc);
	} else if (rc == EXIT_OK) {
		printf("%-6s %-6s %-4s %-11s %4s  %-7s  %s\n", "ID", "PILLAR", "YEAR", "STATUS", "%",
		       "PERIOD", "TITLE");
		json_array_foreach(items, i, v) {
			json_t *latest = json_object_get(v, "latest");
			bool has = json_is_object(latest);

			printf("%-6s %-6s %-4s %-11s %4s  %-7s  %s\n", jtext(v, "id", b[0]),
			       jtext(v, "pillar", b[1]), jtext(v, "year", b[2]),
			       has ? jtext(latest, "status", b[3]) : "-",
			       has ? jtext(latest, "percent_complete", b[4]) : "-",
			       has ? jtext(latest, "period", b[5]) : "-", jtext(v, "title", b[6]));
		}
		if (!json_array_size(items))
			fprintf(stderr, "%s: no key action matches\n", cli.prog);
	}
	json_decref(items);
	return rc;
}
