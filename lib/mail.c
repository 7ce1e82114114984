/* Mail messages: composition (RFC 5322, MIME, RFC 2047) and the texts of
 * the catalogues mail/<language>.json. See mail.h for what may reach a
 * header. */
#include "mail.h"
#include "base64.h"
#include "clock.h"
#include "embedded.h"
#include "sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCAL_MAX 64
#define ADDRESS_MAX 254
/* bytes of UTF-8 per encoded-word: 52 base64 characters, so a word and
 * its header's name stay inside 78 columns */
#define WORD_BYTES 39

static bool atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

bool mail_address_ok(const char *addr, char *err, size_t n)
{
	const char *at = strrchr(addr, '@');
	size_t len = strlen(addr);

	if (len > ADDRESS_MAX) {
		snprintf(err, n, "the address is longer than %d characters", ADDRESS_MAX);
		return false;
	}
	if (!at || at == addr || (size_t)(at - addr) > LOCAL_MAX) {
		snprintf(err, n, "the address needs a local part of 1 to %d characters before its @",
			 LOCAL_MAX);
		return false;
	}
	for (const char *p = addr; p < at; p++)
		if (!atext((unsigned char)*p) && !(*p == '.' && p > addr && p + 1 < at && p[1] != '.')) {
			snprintf(err, n, "the address's local part holds a character a mail header cannot carry unquoted (byte %d)",
				 (unsigned char)*p);
			return false;
		}
	if (!at[1] || at[1] == '.' || addr[len - 1] == '.') {
		snprintf(err, n, "the address has no domain after its @");
		return false;
	}
	for (const char *p = at + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || (*p == '.' && p[1] != '.'))) {
			snprintf(err, n, "the address's domain holds a character other than letters, digits, '-' and '.' (byte %d)",
				 (unsigned char)*p);
			return false;
		}
	return true;
}

/* Trims spaces at both ends of s[0..len) in place; the new length. */
static size_t trim(char *s, size_t len)
{
	size_t i = 0;

	while (len && s[len - 1] == ' ')
		len--;
	while (i < len && s[i] == ' ')
		i++;
	memmove(s, s + i, len - i);
	s[len - i] = '\0';
	return len - i;
}

bool mail_from_split(const char *from, char *name, size_t name_n, char *addr, size_t addr_n)
{
	const char *lt = strchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	char err[8];

	if (lt) {
		if (!gt || gt[1] || (size_t)(gt - lt - 1) >= addr_n || (size_t)(lt - from) >= name_n)
			return false;
		snprintf(addr, addr_n, "%.*s", (int)(gt - lt - 1), lt + 1);
		snprintf(name, name_n, "%.*s", (int)(lt - from), from);
		trim(name, strlen(name));
		if (name[0] == '"' && strlen(name) >= 2 && name[strlen(name) - 1] == '"') {
			memmove(name, name + 1, strlen(name) - 2);
			name[strlen(name) - 2] = '\0';
		}
	} else {
		if (strlen(from) >= addr_n)
			return false;
		snprintf(addr, addr_n, "%s", from);
		name[0] = '\0';
	}
	trim(addr, strlen(addr));
	return mail_address_ok(addr, err, sizeof err);
}

/* Length of the UTF-8 sequence at p (1 for a byte that starts none, to be
 * replaced). */
static size_t utf8_len(const unsigned char *p)
{
	size_t k = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 :
		   (*p & 0xF8) == 0xF0 ? 4 : 0;

	if (k == 0)
		return 0;
	for (size_t i = 1; i < k; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return k;
}

/* The text of a header phrase: valid UTF-8 (anything else becomes '?'),
 * control characters (CR and LF among them) as spaces, trimmed. */
static char *header_text(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *t = malloc(n + 1);

	if (!t)
		abort();
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t k = utf8_len(p);

		if (k == 0) {
			t[o++] = '?';
			p++;
		} else if (k == 1) {
			t[o++] = (*p < ' ' || *p == 127) ? ' ' : (char)*p;
			p++;
		} else {
			/* C1 controls (U+0080..U+009F) too */
			bool c1 = k == 2 && p[0] == 0xC2 && p[1] < 0xA0;

			if (c1)
				t[o++] = ' ';
			else
				memcpy(t + o, p, k), o += k;
			p += k;
		}
	}
	trim(t, o);
	return t;
}

