/* Members, sign-in and sessions (SPEC 10), end to end over HTTP against
 * the real API: co-chairs invite and edit members; an invitation or a
 * one-time link by mail is exchanged for a session cookie; the cookie
 * works until sign-out, 12 idle hours or 14 days; writes made with it
 * need our Origin; a deactivated member's tokens and sessions stop at
 * once. The API runs on WORKPLAN_NOW, and other APIs started later on
 * the same database stand for the clock having moved on. Most requests
 * go through Stoplight Prism, which judges each answer by
 * api/openapi.json; the sign-in link requests go straight to the API from
 * addresses of their own, as the per-address limit counts them. */
#include "harness.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define T0 "2021-10-20T09:00:00Z"
#define PUBLIC_URL "https://workplan.example.org"
#define ORIGIN "Origin: https://workplan.example.org"

static struct server api, srv; /* srv: Prism in front of api */
static char db[64];
static char *cochair, *lead, *viewer;
static const char *const api_env[] = { "WORKPLAN_NOW=" T0, "WORKPLAN_PUBLIC_URL=" PUBLIC_URL,
				       NULL };

static void setup(void)
{
	t_db_create(db, sizeof db, true);
	cochair = t_member_token(db, "chair@ohchr.org", "cochair", "OHCHR");
	lead = t_member_token(db, "focal@who.int", "lead", "WHO");
	viewer = t_member_token(db, "staff@unicef.org", "viewer", "UNICEF");
	t_server_start_env(&api, db, api_env);
	t_prism_start(&srv, &api);
}

static void teardown(void)
{
	t_prism_stop(&srv);
	t_server_stop(&api);
	free(cochair);
	free(lead);
	free(viewer);
}

/* One request to s with a bearer token, a session cookie, an Origin line
 * and a JSON body, each when not NULL. */
static struct resp *call_at(const struct server *s, const char *from, const char *method,
			    const char *path, const char *token, const char *cookie,
			    const char *origin, const char *body)
{
	char auth[128], c[128];
	const char *h[5];
	int n = 0;

	if (token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		h[n++] = auth;
	}
	if (cookie) {
		snprintf(c, sizeof c, "Cookie: wp_session=%s", cookie);
		h[n++] = c;
	}
	if (origin)
		h[n++] = origin;
	if (body)
		h[n++] = "Content-Type: application/json";
	h[n] = NULL;
	return t_http_headers(s, from, method, path, body, body ? strlen(body) : 0, h);
}

/* Through Prism; bad marks a request that breaks the document on purpose. */
static struct resp *call_(bool bad, const char *method, const char *path, const char *token,
			  const char *cookie, const char *origin, const char *body)
{
	struct resp *r = call_at(&srv, NULL, method, path, token, cookie, origin, body);

	t_assert_no_violations(r, bad);
	return r;
}

static struct resp *call(const char *method, const char *path, const char *token,
			 const char *cookie, const char *origin, const char *body)
{
	return call_(false, method, path, token, cookie, origin, body);
}

