/* The public intake of a call for inputs (SPEC 13): anyone, without an
 * account, sends an input to an open call, as multipart/form-data (the
 * web form, read by libmicrohttpd's post processor as it arrives) or as
 * JSON (its attachment then in base64), and gets a receipt; the receipt
 * mail goes through the outbox.
 *
 * Before any of the body is read: the call is open (else 409
 * consultation-closed), the client address has budget left
 * (WORKPLAN_INPUTS_PER_HOUR, counted in PostgreSQL; else 429), the body
 * has a Content-Length within the call's max_file_mb and the fields'
 * room (else 413). Once it is in: the honeypot "website" is empty and
 * the signed form token is between 3 seconds and 24 hours old (else 422,
 * nothing stored), the fields are valid (422), the file is what its
 * content says, PDF or DOCX (lib/attachment.c; else 415), and the same
 * email with the same text gets the first receipt back. Names and mail
 * addresses are never logged. */
#include "attachment.h"
#include "clock.h"
#include "config.h"
#include "handlers.h"
#include "jspec.h"
#include "log.h"
#include "sign.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define MB (1024L * 1024)
/* room for the fields beside the file (text of up to 100 000 characters,
 * in up to 4 bytes each, and the multipart framing) */
#define FIELDS_MAX (512L * 1024)
#define FORM_TOKEN_MIN_S 3
#define FORM_TOKEN_MAX_S (24 * 3600)

DB_STMT(stmt_intake_call,
	"SELECT c.title, c.max_file_mb, coalesce(c.word_limit, 0) AS word_limit,"
	"  array_to_string(c.formats, ',') AS formats, array_to_string(c.languages, ',') AS languages,"
	"  coalesce(c.subject, '') AS subject, consultation_state(c, $2::timestamptz) AS state,"
	"  utc_text(c.opens_at) AS opens_at, utc_text(c.closes_at) AS closes_at"
	" FROM consultation c WHERE c.id = $1::bigint");
/* The submissions of an address within the hour before $2, and when the
 * oldest of them leaves the hour. */
DB_STMT(stmt_intake_budget,
	"SELECT count(*) AS used,"
	"  coalesce(ceil(extract(epoch FROM min(at) + interval '1 hour' - $2::timestamptz)), 0)::int AS wait"
	" FROM consultation_intake WHERE address = $1 AND at > $2::timestamptz - interval '1 hour'");
DB_STMT(stmt_intake_lock, "SELECT pg_advisory_xact_lock(hashtext('consultation-intake:' || $1))");
DB_STMT(stmt_intake_count,
	"WITH gone AS (DELETE FROM consultation_intake WHERE at <= $2::timestamptz - interval '1 hour')"
	" INSERT INTO consultation_intake (address, at) VALUES ($1, $2::timestamptz)");
DB_STMT(stmt_intake_duplicate,
	"SELECT receipt, utc_text(received_at) AS received_at FROM consultation_input"
	" WHERE consultation_id = $1::bigint AND dedupe = $2::bytea");
DB_STMT(stmt_intake_insert,
	"INSERT INTO consultation_input (consultation_id, submitted_by, received, title, receipt,"
	"  received_at, name, organisation, contributor_type, country, email, language, subject, text,"
	"  words, dedupe)"
	" VALUES ($1::bigint, coalesce($3, $5), ($13::timestamptz AT TIME ZONE 'UTC')::date, $8, $12,"
	"  $13::timestamptz, $2, $3, $5, $6, $4, $7, $8, $9, $10::int, $11::bytea)"
	" RETURNING id, receipt, utc_text(received_at) AS received_at");
DB_STMT(stmt_intake_attachment,
	"INSERT INTO consultation_attachment (input_id, file_name, media_type, size, sha256, bytes, created_at)"
	" VALUES ($1::bigint, $2, $3, $4::int, $5::bytea, $6::bytea, $7::timestamptz)");
DB_STMT(stmt_intake_job,
	"INSERT INTO job (kind, key, payload, max_attempts)"
	" VALUES ('extract_input', 'input-' || $1, json_build_object('input', $1::bigint)::jsonb, 3)");
