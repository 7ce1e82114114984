/* Triage of a call's inputs (SPEC 13), end to end over HTTP through
 * Stoplight Prism (every answer judged by api/openapi.json): who reads
 * which input, the triage PATCH and its refusals, links shown on the key
 * action at once, the CSV with and without contacts, formula injection,
 * the consultation report in every format with hostile text inert and no
 * personal data, the public outcome, erasure of a contact everywhere, and
 * no personal data in webhooks or logs.
 *
 * Inputs are written as the intake writes them (migration 022's columns),
 * with a receipt mail in the outbox; what is tested is what the API,
 * the worker and the database do with them. */
#include "harness.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct server api, srv; /* srv: Prism in front of api */
static char db[64];
static char *cochair, *who_lead, *unodc_lead, *viewer;
static pid_t worker;
static long call; /* a call of our own, so the seeded one stays as it is */

#define NOW "WORKPLAN_NOW=2021-11-02T09:00:00Z"

static void setup(void)
{
	char *id;

	t_db_create(db, sizeof db, true);
	cochair = t_member_token(db, "cochair@ohchr.org", "cochair", "OHCHR");
	who_lead = t_member_token(db, "focal@who.int", "lead", "WHO");       /* pillar 1 */
	unodc_lead = t_member_token(db, "focal@unodc.org", "lead", "UNODC"); /* pillar 2 */
	viewer = t_member_token(db, "staff@unicef.org", "viewer", "UNICEF");
	t_server_start_env(&api, db, (const char *const[]){ NOW, "WORKPLAN_WEBHOOK_ALLOW_PRIVATE=1", NULL });
	t_prism_start(&srv, &api);
	worker = t_worker_start(db, (const char *const[]){ NOW, NULL });
	id = t_sql(db, "INSERT INTO consultation (title, cycle, opens_at, closes_at, formats, word_limit)"
		       " VALUES ('Call for inputs on the Network Work Plan 2022-2023', '2022-2023',"
		       " '2021-09-01T00:00:00Z', '2021-10-21T00:00:00Z', '{docx,pdf}', 1000) RETURNING id");
	call = atol(id);
	free(id);
}

static void teardown(void)
{
	t_worker_stop(worker, 0);
	t_prism_stop(&srv);
	t_server_stop(&api);
	free(cochair);
	free(who_lead);
	free(unodc_lead);
	free(viewer);
}

/* One request through Prism, which must find nothing wrong with the
 * answer (bad: the request breaks the document on purpose). */
static struct resp *req(bool bad, const char *method, const char *path, const char *token,
			const char *body, const char *header)
{
	struct resp *r = t_http(&srv, method, path, token, body ? "application/json" : NULL, body,
				body ? strlen(body) : 0, header);

	t_assert_no_violations(r, bad);
	return r;
}

/* t_assert_problem, saying what came instead */
#define problem(r, code, slug)                                                                \
	do {                                                                                  \
		ck_assert_msg((r)->status == (code) && strstr((r)->headers, "problem+json"),      \
			      "%s:%d: %ld instead of %d: %s", __FILE__, __LINE__, (r)->status, (code), \
			      (r)->body);                                                        \
		t_assert_problem((r), (code), (slug));                                         \
	} while (0)

static struct resp *get(const char *path, const char *token)
{
	return req(false, "GET", path, token, NULL, NULL);
}

static char *fmt(const char *f, ...)
{
	char *s;
	va_list ap;

	va_start(ap, f);
	ck_assert_int_ge(vasprintf(&s, f, ap), 0);
	va_end(ap);
	return s;
}

/* SQL text with ' doubled, for the fixtures below. */
static char *quoted(const char *s)
{
	char *out = calloc(1, 2 * strlen(s) + 3), *o = out;

	*o++ = '\'';
	for (; *s; s++) {
		if (*s == '\'')
			*o++ = '\'';
		*o++ = *s;
	}
	*o = '\'';
	return out;
}

/* An input as the public form stores it, with its receipt mail queued
 * (its data holds the address and the name, as a receipt's does); id. */
static long input_new(const char *title, const char *name, const char *email, const char *org,
		      const char *type, const char *lang, const char *country, const char *text)
{
	static int n;
	char *qt = quoted(title), *qn = quoted(name), *qe = quoted(email), *qo = quoted(org), *qx = quoted(text);
	char *qc = country ? quoted(country) : strdup("NULL");
	char *sql = fmt("WITH i AS (INSERT INTO consultation_input (consultation_id, submitted_by, received, title,"
			" receipt, received_at, name, organisation, contributor_type, country, email, language,"
			" subject, text, dedupe, client_address)"
			" VALUES (%ld, coalesce(nullif(%s, ''), '%s'), '2021-10-05', %s, 'T%03d-%04d-ABCD',"
			" '2021-10-05T10:00:00Z', %s, nullif(%s, ''), '%s', %s, %s, '%s', %s, %s,"
			" sha256(convert_to(%s || %s, 'UTF8')), '192.0.2.7')"
			" RETURNING id, receipt)"
			" SELECT outbox_mail_input(i.id, 'input.receipt', jsonb_build_object('receipt', i.receipt,"
			" 'name', %s::text, 'email', %s::text), '2021-10-05T10:00:00Z') * 0 + i.id FROM i",
			call, qo, type, qt, ++n, (int)(getpid() % 10000), qn, qo, type, qc, qe, lang, qt, qx, qe, qx,
			qn, qe);
	char *id = t_sql(db, sql);
	long v;

	ck_assert_msg(id != NULL, "cannot make an input: %s", sql);
	v = atol(id);
	free(id);
	free(sql);
	free(qt);
	free(qn);
	free(qe);
	free(qo);
	free(qx);
	free(qc);
	return v;
}

static struct resp *patch(long input, const char *if_match, const char *body, bool bad)
{
	char path[64], header[128];

	snprintf(path, sizeof path, "/v1/inputs/%ld", input);
	snprintf(header, sizeof header, "If-Match: %s", if_match);
	return req(bad, "PATCH", path, cochair, body, if_match ? header : NULL);
}

