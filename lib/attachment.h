/* Files from strangers (SPEC 13, docs/security.md): what an attachment
 * to a consultation input is, decided by its content alone, never by its
 * name or declared type. A PDF is what poppler's pdfinfo reads (run under
 * lib/child.c's limits on a private temporary file of ours); a DOCX is a
 * ZIP whose central directory lists word/document.xml, at most 1 000
 * entries and 50 MB uncompressed, and no macros (no vbaProject part, no
 * macro-enabled content type), all checked before anything is extracted.
 * Text extraction (pdftotext, pandoc) is the worker's (extract_input). */
#ifndef WP_ATTACHMENT_H
#define WP_ATTACHMENT_H

#include <stdbool.h>
#include <stddef.h>

enum attachment_kind {
	ATTACHMENT_REFUSED,   /* neither: err says why */
	ATTACHMENT_PDF,
	ATTACHMENT_DOCX,
	ATTACHMENT_UNCHECKED, /* could not be checked (no temporary folder, no pdfinfo): err says why */
};

#define ATTACHMENT_DOCX_ENTRIES_MAX 1000
#define ATTACHMENT_DOCX_UNCOMPRESSED_MAX (50L * 1024 * 1024)
#define ATTACHMENT_PDFINFO_TIMEOUT_MS 10000

enum attachment_kind attachment_sniff(const char *bytes, size_t len, char *err, size_t n);
/* "application/pdf" or the DOCX media type; "pdf" or "docx" as format. */
const char *attachment_media_type(enum attachment_kind k);
const char *attachment_format(enum attachment_kind k);

/* The name a contributor gave a file, as it may be kept (as text only):
 * what follows the last '/' or '\', at most 255 bytes of UTF-8 without
 * control characters. false (err says why) when nothing usable is left. */
bool attachment_name(const char *given, char *out, size_t n, char *err, size_t errlen);

#endif
