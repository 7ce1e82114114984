/* Reading a filled spreadsheet: CSV or XLSX into a grid of text cells
 * (sheet.h). */
#include "sheet.h"
#include "util.h"
#include "xmlsafe.h"

#include <libxml/tree.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

/* a real workbook has a few dozen entries */
#define ZIP_ENTRIES_MAX 1000
/* the row numbers a spreadsheet has (Excel's and LibreOffice's last row) */
#define ROW_NUMBER_MAX 1048576

static void say(char *why, size_t n, const char *fmt, const char *arg)
{
	snprintf(why, n, fmt, arg ? arg : "");
}

void sheet_free(struct sheet *s)
{
	for (int i = 0; i < s->nrows; i++)
		for (int c = 0; c < SHEET_MAX_COLS; c++)
			free(s->rows[i].cells[c].text);
	free(s->rows);
	s->rows = NULL;
	s->nrows = 0;
}

/* A new row numbered number; NULL when the sheet has max rows already. */
static struct sheet_row *row_add(struct sheet *s, int number, int max_rows)
{
	if (s->nrows >= max_rows)
		return NULL;
	/* grown in steps, so a long file costs a few reallocations */
	if ((s->nrows & 63) == 0)
		s->rows = xrealloc(s->rows, (size_t)(s->nrows + 64) * sizeof *s->rows);
	memset(&s->rows[s->nrows], 0, sizeof *s->rows);
	s->rows[s->nrows].number = number;
	return &s->rows[s->nrows++];
}

/* Well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF)
 * without NUL bytes. */
static bool utf8_text(const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len;

	while (p < end) {
		unsigned c = *p;
		size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
		uint32_t v;

		if (!c || !n || (size_t)(end - p) < n)
			return false;
		v = n == 1 ? c : c & (0x7F >> n);
		for (size_t i = 1; i < n; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return false;
			v = v << 6 | (p[i] & 0x3F);
		}
		if ((n == 2 && v < 0x80) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000) ||
		    v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			return false;
		p += n;
	}
	return true;
}

/* ---- CSV (RFC 4180, with ';' as the separator where a locale's
 * spreadsheet writes it) ---- */

/* The separator: the one of ',' and ';' the header line (outside quotes)
 * has more of; a comma when neither. */
static char csv_separator(const char *p, const char *end)
{
	int commas = 0, semis = 0;
	bool quoted = false;

	for (; p < end && (quoted || (*p != '\n' && *p != '\r')); p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted)
			commas += *p == ',', semis += *p == ';';
	}
	return semis > commas ? ';' : ',';
}

static enum sheet_rc csv_read(const char *p, size_t len, int max_rows, struct sheet *s, char *why,
			      size_t n)
{
	const char *end = p + len;
	char sep;
	int number = 0;

	if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		p += 3; /* the byte order mark Excel writes in "CSV UTF-8" */
	sep = csv_separator(p, end);
	while (p < end) {
		struct sheet_row *row = row_add(s, ++number, max_rows);
		int col = 0;

		if (!row) {
			snprintf(why, n, "the file has more than %d rows", max_rows);
			return SHEET_TOO_LARGE;
		}
		for (;;) { /* one field */
			const char *start = p;
			char *text = NULL;
			size_t tl = 0;

			if (p < end && *p == '"') {
				/* quoted: "" is a quote; newlines are part of it */
				text = xmalloc((size_t)(end - p) + 1);
				for (p++;; p++) {
					if (p >= end) {
						free(text);
						snprintf(why, n, "row %d: a quoted cell is never closed", number);
						return SHEET_MALFORMED;
					}
					if (*p == '"' && p + 1 < end && p[1] == '"')
						text[tl++] = *p++;
					else if (*p == '"')
						break;
					else
						text[tl++] = *p;
				}
				p++;
				/* anything between the closing quote and the separator is kept */
				while (p < end && *p != sep && *p != '\n' && *p != '\r')
					text[tl++] = *p++;
				text[tl] = '\0';
			} else {
				while (p < end && *p != sep && *p != '\n' && *p != '\r')
					p++;
				if (p > start)
					text = xstrndup(start, (size_t)(p - start));
			}
			if (col < SHEET_MAX_COLS)
				row->cells[col].text = text;
			else
				free(text);
			col++;
			if (p < end && *p == sep) {
				p++;
				continue;
			}
			break;
		}
		if (p < end && *p == '\r')
			p++;
		if (p < end && *p == '\n')
			p++;
	}
	return SHEET_OK;
}