/* PATCHes with the current version; the answer must be 200. */
static void triage(long input, const char *body)
{
	char path[64];
	struct resp *r;
	char version[32];

	snprintf(path, sizeof path, "/v1/inputs/%ld", input);
	r = get(path, cochair);
	ck_assert_int_eq(r->status, 200);
	snprintf(version, sizeof version, "\"%s\"", json_string_value(json_object_get(r->json, "version")));
	t_resp_free(r);
	r = patch(input, version, body, false);
	ck_assert_msg(r->status == 200, "PATCH %s: %ld %s", body, r->status, r->body);
	t_resp_free(r);
}

static bool has(const struct resp *r, const char *text)
{
	return r->body && memmem(r->body, r->len, text, strlen(text)) != NULL;
}

/* The ids of a list's items, as "1,2,3". */
static char *ids_of(const struct resp *r)
{
	char *out = calloc(1, 1024);
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(r->json, "items"), i, v)
		snprintf(out + strlen(out), 1024 - strlen(out), "%s%lld", i ? "," : "",
			 (long long)json_integer_value(json_object_get(v, "id")));
	return out;
}

static void assert_list(const char *path, const char *token, const char *want)
{
	struct resp *r = get(path, token);
	char *ids;

	ck_assert_msg(r->status == 200, "%s: %ld %s", path, r->status, r->body);
	ids = ids_of(r);
	ck_assert_msg(!strcmp(ids, want), "%s gave [%s], not [%s]", path, ids, want);
	free(ids);
	t_resp_free(r);
}

START_TEST(a_lead_reads_only_the_inputs_of_its_pillars)
{
	long a = input_new("Training for field staff", "Ana Lima", "ana.lima@example.org", "Rights Watchers",
			   "ngo", "en", "BR", "More training for field staff.");
	long b = input_new("A side event in Vienna", "Ben Okoye", "ben.okoye@example.org", "Univ. of Lagos",
			   "academia", "fr", "NG", "Crime prevention and minorities.");
	long c = input_new("Unsorted idea", "Cy Young", "cy.young@example.org", "", "individual", "es", NULL,
			   "Something else.");
	char *path = fmt("/v1/consultations/%ld/inputs", call), *want, *p;
	struct resp *r;

	triage(a, "{\"pillars\":[1],\"note\":\"Ask WHO first\"}");
	triage(b, "{\"pillars\":[2],\"state\":\"under_review\"}");
	want = fmt("%ld,%ld,%ld", a, b, c);
	assert_list(path, cochair, want);
	free(want);
	/* the co-chairs read contacts and notes */
	r = get(path, cochair);
	ck_assert(has(r, "ana.lima@example.org") && has(r, "Ask WHO first") && has(r, "Rights Watchers"));
	t_resp_free(r);
	/* a lead: only its pillars' inputs, without contact or note */
	want = fmt("%ld", a);
	assert_list(path, who_lead, want);
	free(want);
	r = get(path, who_lead);
	ck_assert(!has(r, "ana.lima@example.org") && !has(r, "Ana Lima") && !has(r, "Ask WHO first") &&
		  !has(r, "Rights Watchers"));
	t_resp_free(r);
	want = fmt("%ld", b);
	assert_list(path, unodc_lead, want);
	free(want);
	p = fmt("/v1/inputs/%ld", b);
	r = get(p, who_lead);
	problem(r, 404, "not-found");
	t_resp_free(r);
	r = get(p, unodc_lead);
	ck_assert_int_eq(r->status, 200);
	ck_assert(json_is_null(json_object_get(r->json, "contact")) && json_is_null(json_object_get(r->json, "note")));
	t_resp_free(r);
	free(p);
	p = fmt("/v1/inputs/%ld/attachment", b);
	r = get(p, who_lead);
	problem(r, 404, "not-found");
	t_resp_free(r);
	free(p);
	/* viewers triage nothing */
	r = get(path, viewer);
	problem(r, 403, "forbidden");
	t_resp_free(r);
	/* filters */
	p = fmt("%s?state=under_review", path);
	want = fmt("%ld", b);
	assert_list(p, cochair, want);
	free(p);
	free(want);
	p = fmt("%s?pillar=1", path);
	want = fmt("%ld", a);
	assert_list(p, cochair, want);
	free(p);
	free(want);
	p = fmt("%s?contributor_type=individual", path);
	want = fmt("%ld", c);
	assert_list(p, cochair, want);
	free(p);
	free(want);
	/* text: the co-chairs find a contact, a lead never by one */
	p = fmt("%s?q=rights%%20watchers", path);
	want = fmt("%ld", a);
	assert_list(p, cochair, want);
	assert_list(p, who_lead, "");
	free(p);
	free(want);
	p = fmt("%s?q=FIELD", path);
	want = fmt("%ld", a);
	assert_list(p, who_lead, want);
	free(p);
	free(want);
	/* pages */
	p = fmt("%s?limit=2", path);
	r = get(p, cochair);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 2);
	ck_assert(json_is_string(json_object_get(r->json, "next")));
	free(p);
	p = fmt("%s?limit=2&after=%s", path, json_string_value(json_object_get(r->json, "next")));
	t_resp_free(r);
	want = fmt("%ld", c);
	assert_list(p, cochair, want);
	free(p);
	free(want);
	/* bad parameters, an unknown call */
	p = fmt("%s?state=adopted", path);
	r = req(true, "GET", p, cochair, NULL, NULL);
	problem(r, 422, "validation");
	t_resp_free(r);
	free(p);
	r = get("/v1/consultations/999999/inputs", cochair);
	problem(r, 404, "not-found");
	t_resp_free(r);
	free(path);
}
END_TEST