static long rows(const char *fmt, const char *arg)
{
	char sql[1024];

	snprintf(sql, sizeof sql, fmt, arg);
	return t_sql_long(db, sql);
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The token of the newest mail of kind to email, from the outbox. */
static char *mailed_token(const char *email, const char *kind)
{
	char sql[512], *url, *token;

	snprintf(sql, sizeof sql,
		 "SELECT o.data->>'url' FROM outbox o JOIN member m ON m.id = o.member_id"
		 " WHERE lower(m.email) = lower('%s') AND o.kind = '%s' ORDER BY o.id DESC LIMIT 1",
		 email, kind);
	url = t_sql(db, sql);
	ck_assert_msg(url != NULL, "no %s mail to %s in the outbox", kind, email);
	ck_assert_msg(!strncmp(url, PUBLIC_URL "/sign-in#wpl_", strlen(PUBLIC_URL) + 13), "url %s",
		      url);
	token = strdup(strchr(url, '#') + 1);
	free(url);
	return token;
}

/* Asks for a sign-in link straight from the API (from a given address). */
static struct resp *ask_link(const char *from, const char *email)
{
	char body[12000];

	snprintf(body, sizeof body, "{\"email\":\"%s\"}", email);
	return call_at(&api, from, "POST", "/v1/auth/link", NULL, NULL, NULL, body);
}

/* Signs in on s with a sign-in token: the session cookie's value, or
 * NULL when refused (then *status says how). */
static char *sign_in_at(const struct server *s, const char *token, long *status)
{
	char body[256], *set, *value = NULL;
	struct resp *r;

	snprintf(body, sizeof body, "{\"token\":\"%s\"}", token);
	r = s == &srv ? call_(true, "POST", "/v1/auth/session", NULL, NULL, NULL, body)
		      : call_at(s, NULL, "POST", "/v1/auth/session", NULL, NULL, NULL, body);
	if (status)
		*status = r->status;
	if (r->status == 201) {
		set = t_header(r, "Set-Cookie");
		ck_assert_ptr_nonnull(set);
		ck_assert_msg(!strncmp(set, "wp_session=wps_", 15), "Set-Cookie: %s", set);
		value = strndup(set + 11, strcspn(set + 11, ";"));
		free(set);
	}
	t_resp_free(r);
	return value;
}

static char *sign_in(const char *token)
{
	long status;
	char *cookie = sign_in_at(&srv, token, &status);

	ck_assert_msg(cookie != NULL, "sign-in refused: %ld", status);
	return cookie;
}

/* A member invited by the co-chair; its id. */
static long invite(const char *name, const char *email, const char *entity, const char *role)
{
	char body[1024];
	struct resp *r;
	long id;

	snprintf(body, sizeof body,
		 "{\"name\":\"%s\",\"email\":\"%s\",\"entity\":\"%s\",\"role\":\"%s\"}", name, email,
		 entity, role);
	r = call("POST", "/v1/members", cochair, NULL, NULL, body);
	ck_assert_msg(r->status == 201, "invite: %ld %s", r->status, r->body);
	id = (long)json_integer_value(json_object_get(json_object_get(r->json, "member"), "id"));
	t_resp_free(r);
	return id;
}

/* The member's current ETag. */
static char *etag_of_member(long id)
{
	char path[64], *etag;
	struct resp *r;

	snprintf(path, sizeof path, "/v1/members/%ld", id);
	r = call("GET", path, cochair, NULL, NULL, NULL);
	ck_assert_int_eq(r->status, 200);
	etag = t_header(r, "ETag");
	t_resp_free(r);
	return etag;
}

static long patch_member(long id, const char *body)
{
	char path[64], line[128], *etag = etag_of_member(id);
	struct resp *r;
	long status;

	snprintf(path, sizeof path, "/v1/members/%ld", id);
	snprintf(line, sizeof line, "If-Match: %s", etag);
	r = call_(true, "PATCH", path, cochair, NULL, line, body);
	status = r->status;
	t_resp_free(r);
	free(etag);
	return status;
}

static long me_status(const struct server *s, const char *token, const char *cookie)
{
	struct resp *r = call_at(s, NULL, "GET", "/v1/me", token, cookie, NULL, NULL);
	long status = r->status;

	t_resp_free(r);
	return status;
}

/* ---- invitations and sessions ---- */

START_TEST(an_invitation_signs_in_and_the_session_works_until_sign_out)
{
	struct resp *r;
	json_t *m, *inv;
	char *location, *set, *token, *cookie, sql[256];
	long id;

	r = call("POST", "/v1/members", cochair, NULL, NULL,
		 "{\"name\":\"Amélie Ngũgĩ\",\"email\":\"Amelie.Ngugi@who.int\",\"entity\":\"WHO\","
		 "\"role\":\"lead\",\"language\":\"fr\"}");
	ck_assert_msg(r->status == 201, "%ld %s", r->status, r->body);
	m = json_object_get(r->json, "member");
	inv = json_object_get(r->json, "invitation");
	id = (long)json_integer_value(json_object_get(m, "id"));
	ck_assert_str_eq(str(m, "name"), "Amélie Ngũgĩ");
	ck_assert_str_eq(str(m, "email"), "Amelie.Ngugi@who.int");
	ck_assert_str_eq(str(m, "role"), "lead");
	ck_assert_str_eq(str(m, "language"), "fr");
	ck_assert(json_is_true(json_object_get(m, "active")));
	location = t_header(r, "Location");
	snprintf(sql, sizeof sql, "/v1/members/%ld", id);
	ck_assert_str_eq(location, sql);
	free(location);
	/* the answer's ETag is the member's: what a GET of it gives */
	{
		char *etag = t_header(r, "ETag"), *again = etag_of_member(id);

		ck_assert_ptr_nonnull(etag);
		ck_assert_str_eq(etag, again);
		free(etag);
		free(again);
	}
	/* the link: public URL, a fragment, 7 days on the service's clock */
	ck_assert(!strncmp(str(inv, "url"), PUBLIC_URL "/sign-in#wpl_", strlen(PUBLIC_URL) + 13));
	ck_assert(!strncmp(str(inv, "expires_at"), "2021-10-27T09:", 14));
	/* the same link in the outbox, with who invited, in one transaction */
	token = mailed_token("amelie.ngugi@who.int", "invitation");
	ck_assert_str_eq(token, strchr(str(inv, "url"), '#') + 1);
	snprintf(sql, sizeof sql,
		 "SELECT (data->>'invited_by') || ' ' || (data->>'expires_at') FROM outbox"
		 " WHERE member_id = %ld AND kind = 'invitation'", id);
	set = t_sql(db, sql);
	ck_assert(!strncmp(set, "Test Member 2021-10-27T09:", 26));
	free(set);
	/* only the token's hash is stored */
	ck_assert_int_eq(rows("SELECT count(*) FROM signin_token WHERE kind = 'invitation'"
			      " AND hash = sha256(convert_to('%s', 'UTF8'))", token), 1);
	ck_assert_int_eq(rows("SELECT count(*) FROM outbox WHERE data::text LIKE '%%%s%%'"
			      " AND kind <> 'invitation'", token), 0);
	t_resp_free(r);

	/* sign in: a session cookie the page's scripts cannot read */
	{
		char body[256];

		snprintf(body, sizeof body, "{\"token\":\"%s\"}", token);
		r = call_(true, "POST", "/v1/auth/session", NULL, NULL, NULL, body);
		ck_assert_msg(r->status == 201, "%ld %s", r->status, r->body);
		set = t_header(r, "Set-Cookie");
		ck_assert_ptr_nonnull(set);
		ck_assert_msg(strstr(set, "; HttpOnly; SameSite=Strict; Path=/; Secure") &&
				      !strstr(set, "Max-Age"),
			      "Set-Cookie: %s", set);
		ck_assert_str_eq(str(json_object_get(r->json, "member"), "email"),
				 "Amelie.Ngugi@who.int");
		ck_assert(!strncmp(str(r->json, "expires_at"), "2021-11-03T09:", 14));
		cookie = strndup(set + 11, strcspn(set + 11, ";"));
		free(set);
		t_resp_free(r);
	}
	ck_assert_int_eq(rows("SELECT count(*) FROM member_session"
			      " WHERE hash = sha256(convert_to('%s', 'UTF8'))", cookie), 1);

	/* the cookie is who the caller is */
	r = call("GET", "/v1/me", NULL, cookie, NULL, NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(r->json, "id")), id);
	ck_assert_str_eq(str(r->json, "entity"), "WHO");
	t_resp_free(r);
	/* the invitation works once */
	ck_assert_ptr_null(sign_in_at(&srv, token, &id));
	ck_assert_int_eq(id, 401);

	/* sign out: the cookie is cleared and the session refused at once */
	r = call("DELETE", "/v1/auth/session", NULL, cookie, ORIGIN, NULL);
	ck_assert_int_eq(r->status, 204);
	set = t_header(r, "Set-Cookie");
	ck_assert_msg(set && !strncmp(set, "wp_session=;", 12) && strstr(set, "Max-Age=0"), "%s",
		      set ? set : "(none)");
	free(set);
	t_resp_free(r);
	r = call("GET", "/v1/me", NULL, cookie, NULL, NULL);
	t_assert_problem(r, 401, "unauthorized");
	t_resp_free(r);
	ck_assert_int_eq(me_status(&api, NULL, cookie), 401);
	free(cookie);
	free(token);
}
END_TEST

