/* The JSON field-table validator and the text rules it applies. Strings
 * from bodies are valid UTF-8 (jansson refuses anything else at parse);
 * strings from query strings may not be: text_check says so. */
#include "jspec.h"
#include "period.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The length of the well-formed UTF-8 sequence at s (1 to 4), or 0 (bad
 * bytes, overlong forms, surrogates, past U+10FFFF, cut short by the end
 * of the string: a NUL is never a continuation byte, so nothing past it
 * is read). */
static int utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xC2)
		return 0;
	if ((s[1] & 0xC0) != 0x80)
		return 0;
	if (s[0] < 0xE0)
		return 2;
	if ((s[2] & 0xC0) != 0x80 || (s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0))
		return 0;
	if (s[0] < 0xF0)
		return 3;
	if (s[0] > 0xF4 || (s[3] & 0xC0) != 0x80 || (s[0] == 0xF0 && s[1] < 0x90) ||
	    (s[0] == 0xF4 && s[1] >= 0x90))
		return 0;
	return 4;
}

/* Decodes one code point at *p and advances *p; a byte that does not
 * start a well-formed sequence reads as U+FFFD, alone. */
static unsigned long utf8_next(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;
	int n = utf8_len(s);
	unsigned long c = s[0];

	if (!n) {
		*p += 1;
		return 0xFFFD;
	}
	if (n > 1)
		c &= 0x7F >> n;
	for (int i = 1; i < n; i++)
		c = (c << 6) | (s[i] & 0x3F);
	*p += n;
	return c;
}

static bool is_space(unsigned long c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0 ||
	       c == 0x1680 || (c >= 0x2000 && c <= 0x200B) || c == 0x2028 ||
	       c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Han ideographs and kana: written without spaces, one word each. */
static bool is_cjk(unsigned long c)
{
	return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x4DBF) ||
	       (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) ||
	       (c >= 0x20000 && c <= 0x3134F);
}

/* Punctuation and symbols that do not make a word on their own. */
static bool is_wordish(unsigned long c)
{
	if (c < 0x80)
		return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
	return !((c >= 0xA0 && c <= 0xBF) || (c >= 0x2000 && c <= 0x206F) ||
		 (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF01 && c <= 0xFF0F) ||
		 (c >= 0xFF1A && c <= 0xFF20));
}

int text_words(const char *s)
{
	int words = 0;
	bool in_word = false;

	while (*s) {
		unsigned long c = utf8_next(&s);

		if (is_cjk(c)) {
			words++;
			in_word = false;
		} else if (is_space(c) || !is_wordish(c)) {
			in_word = in_word && !is_space(c);
		} else if (!in_word) {
			words++;
			in_word = true;
		}
	}
	return words;
}