START_TEST(triage_is_validated_and_a_refusal_changes_nothing)
{
	long in = input_new("Refusals", "Dee Pak", "dee.pak@example.org", "Pak Org", "ngo", "en", "IN", "Text.");
	char path[64], *before, *note = calloc(1, 5100);
	static const struct { const char *body, *field; } bad[] = {
		{ "{\"state\":\"adopted\"}", "state" },
		{ "{\"pillars\":[9]}", "pillars" },
		{ "{\"pillars\":[1,1]}", "pillars[1]" },
		{ "{\"pillars\":[0]}", "pillars[0]" },
		{ "{\"pillars\":\"1\"}", "pillars" },
		{ "{\"actions\":[999999]}", "actions" },
		{ "{\"actions\":[1.5]}", "actions[0]" },
		{ "{\"public_answer\":\"a\\u0007b\"}", "public_answer" },
		{ "{\"note\":7}", "note" },
		{ "{\"receipt\":\"XXXX-XXXX-XXXX\"}", "receipt" },
		{ "{\"contact\":{\"email\":\"x@example.org\"}}", "contact" },
	};
	long audits = t_sql_long(db, "SELECT count(*) FROM audit");
	struct resp *r;

	snprintf(path, sizeof path, "/v1/inputs/%ld", in);
	r = get(path, cochair);
	before = strdup(r->body);
	t_resp_free(r);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = patch(in, "\"1\"", bad[i].body, true);
		problem(r, 422, "validation");
		ck_assert_msg(strstr(r->body, bad[i].field), "%s: %s", bad[i].body, r->body);
		t_resp_free(r);
	}
	memset(note, 'n', 5001);
	{
		char *body = fmt("{\"note\":\"%s\"}", note);

		r = patch(in, "\"1\"", body, true);
		problem(r, 422, "validation");
		t_resp_free(r);
		free(body);
	}
	r = patch(in, NULL, "{\"state\":\"accepted\"}", true);
	problem(r, 428, "precondition-required");
	t_resp_free(r);
	r = patch(in, "\"7\"", "{\"state\":\"accepted\"}", false);
	problem(r, 412, "precondition-failed");
	t_resp_free(r);
	/* straight to the API: Prism answers malformed JSON itself */
	r = t_http(&api, "PATCH", path, cochair, "application/json", "{\"state\":", 9, "If-Match: \"1\"");
	problem(r, 400, "malformed-json");
	t_resp_free(r);
	r = req(false, "PATCH", path, who_lead, "{\"state\":\"accepted\"}", "If-Match: \"1\"");
	problem(r, 403, "forbidden");
	t_resp_free(r);
	r = patch(999999, "\"1\"", "{\"state\":\"accepted\"}", false);
	problem(r, 404, "not-found");
	t_resp_free(r);
	/* nothing moved */
	r = get(path, cochair);
	ck_assert_str_eq(r->body, before);
	t_resp_free(r);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM audit"), audits);
	/* a good one: 200, a new version, an audit row per change */
	r = patch(in, "\"1\"", "{\"state\":\"partly_accepted\",\"pillars\":[4,2],\"actions\":[3],"
				"\"public_answer\":\"Part of it shapes pillar 4.\",\"note\":\"Follow up.\"}", false);
	ck_assert_msg(r->status == 200, "%s", r->body);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "state")), "partly_accepted");
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "version")), "2");
	ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(r->json, "pillars"), 0)), 2);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "actions")), 1);
	t_resp_free(r);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM audit"), audits + 4);
	/* the same again changes nothing: same version, no audit row */
	r = patch(in, "\"2\"", "{\"state\":\"partly_accepted\",\"pillars\":[2,4],\"actions\":[3]}", false);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "version")), "2");
	t_resp_free(r);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM audit"), audits + 4);
	/* null clears the answer; a pillar dropped leaves one audit row */
	r = patch(in, "\"2\"", "{\"public_answer\":null,\"pillars\":[4]}", false);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "public_answer")), "");
	t_resp_free(r);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM audit"), audits + 6);
	free(before);
	free(note);
}
END_TEST

/* Does action 2 show the input, on its page and in the lists of actions
 * (all, and its pillar's), as one API process or the other answers? */
static bool action_shows(const struct server *s, const char *token, long input)
{
	static const char *const paths[] = { "/v1/actions/2", "/v1/actions?pillar=1", "/v1/actions" };
	int shown = 0;

	for (int k = 0; k < 3; k++) {
		struct resp *r = t_get(s, paths[k], token);
		json_t *a = r->json, *v;
		size_t i;

		ck_assert_int_eq(r->status, 200);
		if (k) /* the item of action 2 */
			json_array_foreach(json_object_get(r->json, "items"), i, v)
				if (json_integer_value(json_object_get(v, "id")) == 2)
					a = v;
		json_array_foreach(json_object_get(a, "inputs"), i, v)
			shown += json_integer_value(json_object_get(v, "id")) == input;
		t_resp_free(r);
	}
	ck_assert_msg(shown == 0 || shown == 3, "action 2 shows the input in %d of 3 reads", shown);
	return shown == 3;
}

START_TEST(linked_inputs_show_on_the_action_at_once)
{
	long in = input_new("Publish case studies from country teams", "Eve Ross", "eve.ross@example.org",
			    "Ross Foundation", "ngo", "en", "GB", "Case studies.");
	struct server other;
	struct resp *r;
	long long deadline;
	json_t *first;

	/* a second API process on the same database, its cache warm */
	t_server_start(&other, db);
	t_cache_listening(&other);
	t_cache_listening(&api);
	ck_assert(!action_shows(&srv, viewer, in));
	ck_assert(!action_shows(&srv, viewer, in));
	ck_assert(!action_shows(&other, viewer, in));
	triage(in, "{\"pillars\":[1],\"actions\":[2]}");
	/* the process that took the write shows it on the next read */
	ck_assert(action_shows(&srv, viewer, in));
	r = get("/v1/actions/2", viewer);
	first = json_array_get(json_object_get(r->json, "inputs"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(first, "id")), in);
	ck_assert_str_eq(json_string_value(json_object_get(first, "title")), "Publish case studies from country teams");
	ck_assert(json_is_string(json_object_get(first, "receipt")));
	ck_assert_int_eq(json_object_size(first), 3);
	ck_assert(!has(r, "eve.ross@example.org") && !has(r, "Eve Ross") && !has(r, "Ross Foundation"));
	t_resp_free(r);
	/* the other one within a notification */
	for (deadline = t_ms() + 3000; !action_shows(&other, viewer, in) && t_ms() < deadline;)
		usleep(20000);
	ck_assert(action_shows(&other, viewer, in));
	/* unlinked: gone at once */
	triage(in, "{\"actions\":[]}");
	ck_assert(!action_shows(&srv, viewer, in));
	for (deadline = t_ms() + 3000; action_shows(&other, viewer, in) && t_ms() < deadline;)
		usleep(20000);
	ck_assert(!action_shows(&other, viewer, in));
	t_server_stop(&other);
}
END_TEST

