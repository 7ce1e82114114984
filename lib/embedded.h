/* Files compiled into the programs (SQL migrations, seed data, chart
 * templates), listed in path order. See tools/embed.c. */
#ifndef WP_EMBEDDED_H
#define WP_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *path; /* relative to the repository, e.g. "sql/migrations/001_schema.sql" */
	const char *data; /* NUL-terminated */
	size_t size;
};

/* Ends with { NULL, NULL, 0 }. */
extern const struct embedded_file embedded_files[];

#endif
