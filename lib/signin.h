/* Sign-in tokens (SPEC 10): an invitation (valid 7 days) or a sign-in
 * link (15 minutes), each used once to start a browser session. 256
 * random bits (lib/token.h, prefix wpl_), stored only as their SHA-256;
 * the link is WORKPLAN_PUBLIC_URL + "/sign-in#" + the token (a fragment,
 * which browsers never send to a server or in a Referer). Times are the
 * service's clock (lib/clock.h). */
#ifndef WP_SIGNIN_H
#define WP_SIGNIN_H

#include "db.h"
#include "sha256.h"
#include "token.h"

#include <stdbool.h>

#define SIGNIN_LINK_S (15 * 60)
#define SIGNIN_INVITATION_S (7 * 24 * 3600)

struct signin {
	char token[TOKEN_STRLEN];
	unsigned char hash[SHA256_LEN];
	char url[600];        /* public_url/sign-in#token */
	char now[32];         /* RFC 3339 UTC: when it was made */
	char expires_at[32];  /* and when it stops working */
};

/* A new token valid ttl_s seconds from now, and its link under
 * public_url (no trailing slash); false when the kernel gives no
 * randomness or the link would not fit. */
bool signin_new(struct signin *s, const char *public_url, int ttl_s);
/* Stores it for member (ids in text; kind "invitation" or "link";
 * created_by a member id or NULL) in the caller's transaction. */
enum db_rc signin_store(struct db *db, const struct signin *s, const char *member,
			const char *kind, const char *created_by);

#endif
