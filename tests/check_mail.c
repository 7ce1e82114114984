/* Mail (SPEC 11): messages composed by lib/mail.c read right by a real
 * MIME parser (Python's email package, tests/tools/mailparse.py), hostile
 * names and addresses never reach a header, and the worker delivers the
 * outbox's mail to a real SMTP server (aiosmtpd, tests/tools/smtpd.py):
 * in the member's language, under a Message-ID a retry repeats, retried
 * on 4xx and no connection, failed on 5xx, held without a server. */
#include "harness.h"
#include "mail.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PUBLIC_URL "https://workplan.example.org"

static char db[64];
static char *cochair;

static void setup(void)
{
	t_db_create(db, sizeof db, true);
	cochair = t_member_token(db, "cochair@ohchr.org", "cochair", "OHCHR");
}

static void teardown(void)
{
	free(cochair);
}

/* ---- composition, without a database ---- */

/* Writes m composed into a file and parses it with mailparse.py. */
static json_t *parse_composed(const struct mail *m)
{
	char path[600], err[300];
	struct buf b;
	FILE *f;
	json_t *j;

	buf_init(&b, MAIL_MAX);
	ck_assert_msg(mail_compose(m, &b, err, sizeof err), "compose: %s", err);
	snprintf(path, sizeof path, "%s/composed-%d.eml", getenv("WORKPLAN_TEST_LOGDIR"), (int)getpid());
	f = fopen(path, "wb");
	ck_assert(f != NULL);
	fwrite(b.data, 1, b.len, f);
	fclose(f);
	buf_free(&b);
	j = t_mail_parse(path);
	unlink(path);
	return j;
}

static const char *header(json_t *mail, const char *name)
{
	return json_string_value(json_object_get(json_object_get(mail, "headers"), name));
}

static long header_count(json_t *mail, const char *name)
{
	return (long)json_integer_value(json_object_get(json_object_get(mail, "header_count"), name));
}

/* Well-formed: CRLF line ends, lines of at most 78 characters (but a
 * List-Unsubscribe URL, which cannot be folded), headers in
 * ASCII, no defect the parser found, one text/plain UTF-8 part. */
static void assert_well_formed(json_t *mail)
{
	ck_assert_msg(json_array_size(json_object_get(mail, "defects")) == 0, "defects: %s",
		      json_dumps(json_object_get(mail, "defects"), 0));
	ck_assert(json_is_true(json_object_get(mail, "crlf_only")));
	ck_assert(json_is_true(json_object_get(mail, "head_ascii")));
	ck_assert_int_le(json_integer_value(json_object_get(mail, "longest_line")), 78);
	ck_assert_int_le(json_integer_value(json_object_get(mail, "longest_any_line")), 998);
	ck_assert_str_eq(json_string_value(json_object_get(mail, "content_type")), "text/plain");
	ck_assert_str_eq(json_string_value(json_object_get(mail, "charset")), "utf-8");
	for (const char *const *h = (const char *const[]){ "date", "from", "to", "subject", "message-id",
							  "mime-version", NULL };
	     *h; h++)
		ck_assert_msg(header_count(mail, *h) == 1, "header %s: %ld", *h, header_count(mail, *h));
}

START_TEST(addresses_a_header_cannot_carry_are_refused)
{
	static const char *const good[] = { "a@b.org", "first.last+tag@sub.example.org", "x@localhost",
					     "o'brien@example.ie", NULL };
	static const char *const bad[] = { "a<b>@x.org", "a b@x.org", "a@b.org\r\nBcc: c@d.org", "a..b@x.org",
					   ".a@x.org", "a.@x.org", "a@", "@x.org", "a@x..org", "a@x_y.org",
					   "\"quoted\"@x.org", "zoë@example.org", "a@b.org>, <c@d.org", "a,b@x.org",
					   "", NULL };
	char err[200], local[80], longest[300];

	for (const char *const *a = good; *a; a++)
		ck_assert_msg(mail_address_ok(*a, err, sizeof err), "%s refused: %s", *a, err);
	for (const char *const *a = bad; *a; a++)
		ck_assert_msg(!mail_address_ok(*a, err, sizeof err), "%s accepted", *a);
	/* the local part at most 64, the whole at most 254 */
	memset(local, 'a', 65);
	snprintf(local + 65, sizeof local - 65, "@x.org");
	ck_assert(!mail_address_ok(local, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "64"));
	snprintf(local + 64, sizeof local - 64, "@x.org");
	ck_assert(mail_address_ok(local, err, sizeof err));
	memset(longest, 'd', sizeof longest);
	memcpy(longest, "a@", 2);
	memcpy(longest + 251, ".org", 5);
	ck_assert(!mail_address_ok(longest, err, sizeof err));
}
END_TEST

