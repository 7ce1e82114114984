/* extract_input jobs (SPEC 13): the text of a consultation input's
 * attachment, by pdftotext (poppler) or pandoc, run under lib/child.c's
 * limits (EXTRACT_TIMEOUT_MS, EXTRACT_MAX_OUT) on a file of ours in a
 * private temporary folder, never under the contributor's name for it.
 * The text and its words (counted as narratives are) are stored with
 * the attachment; the input is flagged over_word_limit when the text has
 * more words than the call allows. A file the tools cannot read, or that
 * passes a limit, ends its extraction "failed" with the reason: running
 * it again would end the same way, so the job itself is done. */
#include "jspec.h"
#include "tmpdir.h"
#include "util.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXTRACT_TIMEOUT_MS 20000
#define EXTRACT_MAX_OUT (2 * 1024 * 1024)

DB_STMT(stmt_extract_read,
	"SELECT a.media_type, a.bytes, coalesce(c.word_limit, 0) AS word_limit"
	" FROM consultation_attachment a JOIN consultation_input i ON i.id = a.input_id"
	" JOIN consultation c ON c.id = i.consultation_id WHERE a.input_id = $1::bigint");
/* $3 NULL: failed, with the reason in $5 */
DB_STMT(stmt_extract_store,
	"WITH a AS (UPDATE consultation_attachment SET text = $2, words = $3::int,"
	"   extraction = CASE WHEN $3 IS NULL THEN 'failed' ELSE 'done' END, extract_error = $5"
	"  WHERE input_id = $1::bigint RETURNING input_id)"
	" UPDATE consultation_input SET over_word_limit = ($4::int > 0 AND coalesce($3::int, 0) > $4::int)"
	" WHERE id = (SELECT input_id FROM a)");

static bool write_all(const char *path, const unsigned char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t done = 0;

	while (fd >= 0 && done < len) {
		ssize_t w = write(fd, data + done, len - done);

		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (fd >= 0)
		close(fd);
	return fd >= 0 && done == len;
}

/* Runs the tool on path; the text in res, or why not in why. */
static bool extract(struct worker *w, const char *dir, const char *path, bool pdf,
		    struct child_result *res, char *why, size_t n)
{
	char home[TMPDIR_PATH_MAX + 8], how[80];
	const char *pdf_argv[] = { "/usr/bin/pdftotext", "-enc", "UTF-8", "-nopgbrk", path, "-", NULL };
	const char *docx_argv[] = { "/usr/bin/pandoc", "--sandbox", "--from", "docx", "--to", "plain",
				    "--wrap=none", path, NULL };
	const char *env[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", home, NULL };
	struct child_opts o = { .argv = pdf ? pdf_argv : docx_argv, .envp = env, .cwd = dir,
				.timeout_ms = EXTRACT_TIMEOUT_MS, .max_out = EXTRACT_MAX_OUT,
				.tick = worker_tick, .ctx = w };

	snprintf(home, sizeof home, "HOME=%s", dir);
	if (child_run(&o, res) < 0) {
		snprintf(why, n, "cannot run %s: %s", pdf ? "pdftotext" : "pandoc", strerror(errno));
		return false;
	}
	if (res->timed_out || res->too_large || res->exit_code != 0) {
		child_describe(res, how, sizeof how);
		if (res->too_large)
			snprintf(why, n, "%s: the text is longer than %d MB (%s)", pdf ? "pdftotext" : "pandoc",
				 EXTRACT_MAX_OUT / (1024 * 1024), how);
		else
			snprintf(why, n, "%s %s", pdf ? "pdftotext" : "pandoc", how);
		child_result_free(res);
		return false;
	}
	return true;
}

int job_extract_input(struct worker *w, char *err, size_t n)
{
	long long id = (long long)json_integer_value(json_object_get(w->job->payload, "input"));
	char sid[24], dir[TMPDIR_PATH_MAX], path[TMPDIR_PATH_MAX + 16], why[300] = "", words[16], limit[16], *text = NULL;
	unsigned char *bytes;
	size_t len;
	struct child_result res;
	bool pdf, ok;
	PGresult *r, *s;
	enum db_rc rc;

	snprintf(sid, sizeof sid, "%lld", id);
	if (db_query(w->db, &stmt_extract_read, 1, (const char *const[]){ sid }, &r) != DB_OK)
		return snprintf(err, n, "cannot read the attachment: %s", db_error(w->db));
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0; /* the input went (its contact erased with it, say): nothing to do */
	}
	pdf = !strcmp(db_col(r, 0, "media_type"), "application/pdf");
	bytes = PQunescapeBytea((const unsigned char *)db_col(r, 0, "bytes"), &len);
	snprintf(limit, sizeof limit, "%s", db_col(r, 0, "word_limit"));
	PQclear(r);
	if (!bytes)
		return snprintf(err, n, "out of memory");
	if (!tmpdir_make("extract", dir, sizeof dir)) {
		PQfreemem(bytes);
		return snprintf(err, n, "no temporary folder: %s", strerror(errno));
	}
	snprintf(path, sizeof path, "%s/attachment.%s", dir, pdf ? "pdf" : "docx");
	if (!write_all(path, bytes, len)) {
		PQfreemem(bytes);
		tmpdir_remove(dir);
		return snprintf(err, n, "cannot write the attachment for extraction: %s", strerror(errno));
	}
	PQfreemem(bytes);
	ok = extract(w, dir, path, pdf, &res, why, sizeof why);
	tmpdir_remove(dir);
	if (ok) {
		text = res.out;
		res.out = NULL;
		child_result_free(&res);
		/* the database takes UTF-8 text: what the tool wrote otherwise is refused */
		if (text_check(text, true)) {
			for (char *p = text; *p; p++)
				if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r')
					*p = ' ';
		}
		if (text_check(text, true)) {
			free(text);
			text = NULL;
			snprintf(why, sizeof why, "the extracted text is not valid UTF-8");
		} else {
			snprintf(words, sizeof words, "%d", text_words(text));
		}
	}
	rc = db_query(w->db, &stmt_extract_store, 5,
		      (const char *const[]){ sid, text, text ? words : NULL, limit, text ? NULL : why }, &s);
	free(text);
	if (rc != DB_OK)
		return snprintf(err, n, "cannot store the extracted text: %s", db_error(w->db));
	PQclear(s);
	return 0;
}