/* ---- XLSX: a ZIP of XML parts ---- */

/* Unpacks entry name (at most SHEET_XML_MAX bytes) into a new buffer;
 * *out NULL when the archive has no such entry. */
static enum sheet_rc zip_entry(zip_t *z, const char *name, char **out, size_t *len, char *why,
			       size_t n)
{
	zip_stat_t st;
	zip_file_t *f;
	char *buf;
	zip_int64_t got, total = 0;

	*out = NULL;
	if (zip_stat(z, name, 0, &st) < 0)
		return SHEET_OK;
	if (!(st.valid & ZIP_STAT_SIZE) || st.size > SHEET_XML_MAX) {
		say(why, n, "the XLSX part %s unpacks to more than 16 MiB", name);
		return SHEET_TOO_LARGE;
	}
	f = zip_fopen_index(z, st.index, 0);
	if (!f) {
		say(why, n, "the XLSX part %s cannot be unpacked (encrypted, or a method ZIP "
			    "readers do not know)", name);
		return SHEET_MALFORMED;
	}
	/* one byte more than declared: a part that unpacks beyond its
	 * declared size is refused, never trusted */
	buf = xmalloc(st.size + 2);
	while ((got = zip_fread(f, buf + total, st.size + 1 - (zip_uint64_t)total)) > 0) {
		total += got;
		if ((zip_uint64_t)total > st.size)
			break;
	}
	zip_fclose(f);
	if (got < 0 || (zip_uint64_t)total != st.size) {
		free(buf);
		say(why, n, "the XLSX part %s is damaged", name);
		return SHEET_MALFORMED;
	}
	buf[total] = '\0';
	*out = buf;
	*len = (size_t)total;
	return SHEET_OK;
}

/* An XML part as a tree (lib/xmlsafe.c: no DTD, so no entity expansion
 * and no external entity, in whatever encoding the part is). */
static xmlDoc *xml_parse(const char *data, size_t len, const char *name, char *why, size_t n)
{
	bool dtd;
	xmlDoc *doc = xmlsafe_read(data, len, &dtd);

	if (!doc)
		say(why, n, dtd ? "the XLSX part %s has a document type declaration"
				: "the XLSX part %s is not well-formed XML", name);
	return doc;
}

static bool is(const xmlNode *node, const char *name)
{
	return node->type == XML_ELEMENT_NODE && !strcmp((const char *)node->name, name);
}

/* The text of every <t> under node, phonetic runs (<rPh>) left out, into b. */
static void text_runs(const xmlNode *node, char **b, size_t *len)
{
	for (const xmlNode *c = node->children; c; c = c->next) {
		if (is(c, "rPh"))
			continue;
		if (is(c, "t")) {
			xmlChar *t = xmlNodeGetContent(c);
			size_t tl = t ? strlen((const char *)t) : 0;

			*b = xrealloc(*b, *len + tl + 1);
			memcpy(*b + *len, t ? (const char *)t : "", tl + 1);
			*len += tl;
			xmlFree(t);
		} else if (c->type == XML_ELEMENT_NODE) {
			text_runs(c, b, len);
		}
	}
}

static char *node_text(const xmlNode *node)
{
	char *b = xstrdup("");
	size_t len = 0;

	text_runs(node, &b, &len);
	return b;
}

struct strings {
	char **items;
	size_t count;
};

static void strings_free(struct strings *st)
{
	for (size_t i = 0; i < st->count; i++)
		free(st->items[i]);
	free(st->items);
}