START_TEST(a_composed_message_is_well_formed_rfc_5322_and_mime)
{
	struct mail m = { .from = "Work Plan <workplan@example.org>", .to = "focal@unodc.org",
			  .to_name = "Focal Point", .subject = "Your sign-in link",
			  .text = "Hello,\n\nline two\n.\nA line with a lone dot above.\n",
			  .message_id = "0b7e5b1c-2b43-4d8f-9b6a-1d2f3e4a5b6c@workplan.example.org",
			  .language = "en", .date = 1634720400,
			  .list_unsubscribe = PUBLIC_URL "/v1/unsubscribe?member=1&list=reminders&sig=abc" };
	json_t *j = parse_composed(&m);

	assert_well_formed(j);
	ck_assert_str_eq(header(j, "subject"), "Your sign-in link");
	ck_assert_str_eq(header(j, "from"), "Work Plan <workplan@example.org>");
	ck_assert_str_eq(header(j, "to"), "Focal Point <focal@unodc.org>");
	ck_assert_str_eq(header(j, "message-id"), "<0b7e5b1c-2b43-4d8f-9b6a-1d2f3e4a5b6c@workplan.example.org>");
	ck_assert_str_eq(header(j, "date"), "Wed, 20 Oct 2021 09:00:00 +0000");
	ck_assert_str_eq(header(j, "list-unsubscribe"), "<" PUBLIC_URL "/v1/unsubscribe?member=1&list=reminders&sig=abc>");
	ck_assert_str_eq(header(j, "list-unsubscribe-post"), "List-Unsubscribe=One-Click");
	ck_assert_str_eq(header(j, "content-transfer-encoding"), "base64");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "body")), "A line with a lone dot above."));
	json_decref(j);
}
END_TEST

/* CR and LF in a display name or subject would start a header of the
 * attacker's (Bcc:) or end the headers; they reach the header as spaces,
 * inside one quoted string or encoded-word. Non-ASCII names and long
 * subjects come back from a real parser exactly as given. */
START_TEST(hostile_names_and_subjects_stay_inside_their_header)
{
	struct mail m = { .from = "workplan@example.org", .to = "eve@example.org",
			  .to_name = "Eve\r\nBcc: victim@example.org\r\n\r\nInjected body",
			  .subject = "Hi\r\nBcc: victim@example.org\nX-Evil: 1",
			  .text = "Body.", .message_id = "u@example.org", .date = 0 };
	char subject[400];
	json_t *j = parse_composed(&m);

	assert_well_formed(j);
	ck_assert_int_eq(header_count(j, "bcc"), 0);
	ck_assert_int_eq(header_count(j, "x-evil"), 0);
	ck_assert_int_eq(json_array_size(json_object_get(j, "to_addresses")), 1);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "to_addresses"), 0)), "eve@example.org");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "to_names"), 0)),
			 "Eve  Bcc: victim@example.org    Injected body");
	ck_assert_str_eq(header(j, "subject"), "Hi  Bcc: victim@example.org X-Evil: 1");
	ck_assert_str_eq(json_string_value(json_object_get(j, "body")), "Body.");
	json_decref(j);

	/* non-ASCII: RFC 2047 encoded-words, decoded back as written */
	m.to_name = "Zoë Ångström-Œuvre, \"Ça\" 日本語";
	m.subject = "Rapports pour 2021-Q3 : échéance dépassée — 14 actions clés à compléter d’ici le 15 octobre 2021";
	j = parse_composed(&m);
	assert_well_formed(j);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "to_names"), 0)), m.to_name);
	ck_assert_str_eq(header(j, "subject"), m.subject);
	json_decref(j);

	/* a long ASCII subject is folded, not cut */
	memset(subject, 'x', sizeof subject - 1);
	subject[sizeof subject - 1] = '\0';
	for (size_t i = 10; i < sizeof subject - 1; i += 11)
		subject[i] = ' ';
	m.subject = subject;
	m.to_name = "=?UTF-8?B?QmNjOiB4QHkub3Jn?=";
	j = parse_composed(&m);
	assert_well_formed(j);
	ck_assert_str_eq(header(j, "subject"), subject);
	/* a name that looks like an encoded-word is written as one, so it
	 * decodes to itself */
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "to_names"), 0)), m.to_name);
	json_decref(j);
}
END_TEST

START_TEST(an_impossible_address_is_refused_with_a_clear_error)
{
	struct mail m = { .from = "workplan@example.org", .to = "a>b@x.org", .subject = "s", .text = "t",
			  .message_id = "u@example.org" };
	char err[300];
	struct buf b;

	buf_init(&b, MAIL_MAX);
	ck_assert(!mail_compose(&m, &b, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "addressee"));
	m.to = "ok@example.org";
	m.from = "Bad <not an address>";
	ck_assert(!mail_compose(&m, &b, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "WORKPLAN_MAIL_FROM"));
	m.from = "workplan@example.org";
	m.message_id = "u@example.org>\r\nBcc: x@y.org";
	ck_assert(!mail_compose(&m, &b, err, sizeof err));
	buf_free(&b);
}
END_TEST

