/* Mail messages (SPEC 11): RFC 5322 with one MIME text/plain part in
 * UTF-8 (base64), RFC 2047 encoded-words for non-ASCII display names and
 * subjects, and the texts from the catalogues in mail/<language>.json.
 *
 * Nothing from outside reaches a header as it came: display names and
 * subjects lose their control characters (CR and LF among them) and are
 * written as quoted strings or encoded-words; an address is written only
 * when it is a plain ASCII addr-spec (mail_address_ok), otherwise the
 * message is refused. The body is base64, so no text can end the headers. */
#ifndef WP_MAIL_H
#define WP_MAIL_H

#include "buf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define MAIL_MAX (256 * 1024) /* a composed message's largest size */

struct mail {
	const char *from;             /* "addr" or "Display Name <addr>" (WORKPLAN_MAIL_FROM) */
	const char *to;               /* the addressee's addr-spec */
	const char *to_name;          /* display name, or NULL */
	const char *subject;          /* UTF-8 */
	const char *text;             /* UTF-8 body */
	const char *message_id;       /* "uid@host", without the angle brackets */
	const char *language;         /* "en", "fr": Content-Language */
	time_t date;
	const char *list_unsubscribe; /* the one-click URL (RFC 8058), or NULL */
};

/* Whether addr is an address this service writes into a header: a dot-atom
 * local part of at most 64 characters, '@', a domain of letters, digits,
 * hyphens and dots; 254 characters at most. When not, why is in err. */
bool mail_address_ok(const char *addr, char *err, size_t n);

/* Splits WORKPLAN_MAIL_FROM ("addr" or "Name <addr>") into its display
 * name (may be empty) and address; false when it has no usable address. */
bool mail_from_split(const char *from, char *name, size_t name_n, char *addr, size_t addr_n);

/* The whole message, CRLF line ends, into out (reset first). false with a
 * message in err when an address cannot be written or it is too large. */
bool mail_compose(const struct mail *m, struct buf *out, char *err, size_t n);

/* Text from the catalogue of language (en or fr; anything else reads en):
 * the subject and the body of kind ("sign-in", "reminder-3-days", ...),
 * with {name} placeholders filled from vars (strings and numbers; a
 * missing one reads as empty). The body is greeting, text, footer and
 * signature. NULL with a message in err when the catalogue lacks kind.
 * Caller frees both. */
bool mail_text(const char *language, const char *kind, const json_t *vars, bool footer,
	       char **subject, char **body, char *err, size_t n);

/* Unsubscribe links (RFC 8058) name a member and a list ("reminders" or
 * "review-digest") and carry sig: base64url of HMAC-SHA256 under the
 * service's 'unsubscribe' key over "<member>:<list>". */
#define MAIL_SIG_STRLEN 44
void mail_unsubscribe_sig(const unsigned char key[32], long long member, const char *list,
			  char out[MAIL_SIG_STRLEN]);

/* The catalogue of language, parsed (caller json_decref's); NULL if none. */
json_t *mail_catalogue(const char *language);

/* Fills {placeholders} in tmpl from vars into out. */
bool mail_fill(const char *tmpl, const json_t *vars, struct buf *out);

#endif
