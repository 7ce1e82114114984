/* The route table: every path the API serves, who may call it, and its
 * handler. api/openapi.json documents exactly these (a test checks). */
#include "handlers.h"
#include "metrics.h"
#include "router.h"
#include "util.h"

const struct route api_routes[] = {
	{ "GET", "/v1/health", ROUTE_PUBLIC, ROLE_NONE, h_health },
	{ "GET", "/v1/openapi.json", ROUTE_PUBLIC, ROLE_NONE, h_openapi },
	{ "GET", "/metrics", ROUTE_PUBLIC | ROUTE_LOOPBACK, ROLE_NONE, h_metrics },
	{ "GET", "/v1/entities", ROUTE_CACHE, ROLE_VIEWER, h_entities_list },
	{ "GET", "/v1/cochairs", ROUTE_CACHE, ROLE_VIEWER, h_cochairs_list },
	{ "GET", "/v1/workplans", ROUTE_CACHE, ROLE_VIEWER, h_workplans_list },
	{ "GET", "/v1/cycles", ROUTE_CACHE, ROLE_VIEWER, h_cycles_list },
	{ "GET", "/v1/events", ROUTE_CACHE, ROLE_VIEWER, h_events_list },
	/* calls for inputs (SPEC 13); states follow the clock, so no cache */
	{ "GET", "/v1/consultations", 0, ROLE_VIEWER, h_consultations_list },
	{ "POST", "/v1/consultations", ROUTE_BODY | ROUTE_VERSIONED, ROLE_COCHAIR, h_consultation_create },
	{ "GET", "/v1/consultations/{id}", 0, ROLE_VIEWER, h_consultation_get },
	{ "PATCH", "/v1/consultations/{id}", ROUTE_BODY | ROUTE_VERSIONED, ROLE_COCHAIR, h_consultation_patch },
	{ "GET", "/v1/public/consultations", ROUTE_PUBLIC, ROLE_NONE, h_public_consultations_list },
	{ "GET", "/v1/public/consultations/{id}", ROUTE_PUBLIC, ROLE_NONE, h_public_consultation_get },
	{ "GET", "/v1/public/consultations/{id}/form", ROUTE_PUBLIC, ROLE_NONE, h_public_consultation_form },
	{ "POST", "/v1/public/consultations/{id}/inputs", ROUTE_PUBLIC | ROUTE_STREAM, ROLE_NONE, h_intake_post },
	{ "GET", "/v1/pillars", ROUTE_CACHE, ROLE_VIEWER, h_pillars_list },
	{ "GET", "/v1/pillars/{n}", ROUTE_CACHE, ROLE_VIEWER, h_pillar_get },
	{ "PATCH", "/v1/pillars/{n}", ROUTE_BODY | ROUTE_VERSIONED, ROLE_COCHAIR, h_pillar_patch },
	{ "GET", "/v1/actions", ROUTE_CACHE, ROLE_VIEWER, h_actions_list },
	{ "POST", "/v1/actions", ROUTE_BODY | ROUTE_VERSIONED, ROLE_COCHAIR, h_action_create },
	{ "GET", "/v1/actions/{id}", ROUTE_CACHE, ROLE_VIEWER, h_action_get },
	{ "PATCH", "/v1/actions/{id}", ROUTE_BODY | ROUTE_VERSIONED, ROLE_COCHAIR, h_action_patch },
	{ "DELETE", "/v1/actions/{id}", ROUTE_VERSIONED, ROLE_COCHAIR, h_action_delete },
	{ "GET", "/v1/actions/{id}/updates", ROUTE_CACHE, ROLE_VIEWER, h_action_updates },
	{ "POST", "/v1/actions/{id}/updates", ROUTE_BODY, ROLE_LEAD, h_updates_post },
	{ "GET", "/v1/updates", ROUTE_CACHE, ROLE_VIEWER, h_updates_feed },
	{ "GET", "/v1/updates/{id}", ROUTE_CACHE, ROLE_VIEWER, h_update_get },
	{ "POST", "/v1/updates/{id}/review", ROUTE_BODY, ROLE_COCHAIR, h_update_review },
	{ "GET", "/v1/progress", ROUTE_CACHE, ROLE_VIEWER, h_progress },
	{ "GET", "/v1/progress/trend", ROUTE_CACHE, ROLE_VIEWER, h_progress_trend },
	{ "GET", "/v1/reporting", ROUTE_CACHE, ROLE_VIEWER, h_reporting },
	{ "GET", "/v1/charts/{file}", 0, ROLE_VIEWER, h_chart },
	{ "GET", "/v1/reports", 0, ROLE_VIEWER, h_reports_list },
	{ "POST", "/v1/reports", ROUTE_BODY, ROLE_COCHAIR, h_report_create },
	{ "GET", "/v1/reports/{id}", 0, ROLE_VIEWER, h_report_get },
	{ "GET", "/v1/reports/{id}/files/{name}", 0, ROLE_VIEWER, h_report_file },
	{ "POST", "/v1/reports/{id}/publish", 0, ROLE_COCHAIR, h_report_publish },
	{ "GET", "/v1/public/reports", ROUTE_PUBLIC, ROLE_NONE, h_reports_list },
	{ "GET", "/v1/public/reports/{id}", ROUTE_PUBLIC, ROLE_NONE, h_report_get },
	{ "GET", "/v1/public/reports/{id}/files/{name}", ROUTE_PUBLIC, ROLE_NONE, h_report_file },
	{ "GET", "/v1/export.csv", ROUTE_CACHE, ROLE_VIEWER, h_export_csv },
	{ "GET", "/v1/audit", 0, ROLE_COCHAIR, h_audit_list },
	/* members, sign-in and sessions (SPEC 10) */
	{ "GET", "/v1/me", 0, ROLE_VIEWER, h_me },
	{ "GET", "/v1/me/notifications", 0, ROLE_VIEWER, h_me_notifications },
	{ "PATCH", "/v1/me/notifications", ROUTE_BODY, ROLE_VIEWER, h_me_notifications_patch },
	{ "GET", "/v1/me/tokens", 0, ROLE_VIEWER, h_me_tokens },
	{ "POST", "/v1/me/tokens", ROUTE_BODY, ROLE_VIEWER, h_me_token_create },
	{ "DELETE", "/v1/me/tokens/{id}", 0, ROLE_VIEWER, h_me_token_delete },
	{ "GET", "/v1/members", 0, ROLE_COCHAIR, h_members_list },
	{ "POST", "/v1/members", ROUTE_BODY, ROLE_COCHAIR, h_member_create },
	{ "GET", "/v1/members/{id}", 0, ROLE_COCHAIR, h_member_get },
	{ "PATCH", "/v1/members/{id}", ROUTE_BODY | ROUTE_VERSIONED, ROLE_COCHAIR, h_member_patch },
	{ "POST", "/v1/auth/link", ROUTE_PUBLIC | ROUTE_BODY, ROLE_NONE, h_auth_link },
	{ "POST", "/v1/auth/session", ROUTE_PUBLIC | ROUTE_BODY, ROLE_NONE, h_auth_session_create },
	{ "DELETE", "/v1/auth/session", 0, ROLE_VIEWER, h_auth_session_delete },
	/* webhooks (SPEC 11) */
	{ "GET", "/v1/webhooks", 0, ROLE_COCHAIR, h_webhooks_list },
	{ "POST", "/v1/webhooks", ROUTE_BODY | ROUTE_VERSIONED, ROLE_COCHAIR, h_webhook_create },
	{ "GET", "/v1/webhooks/{id}", 0, ROLE_COCHAIR, h_webhook_get },
	{ "PATCH", "/v1/webhooks/{id}", ROUTE_BODY | ROUTE_VERSIONED, ROLE_COCHAIR, h_webhook_patch },
	{ "DELETE", "/v1/webhooks/{id}", 0, ROLE_COCHAIR, h_webhook_delete },
	{ "POST", "/v1/webhooks/{id}/rotate", ROUTE_VERSIONED, ROLE_COCHAIR, h_webhook_rotate },
	{ "GET", "/v1/webhooks/{id}/deliveries", 0, ROLE_COCHAIR, h_webhook_deliveries },
	{ "POST", "/v1/webhooks/{id}/deliveries/{d}/retry", 0, ROLE_COCHAIR, h_webhook_delivery_retry },
	/* notifications (SPEC 11, api/h_notifications.c) */
	{ "GET", "/v1/outbox", 0, ROLE_COCHAIR, h_outbox_list },
	{ "GET", "/v1/reminders", 0, ROLE_LEAD, h_reminders },
	{ "GET", "/v1/unsubscribe", ROUTE_PUBLIC, ROLE_NONE, h_unsubscribe_get },
	{ "POST", "/v1/unsubscribe", ROUTE_PUBLIC | ROUTE_FORM, ROLE_NONE, h_unsubscribe_post },
	/* the spreadsheet round trip (SPEC 14, api/h_sheet.c) */
	{ "GET", "/v1/me/template.csv", 0, ROLE_LEAD, h_me_template },
	{ "GET", "/v1/me/template.xlsx", 0, ROLE_LEAD, h_me_template },
	{ "POST", "/v1/updates/import", ROUTE_UPLOAD, ROLE_LEAD, h_updates_import },
	/* triage of a call's inputs, the public outcome (SPEC 13, api/h_inputs.c) */
	{ "GET", "/v1/consultations/{id}/inputs", 0, ROLE_LEAD, h_inputs_list },
	{ "GET", "/v1/consultations/{id}/inputs.csv", 0, ROLE_COCHAIR, h_inputs_csv },
	{ "GET", "/v1/inputs/{id}", 0, ROLE_LEAD, h_input_get },
	{ "PATCH", "/v1/inputs/{id}", ROUTE_BODY | ROUTE_VERSIONED, ROLE_COCHAIR, h_input_patch },
	{ "GET", "/v1/inputs/{id}/attachment", 0, ROLE_LEAD, h_input_attachment },
	{ "DELETE", "/v1/inputs/{id}/contact", 0, ROLE_COCHAIR, h_input_contact_delete },
	{ "GET", "/v1/public/consultations/{id}/outcome", ROUTE_PUBLIC, ROLE_NONE, h_consultation_outcome },
	{ NULL, NULL, 0, ROLE_NONE, NULL },
};

size_t api_route_count(void)
{
	return ARRAY_LEN(api_routes) - 1;
}