/* Both catalogues hold every text, with the same placeholders. */
START_TEST(the_catalogues_are_complete_in_english_and_french)
{
	json_t *en = mail_catalogue("en"), *fr = mail_catalogue("fr");
	const char *key;
	json_t *v;

	ck_assert_ptr_nonnull(en);
	ck_assert_ptr_nonnull(fr);
	ck_assert_int_eq(json_object_size(en), json_object_size(fr));
	json_object_foreach(en, key, v) {
		json_t *w = json_object_get(fr, key);

		ck_assert_msg(w != NULL, "fr lacks %s", key);
		if (json_is_object(v)) {
			const char *k2;
			json_t *v2;

			ck_assert_int_eq(json_object_size(v), json_object_size(w));
			json_object_foreach(v, k2, v2) {
				const char *a = json_string_value(v2), *b = json_string_value(json_object_get(w, k2));

				ck_assert_msg(a && b, "%s.%s", key, k2);
				/* every {placeholder} of the English is in the French */
				for (const char *p = strchr(a, '{'); p; p = strchr(p + 1, '{')) {
					char ph[64];

					snprintf(ph, sizeof ph, "%.*s", (int)(strcspn(p, "}") + 1), p);
					ck_assert_msg(strstr(b, ph), "fr %s.%s lacks %s", key, k2, ph);
				}
			}
		}
	}
	json_decref(en);
	json_decref(fr);
	{
		json_t *vars = json_pack("{s:s, s:s, s:s, s:[{s:i, s:i, s:s}]}", "name", "Zoë", "public_url",
					 PUBLIC_URL, "period", "2021-Q3", "actions", "id", 7, "pillar", 2,
					 "title", "Déclaration");
		char *subject, *body, err[200];

		ck_assert(mail_text("fr", "reminder-overdue", vars, true, &subject, &body, err, sizeof err));
		ck_assert_str_eq(subject, "Rapports pour 2021-Q3 : échéance dépassée");
		ck_assert_ptr_nonnull(strstr(body, "Bonjour Zoë,"));
		ck_assert_ptr_nonnull(strstr(body, "- n° 7, pilier 2 : Déclaration"));
		free(subject);
		free(body);
		ck_assert(!mail_text("fr", "no-such-kind", vars, false, &subject, &body, err, sizeof err));
		json_decref(vars);
	}
}
END_TEST

/* Mail leads people to the app's pages, never to the API's JSON, and shows
 * an expiry as a person reads it in their language. */
START_TEST(mail_links_to_the_app_and_shows_times_per_language)
{
	static const struct { const char *kind, *page; } links[] = {
		{ "update-returned", PUBLIC_URL "/actions/7\n" },
		{ "review-digest", PUBLIC_URL "/review\n" },
		{ "report-done", PUBLIC_URL "/reports\n" },
		{ "reminder-14-days", PUBLIC_URL "/reporting?period=2021-Q3\n" },
		{ "reminder-3-days", PUBLIC_URL "/reporting?period=2021-Q3\n" },
		{ "reminder-overdue", PUBLIC_URL "/reporting?period=2021-Q3\n" },
	};
	static const struct { const char *language, *when; } times[] = {
		{ "en", "until 3 December 2026, 14:05 UTC." },
		{ "fr", "expire le 3 décembre 2026 à 14:05 UTC." },
	};
	json_t *vars = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "name", "Zoë", "public_url", PUBLIC_URL,
				 "period", "2021-Q3", "action", 7, "url", PUBLIC_URL "/sign-in#wps_x",
				 "expires_at", "2026-12-03T14:05:00Z", "invited_by", "Ana");
	char *subject, *body, err[200];

	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
			ck_assert_msg(mail_text(times[l].language, links[i].kind, vars, true, &subject, &body, err,
						sizeof err), "%s", err);
			ck_assert_msg(strstr(body, links[i].page), "%s %s does not lead to %s: %s", times[l].language,
				      links[i].kind, links[i].page, body);
			ck_assert_msg(!strstr(body, "/v1/"), "%s %s leads to the API: %s", times[l].language,
				      links[i].kind, body);
			free(subject);
			free(body);
		}
		for (const char *const *k = (const char *const[]){ "sign-in", "invitation", NULL }; *k; k++) {
			ck_assert(mail_text(times[l].language, *k, vars, false, &subject, &body, err, sizeof err));
			ck_assert_msg(strstr(body, times[l].when), "%s %s: %s", times[l].language, *k, body);
			ck_assert_msg(!strstr(body, "2026-12-03T"), "%s %s shows RFC 3339: %s", times[l].language, *k,
				      body);
			free(subject);
			free(body);
		}
	}
	json_decref(vars);
}
END_TEST

/* ---- delivery through the worker ---- */

static long long add_member(const char *name_sql, const char *email, const char *entity, const char *language)
{
	char sql[1200];

	snprintf(sql, sizeof sql,
		 "INSERT INTO member (name, email, entity, role, language) VALUES (%s, '%s', '%s', 'lead', '%s')"
		 " RETURNING id",
		 name_sql, email, entity, language);
	return t_sql_long(db, sql);
}