DB_STMT(stmt_intake_mail,
	"SELECT outbox_mail_input($1::bigint, 'consultation-receipt',"
	"  json_build_object('title', $2::text, 'receipt', $3::text, 'received_at', $4::text,"
	"   'consultation', $5::bigint)::jsonb, $4::timestamptz)");
DB_STMT(stmt_form_call,
	"SELECT consultation_state(c, $2::timestamptz) AS state FROM consultation c"
	" WHERE c.id = $1::bigint");

/* The fields of the form, in the order the web page has them. */
static const char *const field_names[] = {
	"name", "organisation", "contributor_type", "country", "email", "language", "subject",
	"text", "consent", "website", "form_token", NULL,
};
#define NFIELDS 11

static const char *const contributor_types[] = {
	"member_state", "un_entity", "ngo", "academia", "individual", "other", NULL,
};
static const char *const languages[] = { "ar", "zh", "en", "fr", "ru", "es", NULL };

/* One intake, across the calls of its handler. */
struct intake {
	char id[24];
	/* the call */
	char title[320], formats[32], languages[32], subject[256];
	long max_file_mb, word_limit;
	/* the client's address, as the budget counts it */
	char address[64];
	/* multipart: the post processor and what it found */
	struct MHD_PostProcessor *pp;
	struct buf fields[NFIELDS];
	bool seen[NFIELDS];
	struct buf file;
	char *file_name;           /* as given */
	bool has_file, file_too_large, fields_too_large;
	json_t *errors;            /* what the parts broke (unknown names, repeats...) */
};

static void intake_free(void *cls)
{
	struct intake *in = cls;

	if (in->pp)
		MHD_destroy_post_processor(in->pp);
	for (int i = 0; i < NFIELDS; i++)
		buf_free(&in->fields[i]);
	buf_free(&in->file);
	free(in->file_name);
	json_decref(in->errors);
	free(in);
}

static int field_index(const char *key)
{
	for (int i = 0; field_names[i]; i++)
		if (!strcmp(field_names[i], key))
			return i;
	return -1;
}

/* libmicrohttpd's post processor hands each part over in pieces. */
static enum MHD_Result part_in(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *filename, const char *content_type,
			       const char *transfer_encoding, const char *data, uint64_t off,
			       size_t size)
{
	struct intake *in = cls;
	int i;
	char msg[160];

	(void)kind;
	(void)content_type;
	(void)transfer_encoding;
	if (!strcmp(key, "attachment")) {
		if (!filename) {
			js_error(in->errors, "attachment", "must be a file");
			return MHD_NO;
		}
		/* a form with no file chosen sends a part with an empty name */
		if (!*filename)
			return MHD_YES;
		if (off == 0 && in->file_name) {
			js_error(in->errors, "attachment", "send one file");
			return MHD_NO;
		}
		if (off == 0)
			in->file_name = xstrdup(filename);
		in->has_file = true;
		if (size && !in->file_too_large && !buf_add(&in->file, data, size))
			in->file_too_large = true;
		return MHD_YES;
	}
	i = field_index(key);
	if (i < 0 || filename) {
		snprintf(msg, sizeof msg, i < 0 ? "is not a field of this form" : "is not a file field");
		js_error(in->errors, key, msg);
		return MHD_NO;
	}
	if (off == 0 && in->seen[i]) {
		js_error(in->errors, key, "is sent twice");
		return MHD_NO;
	}
	in->seen[i] = true;
	if (memchr(data, '\0', size)) {
		js_error(in->errors, key, "holds a NUL byte");
		return MHD_NO;
	}
	if (!buf_add(&in->fields[i], data, size))
		in->fields_too_large = true;
	return MHD_YES;
}

static bool part_sink(struct request *rq, const char *data, size_t n)
{
	struct intake *in = rq->handler_state;

	/* after a broken part the rest is read, not parsed (errors tell) */
	if (json_array_size(in->errors) || in->fields_too_large)
		return true;
	if (MHD_post_process(in->pp, data, n) != MHD_YES && !json_array_size(in->errors))
		js_error(in->errors, "attachment", "the multipart/form-data body cannot be read");
	return true;
}