START_TEST(the_csv_shows_contacts_only_when_asked_and_the_asking_is_audited)
{
	long in = input_new("CSV contacts", "Fay Wong", "fay.wong@example.org", "Wong Institute", "academia", "zh",
			    "CN", "Text for the CSV.");
	char *path = fmt("/v1/consultations/%ld/inputs.csv", call), *with = fmt("%s?contacts=true", path);
	char *row = fmt("\r\n%ld,", in);
	long exports = t_sql_long(db, "SELECT count(*) FROM audit WHERE op = 'EXPORT'");
	struct resp *r = get(path, cochair);
	char *disposition, *actor;

	ck_assert_int_eq(r->status, 200);
	ck_assert(has(r, row) && has(r, "Text for the CSV."));
	ck_assert(!has(r, "Fay Wong") && !has(r, "fay.wong@example.org") && !has(r, "Wong Institute"));
	ck_assert(!has(r, ",email") && !has(r, ",name"));
	disposition = t_header(r, "Content-Disposition");
	ck_assert(disposition && !strncmp(disposition, "attachment;", 11));
	free(disposition);
	t_resp_free(r);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM audit WHERE op = 'EXPORT'"), exports);
	r = get(with, cochair);
	ck_assert_int_eq(r->status, 200);
	ck_assert(has(r, "Fay Wong") && has(r, "fay.wong@example.org") && has(r, "Wong Institute"));
	ck_assert(has(r, ",name,organisation,email\r\n"));
	t_resp_free(r);
	/* who, which call, how many: never the data */
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM audit WHERE op = 'EXPORT'"), exports + 1);
	actor = t_sql(db, "SELECT actor || ' ' || row_key || ' ' || (after->>'contacts') FROM audit"
			  " WHERE op = 'EXPORT' ORDER BY id DESC LIMIT 1");
	{
		char *member = t_sql(db, "SELECT id FROM member WHERE email = 'cochair@ohchr.org'");
		char *want = fmt("member:%s %ld true", member, call);

		ck_assert_str_eq(actor, want);
		free(want);
		free(member);
	}
	free(actor);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM audit WHERE op = 'EXPORT'"
				    " AND after::text LIKE '%fay.wong%'"), 0);
	/* the audit trail shows it to co-chairs */
	r = get("/v1/audit?limit=500", cochair);
	ck_assert(has(r, "\"op\":\"EXPORT\""));
	t_resp_free(r);
	/* leads and viewers get no CSV */
	r = get(with, who_lead);
	problem(r, 403, "forbidden");
	t_resp_free(r);
	r = get(path, viewer);
	problem(r, 403, "forbidden");
	t_resp_free(r);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM audit WHERE op = 'EXPORT'"), exports + 1);
	free(path);
	free(with);
	free(row);
}
END_TEST

START_TEST(csv_cells_never_run_as_formulas)
{
	static const char *const hostile[] = { "=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3",
					       "@SUM(A1)", "\tcmd", "\r=1" };
	char *path = fmt("/v1/consultations/%ld/inputs.csv?contacts=true", call);
	long ids[6];
	struct resp *r;

	for (int i = 0; i < 6; i++) {
		char email[64];

		snprintf(email, sizeof email, "formula%d@example.org", i);
		ids[i] = input_new(hostile[i], hostile[i], email, hostile[i], "other", "en", NULL, hostile[i]);
		triage(ids[i], "{\"public_answer\":\"=cmd|' /C calc'!A0\"}");
	}
	r = get(path, cochair);
	ck_assert_int_eq(r->status, 200);
	for (int i = 0; i < 6; i++) {
		char *bare = fmt(",%s", hostile[i]), *quoted_bare = fmt(",\"%s", hostile[i]);
		char *safe = fmt(",\"'%s", hostile[i][0] == '=' ? "=HYPERLINK(\"\"http" : hostile[i]);

		/* every cell of it (title, text, name, organisation) starts with ' */
		ck_assert_msg(!has(r, bare) && !has(r, quoted_bare), "%s reached a cell as is", hostile[i]);
		ck_assert_msg(has(r, safe), "%s is not neutralised", hostile[i]);
		free(bare);
		free(quoted_bare);
		free(safe);
	}
	ck_assert(!has(r, ",=cmd") && !has(r, ",\"=cmd") && has(r, ",\"'=cmd|"));
	t_resp_free(r);
	free(path);
}
END_TEST

/* Asks for a report and waits until it is built; its document. */
static json_t *build(const char *body)
{
	struct resp *r = req(false, "POST", "/v1/reports", cochair, body, NULL);
	char *loc = t_header(r, "Location");
	json_t *doc = NULL;
	long long deadline = t_ms() + 180000;

	ck_assert_msg(r->status == 202, "%s", r->body);
	t_resp_free(r);
	while (!doc && t_ms() < deadline) {
		r = t_get(&srv, loc, viewer);
		ck_assert_msg(strcmp(json_string_value(json_object_get(r->json, "state")), "failed"),
			      "the report failed: %s", r->body);
		if (!strcmp(json_string_value(json_object_get(r->json, "state")), "done"))
			doc = json_incref(r->json);
		t_resp_free(r);
		if (!doc)
			usleep(100000);
	}
	free(loc);
	ck_assert_msg(doc != NULL, "the report was not built in time");
	return doc;
}