static long long add_mail(long long member, const char *kind, const char *data)
{
	char sql[1200];

	snprintf(sql, sizeof sql, "SELECT outbox_mail(%lld, '%s', '%s'::jsonb, now())", member, kind, data);
	return t_sql_long(db, sql);
}

static char *outbox_col(long long id, const char *col)
{
	char sql[300];

	snprintf(sql, sizeof sql, "SELECT %s FROM outbox WHERE id = %lld", col, id);
	return t_sql(db, sql);
}

/* Waits up to ms for the message's state to be one of states ("sent|held"). */
static bool wait_state(long long id, const char *states, int ms)
{
	long long end = t_ms() + ms;
	char want[64];

	snprintf(want, sizeof want, "|%s|", states);
	do {
		char *s = outbox_col(id, "state"), have[32];
		bool ok;

		snprintf(have, sizeof have, "|%s|", s ? s : "");
		ok = strstr(want, have) != NULL;
		free(s);
		if (ok)
			return true;
		usleep(20000);
	} while (t_ms() < end);
	return false;
}

static pid_t worker(const struct smtpd *m, const char *now)
{
	static char url[64], at[64];
	const char *env[] = { url, "WORKPLAN_PUBLIC_URL=" PUBLIC_URL,
			      "WORKPLAN_MAIL_FROM=Work Plan <workplan@example.org>", at, NULL };

	snprintf(url, sizeof url, "WORKPLAN_SMTP_URL=smtp://127.0.0.1:%d", m ? m->port : 1);
	snprintf(at, sizeof at, "WORKPLAN_NOW=%s", now ? now : "");
	if (!now)
		env[3] = NULL;
	if (!m)
		env[0] = "WORKPLAN_SMTP_URL=";
	return t_worker_start(db, env);
}

START_TEST(a_french_member_gets_a_well_formed_utf8_mail_and_the_link_is_forgotten)
{
	struct smtpd m;
	long long who = add_member("'Zoë Éléonore'", "zoe@unodc.org", "UNODC", "fr");
	long long id = add_mail(who, "sign-in",
				"{\"url\":\"" PUBLIC_URL "/sign-in#wps_secretsecretsecret\",\"expires_at\":\"2026-12-03T07:00:00Z\"}");
	char *uid = outbox_col(id, "uid"), mid[200], *env, *s;
	json_t *j;
	pid_t w;

	t_smtpd_start(&m, 0);
	w = worker(&m, NULL);
	ck_assert(wait_state(id, "sent", 20000));
	ck_assert_int_eq(t_smtpd_wait(&m, 1, 5000), 1);
	j = t_smtpd_mail(&m, 1);
	assert_well_formed(j);
	ck_assert_str_eq(header(j, "subject"), "Votre lien de connexion");
	ck_assert_str_eq(header(j, "to"), "Zoë Éléonore <zoe@unodc.org>");
	ck_assert_str_eq(header(j, "from"), "Work Plan <workplan@example.org>");
	ck_assert_str_eq(header(j, "content-language"), "fr");
	snprintf(mid, sizeof mid, "<%s@workplan.example.org>", uid);
	ck_assert_str_eq(header(j, "message-id"), mid);
	/* no unsubscribe on a sign-in link */
	ck_assert_int_eq(header_count(j, "list-unsubscribe"), 0);
	s = (char *)json_string_value(json_object_get(j, "body"));
	ck_assert_ptr_nonnull(strstr(s, "Bonjour Zoë Éléonore,"));
	ck_assert_ptr_nonnull(strstr(s, "Ouvrez ce lien pour vous connecter"));
	ck_assert_ptr_nonnull(strstr(s, "expire le 3 décembre 2026 à 07:00 UTC."));
	ck_assert_ptr_nonnull(strstr(s, PUBLIC_URL "/sign-in#wps_secretsecretsecret"));
	env = t_smtpd_envelope(&m, 1);
	ck_assert_str_eq(env, "workplan@example.org\nzoe@unodc.org\n");
	free(env);
	json_decref(j);
	/* sent: the link is a secret no longer needed, gone from what is stored */
	s = outbox_col(id, "data::text || coalesce(composed::text, '')");
	ck_assert_ptr_null(strstr(s, "wps_secret"));
	free(s);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM outbox_attempt WHERE outcome = 'sent'"), 1);
	t_worker_stop(w, SIGTERM);
	t_smtpd_stop(&m);
	free(uid);
}
END_TEST

/* A worker killed after the server took the message and before it
 * recorded so: the message goes again when its lease runs out, as the
 * same bytes under the same Message-ID, for the receiver to deduplicate. */