START_TEST(a_sign_in_link_works_once_and_for_15_minutes)
{
	static const char *const later[] = { "WORKPLAN_NOW=2021-10-20T09:16:00Z",
					     "WORKPLAN_PUBLIC_URL=" PUBLIC_URL, NULL };
	static const char *const sooner[] = { "WORKPLAN_NOW=2021-10-20T09:14:00Z",
					      "WORKPLAN_PUBLIC_URL=" PUBLIC_URL, NULL };
	struct server at16, at14;
	struct resp *r;
	char *token, *cookie;
	long status;

	invite("Link Person", "link.person@unodc.org", "UNODC", "viewer");
	r = ask_link("127.0.0.21", "LINK.person@unodc.org");
	ck_assert_int_eq(r->status, 202);
	t_resp_free(r);
	token = mailed_token("link.person@unodc.org", "sign-in");
	ck_assert_int_eq(rows("SELECT count(*) FROM signin_token WHERE kind = 'link'"
			      " AND expires_at = timestamptz '" T0 "' + interval '15 minutes'"
			      " + (created_at - timestamptz '" T0 "') AND used_at IS NULL"
			      " AND hash = sha256(convert_to('%s', 'UTF8'))", token), 1);
	cookie = sign_in(token);
	ck_assert_int_eq(me_status(&api, NULL, cookie), 200);
	free(cookie);
	/* used: refused, also to another API */
	ck_assert_ptr_null(sign_in_at(&srv, token, &status));
	ck_assert_int_eq(status, 401);
	free(token);

	/* a new link, tried by an API whose clock says 16 minutes later, then
	 * by one at 14 minutes */
	r = ask_link("127.0.0.21", "link.person@unodc.org");
	ck_assert_int_eq(r->status, 202);
	t_resp_free(r);
	token = mailed_token("link.person@unodc.org", "sign-in");
	t_server_start_env(&at16, db, later);
	ck_assert_ptr_null(sign_in_at(&at16, token, &status));
	ck_assert_int_eq(status, 401);
	t_server_stop(&at16);
	t_server_start_env(&at14, db, sooner);
	cookie = sign_in_at(&at14, token, &status);
	ck_assert_msg(cookie != NULL, "refused at 14 minutes: %ld", status);
	t_server_stop(&at14);
	free(cookie);
	free(token);
	/* a token of another shape, or none of ours */
	ck_assert_ptr_null(sign_in_at(&srv, "wpl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &status));
	ck_assert_int_eq(status, 401);
	ck_assert_ptr_null(sign_in_at(&srv, cochair, &status));
	ck_assert_int_eq(status, 401);
}
END_TEST

START_TEST(sessions_end_after_12_idle_hours_and_at_14_days)
{
	static const char *const h11[] = { "WORKPLAN_NOW=2021-10-20T20:00:00Z", NULL };
	static const char *const h22[] = { "WORKPLAN_NOW=2021-10-21T07:00:00Z", NULL };
	static const char *const h36[] = { "WORKPLAN_NOW=2021-10-21T21:00:00Z", NULL };
	static const char *const d15[] = { "WORKPLAN_NOW=2021-11-04T10:00:00Z", NULL };
	struct server s;
	struct resp *r;
	char *token, *idle, *kept;

	invite("Idle Person", "idle.person@unhcr.org", "UNHCR", "viewer");
	r = ask_link("127.0.0.22", "idle.person@unhcr.org");
	t_resp_free(r);
	token = mailed_token("idle.person@unhcr.org", "sign-in");
	idle = sign_in(token);
	free(token);
	r = ask_link("127.0.0.22", "idle.person@unhcr.org");
	t_resp_free(r);
	token = mailed_token("idle.person@unhcr.org", "sign-in");
	kept = sign_in(token);
	free(token);

	/* 11 hours on, both work; 22 hours on, only the one used at 11 hours */
	t_server_start_env(&s, db, h11);
	ck_assert_int_eq(me_status(&s, NULL, kept), 200);
	t_server_stop(&s);
	t_server_start_env(&s, db, h22);
	ck_assert_int_eq(me_status(&s, NULL, idle), 401);
	ck_assert_int_eq(me_status(&s, NULL, kept), 200);
	t_server_stop(&s);
	/* used every 11 hours, it lives on; idle from 22 to 36 hours, it ends */
	t_server_start_env(&s, db, h36);
	ck_assert_int_eq(me_status(&s, NULL, kept), 401);
	t_server_stop(&s);
	/* at 15 days it has ended whatever its use (14 days at most) */
	ck_assert_int_eq(rows("UPDATE member_session SET last_seen_at = '2021-11-04T09:30:00Z'"
			      " WHERE hash = sha256(convert_to('%s', 'UTF8')) RETURNING 1", kept), 1);
	t_server_start_env(&s, db, d15);
	ck_assert_int_eq(me_status(&s, NULL, kept), 401);
	t_server_stop(&s);
	free(idle);
	free(kept);
}
END_TEST

/* ---- sign-in links and enumeration ---- */

/* The answer's status line, headers but Date, and body: what a caller
 * could tell two answers apart by. */
static char *answer_print(const struct resp *r)
{
	char *out = calloc(1, sizeof r->headers + r->len + 16), *p = out;

	for (const char *l = r->headers; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] ? 1 : 0)) {
		size_t n = strcspn(l, "\n");

		if (!strncasecmp(l, "Date:", 5))
			continue;
		memcpy(p, l, n);
		p += n;
		*p++ = '\n';
	}
	memcpy(p, r->body ? r->body : "", r->len);
	return out;
}

START_TEST(asking_for_a_link_answers_the_same_for_known_and_unknown_addresses)
{
	long id = invite("Known Person", "known.person@undp.org", "UNDP", "viewer");
	long gone = invite("Gone Person", "gone.person@undp.org", "UNDP", "viewer");
	const char *emails[] = { "known.person@undp.org", "nobody.here@undp.org",
				 "gone.person@undp.org" };
	char *prints[3];
	long before, after, ids[3];

	ck_assert_int_eq(patch_member(gone, "{\"active\":false}"), 200);
	ids[0] = id;
	ids[2] = gone;
	for (int i = 0; i < 3; i++) {
		char sql[256];
		struct resp *r;

		long requests = t_sql_long(db, "SELECT count(*) FROM signin_request");

		snprintf(sql, sizeof sql, "SELECT count(*) FROM outbox WHERE kind = 'sign-in'");
		before = t_sql_long(db, sql);
		r = ask_link("127.0.0.23", emails[i]);
		after = t_sql_long(db, sql);
		ck_assert_int_eq(r->status, 202);
		/* every request writes (the same row whoever asks), none keeps the address */
		ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM signin_request"), requests + 1);
		prints[i] = answer_print(r);
		/* one mail for the active member, none otherwise */
		ck_assert_int_eq(after - before, i == 0 ? 1 : 0);
		if (i != 1) {
			snprintf(sql, sizeof sql,
				 "SELECT count(*) FROM outbox WHERE kind = 'sign-in' AND member_id = %ld",
				 ids[i]);
			ck_assert_int_eq(t_sql_long(db, sql), i == 0 ? 1 : 0);
		}
		t_resp_free(r);
	}
	ck_assert_str_eq(prints[0], prints[1]);
	ck_assert_str_eq(prints[0], prints[2]);
	for (int i = 0; i < 3; i++)
		free(prints[i]);
	/* and through Prism the answer is the documented one */
	{
		struct resp *r = call("POST", "/v1/auth/link", NULL, NULL, NULL,
				      "{\"email\":\"nobody.else@undp.org\"}");

		ck_assert_int_eq(r->status, 202);
		t_resp_free(r);
	}
}
END_TEST

