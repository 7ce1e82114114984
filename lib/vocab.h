/* The one vocabulary: every enumerated value the service shares with its
 * clients and its database, each listed once, here. A table
 * NAME_TABLE(X, SEP) calls X(ID, "name") for each value, with SEP()
 * between them; from it come the enum (STATUS_ON_TRACK), the names
 * (status_names[STATUS_ON_TRACK] is "on_track", the array ended by NULL
 * so that it serves as .choices in lib/jspec.h and api/query.h) and the
 * count. tests/check_vocab.c checks each table against the CHECK
 * constraint of its column in a migrated database, so neither side can
 * drift from the other. */
#ifndef WP_VOCAB_H
#define WP_VOCAB_H

#include <stdbool.h>
#include <stddef.h>

/* A status update's status, and so a key action's (SPEC 3, contract). */
#define STATUS_TABLE(X, SEP)                     \
	X(STATUS_NOT_STARTED, "not_started") SEP() \
	X(STATUS_ON_TRACK, "on_track") SEP()       \
	X(STATUS_AT_RISK, "at_risk") SEP()         \
	X(STATUS_DELAYED, "delayed") SEP()         \
	X(STATUS_COMPLETED, "completed") SEP()     \
	X(STATUS_CANCELLED, "cancelled")

/* Who may read a status update (status_update.visibility). */
#define VISIBILITY_TABLE(X, SEP)                 \
	X(VISIBILITY_INTERNAL, "internal") SEP()   \
	X(VISIBILITY_PUBLIC, "public")

/* A status update's review (status_update.review_state, contract). */
#define REVIEW_STATE_TABLE(X, SEP)               \
	X(REVIEW_SUBMITTED, "submitted") SEP()     \
	X(REVIEW_APPROVED, "approved") SEP()       \
	X(REVIEW_RETURNED, "returned")

/* What a co-chair decides in POST /v1/updates/{id}/review (contract);
 * decision_review_state() is the review state each one leads to. */
#define DECISION_TABLE(X, SEP)                   \
	X(DECISION_APPROVE, "approve") SEP()       \
	X(DECISION_RETURN, "return")

/* report.kind (contract). */
#define REPORT_KIND_TABLE(X, SEP)                \
	X(REPORT_KIND_QUARTERLY, "quarterly") SEP() \
	X(REPORT_KIND_SIDE_EVENT, "side-event") SEP() \
	X(REPORT_KIND_CONSULTATION, "consultation")

/* The formats a report can be built in (report.formats), in the order a
 * report lists them. */
#define REPORT_FORMAT_TABLE(X, SEP)              \
	X(REPORT_FORMAT_HTML, "html") SEP()        \
	X(REPORT_FORMAT_MD, "md") SEP()            \
	X(REPORT_FORMAT_CSV, "csv") SEP()          \
	X(REPORT_FORMAT_JSON, "json") SEP()        \
	X(REPORT_FORMAT_DOCX, "docx")

/* Who a report is for (report.audience, contract). */
#define AUDIENCE_TABLE(X, SEP)                   \
	X(AUDIENCE_INTERNAL, "internal") SEP()     \
	X(AUDIENCE_PUBLIC, "public")

/* pillar.status. */
#define PILLAR_STATUS_TABLE(X, SEP)              \
	X(PILLAR_ACTIVE, "active") SEP()           \
	X(PILLAR_INACTIVE, "inactive")

/* A member's role (member.role, contract), from least to most allowed. */
#define ROLE_TABLE(X, SEP)                       \
	X(MEMBER_VIEWER, "viewer") SEP()           \
	X(MEMBER_LEAD, "lead") SEP()               \
	X(MEMBER_COCHAIR, "cochair")

/* The languages a member reads the service in (member.language). */
#define LANGUAGE_TABLE(X, SEP)                   \
	X(LANGUAGE_EN, "en") SEP()                 \
	X(LANGUAGE_FR, "fr")

/* How often a co-chair gets the digest of updates waiting for review
 * (member.review_digest). */
#define REVIEW_DIGEST_TABLE(X, SEP)              \
	X(REVIEW_DIGEST_DAILY, "daily") SEP()      \
	X(REVIEW_DIGEST_WEEKLY, "weekly") SEP()    \
	X(REVIEW_DIGEST_OFF, "off")

/* The events a webhook can subscribe to (SPEC 11, contract); the same
 * list as webhook_event_types() of migration 017. */