START_TEST(a_retry_after_a_crash_sends_the_same_message_id_and_bytes)
{
	struct smtpd m;
	long long who = add_member("'Focal Point'", "focal@unodc.org", "UNODC", "en");
	long long id = add_mail(who, "report-done",
				"{\"report\":7,\"kind\":\"quarterly\",\"period\":\"2021-Q3\",\"path\":\"/v1/reports/7\"}");
	char *first, *second, *state, later[32];
	time_t t = time(NULL) + 120;
	json_t *a, *b;
	pid_t w;

	t_smtpd_start(&m, 0);
	t_smtpd_flag(&m, "slow", true);
	w = worker(&m, NULL);
	ck_assert_int_eq(t_smtpd_wait(&m, 1, 20000), 1);
	t_worker_stop(w, SIGKILL);
	state = outbox_col(id, "state");
	ck_assert_str_eq(state, "sending");
	free(state);
	t_smtpd_flag(&m, "slow", false);
	/* two minutes on: the 60 s lease has run out */
	strftime(later, sizeof later, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	w = worker(&m, later);
	ck_assert(wait_state(id, "sent", 20000));
	ck_assert_int_eq(t_smtpd_count(&m), 2);
	first = t_smtpd_raw(&m, 1);
	second = t_smtpd_raw(&m, 2);
	ck_assert_str_eq(first, second);
	a = t_smtpd_mail(&m, 1);
	b = t_smtpd_mail(&m, 2);
	ck_assert_str_eq(header(a, "message-id"), header(b, "message-id"));
	assert_well_formed(a);
	/* the Reports page of the app, where its files are */
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(a, "body")), PUBLIC_URL "/reports"));
	ck_assert_ptr_null(strstr(json_string_value(json_object_get(a, "body")), "/v1/"));
	ck_assert_int_eq(t_sql_long(db, "SELECT attempts FROM outbox"), 2);
	/* composed again from scratch (a worker killed before it stored what
	 * it composed), it is still the same bytes */
	free(t_sql(db, "UPDATE outbox SET state = 'queued', composed = NULL, due_at = NULL"));
	ck_assert(wait_state(id, "sent", 20000));
	ck_assert_int_eq(t_smtpd_wait(&m, 3, 5000), 3);
	free(second);
	second = t_smtpd_raw(&m, 3);
	ck_assert_str_eq(first, second);
	json_decref(a);
	json_decref(b);
	free(first);
	free(second);
	t_worker_stop(w, SIGTERM);
	t_smtpd_stop(&m);
}
END_TEST

/* Runs a worker at start, then at each due time in turn, for attempts
 * from to n of the message; the worker is stopped after each. */
static void attempts_until(const struct smtpd *m, long long id, int from, int n, const char *start)
{
	char now[40];

	snprintf(now, sizeof now, "%s", start);
	for (int k = from; k <= n; k++) {
		char sql[300], *due;
		pid_t w = worker(m, now);
		long long end = t_ms() + 60000; /* a worker starting on a loaded machine */

		snprintf(sql, sizeof sql,
			 "SELECT count(*) FROM outbox WHERE id = %lld AND state <> 'sending' AND attempts = %d", id, k);
		while (t_sql_long(db, sql) == 0 && t_ms() < end)
			usleep(20000);
		t_worker_stop(w, SIGTERM);
		ck_assert_msg(t_sql_long(db, sql) == 1, "attempt %d did not happen", k);
		/* the next attempt's time, and a second more */
		due = outbox_col(id, "to_char((due_at + interval '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
		if (due)
			snprintf(now, sizeof now, "%s", due);
		free(due);
	}
}

START_TEST(a_temporary_refusal_is_retried_on_schedule_then_failed_never_doubled)
{
	struct smtpd m;
	long long who = add_member("'Temp'", "tempfail@example.org", "WHO", "en");
	long long id = add_mail(who, "report-done",
				"{\"report\":1,\"kind\":\"quarterly\",\"period\":\"2021-Q3\",\"path\":\"/v1/reports/1\"}");
	char *s;

	t_smtpd_start(&m, 0);
	/* the schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then failed (on
	 * days with no reminder due, so this is the only mail) */
	attempts_until(&m, id, 1, 7, "2021-11-20T09:00:00Z");
	s = outbox_col(id, "state || ' ' || last_error");
	ck_assert_msg(strstr(s, "failed SMTP answered 451"), "%s", s);
	free(s);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM outbox_attempt WHERE outcome = 'retry'"), 6);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM outbox_attempt WHERE outcome = 'failed'"), 1);
	/* the waits between attempts: 5 s, 5 min, ... each with at most 10 % more */
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM (SELECT started_at - lag(started_at) OVER (ORDER BY attempt) AS gap,"
					" attempt FROM outbox_attempt) g WHERE attempt > 1 AND (gap < (ARRAY[5, 300, 1800, 7200, 18000, 36000])[attempt - 1] * interval '1 second'"
					" OR gap > (ARRAY[5, 300, 1800, 7200, 18000, 36000])[attempt - 1] * interval '1.1 second' + interval '30 seconds')"),
			 0);
	ck_assert_int_eq(t_smtpd_count(&m), 0);
	t_smtpd_stop(&m);
}
END_TEST