START_TEST(links_are_limited_per_client_address_and_per_member)
{
	struct resp *r;
	char *retry;
	long mails;

	invite("Busy Person", "busy.person@unfpa.org", "UNFPA", "viewer");
	/* one address: 10 at once, then 429 (whatever the address asked for) */
	for (int i = 0; i < 10; i++) {
		r = ask_link("127.0.0.24", i % 2 ? "busy.person@unfpa.org" : "someone@unfpa.org");
		ck_assert_int_eq(r->status, 202);
		t_resp_free(r);
	}
	r = ask_link("127.0.0.24", "someone@unfpa.org");
	t_assert_problem(r, 429, "rate-limited");
	retry = t_header(r, "Retry-After");
	ck_assert(retry && atoi(retry) >= 1);
	free(retry);
	t_resp_free(r);
	/* another address is served */
	r = ask_link("127.0.0.25", "busy.person@unfpa.org");
	ck_assert_int_eq(r->status, 202);
	t_resp_free(r);
	/* one member: at most 3 links in 15 minutes, however asked */
	mails = rows("SELECT count(*) FROM outbox o JOIN member m ON m.id = o.member_id"
		     " WHERE m.email = '%s' AND o.kind = 'sign-in'", "busy.person@unfpa.org");
	ck_assert_int_eq(mails, 3);
}
END_TEST

/* ---- cross-site requests ---- */

START_TEST(cookie_writes_need_our_origin_and_bearer_tokens_do_not)
{
	static const char *const wrong[] = { NULL, "Origin: https://evil.example",
					     "Origin: null", "Origin: http://workplan.example.org",
					     "Origin: https://workplan.example.org.evil.example" };
	struct resp *r;
	char *token, *cookie, *settings;
	long tokens;

	invite("Cookie Person", "cookie.person@unicef.org", "UNICEF", "viewer");
	r = ask_link("127.0.0.26", "cookie.person@unicef.org");
	t_resp_free(r);
	token = mailed_token("cookie.person@unicef.org", "sign-in");
	cookie = sign_in(token);
	free(token);
	settings = t_sql(db, "SELECT reminders || review_digest || language || version FROM member"
			     " WHERE email = 'cookie.person@unicef.org'");
	tokens = t_sql_long(db, "SELECT count(*) FROM api_token");
	for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
		char *now;

		r = call_(true, "PATCH", "/v1/me/notifications", NULL, cookie, wrong[i],
			  "{\"review_digest\":\"off\"}");
		t_assert_problem(r, 403, "csrf");
		t_resp_free(r);
		r = call_(true, "POST", "/v1/me/tokens", NULL, cookie, wrong[i], "{\"label\":\"x\"}");
		t_assert_problem(r, 403, "csrf");
		t_resp_free(r);
		r = call_(true, "DELETE", "/v1/auth/session", NULL, cookie, wrong[i], NULL);
		t_assert_problem(r, 403, "csrf");
		t_resp_free(r);
		/* nothing written */
		now = t_sql(db, "SELECT reminders || review_digest || language || version FROM member"
				" WHERE email = 'cookie.person@unicef.org'");
		ck_assert_str_eq(now, settings);
		free(now);
		ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM api_token"), tokens);
		ck_assert_int_eq(me_status(&api, NULL, cookie), 200);
	}
	/* reads need no Origin */
	r = call("GET", "/v1/me/notifications", NULL, cookie, NULL, NULL);
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	/* with our Origin it is done */
	r = call("PATCH", "/v1/me/notifications", NULL, cookie, ORIGIN, "{\"review_digest\":\"off\"}");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(str(r->json, "review_digest"), "off");
	t_resp_free(r);
	/* a bearer token needs no Origin, and a foreign one does not matter */
	r = call("PATCH", "/v1/me/notifications", viewer, NULL, NULL, "{\"reminders\":false}");
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	r = call("PATCH", "/v1/me/notifications", viewer, NULL, "Origin: https://evil.example",
		 "{\"reminders\":true}");
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	/* no page elsewhere signs a browser in */
	r = call_at(&api, NULL, "POST", "/v1/auth/session", NULL, NULL, "Origin: https://evil.example",
		    "{\"token\":\"wpl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}");
	t_assert_problem(r, 403, "csrf");
	t_resp_free(r);
	free(settings);
	free(cookie);
}
END_TEST

/* ---- deactivation and revocation ---- */

START_TEST(a_deactivated_members_token_and_session_stop_at_once)
{
	static const char *const env[] = { "WORKPLAN_NOW=" T0, NULL };
	long id = invite("Leaving Person", "leaving.person@ohchr.org", "OHCHR", "lead");
	char *token, *cookie, *bearer, sql[256];
	struct server other;
	struct resp *r;

	r = ask_link("127.0.0.27", "leaving.person@ohchr.org");
	t_resp_free(r);
	token = mailed_token("leaving.person@ohchr.org", "sign-in");
	cookie = sign_in(token);
	free(token);
	r = call("POST", "/v1/me/tokens", NULL, cookie, ORIGIN, "{\"label\":\"script\"}");
	ck_assert_int_eq(r->status, 201);
	bearer = strdup(str(r->json, "token"));
	t_resp_free(r);
	/* a second API, listening, with both remembered too */
	t_server_start_env(&other, db, env);
	t_cache_listening(&other);
	t_cache_listening(&api);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(me_status(&api, bearer, NULL), 200);
		ck_assert_int_eq(me_status(&api, NULL, cookie), 200);
		ck_assert_int_eq(me_status(&other, bearer, NULL), 200);
		ck_assert_int_eq(me_status(&other, NULL, cookie), 200);
	}
	/* a sign-out here reaches the other API's memory too */
	{
		char *second;

		r = ask_link("127.0.0.27", "leaving.person@ohchr.org");
		t_resp_free(r);
		token = mailed_token("leaving.person@ohchr.org", "sign-in");
		second = sign_in(token);
		free(token);
		ck_assert_int_eq(me_status(&other, NULL, second), 200);
		ck_assert_int_eq(me_status(&other, NULL, second), 200);
		r = call("DELETE", "/v1/auth/session", NULL, second, ORIGIN, NULL);
		ck_assert_int_eq(r->status, 204);
		t_resp_free(r);
		ck_assert_int_eq(me_status(&api, NULL, second), 401);
		for (int i = 0; i < 150 && me_status(&other, NULL, second) != 401; i++)
			usleep(20000);
		ck_assert_int_eq(me_status(&other, NULL, second), 401);
		ck_assert_int_eq(me_status(&other, NULL, cookie), 200);
		free(second);
	}
	ck_assert_int_eq(patch_member(id, "{\"active\":false}"), 200);
	/* at once here; within a notification there */
	ck_assert_int_eq(me_status(&api, bearer, NULL), 401);
	ck_assert_int_eq(me_status(&api, NULL, cookie), 401);
	r = t_get_until(&other, "/v1/me", bearer, 401, 3000);
	ck_assert_ptr_nonnull(r);
	t_resp_free(r);
	ck_assert_int_eq(me_status(&other, NULL, cookie), 401);
	/* in the database, in the same transaction */
	snprintf(sql, sizeof sql,
		 "SELECT count(*) FROM api_token WHERE member_id = %ld AND revoked_at IS NULL", id);
	ck_assert_int_eq(t_sql_long(db, sql), 0);
	snprintf(sql, sizeof sql,
		 "SELECT count(*) FROM member_session WHERE member_id = %ld AND ended_at IS NULL", id);
	ck_assert_int_eq(t_sql_long(db, sql), 0);
	/* active again, what was revoked stays revoked */
	ck_assert_int_eq(patch_member(id, "{\"active\":true}"), 200);
	ck_assert_int_eq(me_status(&api, bearer, NULL), 401);
	ck_assert_int_eq(me_status(&api, NULL, cookie), 401);
	t_server_stop(&other);
	free(bearer);
	free(cookie);
}
END_TEST