static bool ascii_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || (unsigned char)*s > '~')
			return false;
	return true;
}

/* Encoded-words (RFC 2047, B) for t, folded between words. */
static bool encoded_words(struct buf *b, const char *t)
{
	const unsigned char *p = (const unsigned char *)t;
	bool first = true;

	while (*p) {
		size_t n = 0;

		/* whole characters only: a word decodes alone */
		while (p[n]) {
			size_t k = utf8_len(p + n);

			if (n + k > WORD_BYTES)
				break;
			n += k;
		}
		if (!buf_adds(b, first ? "=?UTF-8?B?" : "\r\n =?UTF-8?B?") || !buf_base64(b, p, n, false) ||
		    !buf_adds(b, "?="))
			return false;
		first = false;
		p += n;
	}
	return true;
}

/* A display name: a quoted string when it is printable ASCII, else
 * encoded-words. */
static bool phrase(struct buf *b, const char *name)
{
	char *t = header_text(name);
	bool ok = true;

	if (ascii_printable(t) && !strstr(t, "=?") && strlen(t) <= 60) {
		ok = buf_adds(b, "\"");
		for (const char *p = t; ok && *p; p++)
			ok = (*p == '"' || *p == '\\' ? buf_add(b, "\\", 1) : true) && buf_add(b, p, 1);
		ok = ok && buf_adds(b, "\" ");
	} else {
		ok = encoded_words(b, t) && buf_adds(b, " ");
	}
	free(t);
	return ok;
}

/* Characters on the buffer's last line so far. */
static size_t line_length(const struct buf *b)
{
	size_t i = b->len;

	while (i > 0 && b->data[i - 1] != '\n')
		i--;
	return b->len - i;
}

static bool mailbox(struct buf *b, const char *header, const char *name, const char *addr)
{
	if (!buf_printf(b, "%s: ", header))
		return false;
	if (name && *name) {
		char *t = header_text(name);
		bool ok = !*t || phrase(b, t);

		free(t);
		if (!ok)
			return false;
	}
	/* the address on a line of its own when it would make this one long */
	if (line_length(b) + strlen(addr) + 2 > 78 && line_length(b) > strlen(header) + 2 &&
	    !buf_adds(b, "\r\n "))
		return false;
	return buf_printf(b, "<%s>\r\n", addr);
}

static bool unstructured(struct buf *b, const char *header, const char *text)
{
	char *t = header_text(text);
	bool ok = buf_printf(b, "%s: ", header);

	if (ascii_printable(t) && !strstr(t, "=?") && strlen(t) + strlen(header) + 2 <= 78)
		ok = ok && buf_adds(b, t);
	else
		ok = ok && encoded_words(b, t);
	free(t);
	return ok && buf_adds(b, "\r\n");
}

/* Whether s may stand between < and > as written: printable ASCII with no
 * space, < or >. */
static bool bracketable(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s > '~' || *s == '<' || *s == '>')
			return false;
	return true;
}

static bool body_base64(struct buf *b, const char *text)
{
	struct buf crlf, enc;
	bool ok;

	/* the text's line ends as CRLF (RFC 2045 canonical form of text) */
	buf_init(&crlf, MAIL_MAX);
	buf_init(&enc, MAIL_MAX * 2);
	ok = true;
	for (const char *p = text; ok && *p; p++) {
		if (*p == '\r')
			continue;
		ok = *p == '\n' ? buf_add(&crlf, "\r\n", 2) : buf_add(&crlf, p, 1);
	}
	ok = ok && buf_base64(&enc, crlf.data ? crlf.data : "", crlf.len, false);
	for (size_t i = 0; ok && i < enc.len; i += 76)
		ok = buf_add(b, enc.data + i, enc.len - i < 76 ? enc.len - i : 76) && buf_add(b, "\r\n", 2);
	buf_free(&crlf);
	buf_free(&enc);
	return ok;
}

