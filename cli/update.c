/* workplan update and workplan import: the writes of a pillar lead. Each
 * carries an Idempotency-Key derived from what it posts (SHA-256 of the
 * action or period and the exact body), so the retries of client.c, or
 * the user running the same command again after a lost answer, get the
 * first answer back instead of a second update. */
#include "cli.h"
#include "sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NARRATIVE_FILE_MAX (64u << 10)
#define IMPORT_FILE_MAX (32u << 20)

static const char update_help[] =
	"Usage: workplan update ACTION --period P --status S --percent N\n"
	"                       (--narrative TEXT | --narrative-file F)\n"
	"                       [--public-summary TEXT [--public]] [--json]\n\n"
	"Posts a status update on key action ACTION for quarter P (YYYY-Qn).\n\n"
	"  --status S             not_started, on_track, at_risk, delayed, completed, cancelled\n"
	"  --percent N            0 to 100; 100 if and only if completed\n"
	"  --narrative TEXT       what happened this quarter (at most 300 words)\n"
	"  --narrative-file F     the narrative from file F ('-': standard input)\n"
	"  --public-summary TEXT  a summary member states may read (at most 100 words)\n"
	"  --public               show this update publicly (needs --public-summary)\n"
	"  --json                 print the service's answer (the update) as is\n\n"
	"The request carries an Idempotency-Key made from the action and the update's\n"
	"content: sent again (a retry, or the same command run twice within 48 hours)\n"
	"it answers the first update, never a second one.\n";

static const char import_help[] =
	"Usage: workplan import FILE --period P [--json]\n\n"
	"Posts the updates of a filled template (GET /v1/me/template.csv or .xlsx) for\n"
	"quarter P: all its rows or none. FILE ends in .csv (UTF-8, comma or semicolon)\n"
	"or .xlsx. Each bad cell is reported on its own line (\"row 7: Percent complete\").\n"
	"The same file imported twice creates nothing new (an Idempotency-Key made from\n"
	"the period and the file's bytes).\n\n"
	"  --json   print the service's answer as is\n";

/* "wpcli-" and the SHA-256 of what, in hex */
static void derive_key(const char *what, const char *subject, const void *body, size_t len,
		       char key[80])
{
	unsigned char d[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, what, strlen(what) + 1);
	sha256_update(&s, subject, strlen(subject) + 1);
	sha256_update(&s, body, len);
	sha256_final(&s, d);
	sha256_hex(d, hex);
	snprintf(key, 80, "wpcli-%s", hex);
}

/* A narrative read from a file loses its final line ends. */
static void trim_end(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

static bool set_text(json_t *o, const char *key, const char *value, const char *opt)
{
	json_t *v = json_stringn(value, strlen(value));

	if (!v) {
		fprintf(stderr, "%s update: %s is not UTF-8 text\n", cli.prog, opt);
		return false;
	}
	json_object_set_new(o, key, v);
	return true;
}

int cmd_update(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "period", required_argument, NULL, 'P' },
		{ "status", required_argument, NULL, 's' },
		{ "percent", required_argument, NULL, 'p' },
		{ "narrative", required_argument, NULL, 'n' },
		{ "narrative-file", required_argument, NULL, 'f' },
		{ "public-summary", required_argument, NULL, 'S' },
		{ "public", no_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const names[] = {
		"period", "--period", "status", "--status", "percent_complete", "--percent",
		"narrative", "--narrative", "public_summary", "--public-summary", "visibility", "--public",
		NULL,
	};
	const char *period = NULL, *status = NULL, *narrative = NULL, *file = NULL, *summary = NULL;
	char key[80], path[64], *text = NULL, *body = NULL, b[4][32];
	bool public = false, has_percent = false, ok = true;
	long action = 0, percent = 0;
	struct answer a = { 0 };
	json_t *doc = NULL;
	struct conf c;
	size_t len;
	int o, rc;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'P': period = optarg; break;
		case 's': status = optarg; break;
		case 'p':
			if (!opt_int("--percent", optarg, -1000000, 1000000, &percent))
				return EXIT_USAGE;
			has_percent = true;
			break;
		case 'n': narrative = optarg; break;
		case 'f': file = optarg; break;
		case 'S': summary = optarg; break;
		case 'u': public = true; break;
		case 'j': cli.json = true; break;
		case 'h': fputs(update_help, stdout); return EXIT_OK;
		default: return opt_bad("update", argv);
		}
	}
	if (optind == argc)
		return usage_error("update", "which key action? ACTION (its id) is missing");
	if (argc - optind > 1)
		return usage_error("update", "unexpected '%s'", argv[optind + 1]);
	if (!opt_int("ACTION", argv[optind], 1, 1L << 53, &action))
		return EXIT_USAGE;
	if (!period || !status || !has_percent || (!narrative && !file))
		return usage_error("update", "--period, --status, --percent and a narrative are all needed");
	if (narrative && file)
		return usage_error("update", "give --narrative or --narrative-file, not both");
	if (public && !summary)
		return usage_error("update", "--public needs --public-summary (what the public will read)");
	if (file) {
		text = read_file(file, NARRATIVE_FILE_MAX, &len);
		if (!text)
			return EXIT_USAGE;
		trim_end(text);
		narrative = text;
	}
	doc = json_object();
	ok = set_text(doc, "period", period, "--period") && set_text(doc, "status", status, "--status") &&
	     set_text(doc, "narrative", narrative, file ? "--narrative-file" : "--narrative") &&
	     (!summary || set_text(doc, "public_summary", summary, "--public-summary"));
	json_object_set_new(doc, "percent_complete", json_integer(percent));
	if (public)
		json_object_set_new(doc, "visibility", json_string("public"));
	free(text);
	if (!ok) {
		json_decref(doc);
		return EXIT_USAGE;
	}
	/* sorted keys: the same update is always the same bytes, so the same key */
	body = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(doc);
	snprintf(path, sizeof path, "%ld", action);
	derive_key("update", path, body, strlen(body), key);
	snprintf(path, sizeof path, "/v1/actions/%ld/updates", action);
	rc = conf_load(&c);
	if (rc == EXIT_OK) {
		const struct request r = { .method = "POST", .path = path,
					   .content_type = "application/json", .body = body,
					   .body_len = strlen(body), .idempotency_key = key,
					   .retry = RETRY_SAFE };

		rc = client_send(&c, &r, &a);
	}
	free(body);
	if (rc == EXIT_REFUSED)
		rc = client_problem(&a, "update", names);
	else if (rc == EXIT_OK && cli.json)
		client_print_json(&a);
	else if (rc == EXIT_OK)
		printf("Update %s on action %ld for %s: %s, %s%% (%s)\n", jtext(a.json, "id", b[0]), action,
		       jtext(a.json, "period", b[1]), jtext(a.json, "status", b[2]),
		       jtext(a.json, "percent_complete", b[3]),
		       json_string_value(json_object_get(a.json, "review_state")) ?
			       json_string_value(json_object_get(a.json, "review_state")) : "posted");
	answer_free(&a);
	return rc;
}

