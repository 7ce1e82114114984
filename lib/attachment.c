/* See attachment.h. */
#include "attachment.h"
#include "child.h"
#include "jspec.h"
#include "tmpdir.h"
#include "util.h"
#include "xmlsafe.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zip.h>

#define CONTENT_TYPES_MAX (1024 * 1024)

static const char docx_type[] =
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document";

const char *attachment_media_type(enum attachment_kind k)
{
	return k == ATTACHMENT_PDF ? "application/pdf" : k == ATTACHMENT_DOCX ? docx_type : NULL;
}

const char *attachment_format(enum attachment_kind k)
{
	return k == ATTACHMENT_PDF ? "pdf" : k == ATTACHMENT_DOCX ? "docx" : NULL;
}

static bool has_ci(const char *hay, size_t len, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= len; i++)
		if (!strncasecmp(hay + i, needle, k))
			return true;
	return false;
}

/* The [Content_Types].xml part, read as XML (so as Word reads it: a
 * character reference or UTF-16 hides no name), at most
 * CONTENT_TYPES_MAX bytes: does it declare a macro-enabled part? *ok
 * false when it cannot be read (too large, damaged, not XML, a DTD). */
static bool declares_macros(zip_t *z, zip_int64_t i, bool *ok)
{
	zip_stat_t st;
	zip_file_t *f;
	zip_int64_t got = 0, total = 0;
	xmlDoc *doc;
	char *buf;
	bool dtd, macros = false;

	*ok = false;
	if (zip_stat_index(z, (zip_uint64_t)i, 0, &st) || !(st.valid & ZIP_STAT_SIZE) ||
	    st.size > CONTENT_TYPES_MAX)
		return false;
	f = zip_fopen_index(z, (zip_uint64_t)i, 0);
	if (!f)
		return false;
	/* one byte more than declared: a part longer than it says is refused */
	buf = xmalloc(st.size + 1);
	while ((zip_uint64_t)total <= st.size &&
	       (got = zip_fread(f, buf + total, st.size + 1 - (zip_uint64_t)total)) > 0)
		total += got;
	zip_fclose(f);
	doc = got < 0 || (zip_uint64_t)total != st.size ? NULL : xmlsafe_read(buf, (size_t)total, &dtd);
	free(buf);
	if (!doc)
		return false;
	for (const xmlNode *n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
		xmlChar *type = n->type == XML_ELEMENT_NODE ? xmlGetProp(n, (const xmlChar *)"ContentType") : NULL;

		if (type && (has_ci((const char *)type, strlen((const char *)type), "macroEnabled") ||
			     has_ci((const char *)type, strlen((const char *)type), "vbaProject")))
			macros = true;
		xmlFree(type);
	}
	xmlFreeDoc(doc);
	*ok = true;
	return macros;
}

/* Does every entry unpack to the size the directory says? libzip, and
 * pandoc after it, inflate what the data holds whatever the directory
 * claims, so the sizes summed above bind only once checked here. Costs
 * at most the declared sizes (ATTACHMENT_DOCX_UNCOMPRESSED_MAX in all)
 * and a byte more per entry. */
static bool sizes_hold(zip_t *z, zip_int64_t count)
{
	char buf[64 * 1024];

	for (zip_int64_t i = 0; i < count; i++) {
		zip_stat_t st;
		zip_file_t *f;
		zip_int64_t got = 0;
		zip_uint64_t total = 0;

		if (zip_stat_index(z, (zip_uint64_t)i, 0, &st) || !(f = zip_fopen_index(z, (zip_uint64_t)i, 0)))
			return false;
		while (total <= st.size && (got = zip_fread(f, buf, sizeof buf)) > 0)
			total += (zip_uint64_t)got;
		zip_fclose(f);
		if (got < 0 || total != st.size)
			return false;
	}
	return true;
}

static enum attachment_kind docx_check(const char *bytes, size_t len, char *err, size_t n)
{
	zip_error_t ze;
	zip_source_t *src;
	zip_t *z;
	zip_int64_t count;
	unsigned long long total = 0;
	bool document = false, macros = false, ok = true;

