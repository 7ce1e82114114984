/* workplan report and workplan chart: files made by the workers. A
 * co-chair's report request builds the report (POST /v1/reports, which
 * reuses one already built from the same data) and follows it on stderr
 * until it is done; another member gets the newest finished one. A chart
 * still being drawn (202) is asked for again until it is there. Files are
 * written whole or not at all (client.c). */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* how long a report may take to build, a chart to be drawn */
#define REPORT_WAIT_S 600
#define CHART_WAIT_S 120

static const char report_help[] =
	"Usage: workplan report quarterly|side-event PERIOD [--format F] -o FILE\n"
	"                      [--event ID] [--json]\n\n"
	"Writes the quarterly report or the side-event pack of quarter PERIOD to FILE.\n"
	"A co-chair's request builds it (or reuses one built from the same data) and\n"
	"shows its progress on standard error until it is done; another member gets\n"
	"the newest finished one.\n\n"
	"  --format F   html, md, csv, json or docx (default: FILE's extension)\n"
	"  -o FILE      where to write it\n"
	"  --event ID   the side event the pack is for (see GET /v1/events)\n"
	"  --json       print the report (GET /v1/reports/{id}) as is\n";

static const char template_help[] =
	"Usage: workplan template --period P [--format F] -o FILE\n\n"
	"Writes your key actions for quarter P as a template to fill (the id, pillar,\n"
	"title, last status and percent of each, and empty columns for the quarter),\n"
	"to import with 'workplan import FILE --period P'.\n\n"
	"  --format F   csv or xlsx (a drop-down list for Status); default: FILE's extension\n"
	"  -o FILE      where to write it\n";

static const char chart_help[] =
	"Usage: workplan chart KIND [PARAMETERS] [--format F] -o FILE [--json]\n\n"
	"Writes a chart to FILE. KIND and its parameters:\n"
	"  status-by-pillar    --as-of P [--cycle C]\n"
	"  progress-trend      --from P --to P [--pillar N]\n"
	"  reporting-heatmap   --from P --to P\n"
	"  pillar-burnup       --pillar N --from P --to P\n\n"
	"  --format F   svg, png (300 dpi), pdf, or json (the data and its alt text);\n"
	"               default: FILE's extension\n"
	"  -o FILE      where to write it\n"
	"  --json       print {\"file\",\"bytes\",\"content_type\"} of what was written\n";

static const char *extension(const char *file)
{
	const char *dot = strrchr(file, '.'), *slash = strrchr(file, '/');

	return dot && (!slash || dot > slash) && dot[1] ? dot + 1 : NULL;
}

/* Lower-case letters and digits, and '-' inside: safe in a path. */
static bool word_ok(const char *s, bool dash)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || (dash && *p == '-')))
			return false;
	return true;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pause_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* --json for a command that wrote a file: its name, type and size. */
static void print_file_json(const char *out, const char *type)
{
	/* NULL when the file's name is not UTF-8: then without it */
	json_t *doc = json_pack("{s:s,s:s}", "file", out, "content_type", type);
	struct stat st;

	if (!doc)
		doc = json_pack("{s:s}", "content_type", type);
	if (!stat(out, &st))
		json_object_set_new(doc, "bytes", json_integer(st.st_size));
	json_dumpf(doc, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(doc);
}

/* The file of format in report doc, or NULL. */
static json_t *report_artifact(json_t *doc, const char *format)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(doc, "artifacts"), i, f)
		if (json_is_string(json_object_get(f, "format")) &&
		    !strcmp(json_string_value(json_object_get(f, "format")), format))
			return f;
	return NULL;
}