static struct resp *file_of(json_t *report, const char *format)
{
	json_t *a;
	size_t i;

	json_array_foreach(json_object_get(report, "artifacts"), i, a)
		if (!strcmp(json_string_value(json_object_get(a, "format")), format)) {
			/* straight from the API: Prism reads bodies as text */
			struct resp *r = t_get(&api, json_string_value(json_object_get(a, "url")), viewer);

			ck_assert_int_eq(r->status, 200);
			return r;
		}
	ck_abort_msg("no %s file", format);
	return NULL;
}

/* word/document.xml of a .docx (unzip), and its file list. */
static char *docx_part(const struct resp *r, const char *member)
{
	char path[600], cmd[800], *out = calloc(1, 4 << 20);
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "%s/triage-%d.docx", getenv("WORKPLAN_TEST_LOGDIR"), (int)getpid());
	f = fopen(path, "w");
	ck_assert_uint_eq(fwrite(r->body, 1, r->len, f), r->len);
	fclose(f);
	snprintf(cmd, sizeof cmd, "unzip -%s '%s' %s", member ? "p" : "l", path, member ? member : "");
	f = t_popen(cmd);
	n = fread(out, 1, (4 << 20) - 1, f);
	out[n] = '\0';
	ck_assert_int_eq(pclose(f), 0);
	return out;
}

/* Personal data of the inputs made below: none may reach a report. */
static const char *const personal[] = { "Gil Marsh", "gil.marsh@example.org", "Marsh Collective",
					"Private note for co-chairs", "192.0.2.7", NULL };

static void assert_nothing_personal(const char *text, size_t len, const char *what)
{
	for (int i = 0; personal[i]; i++)
		ck_assert_msg(!memmem(text, len, personal[i], strlen(personal[i])), "%s shows %s", what, personal[i]);
}

#define HOSTILE_TITLE "<script>alert(1)</script> [click](javascript:alert(2)) ![x](/etc/passwd)"
#define HOSTILE_ANSWER "```{=html}\n<img src=x onerror=alert(3)>\n```\n\\input{/etc/passwd} `system(\"id\")` $(touch /tmp/pwn) {{x}}"

