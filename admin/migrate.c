/* Schema migrations and seed data, both compiled into the program.
 * Each migration runs once, in its own transaction, under an advisory
 * lock, and is recorded with its checksum: an applied migration that has
 * since been edited is an error, not a silent skip. */
#include "admin.h"
#include "embedded.h"
#include "sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATIONS_DIR "sql/migrations/"
#define SEED_DIR "sql/seed/"
/* pg_advisory_lock key shared by every process that migrates or seeds */
#define LOCK_KEY "7264656"

DB_STMT(stmt_lock, "SELECT pg_advisory_lock(" LOCK_KEY ")");
DB_STMT(stmt_unlock, "SELECT pg_advisory_unlock(" LOCK_KEY ")");
DB_STMT(stmt_applied, "SELECT checksum FROM schema_migration WHERE version = $1 AND suffix = $2");
DB_STMT(stmt_record,
	"INSERT INTO schema_migration (version, name, checksum, suffix) VALUES ($1, $2, $3, $4)");
DB_STMT(stmt_has_workplan, "SELECT EXISTS (SELECT 1 FROM workplan)");

/* A migration is known by its number and a letter (022b_x.sql comes
 * between 022_y.sql and 023_z.sql; "" for none). A history made before
 * letters existed gets the column. */
static const char create_history[] =
	"CREATE TABLE IF NOT EXISTS schema_migration ("
	" version int NOT NULL,"
	" suffix text NOT NULL DEFAULT '',"
	" name text NOT NULL,"
	" checksum text NOT NULL,"
	" applied_at timestamptz NOT NULL DEFAULT now(),"
	" PRIMARY KEY (version, suffix));"
	"DO $$ BEGIN"
	" IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'schema_migration'::regclass"
	"                AND attname = 'suffix') THEN"
	"  ALTER TABLE schema_migration ADD COLUMN suffix text NOT NULL DEFAULT '',"
	"   DROP CONSTRAINT schema_migration_pkey, ADD PRIMARY KEY (version, suffix);"
	" END IF;"
	" END $$";

/* "sql/migrations/012_name.sql" -> 12, name "012_name.sql", suffix "";
 * "022b_name.sql" -> 22, suffix "b". -1 if not a migration. */
static int migration_version(const char *path, const char **name, char suffix[2])
{
	const char *base = path + strlen(MIGRATIONS_DIR);
	int v = 0, i;

	if (strncmp(path, MIGRATIONS_DIR, strlen(MIGRATIONS_DIR)))
		return -1;
	for (i = 0; i < 3; i++) {
		if (base[i] < '0' || base[i] > '9')
			return -1;
		v = v * 10 + base[i] - '0';
	}
	suffix[0] = base[3] >= 'a' && base[3] <= 'z' ? base[3] : '\0';
	suffix[1] = '\0';
	if (base[3 + !!suffix[0]] != '_' || !strstr(base, ".sql"))
		return -1;
	*name = base;
	return v;
}