/* Follows report id until it is done or failed; doc gets its last state. */
static int report_follow(const struct conf *c, json_t **doc)
{
	char path[64], b[4][32], last[32] = "";
	double start = now_s(), interval = 0.25;
	bool tty = isatty(2);
	struct answer a;
	int rc = EXIT_OK;

	snprintf(path, sizeof path, "/v1/reports/%s", jtext(*doc, "id", b[0]));
	for (;;) {
		const char *state = jtext(*doc, "state", b[1]);

		if (tty)
			fprintf(stderr, "\rReport %s (%s %s): %s, %.0f s ", jtext(*doc, "id", b[0]),
				jtext(*doc, "kind", b[2]), jtext(*doc, "period", b[3]),
				state, now_s() - start);
		else if (strcmp(state, last))
			fprintf(stderr, "Report %s (%s %s): %s after %.1f s\n", jtext(*doc, "id", b[0]),
				jtext(*doc, "kind", b[2]), jtext(*doc, "period", b[3]),
				state, now_s() - start);
		snprintf(last, sizeof last, "%s", state);
		if (!strcmp(state, "done") || !strcmp(state, "failed"))
			break;
		if (now_s() - start > REPORT_WAIT_S) {
			fprintf(stderr, "%s%s: report %s is still %s after %d minutes; follow it with GET %s\n",
				tty ? "\n" : "", cli.prog, jtext(*doc, "id", b[0]), state, REPORT_WAIT_S / 60,
				path);
			return EXIT_UNREACHABLE;
		}
		pause_s(interval);
		if (interval < 2)
			interval *= 1.5;
		rc = client_get(c, path, &a);
		if (rc == EXIT_REFUSED)
			rc = client_problem(&a, "report", NULL);
		if (rc == EXIT_OK) {
			json_decref(*doc);
			*doc = json_incref(a.json);
		}
		answer_free(&a);
		if (rc != EXIT_OK || !*doc)
			return rc != EXIT_OK ? rc : EXIT_REFUSED;
	}
	if (tty)
		fputc('\n', stderr);
	if (!strcmp(last, "failed")) {
		fprintf(stderr, "%s: report %s failed: %s\n", cli.prog, jtext(*doc, "id", b[0]),
			jtext(*doc, "error", b[1]));
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

/* A co-chair's request: built, or reused, then followed. */
static int report_build(const struct conf *c, const char *kind, const char *period,
			const char *format, long event, json_t **doc)
{
	json_t *body = json_pack("{s:s,s:s,s:[s]}", "kind", kind, "period", period, "formats", format);
	struct answer a;
	char *text;
	int rc;

	if (!body)
		return usage_error("report", "the kind, period and format must be UTF-8 text");
	if (event)
		json_object_set_new(body, "event", json_integer(event));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	{
		/* safe to send again: the service reuses a report built from
		 * the same request and data instead of building another */
		const struct request r = { .method = "POST", .path = "/v1/reports",
					   .content_type = "application/json", .body = text,
					   .body_len = strlen(text), .retry = RETRY_SAFE };

		rc = client_send(c, &r, &a);
	}
	free(text);
	if (rc == EXIT_REFUSED)
		rc = client_problem(&a, "report", (const char *const[]){ "formats", "--format", "period",
									 "PERIOD", "kind", "KIND",
									 "event", "--event", NULL });
	if (rc == EXIT_OK && !json_is_object(a.json)) {
		fprintf(stderr, "%s: the service's answer to POST /v1/reports is not a report\n", cli.prog);
		rc = EXIT_REFUSED;
	}
	if (rc == EXIT_OK)
		*doc = json_incref(a.json);
	answer_free(&a);
	return rc == EXIT_OK ? report_follow(c, doc) : rc;
}

/* Another member: the newest finished report of that kind, quarter and
 * event with a file in that format. */
static int report_newest(const struct conf *c, const char *kind, const char *period,
			 const char *format, long event, json_t **doc)
{
	char *after = NULL, b[32];
	struct answer a;
	int rc = EXIT_OK;
	json_t *v;
	size_t i;

	while (rc == EXIT_OK && !*doc) {
		char *path = client_path("/v1/reports", "limit", "500", "after", after, NULL);
		json_t *next;

		rc = client_get(c, path, &a);
		free(path);
		free(after);
		after = NULL;
		if (rc == EXIT_REFUSED)
			rc = client_problem(&a, "report", NULL);
		if (rc != EXIT_OK) {
			answer_free(&a);
			break;
		}
		/* newest first */
		json_array_foreach(json_object_get(a.json, "items"), i, v) {
			if (!strcmp(jtext(v, "kind", b), kind) && !strcmp(jtext(v, "period", b), period) &&
			    !strcmp(jtext(v, "state", b), "done") &&
			    (!event || json_integer_value(json_object_get(v, "event")) == event) &&
			    report_artifact(v, format)) {
				*doc = json_incref(v);
				break;
			}
		}
		next = json_object_get(a.json, "next");
		if (json_is_string(next))
			after = strdup(json_string_value(next));
		answer_free(&a);
		if (!after)
			break;
	}
	free(after);
	if (rc == EXIT_OK && !*doc) {
		fprintf(stderr, "%s: no finished %s report for %s has a %s file yet; a co-chair can build "
				"one with 'workplan report %s %s --format %s -o FILE'\n",
			cli.prog, kind, period, format, kind, period, format);
		rc = EXIT_REFUSED;
	}
	return rc;
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "event", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *format = NULL, *out = NULL, *kind, *period;
	struct answer a = { 0 };
	json_t *doc = NULL, *file;
	char b[3][32];
	struct conf c;
	long event = 0;
	int o, rc;

	while ((o = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (o) {
		case 'f': format = optarg; break;
		case 'o': out = optarg; break;
		case 'e':
			if (!opt_int("--event", optarg, 1, 1L << 53, &event))
				return EXIT_USAGE;
			break;
		case 'j': cli.json = true; break;
		case 'h': fputs(report_help, stdout); return EXIT_OK;
		default: return opt_bad("report", argv);
		}
	}
	if (argc - optind != 2)
		return usage_error("report", "give the kind (quarterly or side-event) and the quarter");
	kind = argv[optind];
	period = argv[optind + 1];
	if (strcmp(kind, "quarterly") && strcmp(kind, "side-event"))
		return usage_error("report", "the kind is quarterly or side-event, not '%s'", kind);
	if (!out)
		return usage_error("report", "-o FILE is needed");
	if (!format)
		format = extension(out);
	if (!format)
		return usage_error("report", "--format is needed (%s has no extension to go by)", out);
	rc = conf_load(&c);
	if (rc != EXIT_OK)
		return rc;
	rc = client_get(&c, "/v1/me", &a);
	if (rc == EXIT_REFUSED)
		rc = client_problem(&a, "report", NULL);
	if (rc == EXIT_OK && !strcmp(jtext(a.json, "role", b[0]), "cochair"))
		rc = report_build(&c, kind, period, format, event, &doc);
	else if (rc == EXIT_OK)
		rc = report_newest(&c, kind, period, format, event, &doc);
	answer_free(&a);
	file = rc == EXIT_OK ? report_artifact(doc, format) : NULL;
	if (rc == EXIT_OK && !file) {
		fprintf(stderr, "%s: report %s has no %s file\n", cli.prog, jtext(doc, "id", b[0]), format);
		rc = EXIT_REFUSED;
	}
	if (rc == EXIT_OK) {
		const struct request r = { .method = "GET", .path = jtext(file, "url", b[0]),
					   .retry = RETRY_SAFE, .save_to = out };

		rc = client_send(&c, &r, &a);
		if (rc == EXIT_REFUSED)
			rc = client_problem(&a, "report", NULL);
		answer_free(&a);
	}
	if (rc == EXIT_OK && cli.json) {
		json_dumpf(doc, stdout, JSON_COMPACT);
		putchar('\n');
	} else if (rc == EXIT_OK) {
		printf("Wrote %s (%s bytes): report %s, %s %s, %s\n", out, jtext(file, "bytes", b[0]),
		       jtext(doc, "id", b[1]), kind, period, format);
	}
	json_decref(doc);
	return rc;
}

int cmd_chart(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "as-of", required_argument, NULL, 'a' },
		{ "cycle", required_argument, NULL, 'c' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 't' },
		{ "pillar", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const names[] = { "as_of", "--as-of", "cycle", "--cycle", "from", "--from",
					     "to", "--to", "pillar", "--pillar", NULL };
	const char *as_of = NULL, *cycle = NULL, *from = NULL, *to = NULL, *pillar = NULL;
	const char *format = NULL, *out = NULL, *kind;
	double start = now_s();
	struct answer a = { 0 };
	char base[128], *path;
	struct conf c;
	long n;
	int o, rc;

	while ((o = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (o) {
		case 'a': as_of = optarg; break;
		case 'c': cycle = optarg; break;
		case 'F': from = optarg; break;
		case 't': to = optarg; break;
		case 'p':
			if (!opt_int("--pillar", optarg, 1, 8, &n))
				return EXIT_USAGE;
			pillar = optarg;
			break;
		case 'f': format = optarg; break;
		case 'o': out = optarg; break;
		case 'j': cli.json = true; break;
		case 'h': fputs(chart_help, stdout); return EXIT_OK;
		default: return opt_bad("chart", argv);
		}
	}
	if (argc - optind != 1)
		return usage_error("chart", "give one chart KIND (status-by-pillar, progress-trend, "
					    "reporting-heatmap, pillar-burnup)");
	kind = argv[optind];
	if (!out)
		return usage_error("chart", "-o FILE is needed");
	if (!format)
		format = extension(out);
	if (!format)
		return usage_error("chart", "--format is needed (%s has no extension to go by)", out);
	if (!word_ok(kind, true) || strlen(kind) > 40)
		return usage_error("chart", "'%s' is not a chart kind", kind);
	if (!word_ok(format, false) || strlen(format) > 8)
		return usage_error("chart", "'%s' is not a format (svg, png, pdf, json)", format);
	rc = conf_load(&c);
	if (rc != EXIT_OK)
		return rc;
	snprintf(base, sizeof base, "/v1/charts/%s.%s", kind, format);
	path = client_path(base, "as_of", as_of, "cycle", cycle, "from", from, "to", to, "pillar",
			   pillar, NULL);
	for (;;) {
		const struct request r = { .method = "GET", .path = path, .retry = RETRY_SAFE,
					   .save_to = out };

		rc = client_send(&c, &r, &a);
		if (rc != EXIT_OK || a.status != 202)
			break;
		/* queued behind other drawings: ask again when told */
		if (now_s() - start > CHART_WAIT_S) {
			fprintf(stderr, "%s: the chart is still being drawn after %d s\n", cli.prog,
				CHART_WAIT_S);
			rc = EXIT_UNREACHABLE;
			break;
		}
		fprintf(stderr, "Chart %s: being drawn, %.0f s\n", kind, now_s() - start);
		pause_s(a.retry_after > 0 && a.retry_after < 10 ? a.retry_after : 1);
		answer_free(&a);
	}
	free(path);
	if (rc == EXIT_REFUSED) {
		rc = client_problem(&a, "chart", names);
	} else if (rc == EXIT_OK && cli.json) {
		print_file_json(out, a.type);
	} else if (rc == EXIT_OK) {
		printf("Wrote %s (%s chart, %s)\n", out, kind, a.type);
	}
	answer_free(&a);
	return rc;
}

int cmd_template(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "period", required_argument, NULL, 'P' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *period = NULL, *format = NULL, *out = NULL;
	struct answer a = { 0 };
	char base[64], *path;
	struct conf c;
	int o, rc;

	while ((o = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (o) {
		case 'P': period = optarg; break;
		case 'f': format = optarg; break;
		case 'o': out = optarg; break;
		case 'j': cli.json = true; break;
		case 'h': fputs(template_help, stdout); return EXIT_OK;
		default: return opt_bad("template", argv);
		}
	}
	if (optind < argc)
		return usage_error("template", "unexpected '%s'", argv[optind]);
	if (!period || !out)
		return usage_error("template", "--period and -o FILE are needed");
	if (!format)
		format = extension(out);
	if (!format || (strcmp(format, "csv") && strcmp(format, "xlsx")))
		return usage_error("template", "the format is csv or xlsx (--format, or FILE's extension)");
	rc = conf_load(&c);
	if (rc != EXIT_OK)
		return rc;
	snprintf(base, sizeof base, "/v1/me/template.%s", format);
	path = client_path(base, "period", period, NULL);
	{
		const struct request r = { .method = "GET", .path = path, .retry = RETRY_SAFE,
					   .save_to = out };

		rc = client_send(&c, &r, &a);
	}
	free(path);
	if (rc == EXIT_REFUSED)
		rc = client_problem(&a, "template", (const char *const[]){ "period", "--period", NULL });
	else if (rc == EXIT_OK && cli.json)
		print_file_json(out, a.type);
	else if (rc == EXIT_OK)
		printf("Wrote %s: fill it, then 'workplan import %s --period %s'\n", out, out, period);
	answer_free(&a);
	return rc;
}