START_TEST(personal_tokens_are_shown_once_capped_and_revoked_at_once)
{
	struct resp *r;
	char path[64], *token;
	long id, n;
	json_t *items;

	r = call("POST", "/v1/me/tokens", lead, NULL, NULL, "{\"label\":\"spreadsheet macro\"}");
	ck_assert_int_eq(r->status, 201);
	token = strdup(str(r->json, "token"));
	id = (long)json_integer_value(json_object_get(r->json, "id"));
	t_resp_free(r);
	ck_assert(!strncmp(token, "wpt_", 4) && strlen(token) == 47);
	ck_assert_int_eq(rows("SELECT count(*) FROM api_token"
			      " WHERE hash = sha256(convert_to('%s', 'UTF8'))", token), 1);
	/* listed without the token */
	r = call("GET", "/v1/me/tokens", lead, NULL, NULL, NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_null(strstr(r->body, token));
	ck_assert_ptr_nonnull(strstr(r->body, "spreadsheet macro"));
	t_resp_free(r);
	/* warm, then revoked: refused at once */
	ck_assert_int_eq(me_status(&api, token, NULL), 200);
	ck_assert_int_eq(me_status(&api, token, NULL), 200);
	snprintf(path, sizeof path, "/v1/me/tokens/%ld", id);
	r = call("DELETE", path, viewer, NULL, NULL, NULL);
	t_assert_problem(r, 404, "not-found"); /* not the viewer's */
	t_resp_free(r);
	ck_assert_int_eq(me_status(&api, token, NULL), 200);
	r = call("DELETE", path, lead, NULL, NULL, NULL);
	ck_assert_int_eq(r->status, 204);
	t_resp_free(r);
	ck_assert_int_eq(me_status(&api, token, NULL), 401);
	r = call("DELETE", path, lead, NULL, NULL, NULL);
	t_assert_problem(r, 404, "not-found");
	t_resp_free(r);
	free(token);
	/* at most 20 in use */
	n = rows("SELECT count(*) FROM api_token t JOIN member m ON m.id = t.member_id"
		 " WHERE m.email = '%s' AND revoked_at IS NULL", "focal@who.int");
	for (; n < 20; n++) {
		r = call("POST", "/v1/me/tokens", lead, NULL, NULL, "{\"label\":\"more\"}");
		ck_assert_int_eq(r->status, 201);
		t_resp_free(r);
	}
	r = call("POST", "/v1/me/tokens", lead, NULL, NULL, "{\"label\":\"one too many\"}");
	t_assert_problem(r, 409, "conflict");
	t_resp_free(r);
	r = call("GET", "/v1/me/tokens?limit=500", lead, NULL, NULL, NULL);
	items = json_object_get(r->json, "items");
	ck_assert_int_eq(json_array_size(items), 20);
	t_resp_free(r);
}
END_TEST

/* ---- who may do what, and refusals ---- */

START_TEST(viewers_and_leads_cannot_list_or_create_members)
{
	const char *who[] = { viewer, lead };
	long members = t_sql_long(db, "SELECT count(*) FROM member");

	for (int i = 0; i < 2; i++) {
		struct resp *r = call("GET", "/v1/members", who[i], NULL, NULL, NULL);

		t_assert_problem(r, 403, "forbidden");
		t_resp_free(r);
		r = call("GET", "/v1/members/1", who[i], NULL, NULL, NULL);
		t_assert_problem(r, 403, "forbidden");
		t_resp_free(r);
		r = call("POST", "/v1/members", who[i], NULL, NULL,
			 "{\"name\":\"X\",\"email\":\"x@who.int\",\"entity\":\"WHO\",\"role\":\"cochair\"}");
		t_assert_problem(r, 403, "forbidden");
		t_resp_free(r);
		r = call("PATCH", "/v1/members/1", who[i], NULL, "If-Match: *", "{\"role\":\"cochair\"}");
		t_assert_problem(r, 403, "forbidden");
		t_resp_free(r);
	}
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM member"), members);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM member WHERE role = 'cochair'"
				       " AND email <> 'chair@ohchr.org' AND email LIKE '%@who.int'"), 0);
	{
		struct resp *r = call_(true, "GET", "/v1/members", NULL, NULL, NULL, NULL);

		t_assert_problem(r, 401, "unauthorized");
		t_resp_free(r);
	}
}
END_TEST

START_TEST(duplicate_emails_are_409_and_stale_edits_412)
{
	long id = invite("Twice Person", "twice.person@unaids.org", "UNAIDS", "viewer");
	long members = t_sql_long(db, "SELECT count(*) FROM member");
	char path[64], *etag, line[128];
	struct resp *r;

	r = call("POST", "/v1/members", cochair, NULL, NULL,
		 "{\"name\":\"Again\",\"email\":\"TWICE.Person@unaids.org\",\"entity\":\"UNAIDS\","
		 "\"role\":\"viewer\"}");
	t_assert_problem(r, 409, "conflict");
	t_resp_free(r);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM member"), members);

	snprintf(path, sizeof path, "/v1/members/%ld", id);
	etag = etag_of_member(id);
	r = call_(true, "PATCH", path, cochair, NULL, NULL, "{\"name\":\"Renamed\"}");
	t_assert_problem(r, 428, "precondition-required");
	t_resp_free(r);
	snprintf(line, sizeof line, "If-Match: %s", etag);
	r = call("PATCH", path, cochair, NULL, line, "{\"name\":\"Renamed\",\"role\":\"lead\"}");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(str(r->json, "name"), "Renamed");
	ck_assert_str_eq(str(r->json, "role"), "lead");
	t_resp_free(r);
	/* the same tag again is stale now */
	r = call_(true, "PATCH", path, cochair, NULL, line, "{\"name\":\"Other\"}");
	t_assert_problem(r, 412, "precondition-failed");
	t_resp_free(r);
	ck_assert_int_eq(rows("SELECT count(*) FROM member WHERE email = '%s' AND name = 'Renamed'",
			      "twice.person@unaids.org"), 1);
	/* an unknown entity names the field */
	free(etag);
	etag = etag_of_member(id);
	snprintf(line, sizeof line, "If-Match: %s", etag);
	r = call_(true, "PATCH", path, cochair, NULL, line, "{\"entity\":\"NOPE\"}");
	t_assert_problem(r, 422, "validation");
	ck_assert_str_eq(str(json_array_get(json_object_get(r->json, "errors"), 0), "field"), "entity");
	t_resp_free(r);
	free(etag);
	r = call("GET", "/v1/members/999999", cochair, NULL, NULL, NULL);
	t_assert_problem(r, 404, "not-found");
	t_resp_free(r);
}
END_TEST

