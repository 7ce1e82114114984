/* Query-string parameters, validated declaratively like JSON bodies: each
 * route lists the parameters it takes; anything else, a repeated
 * parameter or a bad value is a 422 naming the parameter. */
#ifndef WP_QUERY_H
#define WP_QUERY_H

#include "http.h"

enum q_type {
	Q_INT,    /* out: long long * */
	Q_PERIOD, /* "YYYY-Qn"; out: int * */
	Q_ENUM,   /* one of .choices; out: int * (index) */
	Q_TEXT,   /* one line of text, .max characters; out: const char ** */
	Q_TIME,   /* ISO 8601 timestamp with offset, or a date; out: const char ** */
	Q_DATE,   /* YYYY-MM-DD; out: const char ** */
};

struct q_field {
	const char *name;
	enum q_type type;
	long long min, max;
	const char *const *choices;
	void *out;
	bool *present;
};

#define PAGE_DEFAULT 50
#define PAGE_MAX 500
#define CURSOR_MAX 96

/* limit and after, which every list takes. A cursor is the last item's
 * sort key and a MAC over it and the list's path, made with the
 * service's 'cursor' key: opaque, and good only for the list it came from. */
struct page {
	long long limit;
	const char *after;     /* the checked, decoded cursor, or NULL for the first page */
	const char *after_arg; /* the cursor as given, until query_parse checks it */
	char after_buf[CURSOR_MAX];
};

/* Parses the query string against spec (ended by {0}); when page is not
 * NULL, limit and after are taken too. Appends to errors; false if any. */
bool query_parse(struct request *rq, const struct q_field *spec, struct page *page,
		 json_t *errors);

/* The same, one argument at a time (query_parse feeds libmicrohttpd's;
 * the fuzz target its own): begin, an arg per pair (value NULL for "?a"),
 * then ok. */
struct query_state {
	const struct q_field *spec;
	struct page *page;
	json_t *errors;
	bool ok;
	char seen[16][32];
	int nseen;
};
void query_begin(struct query_state *st, const struct q_field *spec, struct page *page,
		 json_t *errors);
void query_arg(struct query_state *st, const char *key, const char *value);
bool query_ok(const struct query_state *st);

/* Runs a list statement and replies with {"items":[...],"next":cursor|null}:
 * each row's first column is an item's JSON and its last its cursor key;
 * the statement fetches up to page->limit + 1 rows (see page_fetch), so one
 * more row than the limit means there is a next page. */
int reply_list(struct request *rq, struct db_stmt *s, int nparams, const char *const *params,
	       const struct page *page);
/* A list with no parameters of its own: $1 the cursor, $2 the limit + 1,
 * and $3 extra when it is not NULL. */
int reply_plain_list(struct request *rq, struct db_stmt *s, const char *extra);
/* The limit + 1 to bind into a list query. */
void page_fetch(const struct page *page, char out[24]);

#endif