START_TEST(the_consultation_report_in_every_format_is_inert_and_impersonal)
{
	long in = input_new(HOSTILE_TITLE, "Gil Marsh", "gil.marsh@example.org", "Marsh Collective", "ngo", "fr",
			    "KE", "Signed text.");
	long other = input_new("Plain idea", "Hal Plain", "hal.plain@example.org", "", "member_state", "en", "FR",
			       "Idea.");
	char *body, *body_in, *html, *md, *csv, *docx, *json;
	json_t *rep, *snap;
	struct resp *r;

	body_in = fmt("{\"state\":\"accepted\",\"pillars\":[1,6],\"actions\":[1],\"public_answer\":%s,"
		      "\"note\":\"Private note for co-chairs\"}", "\"```{=html}\\n<img src=x onerror=alert(3)>\\n```"
		      "\\n\\\\input{/etc/passwd} `system(\\\"id\\\")` $(touch /tmp/pwn) {{x}}\"");
	triage(in, body_in);
	free(body_in);
	triage(other, "{\"state\":\"declined\",\"public_answer\":\"Out of scope.\"}");
	/* refusals first */
	body = fmt("{\"kind\":\"consultation\"}");
	r = req(true, "POST", "/v1/reports", cochair, body, NULL);
	problem(r, 422, "validation");
	ck_assert(has(r, "\"consultation\""));
	t_resp_free(r);
	free(body);
	body = fmt("{\"kind\":\"consultation\",\"consultation\":%ld,\"audience\":\"internal\"}", call);
	r = req(true, "POST", "/v1/reports", cochair, body, NULL);
	problem(r, 422, "validation");
	ck_assert(has(r, "\"audience\""));
	t_resp_free(r);
	free(body);
	r = req(true, "POST", "/v1/reports", cochair, "{\"kind\":\"consultation\",\"consultation\":999999}", NULL);
	problem(r, 422, "validation");
	ck_assert(has(r, "\"consultation\""));
	t_resp_free(r);
	body = fmt("{\"kind\":\"quarterly\",\"period\":\"2021-Q3\",\"consultation\":%ld}", call);
	r = req(true, "POST", "/v1/reports", cochair, body, NULL);
	problem(r, 422, "validation");
	t_resp_free(r);
	free(body);
	r = req(false, "POST", "/v1/reports", who_lead, "{\"kind\":\"consultation\",\"consultation\":1}", NULL);
	problem(r, 403, "forbidden");
	t_resp_free(r);

	body = fmt("{\"kind\":\"consultation\",\"consultation\":%ld}", call);
	rep = build(body);
	free(body);
	ck_assert_str_eq(json_string_value(json_object_get(rep, "kind")), "consultation");
	ck_assert_str_eq(json_string_value(json_object_get(rep, "audience")), "public");
	ck_assert_int_eq(json_integer_value(json_object_get(rep, "consultation")), call);
	ck_assert_int_eq(json_array_size(json_object_get(rep, "artifacts")), 5);

	/* JSON: the snapshot; counts by type, language, country; by pillar */
	r = file_of(rep, "json");
	snap = json_loadb(r->body, r->len, 0, NULL);
	ck_assert_ptr_nonnull(snap);
	body = fmt("SELECT count(*) FROM consultation_input WHERE consultation_id = %ld", call);
	ck_assert_int_eq(json_integer_value(json_object_get(snap, "inputs")), t_sql_long(db, body));
	free(body);
	ck_assert(has(r, "\"by_contributor_type\"") && has(r, "{\"value\":\"member_state\",\"inputs\":1}"));
	ck_assert(has(r, "{\"value\":\"KE\",\"inputs\":1}") && has(r, "\"by_language\":[") && has(r, "{\"value\":\"fr\","));
	ck_assert(has(r, "Out of scope."));
	json = strndup(r->body, r->len);
	assert_nothing_personal(r->body, r->len, "the JSON file");
	ck_assert(!has(r, "\"receipt\""));
	json_decref(snap);
	t_resp_free(r);

	/* HTML: every hostile character escaped, nothing of it live */
	r = file_of(rep, "html");
	html = strndup(r->body, r->len);
	assert_nothing_personal(r->body, r->len, "the HTML file");
	ck_assert_msg(!strstr(html, "<script") && !strstr(html, "<img") && !strstr(html, "onerror=alert(3)>") &&
		      !strstr(html, "href=\"javascript") && !strstr(html, "src=\"/etc/passwd"),
		      "hostile text is live in the HTML: %s", html);
	ck_assert(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	ck_assert(strstr(html, "Key actions the inputs led to"));
	ck_assert(strstr(html, "Online comprehensive training targeting UN staff at field level"));
	t_resp_free(r);

	/* Markdown: punctuation escaped, so no link, image or raw block */
	r = file_of(rep, "md");
	md = strndup(r->body, r->len);
	assert_nothing_personal(r->body, r->len, "the Markdown file");
	ck_assert_msg(strstr(md, "\\<script\\>") && strstr(md, "\\[click\\]\\(javascript") &&
		      strstr(md, "\\!\\[x\\]") && strstr(md, "\\`\\`\\`\\{\\=html\\}") && !strstr(md, "](javascript"),
		      "hostile Markdown not escaped: %s", md);
	t_resp_free(r);

	/* Word: the text as text, no hyperlink, no image from it */
	r = file_of(rep, "docx");
	docx = docx_part(r, "word/document.xml");
	assert_nothing_personal(docx, strlen(docx), "the Word file");
	ck_assert(strstr(docx, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	ck_assert(!strstr(docx, "<w:hyperlink"));
	free(docx);
	docx = docx_part(r, NULL);
	ck_assert_msg(!strstr(docx, "word/media/"), "the Word file took in a file: %s", docx);
	free(docx);
	t_resp_free(r);

	/* CSV: one row per input and pillar, cells safe for spreadsheets */
	r = file_of(rep, "csv");
	csv = strndup(r->body, r->len);
	assert_nothing_personal(r->body, r->len, "the CSV file");
	ck_assert(strstr(csv, "pillar,pillar_name,input_id,title,state,public_answer,action_ids\r\n"));
	{
		char *p1 = fmt("1,Leave No One Behind,%ld,", in), *p6 = fmt("6,Knowledge Hub,%ld,", in);
		char *none = fmt("\r\n,,%ld,Plain idea,declined,Out of scope.,\r\n", other);

		ck_assert_msg(strstr(csv, p1) && strstr(csv, p6) && strstr(csv, none), "%s", csv);
		free(p1);
		free(p6);
		free(none);
	}
	t_resp_free(r);
	free(html);
	free(md);
	free(csv);
	free(json);
	json_decref(rep);
}
END_TEST

START_TEST(the_outcome_is_public_once_published_and_never_personal)
{
	char *outcome = fmt("/v1/public/consultations/%ld/outcome", call), *body;
	long in = input_new("Outcome idea", "Ida Stone", "ida.stone@example.org", "Stone Org", "un_entity", "ar",
			    "JO", "Stone text.");
	json_t *rep, *v;
	struct resp *r;
	size_t i;
	bool found = false;

	triage(in, "{\"state\":\"accepted\",\"public_answer\":\"Adopted as a key action.\","
		   "\"note\":\"Ida called twice\",\"actions\":[4]}");
	r = get(outcome, NULL);
	problem(r, 404, "not-found");
	t_resp_free(r);
	body = fmt("{\"kind\":\"consultation\",\"consultation\":%ld,\"formats\":[\"json\"]}", call);
	rep = build(body);
	free(body);
	/* built is not published */
	r = get(outcome, NULL);
	problem(r, 404, "not-found");
	t_resp_free(r);
	body = fmt("/v1/reports/%lld/publish", (long long)json_integer_value(json_object_get(rep, "id")));
	r = req(false, "POST", body, cochair, NULL, NULL);
	ck_assert_msg(r->status == 200, "%s", r->body);
	t_resp_free(r);
	free(body);
	r = get(outcome, NULL);
	ck_assert_msg(r->status == 200, "%s", r->body);
	json_array_foreach(json_object_get(r->json, "inputs"), i, v) {
		if (json_integer_value(json_object_get(v, "id")) != in)
			continue;
		found = true;
		ck_assert_str_eq(json_string_value(json_object_get(v, "title")), "Outcome idea");
		ck_assert_str_eq(json_string_value(json_object_get(v, "state")), "accepted");
		ck_assert_str_eq(json_string_value(json_object_get(v, "public_answer")), "Adopted as a key action.");
	}
	ck_assert(found);
	ck_assert(!has(r, "Ida Stone") && !has(r, "ida.stone@example.org") && !has(r, "Stone Org") &&
		  !has(r, "Ida called twice") && !has(r, "Stone text.") && !has(r, "\"receipt\"") &&
		  !has(r, "@example.org"));
	t_resp_free(r);
	json_decref(rep);
	/* another call has published nothing */
	r = get("/v1/public/consultations/1/outcome", NULL);
	problem(r, 404, "not-found");
	t_resp_free(r);
	free(outcome);
}
END_TEST

/* Every row of every table of the database, as text (pg_dump). */
static char *dump(void)
{
	char cmd[1400], *out = calloc(1, 64 << 20);
	FILE *f;
	size_t n;

	snprintf(cmd, sizeof cmd, "pg_dump --data-only --no-owner '%s'", t_conninfo(db));
	f = t_popen(cmd);
	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, (64 << 20) - 1, f);
	out[n] = '\0';
	ck_assert_int_eq(pclose(f), 0);
	ck_assert_uint_gt(n, 1000);
	return out;
}

START_TEST(erasing_a_contact_leaves_it_nowhere_but_the_fact)
{
	static const char *const gone[] = { "Jo Erasmus", "jo.erasmus@example.org", "Erasmus Trust", NULL };
	long in = input_new("Please erase me later", "Jo Erasmus", "jo.erasmus@example.org", "Erasmus Trust", "ngo",
			    "en", "ZA", "An input whose sender asks to be forgotten.");
	char path[64], *all, *csv = fmt("/v1/consultations/%ld/inputs.csv?contacts=true", call), *sql;
	struct resp *r;

	/* the receipt went out: its text and an attempt's error name the address */
	sql = fmt("UPDATE outbox SET state = 'sent', attempts = 1, composed = jsonb_build_object('to',"
		  " 'Jo Erasmus <jo.erasmus@example.org>', 'subject', 'Your input', 'text', 'Dear Jo Erasmus')"
		  " WHERE input_id = %ld RETURNING id", in);
	free(t_sql(db, sql));
	free(sql);
	sql = fmt("INSERT INTO outbox_attempt (outbox_id, attempt, worker, started_at, duration_ms, outcome, error)"
		  " SELECT o.id, 1 + (SELECT count(*) FROM outbox_attempt a WHERE a.outbox_id = o.id), 'w', now(), 5,"
		  " 'retry', '450 <jo.erasmus@example.org> mailbox busy' FROM outbox o WHERE o.input_id = %ld"
		  " RETURNING id", in);
	free(t_sql(db, sql));
	free(sql);
	triage(in, "{\"state\":\"under_review\",\"note\":\"Asked by mail to be erased\"}");
	r = get(csv, cochair);
	ck_assert(has(r, "jo.erasmus@example.org"));
	t_resp_free(r);

	snprintf(path, sizeof path, "/v1/inputs/%ld/contact", in);
	r = req(false, "DELETE", path, who_lead, NULL, NULL);
	problem(r, 403, "forbidden");
	t_resp_free(r);
	r = req(false, "DELETE", "/v1/inputs/999999/contact", cochair, NULL, NULL);
	problem(r, 404, "not-found");
	t_resp_free(r);
	r = req(false, "DELETE", path, cochair, NULL, NULL);
	ck_assert_msg(r->status == 204, "%ld %s", r->status, r->body);
	t_resp_free(r);
	r = req(false, "DELETE", path, cochair, NULL, NULL);
	ck_assert_int_eq(r->status, 204);
	t_resp_free(r);

	/* the input keeps its content, not its sender */
	snprintf(path, sizeof path, "/v1/inputs/%ld", in);
	r = get(path, cochair);
	ck_assert_int_eq(r->status, 200);
	ck_assert(json_is_null(json_object_get(json_object_get(r->json, "contact"), "email")));
	ck_assert(json_is_string(json_object_get(r->json, "contact_erased_at")));
	ck_assert(has(r, "An input whose sender asks to be forgotten."));
	t_resp_free(r);
	r = get(csv, cochair);
	for (int i = 0; gone[i]; i++)
		ck_assert_msg(!has(r, gone[i]), "the CSV still shows %s", gone[i]);
	t_resp_free(r);
	r = get("/v1/outbox?limit=500", cochair);
	ck_assert_int_eq(r->status, 200);
	for (int i = 0; gone[i]; i++)
		ck_assert_msg(!has(r, gone[i]), "the outbox still shows %s", gone[i]);
	t_resp_free(r);
	/* nowhere in the database: inputs, audit trail, outbox, attempts */
	all = dump();
	for (int i = 0; gone[i]; i++)
		ck_assert_msg(!strstr(all, gone[i]), "the database still holds %s", gone[i]);
	free(all);
	/* but the audit trail keeps the fact: who erased what, when */
	sql = fmt("SELECT count(*) FROM audit WHERE table_name = 'consultation_input' AND row_key = '%ld'"
		  " AND op = 'UPDATE' AND before->>'contact_erased_at' IS NULL"
		  " AND after->>'contact_erased_at' IS NOT NULL AND before->>'email' = 'withheld'"
		  " AND after->'email' = 'null'::jsonb AND actor LIKE 'member:%%'", in);
	ck_assert_int_eq(t_sql_long(db, sql), 1);
	free(sql);
	/* and the receipt will never go out again */
	sql = fmt("SELECT count(*) FROM outbox WHERE input_id = %ld AND data = '{}' AND composed IS NULL", in);
	ck_assert_int_eq(t_sql_long(db, sql), 1);
	free(sql);
	free(csv);
}
END_TEST

START_TEST(an_unsent_receipt_of_an_erased_contact_is_never_sent)
{
	long in = input_new("Erased before the mail went", "Kim Lee", "kim.lee@example.org", "", "individual",
			    "en", NULL, "Quick.");
	char path[64], *sql;
	struct resp *r;

	sql = fmt("UPDATE outbox SET state = 'held' WHERE input_id = %ld RETURNING id", in);
	free(t_sql(db, sql));
	free(sql);
	snprintf(path, sizeof path, "/v1/inputs/%ld/contact", in);
	r = req(false, "DELETE", path, cochair, NULL, NULL);
	ck_assert_int_eq(r->status, 204);
	t_resp_free(r);
	sql = fmt("SELECT state FROM outbox WHERE input_id = %ld", in);
	{
		char *state = t_sql(db, sql);

		ck_assert_str_eq(state, "cancelled");
		free(state);
	}
	free(sql);
	/* a worker that claimed it before cannot write the address back */
	sql = fmt("UPDATE outbox SET state = 'sending', composed = '{\"to\":\"kim.lee@example.org\"}'"
		  " WHERE input_id = %ld RETURNING state || coalesce(composed::text, '')", in);
	{
		char *after = t_sql(db, sql);

		ck_assert_str_eq(after, "cancelled");
		free(after);
	}
	free(sql);
}
END_TEST

START_TEST(personal_data_never_reaches_a_webhook_or_a_log)
{
	long in = input_new("Webhook idea", "Lou Hook", "lou.hook@example.org", "Hook Org", "ngo", "en", "US",
			    "Hook text.");
	char *body, *sql, log[600], *text;
	json_t *rep;
	struct resp *r;
	FILE *f;
	size_t n;

	r = req(false, "POST", "/v1/webhooks", cochair,
		"{\"url\":\"http://127.0.0.1:9/hook\",\"events\":[\"update.created\",\"update.reviewed\","
		"\"report.done\",\"report.published\",\"reporting.overdue\"]}", NULL);
	ck_assert_msg(r->status == 201, "%s", r->body);
	t_resp_free(r);
	triage(in, "{\"state\":\"accepted\",\"pillars\":[1],\"actions\":[1],\"public_answer\":\"Yes.\"}");
	body = fmt("{\"kind\":\"consultation\",\"consultation\":%ld,\"formats\":[\"json\",\"csv\"]}", call);
	rep = build(body);
	free(body);
	body = fmt("/v1/reports/%lld/publish", (long long)json_integer_value(json_object_get(rep, "id")));
	r = req(false, "POST", body, cochair, NULL, NULL);
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	free(body);
	json_decref(rep);
	/* the report's events were written, and say nothing of who sent inputs */
	ck_assert_int_ge(t_sql_long(db, "SELECT count(*) FROM outbox WHERE channel = 'webhook'"
				    " AND kind IN ('report.done', 'report.published')"), 2);
	sql = fmt("SELECT count(*) FROM outbox WHERE channel = 'webhook' AND (data::text ~ '(Lou Hook|lou\\.hook|Hook Org)'"
		  " OR coalesce(composed::text, '') ~ '(Lou Hook|lou\\.hook|Hook Org)')");
	ck_assert_int_eq(t_sql_long(db, sql), 0);
	free(sql);
	/* nor does the API's or the worker's log */
	snprintf(log, sizeof log, "%s/api-%s.log", getenv("WORKPLAN_TEST_LOGDIR"), db);
	f = fopen(log, "r");
	ck_assert_ptr_nonnull(f);
	text = calloc(1, 32 << 20);
	n = fread(text, 1, (32 << 20) - 1, f);
	fclose(f);
	text[n] = '\0';
	ck_assert(strstr(text, "/v1/inputs/") != NULL);
	ck_assert(!strstr(text, "lou.hook@example.org") && !strstr(text, "Lou Hook"));
	free(text);
	ck_assert(!t_worker_log_has(worker, "lou.hook@example.org", 0) && !t_worker_log_has(worker, "Lou Hook", 0));
}
END_TEST

START_TEST(an_attachment_is_served_as_what_it_is_under_a_safe_name)
{
	long in = input_new("With a file", "Max File", "max.file@example.org", "", "academia", "en", "DE", "See file.");
	/* a name that tries to end the header's quotes and add a parameter,
	 * with a dot file's start, an accent and the wrong extension */
	char *sql = fmt("INSERT INTO consultation_attachment (input_id, file_name, media_type, size, sha256, bytes,"
			" created_at) VALUES (%ld, E'..\u00e9vil\"; name=x .html', 'application/pdf', 9,"
			" sha256(E'%%PDF-1.4\\n'::bytea), E'%%PDF-1.4\\n'::bytea, now()) RETURNING input_id", in);
	char path[64], *type, *disposition, *nosniff;
	struct resp *r;

	free(t_sql(db, sql));
	free(sql);
	snprintf(path, sizeof path, "/v1/inputs/%ld/attachment", in);
	r = get(path, cochair);
	ck_assert_int_eq(r->status, 200);
	ck_assert_uint_eq(r->len, 9);
	ck_assert(!memcmp(r->body, "%PDF-1.4\n", 9));
	type = t_header(r, "Content-Type");
	disposition = t_header(r, "Content-Disposition");
	nosniff = t_header(r, "X-Content-Type-Options");
	/* the type the content was found to be; a download, never a page */
	ck_assert_str_eq(type, "application/pdf");
	ck_assert_str_eq(nosniff, "nosniff");
	{
		char *csp = t_header(r, "Content-Security-Policy");

		ck_assert_msg(csp && strstr(csp, "sandbox"), "CSP: %s", csp ? csp : "none");
		free(csp);
	}
	ck_assert_str_eq(disposition,
			 "attachment; filename=\"vil_name_x_.pdf\"; filename*=UTF-8''%C3%A9vil_name_x_.pdf");
	free(type);
	free(disposition);
	free(nosniff);
	t_resp_free(r);
	/* the input shows the file as text */
	snprintf(path, sizeof path, "/v1/inputs/%ld", in);
	r = get(path, cochair);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r->json, "attachment"), "name")),
			 "..\xc3\xa9vil\"; name=x .html");
	t_resp_free(r);
	/* an input without a file */
	snprintf(path, sizeof path, "/v1/inputs/%ld/attachment", in - 1);
	r = get(path, cochair);
	problem(r, 404, "not-found");
	t_resp_free(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("triage");
	TCase *tc = tcase_create("triage");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, a_lead_reads_only_the_inputs_of_its_pillars);
	tcase_add_test(tc, triage_is_validated_and_a_refusal_changes_nothing);
	tcase_add_test(tc, linked_inputs_show_on_the_action_at_once);
	tcase_add_test(tc, the_csv_shows_contacts_only_when_asked_and_the_asking_is_audited);
	tcase_add_test(tc, csv_cells_never_run_as_formulas);
	tcase_add_test(tc, an_attachment_is_served_as_what_it_is_under_a_safe_name);
	tcase_add_test(tc, the_consultation_report_in_every_format_is_inert_and_impersonal);
	tcase_add_test(tc, the_outcome_is_public_once_published_and_never_personal);
	tcase_add_test(tc, erasing_a_contact_leaves_it_nowhere_but_the_fact);
	tcase_add_test(tc, an_unsent_receipt_of_an_erased_contact_is_never_sent);
	tcase_add_test(tc, personal_data_never_reaches_a_webhook_or_a_log);
	suite_add_tcase(s, tc);
	return t_run(s);
}
