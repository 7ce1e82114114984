/* The names of the vocabulary of lib/vocab.h, generated from its tables. */
#include "vocab.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define VOCAB_NAMES(table, type, prefix) \
	const char *const type##_names[prefix##_COUNT + 1] = { table(VOCAB_NAME, VOCAB_COMMA), NULL };

VOCAB_NAMES(STATUS_TABLE, status, STATUS)
VOCAB_NAMES(VISIBILITY_TABLE, visibility, VISIBILITY)
VOCAB_NAMES(REVIEW_STATE_TABLE, review_state, REVIEW_STATE)
VOCAB_NAMES(DECISION_TABLE, decision, DECISION)
VOCAB_NAMES(REPORT_KIND_TABLE, report_kind, REPORT_KIND)
VOCAB_NAMES(REPORT_FORMAT_TABLE, report_format, REPORT_FORMAT)
VOCAB_NAMES(AUDIENCE_TABLE, audience, AUDIENCE)
VOCAB_NAMES(PILLAR_STATUS_TABLE, pillar_status, PILLAR_STATUS)
VOCAB_NAMES(ROLE_TABLE, member_role, MEMBER_ROLE)
VOCAB_NAMES(LANGUAGE_TABLE, language, LANGUAGE)
VOCAB_NAMES(REVIEW_DIGEST_TABLE, review_digest, REVIEW_DIGEST)
VOCAB_NAMES(WEBHOOK_EVENT_TABLE, webhook_event, WEBHOOK_EVENT)
VOCAB_NAMES(INPUT_STATE_TABLE, input_state, INPUT_STATE)
VOCAB_NAMES(CONTRIBUTOR_TYPE_TABLE, contributor_type, CONTRIBUTOR_TYPE)

int vocab_find(const char *const *names, const char *name)
{
	for (int i = 0; name && names[i]; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

const char *status_words(const char *status, char out[STATUS_WORDS_MAX], bool capital)
{
	if (vocab_find(status_names, status) < 0)
		return status ? status : "";
	snprintf(out, STATUS_WORDS_MAX, "%s", status);
	for (char *p = out; *p; p++)
		if (*p == '_')
			*p = ' ';
	if (capital)
		out[0] = (char)toupper((unsigned char)out[0]);
	return out;
}