/* The address as text ("192.0.2.1", "2001:db8::1"), or "unknown". */
static void client_address(struct request *rq, char out[64])
{
	unsigned char a[16];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (!request_client_addr(rq, a))
		snprintf(out, 64, "unknown");
	else if (!memcmp(a, mapped, 12))
		inet_ntop(AF_INET, a + 12, out, 64);
	else
		inet_ntop(AF_INET6, a, out, 64);
}

/* 409 when the call is not open now. */
static int closed_reply(struct request *rq, const char *state, const char *opens_at,
			const char *closes_at)
{
	char detail[200];

	if (!strcmp(state, "draft"))
		snprintf(detail, sizeof detail, "this call for inputs opens at %s", opens_at);
	else
		snprintf(detail, sizeof detail, "this call for inputs closed at %s", closes_at);
	return reply_problem(rq, PROBLEM_CONSULTATION_CLOSED, detail, NULL);
}

/* 429 with the seconds until the oldest counted submission leaves the hour. */
static int budget_reply(struct request *rq, int wait)
{
	char ra[16];

	snprintf(ra, sizeof ra, "%d", wait > 0 ? wait : 1);
	return reply_problem_with(rq, PROBLEM_RATE_LIMITED,
				  "this address sent as many inputs as an hour allows; try again later",
				  NULL, (const char *const[]){ "Retry-After", ra, NULL });
}

/* Has the address budget left? DB_OK with *wait 0 when it has. */
static enum db_rc budget_check(struct db *db, const char *address, const char *now, int *wait)
{
	PGresult *r;
	enum db_rc rc = db_query(db, &stmt_intake_budget, 2, (const char *const[]){ address, now }, &r);

	*wait = 0;
	if (rc != DB_OK)
		return rc;
	if (db_int(r, 0, "used") >= http_config()->inputs_per_hour)
		*wait = (int)db_int(r, 0, "wait") > 0 ? (int)db_int(r, 0, "wait") : 1;
	PQclear(r);
	return DB_OK;
}

