/* Status updates as POST /v1/actions/{id}/updates checks and stores them
 * (api/h_updates.c), shared with the spreadsheet import (api/h_sheet.c),
 * which posts many in one transaction by the same rules. */
#ifndef WP_UPDATES_H
#define WP_UPDATES_H

#include "http.h"
#include "sha256.h"

/* One update's content, checked. Strings and evidence are borrowed from
 * the body they were checked in. */
struct update_fields {
	int period, status, visibility;
	long long percent;
	const char *narrative, *summary;
	json_t *evidence;
};

/* Checks a body as POST .../updates takes it into f; each problem goes to
 * errors under the body's field name. false when any was found. */
bool update_fields_check(const json_t *body, struct update_fields *f, json_t *errors);

struct update_result {
	enum problem problem;  /* when DB_ABORT */
	const char *detail;
	char location[64];     /* /v1/updates/{id} */
	char *response;        /* the update's JSON; the caller frees */
};

/* Inside a transaction: may who post on action for period? (It exists,
 * is led by who's entity unless who is a co-chair, is not archived, and
 * its cycle holds the period.) DB_ABORT with o->problem when not;
 * PROBLEM_VALIDATION adds its problems to errors under "period". */
enum db_rc update_target(struct db *db, const struct caller *who, const char *action,
			 int period, json_t *errors, struct update_result *o);
/* Inside a transaction: checks that who may post f on action (exists,
 * led by who's entity unless a co-chair, not archived, the period in the
 * action's cycle) and inserts it. DB_ABORT with o->problem when refused;
 * PROBLEM_VALIDATION adds its problems to errors under "period". */
enum db_rc update_insert(struct db *db, const struct caller *who, const char *action,
			 const struct update_fields *f, json_t *errors, struct update_result *o);

/* Idempotency-Key: 1 to 200 printable characters. */
bool idem_key_valid(const char *key);
/* A stored answer to a member's key (kept 48 hours): found, whether it was
 * given to the same request (hash), its status, location, body (the
 * caller frees). */
struct idem_answer {
	bool found, same_request;
	int status;
	char location[64];
	char *response;
};
enum db_rc idem_lookup(struct db *db, long long member_id, const char *key,
		       const unsigned char hash[SHA256_LEN], struct idem_answer *a);
/* Stores the answer, in the transaction that made it; DB_RETRY when a
 * concurrent request stored the same key meanwhile. */
enum db_rc idem_store(struct db *db, long long member_id, const char *key,
		      const unsigned char hash[SHA256_LEN], int status, const char *location,
		      const char *response);

#endif