static void strings_read(const xmlDoc *doc, struct strings *st)
{
	size_t cap = 0;

	for (const xmlNode *si = xmlDocGetRootElement(doc)->children; si; si = si->next) {
		if (!is(si, "si"))
			continue;
		if (st->count == cap) {
			cap = cap ? 2 * cap : 64;
			st->items = xrealloc(st->items, cap * sizeof *st->items);
		}
		st->items[st->count++] = node_text(si);
	}
}

static char *attr(const xmlNode *node, const char *name)
{
	return (char *)xmlGetProp(node, (const xmlChar *)name);
}

/* "BC12" -> column 54 (A = 0); -1 when it is no cell reference. */
static int column_of(const char *ref)
{
	int col = 0, letters = 0;

	for (; *ref >= 'A' && *ref <= 'Z'; ref++, letters++) {
		col = col * 26 + (*ref - 'A' + 1);
		if (letters > 3)
			return -1;
	}
	return letters ? col - 1 : -1;
}

/* A <c> element's value as text: shared string, inline string, boolean,
 * number or cached result, as the file has it; an error value (#N/A)
 * as its code. */
static char *cell_value(const xmlNode *c, const struct strings *st, bool *bad_index)
{
	char *type = attr(c, "t"), *value = NULL;

	for (const xmlNode *k = c->children; k; k = k->next) {
		if (is(k, "is") && type && !strcmp(type, "inlineStr")) {
			free(value);
			value = node_text(k);
		} else if (is(k, "v")) {
			xmlChar *v = xmlNodeGetContent(k);

			free(value);
			value = xstrdup(v ? (const char *)v : "");
			xmlFree(v);
			if (type && !strcmp(type, "s")) {
				char *e;
				unsigned long i = strtoul(value, &e, 10);
				bool ok = !*e && *value && i < st->count;

				free(value);
				value = ok ? xstrdup(st->items[i]) : NULL;
				*bad_index |= !ok;
			} else if (type && !strcmp(type, "b")) {
				char *b = xstrdup(!strcmp(value, "1") ? "TRUE" : "FALSE");

				free(value);
				value = b;
			}
		}
	}
	xmlFree(type);
	if (value && !*value) {
		free(value);
		value = NULL;
	}
	return value;
}

static enum sheet_rc sheet_rows(const xmlDoc *doc, const struct strings *st, int max_rows,
				struct sheet *s, char *why, size_t n)
{
	const xmlNode *data = NULL;
	int last = 0;

	for (const xmlNode *k = xmlDocGetRootElement(doc)->children; k; k = k->next)
		if (is(k, "sheetData"))
			data = k;
	if (!data)
		return SHEET_OK;
	for (const xmlNode *r = data->children; r; r = r->next) {
		struct sheet_row *row;
		char *rn;
		long number;
		int col = -1;

		if (!is(r, "row"))
			continue;
		rn = attr(r, "r");
		number = rn ? strtol(rn, NULL, 10) : last + 1;
		xmlFree(rn);
		if (number <= last || number > ROW_NUMBER_MAX) {
			snprintf(why, n, "the XLSX sheet's rows are out of order (row %d)", last + 1);
			return SHEET_MALFORMED;
		}
		last = (int)number;
		row = row_add(s, last, max_rows);
		if (!row) {
			snprintf(why, n, "the sheet has more than %d rows", max_rows);
			return SHEET_TOO_LARGE;
		}
		for (const xmlNode *c = r->children; c; c = c->next) {
			char *ref, *value;
			bool formula = false, bad_index = false;

			if (!is(c, "c"))
				continue;
			ref = attr(c, "r");
			col = ref ? column_of(ref) : col + 1;
			xmlFree(ref);
			if (col < 0) {
				snprintf(why, n, "row %d: a cell has no valid reference", last);
				return SHEET_MALFORMED;
			}
			for (const xmlNode *k = c->children; k; k = k->next)
				formula |= is(k, "f");
			value = cell_value(c, st, &bad_index);
			if (bad_index) {
				snprintf(why, n, "row %d: a cell names a shared string the file lacks", last);
				return SHEET_MALFORMED;
			}
			if (col >= SHEET_MAX_COLS) {
				free(value);
				continue;
			}
			free(row->cells[col].text);
			row->cells[col].text = value;
			row->cells[col].formula = formula;
		}
	}
	return SHEET_OK;
}