#define WEBHOOK_EVENT_TABLE(X, SEP)                          \
	X(WEBHOOK_UPDATE_CREATED, "update.created") SEP()      \
	X(WEBHOOK_UPDATE_REVIEWED, "update.reviewed") SEP()    \
	X(WEBHOOK_REPORT_DONE, "report.done") SEP()            \
	X(WEBHOOK_REPORT_PUBLISHED, "report.published") SEP()  \
	X(WEBHOOK_REPORTING_OVERDUE, "reporting.overdue")

/* Triage of a call's inputs (SPEC 13, contract): an input's state
 * (consultation_input.state) and who sent it (contributor_type). */
#define INPUT_STATE_TABLE(X, SEP)                        \
	X(INPUT_RECEIVED, "received") SEP()                \
	X(INPUT_UNDER_REVIEW, "under_review") SEP()        \
	X(INPUT_ACCEPTED, "accepted") SEP()                \
	X(INPUT_PARTLY_ACCEPTED, "partly_accepted") SEP()  \
	X(INPUT_DECLINED, "declined") SEP()                \
	X(INPUT_DUPLICATE, "duplicate")
#define CONTRIBUTOR_TYPE_TABLE(X, SEP)                   \
	X(CONTRIBUTOR_MEMBER_STATE, "member_state") SEP()  \
	X(CONTRIBUTOR_UN_ENTITY, "un_entity") SEP()        \
	X(CONTRIBUTOR_NGO, "ngo") SEP()                    \
	X(CONTRIBUTOR_ACADEMIA, "academia") SEP()          \
	X(CONTRIBUTOR_INDIVIDUAL, "individual") SEP()      \
	X(CONTRIBUTOR_OTHER, "other")

/* What the tables generate. */
#define VOCAB_ID(id, name) id
#define VOCAB_NAME(id, name) name
#define VOCAB_ONE(id, name) +1
#define VOCAB_COMMA() ,
#define VOCAB_NONE()

#define VOCAB(table, type, prefix)                                                 \
	enum type { table(VOCAB_ID, VOCAB_COMMA) };                                \
	enum { prefix##_COUNT = 0 table(VOCAB_ONE, VOCAB_NONE) };                  \
	extern const char *const type##_names[prefix##_COUNT + 1];

VOCAB(STATUS_TABLE, status, STATUS)
VOCAB(VISIBILITY_TABLE, visibility, VISIBILITY)
VOCAB(REVIEW_STATE_TABLE, review_state, REVIEW_STATE)
VOCAB(DECISION_TABLE, decision, DECISION)
VOCAB(REPORT_KIND_TABLE, report_kind, REPORT_KIND)
VOCAB(REPORT_FORMAT_TABLE, report_format, REPORT_FORMAT)
VOCAB(AUDIENCE_TABLE, audience, AUDIENCE)
VOCAB(PILLAR_STATUS_TABLE, pillar_status, PILLAR_STATUS)
VOCAB(ROLE_TABLE, member_role, MEMBER_ROLE)
VOCAB(LANGUAGE_TABLE, language, LANGUAGE)
VOCAB(REVIEW_DIGEST_TABLE, review_digest, REVIEW_DIGEST)
VOCAB(WEBHOOK_EVENT_TABLE, webhook_event, WEBHOOK_EVENT)
VOCAB(INPUT_STATE_TABLE, input_state, INPUT_STATE)
VOCAB(CONTRIBUTOR_TYPE_TABLE, contributor_type, CONTRIBUTOR_TYPE)

/* The index of name in a NULL-terminated names array, or -1. */
int vocab_find(const char *const *names, const char *name);

/* A status as a reader says it: "not started"; capital: "Not started".
 * Unknown statuses come back as they are. */
#define STATUS_WORDS_MAX 16
const char *status_words(const char *status, char out[STATUS_WORDS_MAX], bool capital);

static inline enum review_state decision_review_state(enum decision d)
{
	return d == DECISION_APPROVE ? REVIEW_APPROVED : REVIEW_RETURNED;
}

/* SQL: the JSON object of counts by status, {"not_started":n, ...} in the
 * table's order, from columns named after the statuses (progress_agg's,
 * or sums so named) that are in scope unqualified; NULL counts as 0. */
#define VOCAB_SQL_COUNT(id, name) "'" name "', coalesce(" name ", 0)"
#define VOCAB_SQL_COMMA() ", "
#define STATUS_COUNTS_SQL "json_build_object(" STATUS_TABLE(VOCAB_SQL_COUNT, VOCAB_SQL_COMMA) ")"

#endif
