/* Reporting reminders and review digests (SPEC 11, contract): a quarter
 * walked through with WORKPLAN_NOW at several instants and two workers
 * running each time; each member gets each occasion's reminder once, only
 * for what its entity has not reported; the overdue list also goes to the
 * co-chairs; GET /v1/reminders shows what was sent and what is due; the
 * one-click unsubscribe acts on POST only. Mail goes to a real SMTP server
 * (tests/tools/smtpd.py) and is read with Python's email package. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PUBLIC_URL "https://workplan.example.org"

static char db[64];
static char *cochair, *unodc, *who, *viewer;
static struct smtpd smtp;

static long long add_member(const char *name, const char *email, const char *entity, const char *language)
{
	char sql[600];

	snprintf(sql, sizeof sql,
		 "INSERT INTO member (name, email, entity, role, language) VALUES ('%s', '%s', '%s', 'lead', '%s')"
		 " RETURNING id",
		 name, email, entity, language);
	return t_sql_long(db, sql);
}

static void setup(void)
{
	t_db_create(db, sizeof db, true);
	cochair = t_member_token(db, "cochair@ohchr.org", "cochair", "OHCHR");
	unodc = t_member_token(db, "focal@unodc.org", "lead", "UNODC");
	who = t_member_token(db, "focal@who.int", "lead", "WHO");
	viewer = t_member_token(db, "staff@unicef.org", "viewer", "UNICEF");
	add_member("Deuxième point focal", "second@unodc.org", "UNODC", "fr");
	add_member("Gone", "gone@unodc.org", "UNODC", "en");
	add_member("Quiet", "quiet@unodc.org", "UNODC", "en");
	free(t_sql(db, "UPDATE member SET active = false WHERE email = 'gone@unodc.org'"));
	free(t_sql(db, "UPDATE member SET reminders = false WHERE email = 'quiet@unodc.org'"));
	/* these tests count reminders; digests have their own */
	free(t_sql(db, "UPDATE member SET review_digest = 'off'"));
	t_smtpd_start(&smtp, 0);
}

static void teardown(void)
{
	t_smtpd_stop(&smtp);
	free(cochair);
	free(unodc);
	free(who);
	free(viewer);
}

/* A request through Stoplight Prism, which judges the answer by
 * api/openapi.json; bad marks a request that breaks it on purpose. */
static struct resp *via(const struct server *p, bool bad, const char *method, const char *path,
			const char *token, const char *content_type, const char *body)
{
	struct resp *r = t_http(p, method, path, token, content_type, body, body ? strlen(body) : 0, NULL);

	t_assert_no_violations(r, bad);
	return r;
}

/* Two workers at instant now, each through one scheduler round, then the
 * outbox drained; both stopped. */
static void two_workers_at(const char *now)
{
	char at[64], url[64];
	const char *env[] = { at, url, "WORKPLAN_PUBLIC_URL=" PUBLIC_URL, "WORKPLAN_LOG_LEVEL=debug", NULL };
	pid_t w[2];
	long long end;

	snprintf(at, sizeof at, "WORKPLAN_NOW=%s", now);
	snprintf(url, sizeof url, "WORKPLAN_SMTP_URL=smtp://127.0.0.1:%d", smtp.port);
	w[0] = t_worker_start(db, env);
	w[1] = t_worker_start(db, env);
	for (int i = 0; i < 2; i++)
		ck_assert_msg(t_worker_log_has(w[i], "reminders and digests written", 20000),
			      "worker %d ran no scheduler round", i);
	end = t_ms() + 20000;
	while (t_sql_long(db, "SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending')") > 0 &&
	       t_ms() < end)
		usleep(20000);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM outbox WHERE channel = 'mail' AND state <> 'sent'"), 0);
	t_worker_stop(w[0], SIGTERM);
	t_worker_stop(w[1], SIGTERM);
}

/* The mails received so far to addr whose subject holds text. */
static int mails_to(const char *addr, const char *text)
{
	int n = 0, total = t_smtpd_count(&smtp);

	for (int i = 1; i <= total; i++) {
		json_t *j = t_smtpd_mail(&smtp, i);
		const char *to = json_string_value(json_array_get(json_object_get(j, "to_addresses"), 0));
		const char *subject = json_string_value(json_object_get(json_object_get(j, "headers"), "subject"));

		if (to && !strcmp(to, addr) && strstr(subject, text))
			n++;
		json_decref(j);
	}
	return n;
}