static enum sheet_rc xlsx_read(const char *data, size_t len, int max_rows, struct sheet *s,
			       char *why, size_t n)
{
	static const char sheet_part[] = "xl/worksheets/sheet1.xml";
	static const char strings_part[] = "xl/sharedStrings.xml";
	zip_error_t err;
	zip_source_t *src;
	zip_t *z;
	char *xml = NULL, *sxml = NULL;
	size_t xlen = 0, slen = 0;
	xmlDoc *doc = NULL, *sdoc = NULL;
	struct strings st = { 0 };
	enum sheet_rc rc;

	zip_error_init(&err);
	src = zip_source_buffer_create(data, len, 0, &err);
	z = src ? zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err) : NULL;
	if (!z) {
		if (src)
			zip_source_free(src);
		zip_error_fini(&err);
		say(why, n, "the file starts as a ZIP archive but is not a readable one", NULL);
		return SHEET_MALFORMED;
	}
	zip_error_fini(&err);
	if (zip_get_num_entries(z, 0) > ZIP_ENTRIES_MAX) {
		zip_discard(z);
		say(why, n, "the ZIP archive has more than 1000 entries", NULL);
		return SHEET_TOO_LARGE;
	}
	rc = zip_entry(z, sheet_part, &xml, &xlen, why, n);
	if (rc == SHEET_OK && !xml) {
		say(why, n, "the ZIP archive is no XLSX workbook (it has no %s); save the sheet "
			    "as Excel 2007-365 (.xlsx) or as CSV UTF-8", sheet_part);
		rc = SHEET_UNSUPPORTED;
	}
	if (rc == SHEET_OK)
		rc = zip_entry(z, strings_part, &sxml, &slen, why, n);
	zip_discard(z);
	if (rc == SHEET_OK && sxml) {
		sdoc = xml_parse(sxml, slen, strings_part, why, n);
		if (sdoc)
			strings_read(sdoc, &st);
		else
			rc = SHEET_MALFORMED;
	}
	if (rc == SHEET_OK) {
		doc = xml_parse(xml, xlen, sheet_part, why, n);
		rc = doc ? sheet_rows(doc, &st, max_rows, s, why, n) : SHEET_MALFORMED;
	}
	xmlFreeDoc(doc);
	xmlFreeDoc(sdoc);
	strings_free(&st);
	free(xml);
	free(sxml);
	return rc;
}

enum sheet_rc sheet_read(const char *data, size_t len, int max_rows, struct sheet *s, char *why,
			 size_t n)
{
	enum sheet_rc rc;

	memset(s, 0, sizeof *s);
	*why = '\0';
	if (len >= 4 && !memcmp(data, "PK\x03\x04", 4)) {
		s->xlsx = true;
		rc = xlsx_read(data, len, max_rows, s, why, n);
	} else if (len >= 2 && (!memcmp(data, "\xFF\xFE", 2) || !memcmp(data, "\xFE\xFF", 2))) {
		say(why, n, "the file is UTF-16 text; save it as CSV UTF-8 (or as .xlsx)", NULL);
		rc = SHEET_UNSUPPORTED;
	} else if (!utf8_text((const unsigned char *)data, len)) {
		say(why, n, "the file is neither an XLSX workbook nor UTF-8 text (Latin-1 or "
			    "Windows-1252?); save it as CSV UTF-8 (or as .xlsx)", NULL);
		rc = SHEET_UNSUPPORTED;
	} else {
		rc = csv_read(data, len, max_rows, s, why, n);
	}
	if (rc != SHEET_OK)
		sheet_free(s);
	return rc;
}
