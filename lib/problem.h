/* The one table of problem types (RFC 9457). Each row gives the enum name,
 * the slug in "/problems/<slug>", the HTTP status and the title. Handlers
 * name a problem; they never write an error body themselves. */
#ifndef WP_PROBLEM_H
#define WP_PROBLEM_H

#include <jansson.h>
#include <stddef.h>

#define PROBLEMS(X)                                                              \
	X(PROBLEM_MALFORMED_JSON, "malformed-json", 400, "Malformed JSON")       \
	X(PROBLEM_BAD_REQUEST, "bad-request", 400, "Bad request")                \
	X(PROBLEM_UNAUTHORIZED, "unauthorized", 401, "Unauthorized")             \
	X(PROBLEM_FORBIDDEN, "forbidden", 403, "Forbidden")                      \
	X(PROBLEM_CSRF, "csrf", 403, "Cross-site request refused")               \
	X(PROBLEM_NOT_FOUND, "not-found", 404, "Not found")                      \
	X(PROBLEM_METHOD_NOT_ALLOWED, "method-not-allowed", 405, "Method not allowed") \
	X(PROBLEM_CONFLICT, "conflict", 409, "Conflict")                         \
	X(PROBLEM_PRECONDITION_FAILED, "precondition-failed", 412, "Precondition failed") \
	X(PROBLEM_PAYLOAD_TOO_LARGE, "payload-too-large", 413, "Payload too large") \
	X(PROBLEM_URI_TOO_LONG, "uri-too-long", 414, "URI too long")             \
	X(PROBLEM_UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", 415, "Unsupported media type") \
	X(PROBLEM_VALIDATION, "validation", 422, "Validation failed")            \
	X(PROBLEM_PRECONDITION_REQUIRED, "precondition-required", 428, "Precondition required") \
	X(PROBLEM_RATE_LIMITED, "rate-limited", 429, "Too many requests")        \
	X(PROBLEM_HEADERS_TOO_LARGE, "header-fields-too-large", 431, "Request header fields too large") \
	X(PROBLEM_INTERNAL, "internal", 500, "Internal error")                   \
	X(PROBLEM_UNAVAILABLE, "unavailable", 503, "Service unavailable")        \
	/* calls for inputs (SPEC 13) */                                         \
	X(PROBLEM_CONSULTATION_CLOSED, "consultation-closed", 409, "The call for inputs is not open") \
	X(PROBLEM_LENGTH_REQUIRED, "length-required", 411, "Length required")

#define PROBLEM_ENUM(name, slug, status, title) name,
enum problem { PROBLEMS(PROBLEM_ENUM) PROBLEM_COUNT };
#undef PROBLEM_ENUM

struct problem_info {
	const char *slug;
	int status;
	const char *title;
};

const struct problem_info *problem_info(enum problem p);
/* Finds a problem by slug; returns PROBLEM_COUNT when unknown. */
enum problem problem_by_slug(const char *slug);
/* The RFC 9457 document as a malloc'd string the caller frees.
 * detail may be NULL; errors (an array of {field, message}) is stolen. */
char *problem_body(enum problem p, const char *detail, json_t *errors, size_t *len);

#endif
