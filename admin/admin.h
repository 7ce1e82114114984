/* workplan-admin: the sub-commands share this. */
#ifndef WP_ADMIN_H
#define WP_ADMIN_H

#include "db.h"

struct admin_cmd {
	const char *name;    /* "token create" */
	const char *usage;   /* arguments */
	const char *summary;
	int (*run)(struct db *db, int argc, char **argv);
};

/* Parses --name value pairs: specs is a NULL-terminated list of option
 * names, values receives each one's argument (or stays NULL). Returns false
 * (after printing why) on an unknown option or a missing argument. */
bool admin_options(int argc, char **argv, const char *const *specs, const char **values);
/* Prints a database failure to stderr; returns the exit status 1. */
int admin_db_fail(struct db *db, const char *what);

int cmd_migrate(struct db *db, int argc, char **argv);
int cmd_seed(struct db *db, int argc, char **argv);
int cmd_member_add(struct db *db, int argc, char **argv);
int cmd_token_create(struct db *db, int argc, char **argv);
int cmd_token_list(struct db *db, int argc, char **argv);
int cmd_token_revoke(struct db *db, int argc, char **argv);
int cmd_link(struct db *db, int argc, char **argv);
int cmd_status(struct db *db, int argc, char **argv);
int cmd_demo(struct db *db, int argc, char **argv);

#endif
