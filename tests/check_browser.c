/* The web app in a real browser (SPEC 12): each test runs one scenario of
 * tests/browser/suite.mjs, Debian's Chromium driven by playwright-core,
 * against the real API and worker started here, members signing in
 * through invitation links. Every page a scenario visits is judged by
 * axe-core, and a Content-Security-Policy violation or an uncaught error
 * fails it. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static struct server srv;
static char db[64];
static char *cochair;
static pid_t worker;

/* the clock of the seeded work plan's first cycle: 2021-Q4 is current */
#define NOW "WORKPLAN_NOW=2021-10-20T09:00:00Z"

static void setup(void)
{
	static char public_url[64];
	const char *env[] = { NOW, public_url, NULL };

	t_db_create(db, sizeof db, true);
	cochair = t_member_token(db, "cochair@ohchr.org", "cochair", "OHCHR");
	/* the links the API sends must lead to this server */
	snprintf(srv.dbname, sizeof srv.dbname, "%s", db);
	srv.port = t_free_port();
	snprintf(public_url, sizeof public_url, "WORKPLAN_PUBLIC_URL=http://127.0.0.1:%d", srv.port);
	t_server_restart(&srv, env);
	worker = t_worker_start(db, (const char *const[]){ NOW, NULL });
	t_cache_listening(&srv);
}

static void teardown(void)
{
	t_worker_stop(worker, 0);
	t_server_stop(&srv);
	free(cochair);
}

/* Runs a scenario; fails the test with its output unless it passed. */
static void scenario(const char *name)
{
	char cmd[1024], line[4096];
	size_t len = 0, cap = 1 << 16;
	char *out = calloc(1, cap);
	FILE *p;
	int st;

	snprintf(cmd, sizeof cmd,
		 "WP_URL=http://127.0.0.1:%d WP_TOKEN='%s' node tests/browser/suite.mjs %s 2>&1",
		 srv.port, cochair, name);
	p = t_popen(cmd);
	ck_assert_ptr_nonnull(p);
	while (fgets(line, sizeof line, p)) {
		size_t n = strlen(line);

		fputs(line, stderr);
		if (len + n < cap) {
			memcpy(out + len, line, n + 1);
			len += n;
		}
	}
	st = pclose(p);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "scenario %s failed:\n%s", name, out);
	free(out);
}

#define SCENARIO(name)              \
	START_TEST(name)            \
	{                           \
		scenario(#name);    \
	}                           \
	END_TEST

SCENARIO(sign_in_page_sends_a_link)
SCENARIO(invitation_link_signs_in_and_leaves_no_secret)
SCENARIO(api_token_sign_in_stays_in_memory)
SCENARIO(every_page_is_accessible_at_1280_and_320_px)
SCENARIO(overview_first_load_is_light)
SCENARIO(update_form_works_with_the_keyboard_alone)
SCENARIO(roles_are_offered_only_what_they_may_do)
SCENARIO(cochair_reviews_updates)
SCENARIO(cochair_requests_a_report_and_downloads_it)
SCENARIO(cochair_invites_and_deactivates_members)
SCENARIO(a_french_cochair_gets_a_french_report)
SCENARIO(a_french_field_error_reads_in_french)
SCENARIO(staff_copy_a_chart_snippet)
SCENARIO(languages_follow_the_member_then_the_browser)
SCENARIO(lead_imports_a_spreadsheet_cell_by_cell)
SCENARIO(contributor_sends_an_input_with_a_file)
SCENARIO(cochair_manages_a_webhook)

/* An input of the seeded call as the public form stores it, then the
 * co-chair's triage in the browser. */
START_TEST(cochair_triages_an_input_and_the_action_shows_it)
{
	char *id = t_sql(db, "INSERT INTO consultation_input (consultation_id, submitted_by, received, title, receipt,"
			     " received_at, name, organisation, contributor_type, country, email, language, subject, text)"
			     " VALUES (1, 'ngo', '2021-10-20', 'Train field staff on minority rights', 'BRWS-TRIA-GE01',"
			     " '2021-10-20T10:00:00Z', 'Jo Triage', 'Triage NGO', 'ngo', 'FR', 'jo.triage@example.org', 'en',"
			     " 'Train field staff on minority rights', 'Field staff need training.') RETURNING id");

	ck_assert_ptr_nonnull(id);
	setenv("WP_INPUT", id, 1);
	free(id);
	scenario("cochair_triages_an_input_and_the_action_shows_it");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("browser");
	TCase *tc = tcase_create("browser");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, sign_in_page_sends_a_link);
	tcase_add_test(tc, invitation_link_signs_in_and_leaves_no_secret);
	tcase_add_test(tc, api_token_sign_in_stays_in_memory);
	tcase_add_test(tc, every_page_is_accessible_at_1280_and_320_px);
	tcase_add_test(tc, overview_first_load_is_light);
	tcase_add_test(tc, update_form_works_with_the_keyboard_alone);
	tcase_add_test(tc, roles_are_offered_only_what_they_may_do);
	tcase_add_test(tc, cochair_reviews_updates);
	tcase_add_test(tc, cochair_requests_a_report_and_downloads_it);
	tcase_add_test(tc, cochair_invites_and_deactivates_members);
	tcase_add_test(tc, a_french_cochair_gets_a_french_report);
	tcase_add_test(tc, a_french_field_error_reads_in_french);
	tcase_add_test(tc, staff_copy_a_chart_snippet);
	tcase_add_test(tc, languages_follow_the_member_then_the_browser);
	tcase_add_test(tc, lead_imports_a_spreadsheet_cell_by_cell);
	tcase_add_test(tc, contributor_sends_an_input_with_a_file);
	tcase_add_test(tc, cochair_triages_an_input_and_the_action_shows_it);
	tcase_add_test(tc, cochair_manages_a_webhook);
	suite_add_tcase(s, tc);
	return t_run(s);
}
