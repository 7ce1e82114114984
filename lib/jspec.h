/* Declarative validation of JSON request bodies (STYLE.md rule 3).
 * A handler describes its body as a table of fields ending in {0}; one call
 * checks types, bounds, enums and unknown keys, fills the outputs, and
 * appends one {field, message} per problem to an errors array. */
#ifndef WP_JSPEC_H
#define WP_JSPEC_H

#include <jansson.h>
#include <stdbool.h>

enum js_type {
	JS_STRING,  /* one line of text; out: const char ** (borrowed from the document) */
	JS_TEXT,    /* text that may hold newlines and tabs, .max_words; out: const char ** */
	JS_INT,     /* out: long long * */
	JS_BOOL,    /* out: bool * */
	JS_ENUM,    /* one of .choices; out: int * (index into choices) */
	JS_PERIOD,  /* "YYYY-Qn"; out: int * (see period.h) */
	JS_DATE,    /* "YYYY-MM-DD", a real calendar date; out: const char ** */
	JS_URL,     /* absolute http or https URL; out: const char ** */
	JS_STRINGS, /* array of one-line strings; out: json_t ** (borrowed) */
	JS_OBJECTS, /* array of objects, each checked against .sub; out: json_t ** */
	JS_EMAIL,   /* a mail address (email_valid); out: const char ** */
	JS_IDS,     /* array of distinct positive integers (ids, pillar numbers); out: json_t ** */
};

enum {
	JS_REQUIRED = 1 << 0,
	JS_NULLABLE = 1 << 1,
};

struct js_field {
	const char *name;
	enum js_type type;
	unsigned flags;
	/* JS_INT: value range; strings: length in characters; arrays: items.
	 * Both 0 means no bound (strings then default to JS_MAX_CHARS). */
	long long min, max;
	int max_words;              /* JS_TEXT, 0 for no limit */
	const char *const *choices; /* JS_ENUM, NULL-terminated */
	const struct js_field *sub; /* JS_OBJECTS */
	void *out;                  /* may be NULL */
	bool *present;              /* set true when the key is in the body */
	bool *is_null;              /* set true when its value is null */
};

#define JS_MAX_CHARS 10000

/* Checks obj against spec. Returns true when valid; otherwise appends to
 * errors (a JSON array) and returns false. Outputs of valid fields are
 * written either way. */
bool js_validate(const json_t *obj, const struct js_field *spec, json_t *errors);

/* Appends {"field": field, "message": message} to errors. */
void js_error(json_t *errors, const char *field, const char *message);
/* The same with the rule broken as a code and its figures as params
 * (stolen; may be NULL): {"field", "message", "code", "params"}. The web
 * app words a code from its catalogue (problem.<code>, {placeholders}
 * from params), so the message reads in the member's language; the
 * English message stays for every other client. */
void js_error_code(json_t *errors, const char *field, const char *code, json_t *params,
		   const char *message);

/* Words as a reader counts them: runs separated by white space that hold
 * a letter or digit; each Chinese or Japanese character is a word. */
int text_words(const char *s);
/* Number of code points of valid UTF-8 s. */
long long text_chars(const char *s);
/* NULL when s is well-formed UTF-8 without control characters (newline,
 * carriage return and tab allowed when multiline); otherwise a message
 * saying what is wrong. Never reads past the terminating NUL. */
const char *text_check(const char *s, bool multiline);
bool date_valid(const char *s);
bool url_valid(const char *s);
/* A mail address as the service takes one: at most 254 characters, one
 * '@', a local part of RFC 5322's dot-atom (1 to 64 characters), a domain
 * of at least two labels of letters, digits and inner hyphens. No
 * quoted local parts, comments, spaces or control characters, nor
 * non-ASCII: what reaches a mail header needs no quoting. */
bool email_valid(const char *s);

#endif