/* The last mail to addr, parsed. */
static json_t *last_mail_to(const char *addr)
{
	for (int i = t_smtpd_count(&smtp); i >= 1; i--) {
		json_t *j = t_smtpd_mail(&smtp, i);
		const char *to = json_string_value(json_array_get(json_object_get(j, "to_addresses"), 0));

		if (to && !strcmp(to, addr))
			return j;
		json_decref(j);
	}
	ck_abort_msg("no mail to %s", addr);
	return NULL;
}

/* Posts an update for 2021-Q3 on every action UNODC leads, as its lead. */
static void unodc_reports(void)
{
	static const char *const env[] = { "WORKPLAN_NOW=2021-10-05T10:00:00Z", NULL };
	const char *body = "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":40,\"narrative\":\"Done this quarter.\"}";
	char *ids = t_sql(db, "SELECT string_agg(a.id::text, ' ') FROM action a JOIN action_lead l ON l.action_id = a.id"
			      " WHERE l.entity = 'UNODC' AND a.cycle = '2021'");
	struct server s;

	t_server_start_env(&s, db, env);
	for (char *p = strtok(ids, " "); p; p = strtok(NULL, " ")) {
		char path[64];
		struct resp *r;

		snprintf(path, sizeof path, "/v1/actions/%s/updates", p);
		r = t_http(&s, "POST", path, unodc, "application/json", body, strlen(body), NULL);
		ck_assert_int_eq(r->status, 201);
		t_resp_free(r);
	}
	free(ids);
	t_server_stop(&s);
}