long long text_chars(const char *s)
{
	long long n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

const char *text_check(const char *s, bool multiline)
{
	while (*s) {
		unsigned long c;

		if (!utf8_len((const unsigned char *)s))
			return "must be valid UTF-8 text";
		c = utf8_next(&s);
		if (multiline && (c == '\n' || c == '\r' || c == '\t'))
			continue;
		if (c < 0x20 || (c >= 0x7F && c <= 0x9F))
			return multiline ? "must not contain control characters"
					 : "must be one line without control characters";
		/* embeddings, overrides and isolates would reorder what follows
		 * them wherever the line is shown (a title in a list, a file
		 * name): "Trojan Source" */
		if (!multiline && ((c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069)))
			return "must not contain bidirectional control characters";
	}
	return NULL;
}

bool date_valid(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d, n = 0;

	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	return !(m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
}

/* Characters RFC 3986 allows outside percent-encodings: unreserved and
 * sub-delims; pchar adds ':' and '@'. */
static bool uri_plain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-._~!$&'()*+,;=", c));
}

static bool hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Skips what of s is made of plain characters, percent-encodings and
 * those in extra; NULL at a malformed percent-encoding. */
static const char *uri_run(const char *s, const char *extra)
{
	for (;;) {
		if (*s == '%') {
			if (!hex_digit(s[1]) || !hex_digit(s[2]))
				return NULL;
			s += 3;
		} else if (uri_plain(*s) || (*s && strchr(extra, *s))) {
			s++;
		} else {
			return s;
		}
	}
}

/* An absolute http or https URI by RFC 3986 (section 3): a host, an
 * optional port, no user information; path, query and fragment of the
 * characters the RFC allows (anything else, such as non-ASCII letters,
 * spaces, '|' or '{', percent-encoded). */
static bool ascii_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool email_valid(const char *s)
{
	const char *at = strchr(s, '@'), *p, *label;
	size_t n = strlen(s);

	if (!at || strchr(at + 1, '@') || n > 254 || at == s || at - s > 64 || *s == '.' ||
	    at[-1] == '.')
		return false;
	for (p = s; p < at; p++)
		if (!(ascii_alnum(*p) || strchr("!#$%&'*+-/=?^_`{|}~.", *p)) ||
		    (*p == '.' && p[1] == '.'))
			return false;
	/* labels of the domain: 1 to 63 letters, digits, inner hyphens */
	label = at + 1;
	for (p = label;; p++) {
		if (*p == '.' || !*p) {
			if (p == label || p - label > 63 || *label == '-' || p[-1] == '-')
				return false;
			if (!*p)
				break;
			label = p + 1;
		} else if (!ascii_alnum(*p) && *p != '-') {
			return false;
		}
	}
	return label != at + 1;
}

bool url_valid(const char *s)
{
	const char *p, *end;

	if (strlen(s) > 2048)
		return false;
	if (!strncasecmp(s, "https://", 8))
		p = s + 8;
	else if (!strncasecmp(s, "http://", 7))
		p = s + 7;
	else
		return false;
	if (*p == '[') { /* an IP literal */
		end = p + 1 + strspn(p + 1, "0123456789abcdefABCDEF:.");
		if (*end != ']' || end == p + 1)
			return false;
		p = end + 1;
	} else {
		end = uri_run(p, "");
		if (!end || end == p || *end == '@')
			return false;
		p = end;
	}
	if (*p == ':') {
		size_t n = strspn(p + 1, "0123456789");

		if (n < 1 || n > 5 || atol(p + 1) > 65535)
			return false;
		p += 1 + n;
	}
	if (*p && *p != '/' && *p != '?' && *p != '#')
		return false;
	p = uri_run(p, ":@/");
	if (p && *p == '?')
		p = uri_run(p + 1, ":@/?");
	if (p && *p == '#')
		p = uri_run(p + 1, ":@/?");
	return p && !*p;
}

/* A copy of s fit for JSON: well-formed UTF-8 kept, any other byte '?'. */
static void utf8_scrub(const char *s, char *out, size_t n)
{
	size_t o = 0;

	while (*s) {
		int len = utf8_len((const unsigned char *)s);

		if (o + (len ? len : 1) >= n)
			break;
		if (len) {
			memcpy(out + o, s, len);
			o += len;
			s += len;
		} else {
			out[o++] = '?';
			s++;
		}
	}
	out[o] = '\0';
}

void js_error_code(json_t *errors, const char *field, const char *code, json_t *params,
		   const char *message)
{
	json_t *e = json_pack("{s:s, s:s}", "field", field, "message", message);
	char safe[256];

	/* a path cut inside a character, or raw bytes from a query string */
	if (!e) {
		utf8_scrub(field, safe, sizeof safe);
		e = json_pack("{s:s, s:s}", "field", safe, "message", message);
	}
	if (code)
		json_object_set_new(e, "code", json_string(code));
	if (params)
		json_object_set_new(e, "params", params);
	json_array_append_new(errors, e);
}

void js_error(json_t *errors, const char *field, const char *message)
{
	js_error_code(errors, field, NULL, NULL, message);
}

static bool js_fail(json_t *errors, const char *path, const char *code, json_t *params, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Appends the error (code, params: see js_error_code); false. */
static bool js_fail(json_t *errors, const char *path, const char *code, json_t *params, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	js_error_code(errors, path, code, params, msg);
	return false;
}

/* {"min": a} and the like: the figures of a rule. */
static json_t *figures(const char *k1, long long v1, const char *k2, long long v2)
{
	json_t *o = json_object();

	json_object_set_new(o, k1, json_integer(v1));
	if (k2)
		json_object_set_new(o, k2, json_integer(v2));
	return o;
}

/* "evidence[2].url": the path of a field, truncated if absurdly deep. */
static void path_key(char *out, size_t n, const char *path, const char *key)
{
	int w = snprintf(out, n, "%s%s%s", path, *path ? "." : "", key);

	if (w < 0 || (size_t)w >= n)
		out[n - 1] = '\0';
}

static void path_index(char *out, size_t n, const char *path, size_t index)
{
	int w = snprintf(out, n, "%s[%zu]", path, index);

	if (w < 0 || (size_t)w >= n)
		out[n - 1] = '\0';
}

/* Is s white space alone (ASCII or Unicode spaces, line breaks, BOM)? */
static bool text_blank(const char *s)
{
	while (*s) {
		unsigned long c = utf8_next(&s);

		if (!(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xA0 || c == 0x1680 ||
		      (c >= 0x2000 && c <= 0x200B) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
		      c == 0x205F || c == 0x3000 || c == 0xFEFF))
			return false;
	}
	return true;
}

static bool js_check_length(const struct js_field *f, const char *s, const char *path,
			    json_t *errors)
{
	long long n = text_chars(s);
	long long max = f->max ? f->max : JS_MAX_CHARS;

	if (n < f->min)
		return f->min == 1 ? js_fail(errors, path, "empty", NULL, "must not be empty")
				   : js_fail(errors, path, "too_short", figures("min", f->min, NULL, 0),
					     "must be at least %lld characters", f->min);
	if (f->min >= 1 && text_blank(s))
		return js_fail(errors, path, "blank", NULL, "must not be blank");
	if (n > max)
		return js_fail(errors, path, "too_long", figures("max", max, NULL, 0),
			       "must be at most %lld characters", max);
	return true;
}

static bool js_check_string(const struct js_field *f, const json_t *v, const char *path,
			    json_t *errors)
{
	const char *s, *why;

	if (!json_is_string(v))
		return js_fail(errors, path, "type", NULL, "must be a string");
	s = json_string_value(v);
	/* jansson allows \u0000 only with JSON_ALLOW_NUL, so strlen is the length */
	why = text_check(s, f->type == JS_TEXT);
	if (why)
		return js_fail(errors, path, "text", NULL, "%s", why);
	if (!js_check_length(f, s, path, errors))
		return false;
	if (f->type == JS_TEXT && f->max_words && text_words(s) > f->max_words)
		return js_fail(errors, path, "too_many_words", figures("max", f->max_words, "has", text_words(s)),
			       "must be at most %d words (has %d)", f->max_words, text_words(s));
	if (f->type == JS_DATE && !date_valid(s))
		return js_fail(errors, path, "date", NULL, "must be a date YYYY-MM-DD");
	if (f->type == JS_URL && !url_valid(s))
		return js_fail(errors, path, "url", NULL,
			       "must be an http or https URI (RFC 3986: no user name or password,"
			       " other characters percent-encoded)");
	if (f->type == JS_EMAIL && !email_valid(s))
		return js_fail(errors, path, "email", NULL, "must be a mail address such as name@un.org");
	if (f->out)
		*(const char **)f->out = s;
	return true;
}

static bool js_check_object(const struct js_field *spec, const json_t *v, const char *path,
			    json_t *errors);
static bool js_check_field(const struct js_field *f, const json_t *v, const char *path,
			   json_t *errors);

/* Item i of array v as an id: a positive integer not seen before it. */
static bool js_check_id(const json_t *v, size_t i, const char *path, json_t *errors)
{
	const json_t *e = json_array_get(v, i);

	if (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > (1LL << 53))
		return js_fail(errors, path, "id", NULL, "must be a positive integer");
	for (size_t k = 0; k < i; k++)
		if (json_equal(json_array_get(v, k), e))
			return js_fail(errors, path, "duplicate", NULL, "is already in the list");
	return true;
}

static bool js_check_array(const struct js_field *f, const json_t *v, const char *path,
			   json_t *errors)
{
	struct js_field item = { .name = f->name, .type = JS_STRING, .min = 1, .max = 200 };
	size_t n = json_array_size(v), i;
	bool ok = true;
	char sub[256];

	if (!json_is_array(v))
		return js_fail(errors, path, "type", NULL, "must be an array");
	if ((long long)n < f->min)
		return js_fail(errors, path, "too_few_items", figures("min", f->min, NULL, 0),
			       "must have at least %lld items", f->min);
	if (f->max && (long long)n > f->max)
		return js_fail(errors, path, "too_many_items", figures("max", f->max, NULL, 0),
			       "must have at most %lld items", f->max);
	for (i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);

		path_index(sub, sizeof sub, path, i);
		if (f->type == JS_STRINGS) {
			ok = js_check_string(&item, e, sub, errors) && ok;
		} else if (f->type == JS_IDS) {
			ok = js_check_id(v, i, sub, errors) && ok;
		} else if (!json_is_object(e)) {
			ok = js_fail(errors, sub, "type", NULL, "must be an object");
		} else {
			ok = js_check_object(f->sub, e, sub, errors) && ok;
		}
	}
	if (ok && f->out)
		*(const json_t **)f->out = v;
	return ok;
}

/* Validates the members of object v against spec; path prefixes names. */
static bool js_check_object(const struct js_field *spec, const json_t *v, const char *path,
			    json_t *errors)
{
	const struct js_field *f;
	const char *key;
	json_t *val;
	char sub[256];
	bool ok = true;

	json_object_foreach((json_t *)v, key, val) {
		for (f = spec; f->name && strcmp(f->name, key); f++)
			;
		if (!f->name) {
			path_key(sub, sizeof sub, path, key);
			ok = js_fail(errors, sub, "unknown_field", NULL, "is not a known field");
		}
	}
	for (f = spec; f->name; f++) {
		path_key(sub, sizeof sub, path, f->name);
		val = json_object_get(v, f->name);
		if (f->present)
			*f->present = val != NULL;
		if (f->is_null)
			*f->is_null = json_is_null(val);
		if (!val) {
			if (f->flags & JS_REQUIRED)
				ok = js_fail(errors, sub, "required", NULL, "is required");
		} else if (json_is_null(val)) {
			if (!(f->flags & JS_NULLABLE))
				ok = js_fail(errors, sub, "required", NULL, "must not be null");
			else if (f->out && f->type != JS_INT && f->type != JS_BOOL &&
				 f->type != JS_ENUM && f->type != JS_PERIOD)
				*(const void **)f->out = NULL;
		} else {
			ok = js_check_field(f, val, sub, errors) && ok;
		}
	}
	return ok;
}

static bool js_check_field(const struct js_field *f, const json_t *v, const char *path,
			   json_t *errors)
{
	switch (f->type) {
	case JS_STRING:
	case JS_TEXT:
	case JS_DATE:
	case JS_URL:
	case JS_EMAIL:
		return js_check_string(f, v, path, errors);
	case JS_INT: {
		long long n;

		if (!json_is_integer(v))
			return js_fail(errors, path, "integer", NULL, "must be an integer");
		n = json_integer_value(v);
		if ((f->min || f->max) && (n < f->min || n > f->max))
			return js_fail(errors, path, "range", figures("min", f->min, "max", f->max),
				       "must be between %lld and %lld", f->min, f->max);
		if (f->out)
			*(long long *)f->out = n;
		return true;
	}
	case JS_BOOL:
		if (!json_is_boolean(v))
			return js_fail(errors, path, "boolean", NULL, "must be true or false");
		if (f->out)
			*(bool *)f->out = json_is_true(v);
		return true;
	case JS_ENUM: {
		const char *s = json_string_value(v);
		char allowed[200] = "";

		for (int i = 0; s && f->choices[i]; i++) {
			if (!strcmp(s, f->choices[i])) {
				if (f->out)
					*(int *)f->out = i;
				return true;
			}
		}
		for (int i = 0; f->choices[i]; i++)
			snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed),
				 "%s%s", i ? ", " : "", f->choices[i]);
		return js_fail(errors, path, "choice", json_pack("{s:s}", "allowed", allowed),
			       "must be one of: %s", allowed);
	}
	case JS_PERIOD: {
		int p;

		if (!period_parse(json_string_value(v), &p))
			return js_fail(errors, path, "period", NULL, "must be a period like 2024-Q3");
		if (f->out)
			*(int *)f->out = p;
		return true;
	}
	case JS_STRINGS:
	case JS_OBJECTS:
	case JS_IDS:
		return js_check_array(f, v, path, errors);
	}
	BUG("unknown field type %d", f->type);
	return false;
}

bool js_validate(const json_t *obj, const struct js_field *spec, json_t *errors)
{
	if (!json_is_object(obj)) {
		js_error(errors, "", "the body must be a JSON object");
		return false;
	}
	return js_check_object(spec, obj, "", errors);
}
