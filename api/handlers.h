/* Every HTTP handler, one file per resource (api/h_<resource>.c). */
#ifndef WP_HANDLERS_H
#define WP_HANDLERS_H

#include "http.h"

int h_health(struct request *rq);
int h_openapi(struct request *rq);
int h_pillars_list(struct request *rq);
int h_pillar_get(struct request *rq);
int h_pillar_patch(struct request *rq);
int h_entities_list(struct request *rq);
int h_cochairs_list(struct request *rq);
int h_workplans_list(struct request *rq);
int h_cycles_list(struct request *rq);
int h_events_list(struct request *rq);
int h_consultations_list(struct request *rq);
/* calls for inputs (SPEC 13): api/h_consultations.c, api/h_intake.c */
int h_consultation_create(struct request *rq);
int h_consultation_get(struct request *rq);
int h_consultation_patch(struct request *rq);
int h_public_consultations_list(struct request *rq);
int h_public_consultation_get(struct request *rq);
int h_public_consultation_form(struct request *rq);
int h_intake_post(struct request *rq);
int h_actions_list(struct request *rq);
int h_action_create(struct request *rq);
int h_action_get(struct request *rq);
int h_action_patch(struct request *rq);
int h_action_delete(struct request *rq);
int h_action_updates(struct request *rq);
int h_updates_post(struct request *rq);
int h_update_get(struct request *rq);
int h_update_review(struct request *rq);
int h_updates_feed(struct request *rq);
int h_export_csv(struct request *rq);
int h_audit_list(struct request *rq);
int h_progress(struct request *rq);
int h_progress_trend(struct request *rq);
int h_reporting(struct request *rq);

/* Shared by the progress and chart handlers: resolves a quarter (the
 * default one when *period < 0) and the cycle in scope (cycle_param, or
 * the one holding the quarter); *first, if not NULL, gets the work plan's
 * first quarter. Problems go to errors under field; false when the caller
 * must answer now (errors filled, or *rc not DB_OK). */
bool progress_scope(struct request *rq, int *period, const char *field, const char *cycle_param,
		    char cycle[16], json_t *errors, enum db_rc *rc, int *first);
int h_chart(struct request *rq);
int h_report_create(struct request *rq);
int h_reports_list(struct request *rq);
int h_report_get(struct request *rq);
int h_report_file(struct request *rq);
int h_report_publish(struct request *rq);
/* members, sign-in and sessions (SPEC 10); the member's settings (SPEC 11) */
int h_me(struct request *rq);
int h_me_notifications(struct request *rq);
int h_me_notifications_patch(struct request *rq);
int h_me_tokens(struct request *rq);
int h_me_token_create(struct request *rq);
int h_me_token_delete(struct request *rq);
int h_members_list(struct request *rq);
int h_member_get(struct request *rq);
int h_member_create(struct request *rq);
int h_member_patch(struct request *rq);
int h_auth_link(struct request *rq);
int h_auth_session_create(struct request *rq);
int h_auth_session_delete(struct request *rq);

/* Webhooks (api/h_webhooks.c, SPEC 11). */
int h_webhooks_list(struct request *rq);
int h_webhook_create(struct request *rq);
int h_webhook_get(struct request *rq);
int h_webhook_patch(struct request *rq);
int h_webhook_delete(struct request *rq);
int h_webhook_rotate(struct request *rq);
int h_webhook_deliveries(struct request *rq);
int h_webhook_delivery_retry(struct request *rq);

/* The web app (api/h_web.c): web_serves tells the paths it answers (every
 * one outside /v1), h_web answers them; web_bundle_id is the hash in the
 * URLs of its files. */
bool web_serves(const char *path);
int h_web(struct request *rq);
const char *web_bundle_id(void);

/* notifications (SPEC 11): api/h_notifications.c */
int h_outbox_list(struct request *rq);
int h_reminders(struct request *rq);
int h_unsubscribe_get(struct request *rq);
int h_unsubscribe_post(struct request *rq);

/* the spreadsheet round trip (SPEC 14): api/h_sheet.c */
int h_me_template(struct request *rq);
int h_updates_import(struct request *rq);
/* triage of a call's inputs, the public outcome (SPEC 13): api/h_inputs.c */
int h_inputs_list(struct request *rq);
int h_inputs_csv(struct request *rq);
int h_input_get(struct request *rq);
int h_input_patch(struct request *rq);
int h_input_attachment(struct request *rq);
int h_input_contact_delete(struct request *rq);
int h_consultation_outcome(struct request *rq);

#endif
