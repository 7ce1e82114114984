/* workplan-admin status: what is in the database, at a glance. */
#include "admin.h"

#include <stdio.h>

DB_STMT(stmt_status_schema,
	"SELECT coalesce(max(version), 0), count(*) FROM schema_migration");
DB_STMT(stmt_status_counts,
	"SELECT 'entities', count(*) FROM entity UNION ALL"
	" SELECT 'members', count(*) FROM member UNION ALL"
	" SELECT 'tokens (active)', count(*) FROM api_token WHERE revoked_at IS NULL UNION ALL"
	" SELECT 'pillars', count(*) FROM pillar UNION ALL"
	" SELECT 'key actions', count(*) FROM action UNION ALL"
	" SELECT 'status updates', count(*) FROM status_update UNION ALL"
	" SELECT 'reports', count(*) FROM report UNION ALL"
	" SELECT 'artifacts', count(*) FROM artifact UNION ALL"
	" SELECT 'audit entries', count(*) FROM audit");
DB_STMT(stmt_status_jobs,
	"SELECT s.state, count(j.id) FROM"
	" unnest('{queued,running,done,failed}'::text[]) WITH ORDINALITY AS s (state, ord)"
	" LEFT JOIN job j ON j.state = s.state GROUP BY s.state, s.ord ORDER BY s.ord");

static int print_rows(struct db *db, struct db_stmt *s, const char *heading)
{
	PGresult *r;

	if (db_query(db, s, 0, NULL, &r) != DB_OK)
		return admin_db_fail(db, "cannot read the database (run 'workplan-admin migrate' first?)");
	printf("%s\n", heading);
	for (int i = 0; i < PQntuples(r); i++)
		printf("  %-16s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
	PQclear(r);
	return 0;
}

int cmd_status(struct db *db, int argc, char **argv)
{
	PGresult *r;

	(void)argv;
	if (argc) {
		fprintf(stderr, "workplan-admin: status takes no options\n");
		return 2;
	}
	if (db_query(db, &stmt_status_schema, 0, NULL, &r) != DB_OK)
		return admin_db_fail(db, "no schema yet (run 'workplan-admin migrate')");
	printf("schema version   %s (%s migrations applied)\n", PQgetvalue(r, 0, 0),
	       PQgetvalue(r, 0, 1));
	PQclear(r);
	return print_rows(db, &stmt_status_counts, "rows") ||
	       print_rows(db, &stmt_status_jobs, "jobs by state");
}