START_TEST(reminders_across_a_quarter_go_once_each_to_whom_has_not_reported)
{
	static const char *const env[] = { "WORKPLAN_NOW=2021-10-16T12:00:00Z", NULL };
	const char *who_addr = "focal@who.int", *unodc_addr = "focal@unodc.org", *co = "cochair@ohchr.org";
	struct server s, prism;
	struct resp *r;
	json_t *j, *missing;
	size_t i;
	json_t *p;

	/* a webhook told of overdue reporting (SPEC 11): its deliveries are
	 * counted in the outbox; the workers, not allowed private addresses,
	 * never reach it */
	{
		static const char *const allow[] = { "WORKPLAN_NOW=2021-09-20T09:00:00Z",
						     "WORKPLAN_WEBHOOK_ALLOW_PRIVATE=1", NULL };
		const char *hook = "{\"url\":\"http://127.0.0.1:9/overdue\",\"events\":[\"reporting.overdue\"]}";

		t_server_start_env(&s, db, allow);
		r = t_http(&s, "POST", "/v1/webhooks", cochair, "application/json", hook, strlen(hook), NULL);
		ck_assert_int_eq(r->status, 201);
		t_resp_free(r);
		t_server_stop(&s);
	}

	/* before the round: nothing */
	two_workers_at("2021-09-20T09:00:00Z");
	ck_assert_int_eq(t_smtpd_count(&smtp), 0);

	/* 14 days before the deadline (2021-10-15): every member of a lead
	 * entity with a missing action, once, however many workers run */
	two_workers_at("2021-10-01T08:00:00Z");
	ck_assert_int_eq(t_smtpd_count(&smtp), 4);
	ck_assert_int_eq(mails_to(who_addr, "due by 2021-10-15"), 1);
	ck_assert_int_eq(mails_to(unodc_addr, "due by 2021-10-15"), 1);
	ck_assert_int_eq(mails_to("second@unodc.org", "d’ici le 2021-10-15"), 1);
	/* OHCHR leads pillar 3: its co-chair is a lead entity's member too */
	ck_assert_int_eq(mails_to(co, "due by 2021-10-15"), 1);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM reminder WHERE member_id IN (SELECT id FROM member"
					" WHERE NOT active OR NOT reminders)"), 0);
	j = last_mail_to(unodc_addr);
	ck_assert_ptr_nonnull(json_object_get(json_object_get(j, "headers"), "list-unsubscribe"));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "headers"), "list-unsubscribe-post")),
			 "List-Unsubscribe=One-Click");
	json_decref(j);
	/* once more the same day: nothing new */
	two_workers_at("2021-10-01T15:00:00Z");
	ck_assert_int_eq(t_smtpd_count(&smtp), 4);

	/* UNODC reports; 3 days before the deadline it gets nothing */
	unodc_reports();
	two_workers_at("2021-10-12T08:00:00Z");
	ck_assert_int_eq(t_smtpd_count(&smtp), 6);
	ck_assert_int_eq(mails_to(who_addr, "3 days left"), 1);
	ck_assert_int_eq(mails_to(co, "3 days left"), 1);
	ck_assert_int_eq(mails_to(unodc_addr, "3 days left"), 0);

	/* the day after: overdue, to the leads still missing and the
	 * co-chairs with the whole list, as /v1/reporting counts it */
	two_workers_at("2021-10-16T08:00:00Z");
	two_workers_at("2021-10-17T08:00:00Z");
	ck_assert_int_eq(t_smtpd_count(&smtp), 8);
	ck_assert_int_eq(mails_to(who_addr, "is overdue"), 1);
	ck_assert_int_eq(mails_to(co, "is overdue:"), 1);
	ck_assert_int_eq(mails_to(unodc_addr, "overdue"), 0);
	ck_assert_int_eq(mails_to("second@unodc.org", "dépassée"), 0);
	t_server_start_env(&s, db, env);
	t_prism_start(&prism, &s);
	r = t_get(&s, "/v1/reporting?period=2021-Q3", cochair);
	ck_assert_int_eq(r->status, 200);
	j = last_mail_to(co);
	{
		const char *text = json_string_value(json_object_get(j, "body"));
		size_t listed = 0;

		json_array_foreach(json_object_get(r->json, "pillars"), i, p) {
			size_t k;
			json_t *a;

			missing = json_object_get(p, "missing_actions");
			json_array_foreach(missing, k, a) {
				char item[48];

				snprintf(item, sizeof item, "- #%lld, pillar", (long long)json_integer_value(a));
				ck_assert_msg(strstr(text, item), "the overdue list lacks %s", item);
				listed++;
			}
		}
		ck_assert_int_gt(listed, 0);
		/* the webhook heard of it once (two days, two workers each), with
		 * the same list */
		ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM outbox WHERE channel = 'webhook'"
						" AND kind = 'reporting.overdue'"), 1);
		ck_assert_int_eq(t_sql_long(db, "SELECT jsonb_array_length(data->'actions') FROM outbox"
						" WHERE kind = 'reporting.overdue'"), (long)listed);
		/* UNODC's reported actions are not in it */
		ck_assert_ptr_null(strstr(text, "pillar 2:"));
	}
	json_decref(j);
	t_resp_free(r);

	/* what was sent, per occasion and member */
	r = via(&prism, false, "GET", "/v1/reminders?period=2021-Q3", cochair, NULL, NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "deadline")), "2021-10-15");
	{
		json_t *occ = json_object_get(r->json, "occasions");
		static const char *const names[] = { "14-days", "3-days", "overdue" };
		static const size_t sent[] = { 4, 2, 2 };

		ck_assert_int_eq(json_array_size(occ), 3);
		for (size_t k = 0; k < 3; k++) {
			json_t *o = json_array_get(occ, k);

			ck_assert_str_eq(json_string_value(json_object_get(o, "occasion")), names[k]);
			ck_assert_int_eq(json_array_size(json_object_get(o, "sent")), sent[k]);
			json_array_foreach(json_object_get(o, "sent"), i, p)
				ck_assert_str_eq(json_string_value(json_object_get(json_object_get(p, "outbox"), "state")),
						 "sent");
		}
		ck_assert_str_eq(json_string_value(json_object_get(json_array_get(occ, 2), "state")), "open");
		ck_assert_str_eq(json_string_value(json_object_get(json_array_get(occ, 0), "state")), "closed");
	}
	t_resp_free(r);
	/* a lead sees its own entity's members only; a viewer nothing */
	r = via(&prism, false, "GET", "/v1/reminders?period=2021-Q3", unodc, NULL, NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_int_eq(json_array_size(json_object_get(json_array_get(json_object_get(r->json, "occasions"), 0), "sent")), 2);
	ck_assert_ptr_null(strstr(r->body, "WHO"));
	t_resp_free(r);
	r = via(&prism, false, "GET", "/v1/reminders?period=2021-Q3", viewer, NULL, NULL);
	t_assert_problem(r, 403, "forbidden");
	t_resp_free(r);
	r = via(&prism, true, "GET", "/v1/reminders?period=2021-Q9", cochair, NULL, NULL);
	t_assert_problem(r, 422, "validation");
	t_resp_free(r);
	t_prism_stop(&prism);
	t_server_stop(&s);
}
END_TEST