/* No server listening: retried; once it listens, sent once. */
START_TEST(smtp_down_is_retried_and_the_mail_then_sent_once)
{
	struct smtpd m = { .port = t_free_port() };
	long long who = add_member("'Focal'", "focal@who.int", "WHO", "en");
	long long id = add_mail(who, "report-done",
				"{\"report\":1,\"kind\":\"quarterly\",\"period\":\"2021-Q3\",\"path\":\"/v1/reports/1\"}");
	char *s;

	attempts_until(&m, id, 1, 1, "2021-11-20T09:00:00Z");
	s = outbox_col(id, "state || ' ' || last_error");
	ck_assert_msg(!strncmp(s, "queued SMTP: ", 13), "%s", s);
	free(s);
	t_smtpd_start(&m, m.port);
	s = outbox_col(id, "to_char((due_at + interval '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
	attempts_until(&m, id, 2, 2, s);
	free(s);
	ck_assert(wait_state(id, "sent", 20000));
	ck_assert_int_eq(t_smtpd_wait(&m, 1, 5000), 1);
	ck_assert_int_eq(t_sql_long(db, "SELECT attempts FROM outbox"), 2);
	t_smtpd_stop(&m);
}
END_TEST

START_TEST(a_permanent_refusal_fails_at_once)
{
	struct smtpd m;
	long long who = add_member("'Nobody'", "reject@example.org", "WHO", "en");
	long long id = add_mail(who, "report-done",
				"{\"report\":1,\"kind\":\"quarterly\",\"period\":\"2021-Q3\",\"path\":\"/v1/reports/1\"}");
	char *s;
	pid_t w;

	t_smtpd_start(&m, 0);
	w = worker(&m, NULL);
	ck_assert(wait_state(id, "failed", 20000));
	s = outbox_col(id, "attempts || ' ' || last_error");
	ck_assert_msg(!strncmp(s, "1 SMTP answered 550", 19), "%s", s);
	free(s);
	t_worker_stop(w, SIGTERM);
	t_smtpd_stop(&m);
}
END_TEST

/* Hostile members: a name with quotes, angle brackets and commas reaches
 * one To header as one display name, and one recipient; an address no header can carry fails with a clear error; an
 * inactive member's mail is cancelled. Nothing crashes the worker. */
START_TEST(hostile_members_never_reach_a_header)
{
	struct smtpd m;
	/* control characters in a name the database refuses since 018 (the
	 * composer's own guard is tested above); quotes, brackets and commas
	 * it takes */
	long long eve = add_member("'Eve\" <attacker@evil.org>, Bcc: victim@example.org, \"x'", "eve@example.org",
				   "WHO", "en");
	long long bad = add_member("'Bad'", "a<b>@example.org", "WHO", "en");
	long long longer = add_member("'Long'",
				      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.org",
				      "WHO", "en");
	long long gone = add_member("'Gone'", "gone@example.org", "WHO", "en");
	const char *data = "{\"report\":1,\"kind\":\"quarterly\",\"period\":\"2021-Q3\",\"path\":\"/v1/reports/1\"}";
	long long a = add_mail(eve, "report-done", data), b = add_mail(bad, "report-done", data),
		  c = add_mail(longer, "report-done", data), d = add_mail(gone, "report-done", data);
	char sql[200], *s, *env;
	json_t *j;
	pid_t w;

	snprintf(sql, sizeof sql, "UPDATE member SET active = false WHERE id = %lld", gone);
	free(t_sql(db, sql));
	t_smtpd_start(&m, 0);
	w = worker(&m, NULL);
	ck_assert(wait_state(a, "sent", 20000));
	ck_assert(wait_state(b, "failed", 20000));
	ck_assert(wait_state(c, "failed", 20000));
	ck_assert(wait_state(d, "cancelled", 20000));
	s = outbox_col(b, "last_error");
	ck_assert_msg(strstr(s, "cannot write the addressee's address"), "%s", s);
	free(s);
	s = outbox_col(c, "last_error");
	ck_assert_msg(strstr(s, "64"), "%s", s);
	free(s);
	ck_assert_int_eq(t_smtpd_count(&m), 1);
	j = t_smtpd_mail(&m, 1);
	assert_well_formed(j);
	ck_assert_int_eq(header_count(j, "bcc"), 0);
	ck_assert_int_eq(json_array_size(json_object_get(j, "to_addresses")), 1);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "to_addresses"), 0)), "eve@example.org");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "to_names"), 0)),
			 "Eve\" <attacker@evil.org>, Bcc: victim@example.org, \"x");
	env = t_smtpd_envelope(&m, 1);
	ck_assert_str_eq(env, "workplan@example.org\neve@example.org\n");
	free(env);
	json_decref(j);
	/* the worker lives on */
	ck_assert_int_eq(kill(w, 0), 0);
	t_worker_stop(w, SIGTERM);
	t_smtpd_stop(&m);
}
END_TEST