static const char *spreadsheet_type(const char *file)
{
	const char *dot = strrchr(file, '.');

	if (dot && !strcasecmp(dot, ".csv"))
		return "text/csv";
	if (dot && !strcasecmp(dot, ".xlsx"))
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
	return NULL;
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "period", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *period = NULL, *file, *type;
	char key[80], *data, *path, b[4][32];
	struct answer a = { 0 };
	struct conf c;
	size_t len, i;
	json_t *n;
	int o, rc;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'P': period = optarg; break;
		case 'j': cli.json = true; break;
		case 'h': fputs(import_help, stdout); return EXIT_OK;
		default: return opt_bad("import", argv);
		}
	}
	if (optind == argc)
		return usage_error("import", "FILE is missing");
	if (argc - optind > 1)
		return usage_error("import", "one file at a time: unexpected '%s'", argv[optind + 1]);
	if (!period)
		return usage_error("import", "--period is needed (the quarter, YYYY-Qn)");
	file = argv[optind];
	type = spreadsheet_type(file);
	if (!type)
		return usage_error("import", "%s: a .csv or .xlsx file is needed", file);
	rc = conf_load(&c);
	if (rc != EXIT_OK)
		return rc;
	data = read_file(file, IMPORT_FILE_MAX, &len);
	if (!data)
		return EXIT_USAGE;
	derive_key("import", period, data, len, key);
	path = client_path("/v1/updates/import", "period", period, NULL);
	{
		const struct request r = { .method = "POST", .path = path, .content_type = type,
					   .body = data, .body_len = len, .idempotency_key = key,
					   .retry = RETRY_SAFE };

		rc = client_send(&c, &r, &a);
	}
	free(data);
	free(path);
	if (rc == EXIT_REFUSED) {
		rc = client_problem(&a, "import", (const char *const[]){ "period", "--period", NULL });
	} else if (rc == EXIT_OK && cli.json) {
		client_print_json(&a);
	} else if (rc == EXIT_OK) {
		/* a line per row, then the counts */
		json_array_foreach(json_object_get(a.json, "rows"), i, n)
			printf("row %s: action %s %s (update %s)\n", jtext(n, "row", b[0]),
			       jtext(n, "action_id", b[1]), jtext(n, "result", b[2]),
			       jtext(n, "update_id", b[3]));
		printf("Imported %s for %s: %s created, %s unchanged\n", file, period,
		       jtext(a.json, "created", b[0]), jtext(a.json, "unchanged", b[1]));
	}
	answer_free(&a);
	return rc;
}