bool mail_compose(const struct mail *m, struct buf *out, char *err, size_t n)
{
	static const char *const wday[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char from_name[320], from_addr[320], why[200];
	struct tm tm;
	bool ok;

	buf_reset(out);
	if (!mail_from_split(m->from, from_name, sizeof from_name, from_addr, sizeof from_addr)) {
		snprintf(err, n, "the sender (WORKPLAN_MAIL_FROM) is not an address a header can carry");
		return false;
	}
	if (!mail_address_ok(m->to, why, sizeof why)) {
		snprintf(err, n, "cannot write the addressee's address into a mail: %s", why);
		return false;
	}
	if (!bracketable(m->message_id) || !strchr(m->message_id, '@')) {
		snprintf(err, n, "the Message-ID is not printable ASCII with an @");
		return false;
	}
	if (m->list_unsubscribe && !bracketable(m->list_unsubscribe)) {
		snprintf(err, n, "the unsubscribe URL is not printable ASCII");
		return false;
	}
	gmtime_r(&m->date, &tm);
	ok = buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", wday[tm.tm_wday],
			tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec) &&
	     mailbox(out, "From", from_name, from_addr) && mailbox(out, "To", m->to_name, m->to) &&
	     unstructured(out, "Subject", m->subject) &&
	     buf_printf(out, "Message-ID: <%s>\r\n", m->message_id) &&
	     buf_adds(out, "MIME-Version: 1.0\r\n"
			   "Content-Type: text/plain; charset=utf-8\r\n"
			   "Content-Transfer-Encoding: base64\r\n"
			   "Auto-Submitted: auto-generated\r\n");
	if (ok && m->language && (!strcmp(m->language, "en") || !strcmp(m->language, "fr")))
		ok = buf_printf(out, "Content-Language: %s\r\n", m->language);
	if (ok && m->list_unsubscribe)
		ok = buf_printf(out, "List-Unsubscribe: <%s>\r\n"
				     "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
				m->list_unsubscribe);
	ok = ok && buf_adds(out, "\r\n") && body_base64(out, m->text);
	if (!ok)
		snprintf(err, n, "the message is larger than %d KiB", MAIL_MAX / 1024);
	return ok;
}

json_t *mail_catalogue(const char *language)
{
	char path[64];

	snprintf(path, sizeof path, "mail/%s.json", language && !strcmp(language, "fr") ? "fr" : "en");
	for (const struct embedded_file *f = embedded_files; f->path; f++)
		if (!strcmp(f->path, path))
			return json_loadb(f->data, f->size, 0, NULL);
	return NULL;
}

static bool fill(const char *tmpl, const json_t *vars, const json_t *items, struct buf *out)
{
	for (const char *p = tmpl; *p; p++) {
		const char *end = *p == '{' ? strchr(p, '}') : NULL;
		char key[64];
		json_t *v;

		if (!end || end - p - 1 <= 0 || end - p - 1 >= (long)sizeof key) {
			if (!buf_add(out, p, 1))
				return false;
			continue;
		}
		snprintf(key, sizeof key, "%.*s", (int)(end - p - 1), p + 1);
		p = end;
		v = json_object_get(vars, key);
		if (json_is_string(v)) {
			if (!buf_adds(out, json_string_value(v)))
				return false;
		} else if (json_is_integer(v)) {
			if (!buf_printf(out, "%lld", (long long)json_integer_value(v)))
				return false;
		} else if (json_is_real(v)) {
			if (!buf_printf(out, "%g", json_real_value(v)))
				return false;
		} else if (json_is_array(v) && json_is_string(json_object_get(items, key))) {
			size_t i;
			json_t *e;

			json_array_foreach(v, i, e) {
				if ((i && !buf_adds(out, "\n")) ||
				    !fill(json_string_value(json_object_get(items, key)), e, NULL, out))
					return false;
			}
		}
	}
	return true;
}