	zip_error_init(&ze);
	src = zip_source_buffer_create(bytes, len, 0, &ze);
	if (!src) {
		snprintf(err, n, "the file cannot be read as a ZIP archive");
		zip_error_fini(&ze);
		return ATTACHMENT_REFUSED;
	}
	z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	if (!z) {
		snprintf(err, n, "the file is not a well-formed ZIP archive (as a Word document is)");
		zip_source_free(src);
		zip_error_fini(&ze);
		return ATTACHMENT_REFUSED;
	}
	zip_error_fini(&ze);
	count = zip_get_num_entries(z, 0);
	if (count < 0 || count > ATTACHMENT_DOCX_ENTRIES_MAX) {
		snprintf(err, n, "the archive holds more than %d entries", ATTACHMENT_DOCX_ENTRIES_MAX);
		zip_discard(z);
		return ATTACHMENT_REFUSED;
	}
	/* the central directory first: names, sizes, encryption */
	for (zip_int64_t i = 0; i < count && ok; i++) {
		zip_stat_t st;
		const char *name, *base;

		if (zip_stat_index(z, (zip_uint64_t)i, 0, &st) || !(st.valid & ZIP_STAT_NAME) ||
		    !(st.valid & ZIP_STAT_SIZE)) {
			snprintf(err, n, "an entry of the archive cannot be read");
			ok = false;
			break;
		}
		name = st.name;
		base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
		total += st.size;
		if (total > (unsigned long long)ATTACHMENT_DOCX_UNCOMPRESSED_MAX) {
			snprintf(err, n, "the archive would unpack to more than %ld MB",
				 ATTACHMENT_DOCX_UNCOMPRESSED_MAX / (1024 * 1024));
			ok = false;
		} else if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
			snprintf(err, n, "the archive holds an encrypted entry");
			ok = false;
		} else if (has_ci(base, strlen(base), "vbaProject") || has_ci(base, strlen(base), "vbaData")) {
			macros = true;
		} else if (!strcmp(name, "word/document.xml")) {
			document = true;
		}
	}
	if (ok && !sizes_hold(z, count)) {
		snprintf(err, n, "an entry of the archive unpacks to more than its size says, or is damaged");
		ok = false;
	}
	if (ok && !macros) {
		/* part names are case-insensitive in a Word document */
		zip_int64_t ct = zip_name_locate(z, "[Content_Types].xml", ZIP_FL_NOCASE);
		bool read = true;

		if (ct >= 0)
			macros = declares_macros(z, ct, &read);
		if (!read) {
			snprintf(err, n, "the archive's list of content types cannot be read");
			ok = false;
		}
	}
	zip_discard(z);
	if (!ok)
		return ATTACHMENT_REFUSED;
	if (macros) {
		snprintf(err, n, "the document holds macros; send it as a .docx without macros, or as a PDF");
		return ATTACHMENT_REFUSED;
	}
	if (!document) {
		snprintf(err, n, "the archive is not a Word document (it has no word/document.xml)");
		return ATTACHMENT_REFUSED;
	}
	return ATTACHMENT_DOCX;
}

/* pdfinfo reads it from a file of ours in a private folder. */
static enum attachment_kind pdf_check(const char *bytes, size_t len, char *err, size_t n)
{
	char dir[TMPDIR_PATH_MAX], path[TMPDIR_PATH_MAX + 16], why[120];
	const char *argv[] = { "/usr/bin/pdfinfo", path, NULL };
	const char *env[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL };
	struct child_opts o = { .argv = argv, .envp = env, .timeout_ms = ATTACHMENT_PDFINFO_TIMEOUT_MS,
				.max_out = 64 * 1024 };
	struct child_result res;
	enum attachment_kind k = ATTACHMENT_REFUSED;
	size_t done = 0;
	int fd;

	if (!tmpdir_make("intake", dir, sizeof dir)) {
		snprintf(err, n, "no temporary folder for pdfinfo: %s", strerror(errno));
		return ATTACHMENT_UNCHECKED;
	}
	snprintf(path, sizeof path, "%s/upload.pdf", dir);
	o.cwd = dir;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	while (fd >= 0 && done < len) {
		ssize_t w = write(fd, bytes + done, len - done);

		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (fd < 0 || done < len) {
		snprintf(err, n, "cannot write the file for pdfinfo: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		tmpdir_remove(dir);
		return ATTACHMENT_UNCHECKED;
	}
	close(fd);
	if (child_run(&o, &res) < 0) {
		snprintf(err, n, "cannot run pdfinfo: %s", strerror(errno));
		k = ATTACHMENT_UNCHECKED;
	} else {
		if (res.exit_code == 0)
			k = ATTACHMENT_PDF;
		else {
			child_describe(&res, why, sizeof why);
			snprintf(err, n, "the file is not a PDF that can be read (pdfinfo %s)", why);
		}
		child_result_free(&res);
	}
	tmpdir_remove(dir);
	return k;
}

enum attachment_kind attachment_sniff(const char *bytes, size_t len, char *err, size_t n)
{
	if (len >= 4 && !memcmp(bytes, "PK\x03\x04", 4))
		return docx_check(bytes, len, err, n);
	/* a PDF's header may follow up to 1 024 bytes of anything */
	if (memmem(bytes, len < 1024 ? len : 1024, "%PDF-", 5))
		return pdf_check(bytes, len, err, n);
	snprintf(err, n, "the file is neither a PDF nor a Word document (.docx)");
	return ATTACHMENT_REFUSED;
}

bool attachment_name(const char *given, char *out, size_t n, char *err, size_t errlen)
{
	const char *base = given, *why;

	for (const char *p = given; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	if ((why = text_check(base, false))) {
		snprintf(err, errlen, "the file name: %s", why);
		return false;
	}
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..") || strlen(base) > 255) {
		snprintf(err, errlen, "the file needs a name of 1 to 255 bytes");
		return false;
	}
	snprintf(out, n, "%s", base);
	return true;
}