START_TEST(the_last_active_cochair_cannot_be_demoted_or_deactivated)
{
	static const char *const env[] = { "WORKPLAN_NOW=" T0, NULL };
	char own[64], *only, path[64], line[128], *etag;
	struct server s;
	struct resp *r;
	long a, b;

	/* a database of its own, with one co-chair */
	t_db_create(own, sizeof own, true);
	only = t_member_token(own, "only.chair@ohchr.org", "cochair", "OHCHR");
	t_server_start_env(&s, own, env);
	a = t_sql_long(own, "SELECT id FROM member WHERE email = 'only.chair@ohchr.org'");
	const char *refused[] = { "{\"role\":\"lead\"}", "{\"active\":false}",
				  "{\"role\":\"viewer\",\"active\":false}" };
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "/v1/members/%ld", a);
		r = call_at(&s, NULL, "GET", path, only, NULL, NULL, NULL);
		etag = t_header(r, "ETag");
		t_resp_free(r);
		snprintf(line, sizeof line, "If-Match: %s", etag);
		r = call_at(&s, NULL, "PATCH", path, only, NULL, line, refused[i]);
		t_assert_problem(r, 409, "conflict");
		t_resp_free(r);
		free(etag);
	}
	ck_assert_int_eq(t_sql_long(own, "SELECT count(*) FROM member WHERE role = 'cochair' AND active"),
			 1);
	/* with a second co-chair, the first may step down; then the second is the last */
	r = call_at(&s, NULL, "POST", "/v1/members", only, NULL, NULL,
		    "{\"name\":\"Second Chair\",\"email\":\"second.chair@unesco.org\","
		    "\"entity\":\"UNESCO\",\"role\":\"cochair\"}");
	ck_assert_int_eq(r->status, 201);
	b = (long)json_integer_value(json_object_get(json_object_get(r->json, "member"), "id"));
	t_resp_free(r);
	snprintf(path, sizeof path, "/v1/members/%ld", a);
	r = call_at(&s, NULL, "PATCH", path, only, NULL, "If-Match: *", "{\"role\":\"lead\"}");
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	ck_assert_int_eq(t_sql_long(own, "SELECT count(*) FROM member WHERE role = 'cochair' AND active"),
			 1);
	/* the first is a lead now; the direct route to the database is refused too */
	snprintf(line, sizeof line, "UPDATE member SET active = false WHERE id = %ld", b);
	{
		char cmd[1024];

		snprintf(cmd, sizeof cmd, "psql '%s' -qAt -c '%s' >/dev/null 2>&1", t_conninfo(own), line);
		ck_assert_int_ne(system(cmd), 0);
	}
	ck_assert_int_eq(t_sql_long(own, "SELECT count(*) FROM member WHERE role = 'cochair' AND active"),
			 1);
	t_server_stop(&s);
	free(only);
}
END_TEST

/* Two co-chairs demoted at the same instant, by two transactions each of
 * which alone would leave a co-chair: one commits, the other is refused,
 * never both (the trigger's lock makes the second wait for the first and
 * read what it committed). The database's own guard, so it holds for the
 * API and for anyone with SQL. */
START_TEST(two_cochairs_demoted_at_once_leave_one)
{
	char own[64], sql[128], *a_token, *b_token;
	PGconn *first, *second;
	PGresult *res;
	long a, b;
	bool waiting = false;

	t_db_create(own, sizeof own, true);
	a_token = t_member_token(own, "a.chair@ohchr.org", "cochair", "OHCHR");
	b_token = t_member_token(own, "b.chair@unesco.org", "cochair", "UNESCO");
	a = t_sql_long(own, "SELECT id FROM member WHERE email = 'a.chair@ohchr.org'");
	b = t_sql_long(own, "SELECT id FROM member WHERE email = 'b.chair@unesco.org'");
	first = PQconnectdb(t_conninfo(own));
	second = PQconnectdb(t_conninfo(own));
	ck_assert(PQstatus(first) == CONNECTION_OK && PQstatus(second) == CONNECTION_OK);
	snprintf(sql, sizeof sql, "BEGIN; UPDATE member SET active = false WHERE id = %ld", a);
	res = PQexec(first, sql);
	ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	snprintf(sql, sizeof sql, "UPDATE member SET role = 'viewer' WHERE id = %ld", b);
	ck_assert(PQsendQuery(second, sql));
	/* the second waits for the first to end */
	snprintf(sql, sizeof sql,
		 "SELECT count(*) FROM pg_stat_activity WHERE pid = %d AND wait_event_type = 'Lock'",
		 PQbackendPID(second));
	for (int i = 0; i < 250 && !waiting; i++) {
		res = PQexec(first, sql);
		waiting = atoi(PQgetvalue(res, 0, 0)) == 1;
		PQclear(res);
		if (!waiting)
			usleep(20000);
	}
	ck_assert_msg(waiting, "the second transaction did not wait for the first");
	res = PQexec(first, "COMMIT");
	ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	res = PQgetResult(second);
	ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
	ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME), "member_last_cochair");
	PQclear(res);
	while ((res = PQgetResult(second)))
		PQclear(res);
	PQfinish(first);
	PQfinish(second);
	ck_assert_int_eq(t_sql_long(own, "SELECT count(*) FROM member WHERE role = 'cochair' AND active"),
			 1);
	free(a_token);
	free(b_token);
}
END_TEST