bool mail_fill(const char *tmpl, const json_t *vars, struct buf *out)
{
	return fill(tmpl, vars, NULL, out);
}

/* vars with each instant a text shows (a var named *_at holding RFC 3339)
 * as a person reads it, in the catalogue's words ("when", "months"):
 * "3 December 2026, 07:00 UTC", "3 décembre 2026 à 07:00 UTC". */
static json_t *readable_times(const json_t *vars, const json_t *cat)
{
	json_t *out = json_copy((json_t *)vars), *v;
	const char *key, *when = json_string_value(json_object_get(cat, "when"));
	void *tmp;

	json_object_foreach_safe(out, tmp, key, v) {
		size_t len = strlen(key);
		const char *month;
		char hm[8];
		struct tm tm;
		struct buf b;
		time_t t;
		json_t *parts;

		if (!when || len < 3 || strcmp(key + len - 3, "_at") || !json_is_string(v) ||
		    !rfc3339_parse(json_string_value(v), false, &t) || !gmtime_r(&t, &tm))
			continue;
		month = json_string_value(json_array_get(json_object_get(cat, "months"), (size_t)tm.tm_mon));
		snprintf(hm, sizeof hm, "%02d:%02d", tm.tm_hour, tm.tm_min);
		parts = json_pack("{s:i, s:s, s:i, s:s}", "day", tm.tm_mday, "month", month ? month : "",
				  "year", tm.tm_year + 1900, "time", hm);
		buf_init(&b, 256);
		if (parts && fill(when, parts, NULL, &b) && b.data)
			json_object_set_new(out, key, json_string(b.data));
		buf_free(&b);
		json_decref(parts);
	}
	return out;
}

bool mail_text(const char *language, const char *kind, const json_t *given, bool footer,
	       char **subject, char **body, char *err, size_t n)
{
	json_t *cat = mail_catalogue(language), *k = json_object_get(cat, kind);
	json_t *vars = readable_times(given, cat);
	const json_t *items = json_object_get(cat, "items");
	const char *s = json_string_value(json_object_get(k, "subject"));
	const char *b = json_string_value(json_object_get(k, "body"));
	struct buf sb, bb;
	bool ok;

	*subject = *body = NULL;
	if (!s || !b) {
		snprintf(err, n, "the %s mail catalogue has no text for %s", language, kind);
		json_decref(cat);
		json_decref(vars);
		return false;
	}
	buf_init(&sb, 4096);
	buf_init(&bb, MAIL_MAX / 2);
	ok = fill(s, vars, items, &sb) &&
	     fill(json_string_value(json_object_get(cat, "greeting")), vars, items, &bb) &&
	     buf_adds(&bb, "\n\n") && fill(b, vars, items, &bb) && buf_adds(&bb, "\n\n") &&
	     (!footer || (fill(json_string_value(json_object_get(cat, "unsubscribe")), vars, items, &bb) &&
			  buf_adds(&bb, "\n\n"))) &&
	     fill(json_string_value(json_object_get(cat, "signature")), vars, items, &bb) &&
	     buf_adds(&bb, "\n");
	json_decref(cat);
	json_decref(vars);
	if (!ok) {
		snprintf(err, n, "the %s text is too long", kind);
		buf_free(&sb);
		buf_free(&bb);
		return false;
	}
	*subject = buf_steal(&sb, NULL);
	*body = buf_steal(&bb, NULL);
	return true;
}

void mail_unsubscribe_sig(const unsigned char key[32], long long member, const char *list,
			  char out[MAIL_SIG_STRLEN])
{
	unsigned char mac[SHA256_LEN];
	char msg[96];
	struct buf b;

	snprintf(msg, sizeof msg, "%lld:%s", member, list);
	hmac_sha256(key, 32, msg, strlen(msg), mac);
	buf_init(&b, MAIL_SIG_STRLEN);
	buf_base64(&b, mac, sizeof mac, true);
	snprintf(out, MAIL_SIG_STRLEN, "%s", b.data);
	buf_free(&b);
}