/* A GET through Stoplight Prism, which judges the answer by
 * api/openapi.json; bad marks a request that breaks it on purpose. */
static struct resp *pget(const struct server *p, const char *path, const char *token, bool bad)
{
	struct resp *r = t_http(p, "GET", path, token, NULL, NULL, 0, NULL);

	t_assert_no_violations(r, bad);
	return r;
}

/* Without WORKPLAN_SMTP_URL mail is held and co-chairs read it in GET
 * /v1/outbox, except a sign-in mail's text. */
START_TEST(without_smtp_mail_is_held_and_cochairs_read_it_but_never_a_sign_in_link)
{
	struct server s, p;
	long long who = add_member("'Focal'", "focal@who.int", "WHO", "en");
	long long inv = add_mail(who, "invitation",
				 "{\"url\":\"" PUBLIC_URL "/sign-in#wpi_invitation\",\"expires_at\":\"2026-12-10T00:00:00Z\",\"invited_by\":\"Ana Co-chair\"}");
	long long sign = add_mail(who, "sign-in", "{\"url\":\"" PUBLIC_URL "/sign-in#wps_signinsecret\",\"expires_at\":\"2026-12-03T07:00:00Z\"}");
	char *lead = t_member_token(db, "lead@who.int", "lead", "WHO"), path[300], *next;
	struct resp *r;
	json_t *items;
	pid_t w = worker(NULL, NULL);

	ck_assert(wait_state(inv, "held", 20000));
	ck_assert(wait_state(sign, "held", 20000));
	t_worker_stop(w, SIGTERM);
	t_server_start(&s, db);
	t_prism_start(&p, &s);
	r = pget(&p, "/v1/outbox", cochair, false);
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_null(strstr(r->body, "wps_signinsecret"));
	items = json_object_get(r->json, "items");
	ck_assert_int_eq(json_array_size(items), 2);
	/* newest first: the sign-in, then the invitation */
	{
		json_t *a = json_array_get(items, 0), *b = json_array_get(items, 1);

		ck_assert_int_eq(json_integer_value(json_object_get(a, "id")), sign);
		ck_assert_str_eq(json_string_value(json_object_get(a, "state")), "held");
		ck_assert_str_eq(json_string_value(json_object_get(a, "kind")), "sign-in");
		ck_assert_str_eq(json_string_value(json_object_get(a, "subject")), "Your sign-in link");
		ck_assert(json_is_null(json_object_get(a, "text")));
		ck_assert_str_eq(json_string_value(json_object_get(json_object_get(a, "recipient"), "email")),
				 "focal@who.int");
		ck_assert_int_eq(json_integer_value(json_object_get(a, "attempts")), 1);
		ck_assert_str_eq(json_string_value(json_object_get(b, "kind")), "invitation");
		ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(b, "text")), "Ana Co-chair invited you"));
		ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(b, "text")), "wpi_invitation"));
	}
	t_resp_free(r);
	/* paging */
	r = pget(&p, "/v1/outbox?limit=1", cochair, false);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 1);
	next = strdup(json_string_value(json_object_get(r->json, "next")));
	t_resp_free(r);
	snprintf(path, sizeof path, "/v1/outbox?limit=1&after=%s", next);
	r = pget(&p, path, cochair, false);
	ck_assert_int_eq(r->status, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(r->json, "items"), 0), "id")), inv);
	ck_assert(json_is_null(json_object_get(r->json, "next")));
	t_resp_free(r);
	free(next);
	r = pget(&p, "/v1/outbox?state=held&kind=invitation", cochair, false);
	ck_assert_int_eq(json_array_size(json_object_get(r->json, "items")), 1);
	t_resp_free(r);
	r = pget(&p, "/v1/outbox?state=lost", cochair, true);
	t_assert_problem(r, 422, "validation");
	t_resp_free(r);
	/* co-chairs only */
	r = pget(&p, "/v1/outbox", lead, false);
	t_assert_problem(r, 403, "forbidden");
	t_resp_free(r);
	ck_assert_int_eq(t_metric(&s, "workplan_outbox_messages{channel=\"mail\",state=\"held\"}"), 2);
	ck_assert_int_eq(t_metric(&s, "workplan_outbox_messages{channel=\"mail\",state=\"sent\"}"), 0);
	t_prism_stop(&p);
	t_server_stop(&s);
	free(lead);
}
END_TEST

/* A co-chair returns an update: its author and the members of the
 * action's lead entities get a mail with the comment, written in the
 * review's transaction. */