/* Applies one migration unless recorded; 0 applied, 1 skipped, -1 error. */
static int apply_one(struct db *db, const struct embedded_file *f, int version, const char *suffix,
		     const char *name)
{
	unsigned char d[SHA256_LEN];
	char sum[2 * SHA256_LEN + 1], ver[16];
	const char *p[4] = { ver, name, sum, suffix };
	PGresult *r;
	int applied;

	sha256(f->data, f->size, d);
	sha256_hex(d, sum);
	snprintf(ver, sizeof ver, "%d", version);
	if (db_exec(db, "BEGIN") != DB_OK)
		return -1;
	if (db_query(db, &stmt_applied, 2, (const char *const[]){ ver, suffix }, &r) != DB_OK)
		goto fail;
	applied = PQntuples(r) == 1;
	if (applied && strcmp(PQgetvalue(r, 0, 0), sum)) {
		fprintf(stderr, "workplan-admin: migration %s was changed after it was applied\n"
				"  recorded checksum %s\n  file checksum     %s\n"
				"  hint: never edit an applied migration; add a new one\n",
			name, PQgetvalue(r, 0, 0), sum);
		PQclear(r);
		db_exec(db, "ROLLBACK");
		return -1;
	}
	PQclear(r);
	if (applied) {
		db_exec(db, "ROLLBACK");
		return 1;
	}
	if (db_exec(db, f->data) != DB_OK) {
		fprintf(stderr, "workplan-admin: migration %s failed: %s\n", name, db_error(db));
		db_exec(db, "ROLLBACK");
		return -1;
	}
	if (db_query(db, &stmt_record, 4, p, &r) != DB_OK)
		goto fail;
	PQclear(r);
	if (db_exec(db, "COMMIT") != DB_OK)
		goto fail;
	printf("applied %s\n", name);
	return 0;
fail:
	fprintf(stderr, "workplan-admin: migration %s: %s\n", name, db_error(db));
	db_exec(db, "ROLLBACK");
	return -1;
}

int cmd_migrate(struct db *db, int argc, char **argv)
{
	int applied = 0, rc = 0, last = 0, last_order = 0;
	PGresult *r;

	(void)argv;
	if (argc) {
		fprintf(stderr, "workplan-admin: migrate takes no options\n");
		return 2;
	}
	if (db_query(db, &stmt_lock, 0, NULL, &r) != DB_OK)
		return admin_db_fail(db, "cannot take the migration lock");
	PQclear(r);
	if (db_exec(db, create_history) != DB_OK) {
		rc = admin_db_fail(db, "cannot create the migration history");
		goto out;
	}
	for (const struct embedded_file *f = embedded_files; f->path; f++) {
		const char *name;
		char suffix[2];
		int v = migration_version(f->path, &name, suffix), res, order;

		if (v < 0)
			continue;
		order = v * 27 + (suffix[0] ? suffix[0] - 'a' + 1 : 0);
		if (order <= last_order) {
			fprintf(stderr, "workplan-admin: migration %s is out of order\n", name);
			rc = 1;
			break;
		}
		last = v;
		last_order = order;
		res = apply_one(db, f, v, suffix, name);
		if (res < 0) {
			rc = 1;
			break;
		}
		applied += res == 0;
	}
	if (!rc)
		printf("schema is at version %d (%d applied now)\n", last, applied);
out:
	if (db_query(db, &stmt_unlock, 0, NULL, &r) == DB_OK)
		PQclear(r);
	return rc;
}

int cmd_seed(struct db *db, int argc, char **argv)
{
	PGresult *r;
	int has;

	(void)argv;
	if (argc) {
		fprintf(stderr, "workplan-admin: seed takes no options\n");
		return 2;
	}
	if (db_exec(db, "BEGIN; SELECT pg_advisory_xact_lock(" LOCK_KEY ")") != DB_OK)
		return admin_db_fail(db, "cannot start the seed transaction");
	if (db_query(db, &stmt_has_workplan, 0, NULL, &r) != DB_OK) {
		db_exec(db, "ROLLBACK");
		return admin_db_fail(db, "cannot read the database (run 'workplan-admin migrate' first?)");
	}
	has = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (has) {
		db_exec(db, "ROLLBACK");
		printf("a work plan exists already: nothing to seed\n");
		return 0;
	}
	for (const struct embedded_file *f = embedded_files; f->path; f++) {
		if (strncmp(f->path, SEED_DIR, strlen(SEED_DIR)))
			continue;
		if (db_exec(db, f->data) != DB_OK) {
			fprintf(stderr, "workplan-admin: seed %s failed: %s\n", f->path, db_error(db));
			db_exec(db, "ROLLBACK");
			return 1;
		}
	}
	if (db_exec(db, "COMMIT") != DB_OK)
		return admin_db_fail(db, "cannot commit the seed data");
	printf("seeded the Network Work Plan 2021+\n");
	return 0;
}