START_TEST(hostile_member_input_is_refused_and_writes_nothing)
{
	static const char *const bad_bodies[] = {
		"{\"name\":\"Line\\r\\nBreak\",\"email\":\"a1@who.int\",\"entity\":\"WHO\",\"role\":\"viewer\"}",
		"{\"name\":\"Tab\\tName\",\"email\":\"a2@who.int\",\"entity\":\"WHO\",\"role\":\"viewer\"}",
		"{\"name\":\"N\",\"email\":\"a3@who.int\\r\\nBcc: all@un.org\",\"entity\":\"WHO\",\"role\":\"viewer\"}",
		"{\"name\":\"N\",\"email\":\"two@@who.int\",\"entity\":\"WHO\",\"role\":\"viewer\"}",
		"{\"name\":\"N\",\"email\":\"a@b@who.int\",\"entity\":\"WHO\",\"role\":\"viewer\"}",
		"{\"name\":\"N\",\"email\":\"no-at.who.int\",\"entity\":\"WHO\",\"role\":\"viewer\"}",
		"{\"name\":\"N\",\"email\":\"a4@localhost\",\"entity\":\"WHO\",\"role\":\"viewer\"}",
		"{\"name\":\"N\",\"email\":\" a5@who.int\",\"entity\":\"WHO\",\"role\":\"viewer\"}",
		"{\"name\":\"N\",\"email\":\"a..6@who.int\",\"entity\":\"WHO\",\"role\":\"viewer\"}",
		"{\"name\":\"N\",\"email\":\"\\\"q\\\"@who.int\",\"entity\":\"WHO\",\"role\":\"viewer\"}",
		"{\"name\":\"N\",\"email\":\"é@who.int\",\"entity\":\"WHO\",\"role\":\"viewer\"}",
		"{\"name\":\"N\",\"email\":\"a7@-who.int\",\"entity\":\"WHO\",\"role\":\"viewer\"}",
		"{\"name\":\"N\",\"email\":\"a8@who.int\",\"entity\":\"WHO\",\"role\":\"admin\"}",
		"{\"name\":\"N\",\"email\":\"a9@who.int\",\"entity\":\"NOPE\",\"role\":\"viewer\"}",
		"{\"name\":\"N\",\"email\":\"a10@who.int\",\"entity\":\"WHO\",\"role\":\"viewer\",\"active\":true}",
		"{\"name\":\"\",\"email\":\"a11@who.int\",\"entity\":\"WHO\",\"role\":\"viewer\"}",
		"{\"name\":\"N\",\"email\":\"a12@who.int\",\"entity\":\"WHO\",\"role\":\"viewer\",\"language\":\"de\"}",
	};
	static const char *const names[] = { "Nguyễn Thị Minh Khai", "محمد بن عبد الله",
					     "王秀英", "Zoë O'Brien-Łukasiewicz", "Ἀθηνᾶ 🌍" };
	long members = t_sql_long(db, "SELECT count(*) FROM member");
	long mails = t_sql_long(db, "SELECT count(*) FROM outbox");
	char *huge = malloc(10100), body[12000];
	struct resp *r;

	for (size_t i = 0; i < sizeof bad_bodies / sizeof *bad_bodies; i++) {
		r = call_(true, "POST", "/v1/members", cochair, NULL, NULL, bad_bodies[i]);
		t_assert_problem(r, 422, "validation");
		ck_assert_int_ge(json_array_size(json_object_get(r->json, "errors")), 1);
		t_resp_free(r);
	}
	/* a 10 000-character address, to invite and to sign in with */
	memset(huge, 'a', 10000);
	strcpy(huge + 9990, "@who.int");
	snprintf(body, sizeof body,
		 "{\"name\":\"N\",\"email\":\"%s\",\"entity\":\"WHO\",\"role\":\"viewer\"}", huge);
	r = call_(true, "POST", "/v1/members", cochair, NULL, NULL, body);
	t_assert_problem(r, 422, "validation");
	ck_assert_str_eq(str(json_array_get(json_object_get(r->json, "errors"), 0), "field"), "email");
	t_resp_free(r);
	r = ask_link("127.0.0.28", huge);
	t_assert_problem(r, 422, "validation");
	t_resp_free(r);
	r = ask_link("127.0.0.28", "a3@who.int\\r\\nBcc: all@un.org");
	t_assert_problem(r, 422, "validation");
	t_resp_free(r);
	free(huge);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM member"), members);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM outbox"), mails);

	/* names in any script come back as written */
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char email[64], path[64];
		long id;

		snprintf(email, sizeof email, "script%zu@unesco.org", i);
		id = invite(names[i], email, "UNESCO", "viewer");
		snprintf(path, sizeof path, "/v1/members/%ld", id);
		r = call("GET", path, cochair, NULL, NULL, NULL);
		ck_assert_str_eq(str(r->json, "name"), names[i]);
		t_resp_free(r);
	}
}
END_TEST

/* ---- what a member sees of itself ---- */

START_TEST(me_lists_the_pillars_led_and_the_actions_one_may_post_on)
{
	struct resp *r = call("GET", "/v1/me", lead, NULL, NULL, NULL);
	char *want, *got;

	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(str(r->json, "email"), "focal@who.int");
	ck_assert_str_eq(str(r->json, "role"), "lead");
	/* as POST /v1/actions/{id}/updates decides: actions WHO leads */
	got = json_dumps(json_object_get(r->json, "actions"), JSON_COMPACT);
	want = t_sql(db, "SELECT coalesce(json_agg(a.id ORDER BY a.id), '[]')::text FROM action a"
			 " WHERE NOT a.archived AND EXISTS (SELECT 1 FROM action_lead l"
			 "   WHERE l.action_id = a.id AND l.entity = 'WHO')");
	{
		json_t *w = json_loads(want, 0, NULL);

		free(want);
		want = json_dumps(w, JSON_COMPACT);
		json_decref(w);
	}
	ck_assert_str_eq(got, want);
	ck_assert_str_ne(got, "[]");
	free(got);
	free(want);
	got = json_dumps(json_object_get(r->json, "pillars"), JSON_COMPACT);
	ck_assert_str_eq(got, "[1]");
	free(got);
	t_resp_free(r);
	r = call("GET", "/v1/me", viewer, NULL, NULL, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "actions")), 0);
	t_resp_free(r);
	r = call("GET", "/v1/me", cochair, NULL, NULL, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "actions")),
			 t_sql_long(db, "SELECT count(*) FROM action WHERE NOT archived"));
	got = json_dumps(json_object_get(r->json, "pillars"), JSON_COMPACT);
	ck_assert_str_eq(got, "[3,8]"); /* OHCHR leads pillars 3 and 8 */
	free(got);
	t_resp_free(r);
}
END_TEST

START_TEST(notification_settings_are_read_and_changed)
{
	struct resp *r = call("GET", "/v1/me/notifications", lead, NULL, NULL, NULL);

	ck_assert_int_eq(r->status, 200);
	ck_assert(json_is_true(json_object_get(r->json, "reminders")));
	ck_assert_str_eq(str(r->json, "review_digest"), "daily");
	ck_assert_str_eq(str(r->json, "language"), "en");
	t_resp_free(r);
	r = call("PATCH", "/v1/me/notifications", lead, NULL, NULL,
		 "{\"reminders\":false,\"review_digest\":\"weekly\",\"language\":\"fr\"}");
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	r = call("GET", "/v1/me/notifications", lead, NULL, NULL, NULL);
	ck_assert(json_is_false(json_object_get(r->json, "reminders")));
	ck_assert_str_eq(str(r->json, "review_digest"), "weekly");
	ck_assert_str_eq(str(r->json, "language"), "fr");
	t_resp_free(r);
	ck_assert_int_eq(rows("SELECT count(*) FROM member WHERE email = '%s' AND language = 'fr'"
			      " AND NOT reminders AND review_digest = 'weekly'", "focal@who.int"), 1);
	const char *bad[] = { "{\"review_digest\":\"hourly\"}", "{\"language\":\"de\"}",
			      "{\"reminders\":\"yes\"}", "{\"email\":\"x@who.int\"}" };
	for (int i = 0; i < 4; i++) {
		r = call_(true, "PATCH", "/v1/me/notifications", lead, NULL, NULL, bad[i]);
		t_assert_problem(r, 422, "validation");
		t_resp_free(r);
	}
	ck_assert_int_eq(rows("SELECT count(*) FROM member WHERE email = '%s' AND language = 'fr'"
			      " AND NOT reminders AND review_digest = 'weekly'", "focal@who.int"), 1);
}
END_TEST