/* Before the round, GET /v1/reminders lists whom each occasion has due. */
START_TEST(reminders_show_what_is_due_before_it_is_sent)
{
	static const char *const env[] = { "WORKPLAN_NOW=2021-09-20T12:00:00Z", NULL };
	struct server s;
	struct resp *r;
	json_t *o;

	t_server_start_env(&s, db, env);
	r = t_get(&s, "/v1/reminders?period=2021-Q3", cochair);
	ck_assert_int_eq(r->status, 200);
	o = json_array_get(json_object_get(r->json, "occasions"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(o, "state")), "upcoming");
	ck_assert_int_eq(json_array_size(json_object_get(o, "sent")), 0);
	/* co-chair (OHCHR), UNODC's two active members who want them, WHO */
	ck_assert_int_eq(json_array_size(json_object_get(o, "due")), 4);
	/* the overdue one also has the co-chairs' list */
	o = json_array_get(json_object_get(r->json, "occasions"), 2);
	ck_assert_int_eq(json_array_size(json_object_get(o, "due")), 4);
	t_resp_free(r);
	t_server_stop(&s);
}
END_TEST

/* RFC 8058: the link in List-Unsubscribe turns that kind of mail off on
 * POST; a GET (a link preview, a scanner) changes nothing, nor does a
 * link whose signature does not match. */
START_TEST(unsubscribe_by_post_works_and_get_does_nothing)
{
	static const char *const env[] = { "WORKPLAN_NOW=2021-10-02T12:00:00Z", NULL };
	const char *form = "List-Unsubscribe=One-Click";
	char *url, path[600], forged[600];
	const char *h;
	struct server s, p;
	struct resp *r;
	json_t *j;

	two_workers_at("2021-10-01T08:00:00Z");
	j = last_mail_to("focal@who.int");
	h = json_string_value(json_object_get(json_object_get(j, "headers"), "list-unsubscribe"));
	ck_assert_int_eq(strncmp(h, "<" PUBLIC_URL "/v1/unsubscribe?", strlen(PUBLIC_URL) + 17), 0);
	url = strndup(h + 1 + strlen(PUBLIC_URL), strlen(h) - 2 - strlen(PUBLIC_URL));
	json_decref(j);
	t_server_start_env(&s, db, env);
	t_prism_start(&p, &s);

	r = via(&p, false, "GET", url, NULL, NULL, NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert(json_is_true(json_object_get(r->json, "subscribed")));
	t_resp_free(r);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM member WHERE email = 'focal@who.int' AND reminders"), 1);

	/* another member's id under this signature, or a changed signature */
	snprintf(forged, sizeof forged, "%s", url);
	forged[strlen(forged) - 2] = forged[strlen(forged) - 2] == 'A' ? 'B' : 'A';
	r = via(&p, false, "POST", forged, NULL, "application/x-www-form-urlencoded", form);
	t_assert_problem(r, 403, "forbidden");
	t_resp_free(r);
	{
		long long me = t_sql_long(db, "SELECT id FROM member WHERE email = 'focal@who.int'");
		char *sig = strstr(url, "&sig=");

		snprintf(path, sizeof path, "/v1/unsubscribe?member=%lld&list=reminders%s", me == 1 ? 2LL : 1LL, sig);
		r = via(&p, false, "POST", path, NULL, "application/x-www-form-urlencoded", form);
		t_assert_problem(r, 403, "forbidden");
		t_resp_free(r);
		snprintf(path, sizeof path, "/v1/unsubscribe?member=%lld&list=review-digest%s", me, sig);
		r = via(&p, false, "POST", path, NULL, "application/x-www-form-urlencoded", form);
		t_assert_problem(r, 403, "forbidden");
		t_resp_free(r);
	}
	r = via(&p, true, "GET", "/v1/unsubscribe?member=1", NULL, NULL, NULL);
	t_assert_problem(r, 422, "validation");
	t_resp_free(r);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM member WHERE NOT reminders"), 1);

	/* the one-click POST, as a mail program sends it */
	r = via(&p, false, "POST", url, NULL, "application/x-www-form-urlencoded", form);
	ck_assert_int_eq(r->status, 200);
	ck_assert(json_is_false(json_object_get(r->json, "subscribed")));
	t_resp_free(r);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM member WHERE email = 'focal@who.int' AND NOT reminders"), 1);
	/* twice is harmless */
	r = via(&p, false, "POST", url, NULL, "application/x-www-form-urlencoded", form);
	ck_assert_int_eq(r->status, 200);
	t_resp_free(r);
	/* the member's version moved once, and the audit trail says who */
	ck_assert_int_eq(t_sql_long(db, "SELECT version FROM member WHERE email = 'focal@who.int'"), 2);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM audit a JOIN member m ON a.row_key = m.id::text"
					" WHERE m.email = 'focal@who.int' AND a.table_name = 'member'"
					" AND a.actor = 'unsubscribe:member:' || m.id"), 1);
	t_prism_stop(&p);
	t_server_stop(&s);

	/* and the next occasion passes them by */
	two_workers_at("2021-10-12T08:00:00Z");
	ck_assert_int_eq(mails_to("focal@who.int", "3 days left"), 0);
	ck_assert_int_eq(mails_to("cochair@ohchr.org", "3 days left"), 1);
	free(url);
}
END_TEST