START_TEST(a_returned_update_mails_its_author_and_the_leads_with_the_comment)
{
	struct server s;
	struct smtpd m;
	char *lead = t_member_token(db, "focal@unodc.org", "lead", "UNODC");
	long long action = t_sql_long(db, "SELECT min(a.id) FROM action a JOIN action_lead l ON l.action_id = a.id"
					  " WHERE l.entity = 'UNODC'");
	long long other = add_member("'Autre point focal'", "autre@unodc.org", "UNODC", "fr");
	long long id;
	char path[128], body[400];
	struct resp *r;
	pid_t w;

	(void)other;
	t_server_start(&s, db);
	snprintf(path, sizeof path, "/v1/actions/%lld/updates", action);
	snprintf(body, sizeof body,
		 "{\"period\":\"2021-Q1\",\"status\":\"on_track\",\"percent_complete\":10,\"narrative\":\"Started.\"}");
	r = t_http(&s, "POST", path, lead, "application/json", body, strlen(body), NULL);
	ck_assert_int_eq(r->status, 201);
	id = json_integer_value(json_object_get(r->json, "id"));
	t_resp_free(r);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM outbox"), 0);
	snprintf(path, sizeof path, "/v1/updates/%lld/review", id);
	snprintf(body, sizeof body, "{\"decision\":\"return\",\"comment\":\"Il manque les chiffres du trimestre.\"}");
	r = t_http(&s, "POST", path, cochair, "application/json", body, strlen(body), NULL);
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM outbox WHERE kind = 'update-returned'"), 2);
	t_smtpd_start(&m, 0);
	w = worker(&m, NULL);
	ck_assert_int_eq(t_smtpd_wait(&m, 2, 20000), 2);
	for (int i = 1; i <= 2; i++) {
		json_t *j = t_smtpd_mail(&m, i);
		const char *to = json_string_value(json_array_get(json_object_get(j, "to_addresses"), 0));
		const char *text = json_string_value(json_object_get(j, "body"));

		assert_well_formed(j);
		ck_assert_ptr_nonnull(strstr(text, "Il manque les chiffres du trimestre."));
		if (!strcmp(to, "autre@unodc.org"))
			ck_assert_ptr_nonnull(strstr(text, "a renvoyé la mise à jour"));
		else
			ck_assert_str_eq(to, "focal@unodc.org");
		json_decref(j);
	}
	t_worker_stop(w, SIGTERM);
	t_smtpd_stop(&m);
	t_server_stop(&s);
	free(lead);
}
END_TEST

/* A report done mails the member who asked for it, in the transaction
 * that marks it done; the scheduler's own reports mail nobody. */
START_TEST(a_report_done_mails_who_asked_for_it)
{
	long long who = add_member("'Asker'", "asker@ohchr.org", "OHCHR", "en");
	char sql[400];

	snprintf(sql, sizeof sql,
		 "INSERT INTO report (kind, period, formats, created_by) VALUES ('quarterly', '2021-Q2', '{md}', %lld)"
		 " RETURNING id", who);
	long long mine = t_sql_long(db, sql);
	long long theirs = t_sql_long(db, "INSERT INTO report (kind, period, formats) VALUES ('quarterly', '2021-Q1', '{md}')"
					  " RETURNING id");

	snprintf(sql, sizeof sql, "UPDATE report SET state = 'done' WHERE id IN (%lld, %lld)", mine, theirs);
	free(t_sql(db, sql));
	snprintf(sql, sizeof sql,
		 "SELECT count(*) FROM outbox WHERE kind = 'report-done' AND member_id = %lld"
		 " AND data->>'path' = '/v1/reports/%lld'", who, mine);
	ck_assert_int_eq(t_sql_long(db, sql), 1);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM outbox"), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mail");
	TCase *unit = tcase_create("compose"), *tc = tcase_create("deliver");

	tcase_set_timeout(unit, 60);
	tcase_add_test(unit, addresses_a_header_cannot_carry_are_refused);
	tcase_add_test(unit, a_composed_message_is_well_formed_rfc_5322_and_mime);
	tcase_add_test(unit, hostile_names_and_subjects_stay_inside_their_header);
	tcase_add_test(unit, an_impossible_address_is_refused_with_a_clear_error);
	tcase_add_test(unit, the_catalogues_are_complete_in_english_and_french);
	tcase_add_test(unit, mail_links_to_the_app_and_shows_times_per_language);
	suite_add_tcase(s, unit);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, a_french_member_gets_a_well_formed_utf8_mail_and_the_link_is_forgotten);
	tcase_add_test(tc, a_retry_after_a_crash_sends_the_same_message_id_and_bytes);
	tcase_add_test(tc, a_temporary_refusal_is_retried_on_schedule_then_failed_never_doubled);
	tcase_add_test(tc, smtp_down_is_retried_and_the_mail_then_sent_once);
	tcase_add_test(tc, a_permanent_refusal_fails_at_once);
	tcase_add_test(tc, hostile_members_never_reach_a_header);
	tcase_add_test(tc, without_smtp_mail_is_held_and_cochairs_read_it_but_never_a_sign_in_link);
	tcase_add_test(tc, a_returned_update_mails_its_author_and_the_leads_with_the_comment);
	tcase_add_test(tc, a_report_done_mails_who_asked_for_it);
	suite_add_tcase(s, tc);
	return t_run(s);
}