START_TEST(members_are_listed_by_entity_role_and_activity)
{
	struct resp *r;
	json_t *items, *m;
	size_t i;

	invite("Filter Person", "filter.person@wfp.org", "WFP", "lead");
	r = call("GET", "/v1/members?entity=WFP&role=lead&active=true", cochair, NULL, NULL, NULL);
	ck_assert_int_eq(r->status, 200);
	items = json_object_get(r->json, "items");
	ck_assert_int_ge(json_array_size(items), 1);
	json_array_foreach(items, i, m) {
		ck_assert_str_eq(str(m, "entity"), "WFP");
		ck_assert_str_eq(str(m, "role"), "lead");
		ck_assert(json_is_true(json_object_get(m, "active")));
	}
	t_resp_free(r);
	r = call("GET", "/v1/members?role=cochair", cochair, NULL, NULL, NULL);
	items = json_object_get(r->json, "items");
	ck_assert_int_eq(json_array_size(items),
			 t_sql_long(db, "SELECT count(*) FROM member WHERE role = 'cochair'"));
	t_resp_free(r);
	r = call("GET", "/v1/members?limit=2", cochair, NULL, NULL, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 2);
	ck_assert(json_is_string(json_object_get(r->json, "next")));
	t_resp_free(r);
	r = call_(true, "GET", "/v1/members?role=admin", cochair, NULL, NULL, NULL);
	t_assert_problem(r, 422, "validation");
	t_resp_free(r);
	r = call_(true, "GET", "/v1/members?active=maybe", cochair, NULL, NULL, NULL);
	t_assert_problem(r, 422, "validation");
	t_resp_free(r);
}
END_TEST

START_TEST(workplan_admin_link_prints_a_sign_in_link_that_works)
{
	char *out = NULL, *err = NULL, *nl, *token;
	long status;
	char *cookie;

	ck_assert_int_eq(t_admin(db, &out, &err, "link", "--email", "STAFF@unicef.org", NULL), 0);
	nl = strchr(out, '\n');
	if (nl)
		*nl = '\0';
	/* the admin tool runs without WORKPLAN_PUBLIC_URL here: the default */
	ck_assert_msg(!strncmp(out, "http://127.0.0.1:8080/sign-in#wpl_", 34), "%s", out);
	token = strchr(out, '#') + 1;
	cookie = sign_in_at(&srv, token, &status);
	ck_assert_msg(cookie != NULL, "%ld", status);
	ck_assert_int_eq(me_status(&api, NULL, cookie), 200);
	free(cookie);
	free(out);
	free(err);
	ck_assert_int_eq(t_admin(db, NULL, NULL, "link", "--email", "nobody@unicef.org", NULL), 1);
}
END_TEST

/* The pillar list counts the current quarter of the service's clock (it
 * read the machine's time before), as /v1/progress does. */
START_TEST(pillars_count_the_quarter_of_the_service_clock)
{
	char path[64], *a, *b;
	long action = t_sql_long(db, "SELECT min(id) FROM action WHERE pillar = 1");
	struct resp *r, *p;

	snprintf(path, sizeof path, "/v1/actions/%ld/updates", action);
	r = call("POST", path, cochair, NULL, NULL,
		 "{\"period\":\"2021-Q4\",\"status\":\"at_risk\",\"percent_complete\":30,"
		 "\"narrative\":\"Counted in the current quarter of the clock.\"}");
	ck_assert_int_eq(r->status, 201);
	t_resp_free(r);
	r = call("GET", "/v1/pillars/1", viewer, NULL, NULL, NULL);
	p = call("GET", "/v1/progress", viewer, NULL, NULL, NULL);
	ck_assert_str_eq(str(p->json, "as_of"), "2021-Q4");
	a = json_dumps(json_object_get(r->json, "by_status"), JSON_COMPACT | JSON_SORT_KEYS);
	b = json_dumps(json_object_get(json_array_get(json_object_get(p->json, "pillars"), 0),
				       "by_status"),
		       JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_str_eq(a, b);
	ck_assert_int_ge(json_integer_value(json_object_get(json_object_get(r->json, "by_status"),
							      "at_risk")),
			 1);
	free(a);
	free(b);
	t_resp_free(r);
	t_resp_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("members");
	TCase *tc = tcase_create("members");

	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, an_invitation_signs_in_and_the_session_works_until_sign_out);
	tcase_add_test(tc, a_sign_in_link_works_once_and_for_15_minutes);
	tcase_add_test(tc, sessions_end_after_12_idle_hours_and_at_14_days);
	tcase_add_test(tc, asking_for_a_link_answers_the_same_for_known_and_unknown_addresses);
	tcase_add_test(tc, links_are_limited_per_client_address_and_per_member);
	tcase_add_test(tc, cookie_writes_need_our_origin_and_bearer_tokens_do_not);
	tcase_add_test(tc, a_deactivated_members_token_and_session_stop_at_once);
	tcase_add_test(tc, personal_tokens_are_shown_once_capped_and_revoked_at_once);
	tcase_add_test(tc, viewers_and_leads_cannot_list_or_create_members);
	tcase_add_test(tc, duplicate_emails_are_409_and_stale_edits_412);
	tcase_add_test(tc, the_last_active_cochair_cannot_be_demoted_or_deactivated);
	tcase_add_test(tc, two_cochairs_demoted_at_once_leave_one);
	tcase_add_test(tc, hostile_member_input_is_refused_and_writes_nothing);
	tcase_add_test(tc, me_lists_the_pillars_led_and_the_actions_one_may_post_on);
	tcase_add_test(tc, notification_settings_are_read_and_changed);
	tcase_add_test(tc, members_are_listed_by_entity_role_and_activity);
	tcase_add_test(tc, workplan_admin_link_prints_a_sign_in_link_that_works);
	tcase_add_test(tc, pillars_count_the_quarter_of_the_service_clock);
	suite_add_tcase(s, tc);
	return t_run(s);
}