static bool is_type(const char *ct, const char *want)
{
	size_t n = strlen(want);

	return ct && !strncasecmp(ct, want, n) && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Before the body: the call, its state, the budget, the body's type and size. */
static int intake_head(struct request *rq)
{
	const char *ct = request_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
	struct intake *in;
	char now[32];
	long long id;
	int wait;
	enum db_rc rc;
	PGresult *r;

	if (!request_id(rq, 0, &id))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such consultation", NULL);
	in = xcalloc(1, sizeof *in);
	rq->handler_state = in;
	rq->handler_state_free = intake_free;
	in->errors = json_array();
	snprintf(in->id, sizeof in->id, "%lld", id);
	clock_now_text(now);
	rc = db_query(request_db(rq), &stmt_intake_call, 2, (const char *const[]){ in->id, now }, &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	if (PQntuples(r) == 0) {
		PQclear(r);
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such consultation", NULL);
	}
	if (strcmp(db_col(r, 0, "state"), "open")) {
		int ret = closed_reply(rq, db_col(r, 0, "state"), db_col(r, 0, "opens_at"),
				       db_col(r, 0, "closes_at"));

		PQclear(r);
		return ret;
	}
	snprintf(in->title, sizeof in->title, "%s", db_col(r, 0, "title"));
	snprintf(in->formats, sizeof in->formats, "%s", db_col(r, 0, "formats"));
	snprintf(in->languages, sizeof in->languages, "%s", db_col(r, 0, "languages"));
	snprintf(in->subject, sizeof in->subject, "%s", db_col(r, 0, "subject"));
	in->max_file_mb = (long)db_int(r, 0, "max_file_mb");
	in->word_limit = (long)db_int(r, 0, "word_limit");
	PQclear(r);
	client_address(rq, in->address);
	rc = budget_check(request_db(rq), in->address, now, &wait);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	if (wait)
		return budget_reply(rq, wait);
	buf_init(&in->file, (size_t)(in->max_file_mb * MB));
	for (int i = 0; i < NFIELDS; i++)
		buf_init(&in->fields[i], FIELDS_MAX);
	if (is_type(ct, "multipart/form-data")) {
		in->pp = MHD_create_post_processor(rq->conn, 64 * 1024, part_in, in);
		if (!in->pp)
			return reply_problem(rq, PROBLEM_BAD_REQUEST,
					     "the multipart/form-data type has no boundary", NULL);
		rq->stream_sink = part_sink;
		rq->body_max = (size_t)(in->max_file_mb * MB + FIELDS_MAX);
	} else if (is_type(ct, "application/json")) {
		/* base64 takes 4 bytes for 3 */
		rq->body_max = (size_t)(in->max_file_mb * MB / 3 * 4 + FIELDS_MAX);
	} else {
		return reply_problem(rq, PROBLEM_UNSUPPORTED_MEDIA_TYPE,
				     "send the input as multipart/form-data or application/json", NULL);
	}
	return -1;
}

/* The form's fields as a JSON object like the JSON body: the checkbox is
 * true when ticked; an empty field is one not filled. */
static json_t *form_object(struct intake *in)
{
	json_t *o = json_object();

	for (int i = 0; i < NFIELDS; i++) {
		const char *v;

		if (!in->seen[i])
			continue;
		buf_add(&in->fields[i], "", 1);
		v = in->fields[i].data ? in->fields[i].data : "";
		if (!strcmp(field_names[i], "consent"))
			json_object_set_new(o, "consent", json_boolean(!strcmp(v, "on") || !strcmp(v, "true") ||
									 !strcmp(v, "1") || !strcmp(v, "yes")));
		else if (*v)
			/* as sent: bytes that are not UTF-8 are the checks' to refuse */
			json_object_set_new(o, field_names[i], json_stringn_nocheck(v, strlen(v)));
	}
	return o;
}

/* base64 (RFC 4648, padding optional, no line breaks) into out. */
static bool base64_decode(const char *s, struct buf *out)
{
	unsigned acc = 0;
	int bits = 0;

	for (; *s && *s != '='; s++) {
		const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		const char *p = strchr(abc, *s);
		unsigned char c;

		if (!p)
			return false;
		acc = (acc << 6) | (unsigned)(p - abc);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			c = (unsigned char)(acc >> bits);
			if (!buf_add(out, &c, 1))
				return false;
		}
	}
	return strspn(s, "=") == strlen(s);
}

/* A JSON body's attachment: {"file_name", "content_base64"}. */
static void json_attachment(struct intake *in, json_t *a)
{
	const char *name = json_string_value(json_object_get(a, "file_name"));
	const char *content = json_string_value(json_object_get(a, "content_base64"));

	if (!json_is_object(a) || !name || !content || json_object_size(a) != 2) {
		js_error(in->errors, "attachment",
			 "must be an object with file_name and content_base64 (the file in base64)");
		return;
	}
	in->file_name = xstrdup(name);
	in->has_file = true;
	if (!base64_decode(content, &in->file)) {
		if (in->file.len >= in->file.max)
			in->file_too_large = true;
		else
			js_error(in->errors, "attachment", "content_base64 is not base64");
	}
}

/* The key form tokens are signed with: derived from the service's
 * 'cursor' key (HMAC under a label of its own), so no token of one kind
 * passes for the other. */
static enum db_rc form_key(struct db *db, unsigned char key[SIGN_KEY_LEN])
{
	unsigned char base[SIGN_KEY_LEN];
	enum db_rc rc = sign_key(db, "cursor", base);

	if (rc == DB_OK)
		hmac_sha256(base, sizeof base, "workplan form token", 19, key);
	return rc;
}

/* The form token: "<call>.<issued, epoch s>.<nonce>.<HMAC-SHA256 of
 * the rest under form_key, hex>". */
static enum db_rc form_token_make(struct db *db, const char *call, char out[200])
{
	unsigned char key[SIGN_KEY_LEN], nonce[8], mac[SHA256_LEN];
	char body[120], hex[2 * SHA256_LEN + 1];
	enum db_rc rc = form_key(db, key);

	if (rc != DB_OK)
		return rc;
	if (getrandom(nonce, sizeof nonce, 0) != sizeof nonce) {
		BUG("no randomness from the kernel");
		return DB_ERROR;
	}
	snprintf(body, sizeof body, "%s.%lld.%02x%02x%02x%02x%02x%02x%02x%02x", call,
		 (long long)clock_now(), nonce[0], nonce[1], nonce[2], nonce[3], nonce[4], nonce[5],
		 nonce[6], nonce[7]);
	hmac_sha256(key, sizeof key, body, strlen(body), mac);
	sha256_hex(mac, hex);
	snprintf(out, 200, "%s.%s", body, hex);
	return DB_OK;
}

/* NULL when token is one we signed for call and its age is within the
 * window, else what is wrong with it. */
static const char *form_token_problem(struct db *db, const char *call, const char *token,
				      enum db_rc *rc)
{
	unsigned char key[SIGN_KEY_LEN], mac[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1], want[32];
	const char *dot;
	long long issued, age;
	size_t body_len;

	*rc = DB_OK;
	if (!token)
		return "is missing: load the form again";
	dot = strrchr(token, '.');
	if (!dot || strlen(dot + 1) != 2 * SHA256_LEN)
		return "is not one this service issued";
	body_len = (size_t)(dot - token);
	if ((*rc = form_key(db, key)) != DB_OK)
		return NULL;
	hmac_sha256(key, sizeof key, token, body_len, mac);
	sha256_hex(mac, hex);
	if (!equal_secret(hex, dot + 1, sizeof hex - 1))
		return "is not one this service issued";
	snprintf(want, sizeof want, "%s.", call);
	if (strncmp(token, want, strlen(want)))
		return "was issued for another call";
	issued = atoll(token + strlen(want));
	age = (long long)clock_now() - issued;
	if (age < FORM_TOKEN_MIN_S)
		return "was used within seconds of the form's loading; wait a moment and send again";
	if (age > FORM_TOKEN_MAX_S)
		return "is older than 24 hours: load the form again";
	return NULL;
}

/* What the fields say, once checked. */
struct input {
	const char *name, *organisation, *country, *email, *subject, *text, *website, *form_token;
	int contributor_type, language;
	bool consent;
	char country_upper[3];
	int words;
};

static bool in_list(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, item, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

static bool contains_ci(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

static bool input_check(struct request *rq, struct intake *in, json_t *body, struct input *v,
			json_t *errors, enum db_rc *rc)
{
	const struct js_field spec[] = {
		{ .name = "name", .type = JS_STRING, .flags = JS_REQUIRED, .min = 1, .max = 200, .out = &v->name },
		{ .name = "organisation", .type = JS_STRING, .flags = JS_NULLABLE, .max = 300,
		  .out = &v->organisation },
		{ .name = "contributor_type", .type = JS_ENUM, .flags = JS_REQUIRED, .choices = contributor_types,
		  .out = &v->contributor_type },
		{ .name = "country", .type = JS_STRING, .flags = JS_NULLABLE, .max = 2, .out = &v->country },
		{ .name = "email", .type = JS_EMAIL, .flags = JS_REQUIRED, .max = 254, .out = &v->email },
		{ .name = "language", .type = JS_ENUM, .flags = JS_REQUIRED, .choices = languages,
		  .out = &v->language },
		{ .name = "subject", .type = JS_STRING, .flags = JS_REQUIRED, .min = 1, .max = 300,
		  .out = &v->subject },
		{ .name = "text", .type = JS_TEXT, .flags = JS_REQUIRED, .min = 1, .max = 100000, .out = &v->text },
		{ .name = "consent", .type = JS_BOOL, .out = &v->consent },
		{ .name = "website", .type = JS_STRING, .flags = JS_NULLABLE, .max = 500, .out = &v->website },
		{ .name = "form_token", .type = JS_STRING, .flags = JS_NULLABLE, .max = 200,
		  .out = &v->form_token },
		{ 0 },
	};
	const char *why;
	char msg[200];
	bool ok;

	v->contributor_type = v->language = -1;
	ok = js_validate(body, spec, errors);
	if (v->website && *v->website) {
		js_error(errors, "website", "must be left empty");
		ok = false;
	}
	why = form_token_problem(request_db(rq), in->id, v->form_token, rc);
	if (*rc != DB_OK)
		return false;
	if (why) {
		js_error(errors, "form_token", why);
		ok = false;
	}
	if (!v->consent) {
		js_error(errors, "consent", "must be given: tick \"I agree to the processing of my data\"");
		ok = false;
	}
	if (v->country) {
		if (strlen(v->country) != 2 || !isalpha((unsigned char)v->country[0]) ||
		    !isalpha((unsigned char)v->country[1])) {
			js_error(errors, "country", "must be a two-letter ISO 3166-1 code such as FR");
			ok = false;
		} else {
			v->country_upper[0] = (char)toupper((unsigned char)v->country[0]);
			v->country_upper[1] = (char)toupper((unsigned char)v->country[1]);
		}
	}
	if (v->language >= 0 && !in_list(in->languages, languages[v->language])) {
		snprintf(msg, sizeof msg, "must be one of this call's languages: %s", in->languages);
		js_error(errors, "language", msg);
		ok = false;
	}
	if (v->subject && in->subject[0] && !contains_ci(v->subject, in->subject)) {
		snprintf(msg, sizeof msg, "must contain \"%.100s\"", in->subject);
		js_error(errors, "subject", msg);
		ok = false;
	}
	if (v->text) {
		v->words = text_words(v->text);
		if (in->word_limit && v->words > in->word_limit) {
			snprintf(msg, sizeof msg, "has %d words; this call takes at most %ld", v->words,
				 in->word_limit);
			js_error(errors, "text", msg);
			ok = false;
		}
	}
	return ok;
}

/* An unambiguous receipt code: XXXX-XXXX-XXXX. */
static void receipt_make(char out[16])
{
	static const char abc[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
	unsigned char r[12];
	int k = 0;

	if (getrandom(r, sizeof r, 0) != sizeof r)
		BUG("no randomness from the kernel");
	for (int i = 0; i < 12; i++) {
		if (i && i % 4 == 0)
			out[k++] = '-';
		out[k++] = abc[r[i] % (sizeof abc - 1)];
	}
	out[k] = '\0';
}

struct intake_write {
	struct intake *in;
	const struct input *v;
	enum attachment_kind kind;
	char file_name[256];
	unsigned char dedupe[SHA256_LEN];
	/* outcome */
	int wait;                  /* > 0: over budget */
	bool duplicate;
	char receipt[16], received_at[32];
};

static enum db_rc intake_txn(struct db *db, void *cls)
{
	struct intake_write *w = cls;
	struct intake *in = w->in;
	const struct input *v = w->v;
	char now[32], words[16], input_id[24], size[24], sha[SHA256_LEN];
	enum db_rc rc;
	PGresult *r;

	clock_now_text(now);
	rc = db_query(db, &stmt_intake_lock, 1, (const char *const[]){ in->address }, &r);
	if (rc != DB_OK)
		return rc;
	PQclear(r);
	rc = budget_check(db, in->address, now, &w->wait);
	if (rc != DB_OK || w->wait)
		return rc != DB_OK ? rc : DB_ABORT;
	rc = db_query(db, &stmt_intake_count, 2, (const char *const[]){ in->address, now }, &r);
	if (rc != DB_OK)
		return rc;
	PQclear(r);
	rc = db_query_params(db, &stmt_intake_duplicate, 2,
			     (const char *const[]){ in->id, (const char *)w->dedupe },
			     (const int[]){ 0, SHA256_LEN }, (const int[]){ 0, 1 }, &r);
	if (rc != DB_OK)
		return rc;
	if (PQntuples(r)) {
		w->duplicate = true;
		snprintf(w->receipt, sizeof w->receipt, "%s", db_col(r, 0, "receipt"));
		snprintf(w->received_at, sizeof w->received_at, "%s", db_col(r, 0, "received_at"));
		PQclear(r);
		return DB_OK;
	}
	PQclear(r);
	receipt_make(w->receipt);
	snprintf(words, sizeof words, "%d", v->words);
	rc = db_query_params(db, &stmt_intake_insert, 13,
			     (const char *const[]){ in->id, v->name,
						    v->organisation && *v->organisation ? v->organisation : NULL,
						    v->email, contributor_types[v->contributor_type],
						    v->country ? v->country_upper : NULL, languages[v->language],
						    v->subject, v->text, words, (const char *)w->dedupe,
						    w->receipt, now },
			     (const int[]){ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, SHA256_LEN, 0, 0 },
			     (const int[]){ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0 }, &r);
	/* the same input sent at once twice, or a receipt drawn twice: again */
	if (rc == DB_CONSTRAINT)
		return DB_RETRY;
	if (rc != DB_OK)
		return rc;
	snprintf(input_id, sizeof input_id, "%s", db_col(r, 0, "id"));
	snprintf(w->received_at, sizeof w->received_at, "%s", db_col(r, 0, "received_at"));
	PQclear(r);
	if (in->has_file) {
		sha256(in->file.data, in->file.len, (unsigned char *)sha);
		snprintf(size, sizeof size, "%zu", in->file.len);
		rc = db_query_params(db, &stmt_intake_attachment, 7,
				     (const char *const[]){ input_id, w->file_name,
							    attachment_media_type(w->kind), size, sha,
							    in->file.data, now },
				     (const int[]){ 0, 0, 0, 0, SHA256_LEN, (int)in->file.len, 0 },
				     (const int[]){ 0, 0, 0, 0, 1, 1, 0 }, &r);
		if (rc != DB_OK)
			return rc;
		PQclear(r);
		rc = db_query(db, &stmt_intake_job, 1, (const char *const[]){ input_id }, &r);
		if (rc != DB_OK)
			return rc;
		PQclear(r);
	}
	rc = db_query(db, &stmt_intake_mail, 5,
		      (const char *const[]){ input_id, in->title, w->receipt, w->received_at, in->id }, &r);
	if (rc != DB_OK)
		return rc;
	PQclear(r);
	return DB_OK;
}

/* The dedupe key: SHA-256 of the lower-cased mail address and the text. */
static void dedupe_key(const struct input *v, unsigned char out[SHA256_LEN])
{
	struct sha256 h;
	char *email = xstrdup(v->email);

	for (char *p = email; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	sha256_init(&h);
	sha256_update(&h, email, strlen(email));
	sha256_update(&h, "\n", 1);
	sha256_update(&h, v->text, strlen(v->text));
	sha256_final(&h, out);
	free(email);
}

int h_intake_post(struct request *rq)
{
	struct intake *in;
	struct intake_write w = { 0 };
	struct input v = { 0 };
	json_t *body = NULL, *errors;
	char err[300], reply[160];
	enum db_rc rc = DB_OK;
	int ret;

	if (rq->stream_head)
		return intake_head(rq);
	in = rq->handler_state;
	if (!in)
		return reply_problem(rq, PROBLEM_BAD_REQUEST, "this request needs a body", NULL);
	if (in->pp) {
		/* the post processor keeps the last part until it is destroyed */
		MHD_destroy_post_processor(in->pp);
		in->pp = NULL;
		body = form_object(in);
	} else {
		json_error_t jerr;

		body = json_loadb(rq->body.data ? rq->body.data : "", rq->body.len, JSON_REJECT_DUPLICATES,
				  &jerr);
		if (!json_is_object(body)) {
			json_decref(body);
			return reply_problem(rq, PROBLEM_MALFORMED_JSON, "the body is not a JSON object", NULL);
		}
		if (json_object_get(body, "attachment")) {
			json_attachment(in, json_object_get(body, "attachment"));
			json_object_del(body, "attachment");
		}
	}
	if (in->file_too_large || in->fields_too_large) {
		json_decref(body);
		snprintf(reply, sizeof reply, in->file_too_large ? "the file is larger than this call's %ld MB"
								 : "the fields are too large",
			 in->max_file_mb);
		return reply_problem(rq, PROBLEM_PAYLOAD_TOO_LARGE, reply, NULL);
	}
	errors = json_deep_copy(in->errors);
	if (!input_check(rq, in, body, &v, errors, &rc) || json_array_size(errors)) {
		json_decref(body);
		if (rc != DB_OK) {
			json_decref(errors);
			return reply_db_failure(rq, rc);
		}
		return reply_invalid(rq, errors);
	}
	json_decref(errors);
	w.in = in;
	w.v = &v;
	if (in->has_file) {
		errors = json_array();
		if (!attachment_name(in->file_name, w.file_name, sizeof w.file_name, err, sizeof err)) {
			js_error(errors, "attachment", err);
			json_decref(body);
			return reply_invalid(rq, errors);
		}
		json_decref(errors);
		if (!in->file.len) {
			json_decref(body);
			return reply_problem(rq, PROBLEM_UNSUPPORTED_MEDIA_TYPE, "the file is empty", NULL);
		}
		w.kind = attachment_sniff(in->file.data, in->file.len, err, sizeof err);
		if (w.kind == ATTACHMENT_UNCHECKED) {
			log_error("intake: a file could not be checked: %s", err);
			json_decref(body);
			return reply_problem(rq, PROBLEM_UNAVAILABLE, "the file cannot be checked now; try again later",
					     NULL);
		}
		if (w.kind == ATTACHMENT_REFUSED || !in_list(in->formats, attachment_format(w.kind))) {
			char now[32];
			PGresult *r;

			if (w.kind != ATTACHMENT_REFUSED)
				snprintf(err, sizeof err, "this call takes %s files only", in->formats);
			json_decref(body);
			/* the check cost a tool's run: a refused file spends the
			 * address's budget as an input does */
			clock_now_text(now);
			if (db_query(request_db(rq), &stmt_intake_count, 2,
				     (const char *const[]){ in->address, now }, &r) == DB_OK)
				PQclear(r);
			return reply_problem(rq, PROBLEM_UNSUPPORTED_MEDIA_TYPE, err, NULL);
		}
	}
	dedupe_key(&v, w.dedupe);
	rc = db_transaction(request_db(rq), intake_txn, &w);
	json_decref(body);
	if (rc == DB_ABORT)
		return budget_reply(rq, w.wait);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	snprintf(reply, sizeof reply, "{\"receipt\":\"%s\",\"received_at\":\"%s\"}", w.receipt, w.received_at);
	ret = reply_json(rq, w.duplicate ? 200 : 201, reply, strlen(reply));
	return ret;
}

int h_public_consultation_form(struct request *rq)
{
	char id[24], now[32], token[200], body[260];
	long long n;
	enum db_rc rc;
	PGresult *r;
	bool open;

	if (!request_id(rq, 0, &n))
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such consultation", NULL);
	snprintf(id, sizeof id, "%lld", n);
	clock_now_text(now);
	rc = db_query(request_db(rq), &stmt_form_call, 2, (const char *const[]){ id, now }, &r);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	if (!PQntuples(r)) {
		PQclear(r);
		return reply_problem(rq, PROBLEM_NOT_FOUND, "no such consultation", NULL);
	}
	open = !strcmp(db_col(r, 0, "state"), "open");
	PQclear(r);
	if (!open)
		return reply_problem(rq, PROBLEM_CONSULTATION_CLOSED, "this call for inputs is not open", NULL);
	rc = form_token_make(request_db(rq), id, token);
	if (rc != DB_OK)
		return reply_db_failure(rq, rc);
	snprintf(body, sizeof body, "{\"form_token\":\"%s\"}", token);
	return reply_full(rq, 200, "application/json", body, strlen(body),
			  (const char *const[]){ "Cache-Control", "no-store", NULL });
}