/* Co-chairs get the updates waiting for review: daily ones once a day,
 * weekly ones once a week, none with the setting off, and nobody when
 * nothing waits. */
START_TEST(review_digests_go_daily_or_weekly_and_only_when_updates_wait)
{
	static const char *const env[] = { "WORKPLAN_NOW=2021-11-22T09:30:00Z", NULL };
	const char *body = "{\"period\":\"2021-Q3\",\"status\":\"on_track\",\"percent_complete\":40,\"narrative\":\"Waiting.\"}";
	long long action = t_sql_long(db, "SELECT min(a.id) FROM action a JOIN action_lead l ON l.action_id = a.id"
					  " WHERE l.entity = 'UNODC'");
	char *weekly = t_member_token(db, "cochair@unesco.org", "cochair", "UNESCO"), path[64], *text;
	struct server s;
	struct resp *r;

	free(t_sql(db, "UPDATE member SET review_digest = 'daily' WHERE email = 'cochair@ohchr.org'"));
	free(t_sql(db, "UPDATE member SET review_digest = 'weekly' WHERE email = 'cochair@unesco.org'"));
	/* Monday 2021-11-22, nothing waits */
	two_workers_at("2021-11-22T09:00:00Z");
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM outbox WHERE kind = 'review-digest'"), 0);
	t_server_start_env(&s, db, env);
	snprintf(path, sizeof path, "/v1/actions/%lld/updates", action);
	r = t_http(&s, "POST", path, unodc, "application/json", body, strlen(body), NULL);
	ck_assert_int_eq(r->status, 201);
	t_resp_free(r);
	t_server_stop(&s);
	two_workers_at("2021-11-22T10:00:00Z");
	two_workers_at("2021-11-22T16:00:00Z");
	ck_assert_int_eq(mails_to("cochair@ohchr.org", "waiting for review: 1"), 1);
	ck_assert_int_eq(mails_to("cochair@unesco.org", "waiting for review: 1"), 1);
	two_workers_at("2021-11-23T09:00:00Z");
	ck_assert_int_eq(mails_to("cochair@ohchr.org", "waiting for review"), 2);
	ck_assert_int_eq(mails_to("cochair@unesco.org", "waiting for review"), 1);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM outbox WHERE kind = 'review-digest'"), 3);
	/* the digest names the update and has an unsubscribe link */
	{
		json_t *j = last_mail_to("cochair@ohchr.org");
		char want[64];

		text = (char *)json_string_value(json_object_get(j, "body"));
		snprintf(want, sizeof want, "on action #%lld (2021-Q3)", action);
		ck_assert_ptr_nonnull(strstr(text, want));
		ck_assert_ptr_nonnull(json_object_get(json_object_get(j, "headers"), "list-unsubscribe"));
		json_decref(j);
	}
	free(weekly);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reminders");
	TCase *tc = tcase_create("reminders");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, reminders_across_a_quarter_go_once_each_to_whom_has_not_reported);
	tcase_add_test(tc, reminders_show_what_is_due_before_it_is_sent);
	tcase_add_test(tc, unsubscribe_by_post_works_and_get_does_nothing);
	tcase_add_test(tc, review_digests_go_daily_or_weekly_and_only_when_updates_wait);
	suite_add_tcase(s, tc);
	return t_run(s);
}
