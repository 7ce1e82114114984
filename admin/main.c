/* workplan-admin: schema migrations, seed data, members, tokens, status. */
#include "admin.h"
#include "config.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

static const struct admin_cmd commands[] = {
	{ "migrate", "", "apply pending migrations (safe concurrently and repeatedly)", cmd_migrate },
	{ "seed", "", "load the Network's work plan into an empty database", cmd_seed },
	{ "member add", "--name N --email E --entity CODE --role cochair|lead|viewer",
	  "add a member", cmd_member_add },
	{ "token create", "--email E [--label L]",
	  "create a token; it is printed once, alone on the last line", cmd_token_create },
	{ "token list", "--email E", "list a member's tokens", cmd_token_list },
	{ "token revoke", "--id ID", "revoke a token", cmd_token_revoke },
	{ "link", "--email E",
	  "print a sign-in link for an active member (once, 15 minutes; under WORKPLAN_PUBLIC_URL)",
	  cmd_link },
	{ "demo", "--actions N --updates M [--seed S]",
	  "add deterministic synthetic key actions and update history", cmd_demo },
	{ "status", "", "schema version, row counts, queue depth by state", cmd_status },
	{ NULL, NULL, NULL, NULL },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: workplan-admin COMMAND [OPTIONS]\n\ncommands:\n");
	for (const struct admin_cmd *c = commands; c->name; c++)
		fprintf(out, "  %-13s %s\n      %s\n", c->name, c->usage, c->summary);
	fprintf(out, "\nThe database comes from DATABASE_URL (libpq conninfo or URI), "
		     "else libpq's PG* variables.\n'workplan-admin COMMAND --help' describes one command.\n");
}

/* The commands of a group ("token": token create, list, revoke) under a
 * usage line; false when no command is in that group. */
static bool group_usage(const char *group, FILE *out)
{
	size_t n = strlen(group);
	bool any = false;

	for (const struct admin_cmd *c = commands; c->name; c++) {
		if (strncmp(c->name, group, n) || c->name[n] != ' ')
			continue;
		if (!any)
			fprintf(out, "usage: workplan-admin %s COMMAND [OPTIONS]\n\ncommands:\n", group);
		fprintf(out, "  %-13s %s\n      %s\n", c->name, c->usage, c->summary);
		any = true;
	}
	return any;
}

static bool is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (is_help(argv[i]))
			return true;
	return false;
}

bool admin_options(int argc, char **argv, const char *const *specs, const char **values)
{
	for (int i = 0; i < argc; i++) {
		int k;

		for (k = 0; specs[k] && strcmp(argv[i], specs[k]); k++)
			;
		if (!specs[k]) {
			fprintf(stderr, "workplan-admin: unknown option '%s'\n", argv[i]);
			return false;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "workplan-admin: option %s needs a value\n", argv[i]);
			return false;
		}
		values[k] = argv[++i];
	}
	return true;
}

int admin_db_fail(struct db *db, const char *what)
{
	fprintf(stderr, "workplan-admin: %s: %s\n", what, db_error(db));
	return 1;
}

int main(int argc, char **argv)
{
	char err[256];
	struct config cfg;
	struct db *db;
	int rc;

	log_init("workplan-admin");
	if (argc < 2 || is_help(argv[1]) || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (const struct admin_cmd *c = commands; c->name; c++) {
		const char *space = strchr(c->name, ' ');
		int words = space ? 2 : 1;

		if (space ? (argc < 3 || strncmp(argv[1], c->name, space - c->name) ||
			     argv[1][space - c->name] || strcmp(argv[2], space + 1))
			  : strcmp(argv[1], c->name))
			continue;
		if (wants_help(argc - 1 - words, argv + 1 + words)) {
			printf("usage: workplan-admin %s %s\n%s\n", c->name, c->usage, c->summary);
			return 0;
		}
		if (!config_load(&cfg, err, sizeof err)) {
			fprintf(stderr, "workplan-admin: %s\n", err);
			return 2;
		}
		/* migrations and the demo generator may run long */
		db = db_new(cfg.database_url, "workplan-admin", 3600000);
		if (db_connect(db) != DB_OK) {
			rc = admin_db_fail(db, "cannot connect to the database");
		} else {
			rc = c->run(db, argc - 1 - words, argv + 1 + words);
		}
		db_free(db);
		return rc;
	}
	/* a group alone ("workplan-admin member") or asking for help: its commands */
	if (argc == 2 || is_help(argv[2])) {
		bool help = argc > 2;

		if (group_usage(argv[1], help ? stdout : stderr))
			return help ? 0 : 2;
	}
	fprintf(stderr, "workplan-admin: unknown command '%s%s%s'\n\n", argv[1],
		argc > 2 && argv[2][0] != '-' ? " " : "", argc > 2 && argv[2][0] != '-' ? argv[2] : "");
	usage(stderr);
	return 2;
}
