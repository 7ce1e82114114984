/* Calls for inputs (SPEC 13), the first half: calls driven through their
 * life by the service's clock, and the public intake end to end with the
 * real API and worker against PostgreSQL. The files are real and made
 * here: pandoc writes the DOCX, LibreOffice turns it into a PDF, zip adds
 * a macro part or a bomb, and a PDF whose text runs to megabytes is
 * written byte by byte. Time moves by starting servers at another
 * WORKPLAN_NOW, never by sleeping: "api" runs at T_OPEN and hands out form
 * tokens, "later" an hour on, where those tokens are old enough. Each
 * test sends from its own loopback address, so the per-address budget of
 * one never touches another. */
#include "harness.h"
#include "buf.h"
#include "sha256.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define T_OPEN "2026-01-10T10:00:00Z"
#define T_LATER "2026-01-10T11:00:00Z"
#define BOUNDARY "consultBoundary7MA4YWxkTrZu0gW"
#define MULTIPART "multipart/form-data; boundary=" BOUNDARY
#define DOCX_TYPE "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

static struct server api, later;
/* what form_input puts in the honeypot */
static const char *honeypot = "";
static char db[64], files[600], call[24], inputs_path[128];
static char *cochair;

/* A file made in setup, read whole (caller frees). */
static char *slurp(const char *name, size_t *len)
{
	char path[700];
	FILE *f;
	char *data;
	long n;

	snprintf(path, sizeof path, "%s/%s", files, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "no test file %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = xmalloc((size_t)n + 1);
	ck_assert_int_eq(fread(data, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	data[n] = '\0';
	*len = (size_t)n;
	return data;
}

static void sh(const char *cmd)
{
	int rc = system(cmd);

	ck_assert_msg(rc == 0, "failed (%d): %s", rc, cmd);
}

/* A PDF of pages pages, each showing the same 1 000 words: megabytes of
 * text from a file of a few hundred kilobytes. */
static void write_long_pdf(const char *path, int pages)
{
	struct buf b, content;
	long *offsets = xcalloc((size_t)pages + 5, sizeof *offsets);
	int objects = 4 + pages;
	long xref;
	FILE *f;

	buf_init(&content, 1 << 20);
	buf_adds(&content, "BT /F1 6 Tf 20 820 Td 7 TL\n");
	for (int line = 0; line < 100; line++)
		buf_adds(&content, "(lorem ipsum dolor sit amet consectetur adipiscing elit sed do) '\n");
	buf_adds(&content, "ET\n");
	buf_init(&b, 64 << 20);
	buf_adds(&b, "%PDF-1.4\n");
	offsets[1] = (long)b.len;
	buf_adds(&b, "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n");
	offsets[2] = (long)b.len;
	buf_printf(&b, "2 0 obj << /Type /Pages /Count %d /Kids [", pages);
	for (int p = 0; p < pages; p++)
		buf_printf(&b, " %d 0 R", 5 + p);
	buf_adds(&b, " ] >> endobj\n");
	offsets[3] = (long)b.len;
	buf_adds(&b, "3 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n");
	offsets[4] = (long)b.len;
	buf_printf(&b, "4 0 obj << /Length %zu >> stream\n%s\nendstream endobj\n", content.len, content.data);
	for (int p = 0; p < pages; p++) {
		offsets[5 + p] = (long)b.len;
		buf_printf(&b, "%d 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
			       " /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >> endobj\n", 5 + p);
	}
	xref = (long)b.len;
	buf_printf(&b, "xref\n0 %d\n0000000000 65535 f \n", objects + 1);
	for (int i = 1; i <= objects; i++)
		buf_printf(&b, "%010ld 00000 n \n", offsets[i]);
	buf_printf(&b, "trailer << /Size %d /Root 1 0 R >>\nstartxref\n%ld\n%%%%EOF\n", objects + 1, xref);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fwrite(b.data, 1, b.len, f), b.len);
	fclose(f);
	buf_free(&b);
	buf_free(&content);
	free(offsets);
}

/* The real files the tests send. */
static void make_files(void)
{
	char cmd[4000], cwd[1000];

	snprintf(files, sizeof files, "%s/consult-files-%d", getenv("WORKPLAN_TEST_LOGDIR"), (int)getpid());
	snprintf(cmd, sizeof cmd,
		 "set -e; mkdir -p '%s' && cd '%s'"
		 /* a small DOCX by pandoc, and the same as a PDF by LibreOffice */
		 " && printf '# Input to the Work Plan\\n\\nPeacebuilding with minorities needs budgets.\\n'"
		 "  | pandoc -o small.docx"
		 " && HOME=\"$PWD\" timeout 180 soffice --headless --convert-to pdf small.docx >/dev/null 2>&1"
		 /* 80 words, over the call's limit of 60 */
		 " && for i in $(seq 80); do printf 'word%%s ' $i; done | pandoc -f markdown -o long.docx"
		 /* the small DOCX with a macro part added */
		 " && cp small.docx macro.docx && mkdir -p word && printf 'VBA' > word/vbaProject.bin"
		 " && zip -q macro.docx word/vbaProject.bin && rm word/vbaProject.bin"
		 /* a ZIP bomb: 60 MB of zeros as word/document.xml, a few kB packed */
		 " && head -c 60000000 /dev/zero > word/document.xml && zip -q -9 bomb.docx word/document.xml"
		 " && rm -r word"
		 /* an executable, and text that starts like a PDF */
		 " && cp /bin/true program.pdf && printf '%%%%PDF-1.7\\nnot really\\n' > fake.pdf",
		 files, files);
	sh(cmd);
	/* the small DOCX with a macro part under another name, its type
	 * declared with a character reference ("&#80;" is "P"), as an XML
	 * reader such as Word's decodes it */
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && python3 -c 'import zipfile\n"
		 "src = zipfile.ZipFile(\"small.docx\")\n"
		 "out = zipfile.ZipFile(\"hidden-macro.docx\", \"w\", zipfile.ZIP_DEFLATED)\n"
		 "for e in src.infolist():\n"
		 "    data = src.read(e)\n"
		 "    if e.filename == \"[Content_Types].xml\":\n"
		 "        data = data.replace(b\"</Types>\", b\"<Override PartName=\\\"/word/code.bin\\\" "
		 "ContentType=\\\"application/vnd.ms-office.vba&#80;roject\\\"/></Types>\")\n"
		 "    out.writestr(e, data)\n"
		 "out.writestr(\"word/code.bin\", b\"VBA\")\n"
		 "out.close()'",
		 files);
	sh(cmd);
	/* the small DOCX whose document unpacks to 60 MB more than the
	 * 4 000 bytes both its headers say (tests/tools/zip_liar.py) */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	snprintf(cmd, sizeof cmd, "python3 '%s/tests/tools/zip_liar.py' '%s/small.docx' '%s/liar.docx'"
		 " word/document.xml 60", cwd, files, files);
	sh(cmd);
	snprintf(cmd, sizeof cmd, "%s/long.pdf", files);
	write_long_pdf(cmd, 3000);
}

/* A multipart/form-data body, built by hand so that names and types can
 * be anything a stranger sends. */
static void form_field(struct buf *b, const char *name, const char *value)
{
	buf_printf(b, "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n", name,
		   value);
}

static void form_file(struct buf *b, const char *file_name, const char *type, const char *data,
		      size_t len)
{
	buf_printf(b, "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"%s\""
		      "\r\nContent-Type: %s\r\n\r\n", file_name, type);
	buf_add(b, data, len);
	buf_adds(b, "\r\n");
}

static void form_end(struct buf *b)
{
	buf_adds(b, "--" BOUNDARY "--\r\n");
}

/* A form token from a server (its clock's now). */
static char *form_token(const struct server *s, const char *id)
{
	char path[96];
	struct resp *r;
	char *t;

	snprintf(path, sizeof path, "/v1/public/consultations/%s/form", id);
	r = t_get(s, path, NULL);
	ck_assert_msg(r->status == 200, "form token: %ld %s", r->status, r->body);
	t = xstrdup(json_string_value(json_object_get(r->json, "form_token")));
	t_resp_free(r);
	return t;
}

/* Every field a valid input has, text and email as given. */
static void form_input(struct buf *b, const char *email, const char *text, const char *token)
{
	buf_init(b, 64 << 20);
	form_field(b, "name", "Ana Contributor");
	form_field(b, "organisation", "Minority Rights Forum");
	form_field(b, "contributor_type", "ngo");
	form_field(b, "country", "fr");
	form_field(b, "email", email);
	form_field(b, "language", "en");
	form_field(b, "subject", "Work Plan 2026: our suggestion");
	form_field(b, "text", text);
	form_field(b, "consent", "on");
	form_field(b, "website", honeypot);
	if (token)
		form_field(b, "form_token", token);
}

static struct resp *send_form(const struct server *s, const char *from, struct buf *b)
{
	struct resp *r = t_http_from(s, from, "POST", inputs_path, NULL, MULTIPART, b->data, b->len, NULL);

	buf_free(b);
	return r;
}

static long inputs(void)
{
	return t_sql_long(db, "SELECT count(*) FROM consultation_input");
}

/* The field a 422 names first. */
static const char *field_of(const struct resp *r)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(r->json, "errors"), 0),
						  "field"));
}

static bool names_field(const struct resp *r, const char *field)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(r->json, "errors"), i, e)
		if (!strcmp(json_string_value(json_object_get(e, "field")), field))
			return true;
	return false;
}

static void setup(void)
{
	static const char *const open_env[] = { "WORKPLAN_NOW=" T_OPEN, "WORKPLAN_WEBHOOK_ALLOW_PRIVATE=1",
						NULL };
	static const char *const later_env[] = { "WORKPLAN_NOW=" T_LATER, NULL };
	static const char body[] =
		"{\"title\":\"Call for inputs on the Work Plan 2026\",\"purpose\":\"Send **concise** suggestions.\","
		"\"opens_at\":\"2026-01-05T00:00:00Z\",\"closes_at\":\"2026-02-01T00:00:00Z\",\"word_limit\":60,"
		"\"subject\":\"Work Plan\",\"max_file_mb\":2,\"formats\":[\"docx\",\"pdf\"]}";
	struct resp *r;

	make_files();
	t_db_create(db, sizeof db, true);
	cochair = t_member_token(db, "cochair@ohchr.org", "cochair", "OHCHR");
	t_server_start_env(&api, db, open_env);
	t_server_start_env(&later, db, later_env);
	r = t_http(&api, "POST", "/v1/consultations", cochair, "application/json", body, strlen(body), NULL);
	ck_assert_msg(r->status == 201, "the call: %ld %s", r->status, r->body);
	snprintf(call, sizeof call, "%lld", (long long)json_integer_value(json_object_get(r->json, "id")));
	snprintf(inputs_path, sizeof inputs_path, "/v1/public/consultations/%s/inputs", call);
	t_resp_free(r);
}

static void teardown(void)
{
	t_server_stop(&api);
	t_server_stop(&later);
	free(cochair);
}

START_TEST(the_seeded_2021_call_stays_as_it_is)
{
	struct resp *r = t_get(&api, "/v1/consultations/1", cochair);
	char *row = t_sql(db, "SELECT concat_ws('|', title, cycle, issued, due, subject_must_contain,"
			      " formats::text, coalesce(word_limit::text, 'none')) FROM consultation WHERE id = 1");
	struct buf b;
	char *token = form_token(&api, call);

	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(row, "Call for inputs on the Network Work Plan 2022-2023|2022-2023|2021-10-20|"
			      "2021-10-20|Work Plan|{Word,PDF}|none");
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "state")), "closed");
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "opens_at")), "2021-10-20T00:00:00Z");
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "closes_at")), "2021-10-21T00:00:00Z");
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "due")), "2021-10-20");
	t_resp_free(r);
	/* long closed: nothing goes in */
	form_input(&b, "late@example.org", "A late idea.", token);
	form_end(&b);
	inputs_path[0] = '\0';
	snprintf(inputs_path, sizeof inputs_path, "/v1/public/consultations/1/inputs");
	r = send_form(&later, "127.0.0.11", &b);
	snprintf(inputs_path, sizeof inputs_path, "/v1/public/consultations/%s/inputs", call);
	t_assert_problem(r, 409, "consultation-closed");
	t_resp_free(r);
	free(row);
	free(token);
}
END_TEST

START_TEST(a_call_goes_from_draft_to_open_to_closed_by_the_clock)
{
	static const char *const march[] = { "WORKPLAN_NOW=2026-03-10T09:00:00Z", NULL };
	static const char *const march_later[] = { "WORKPLAN_NOW=2026-03-10T10:00:00Z", NULL };
	static const char *const april[] = { "WORKPLAN_NOW=2026-04-01T00:00:00Z", NULL };
	static const char body[] = "{\"title\":\"Spring call\",\"opens_at\":\"2026-03-01T00:00:00Z\","
				   "\"closes_at\":\"2026-04-01T00:00:00Z\"}";
	struct server open_, open_later, closed;
	char path[96], pub[64], form[96], ifm[64], id[24], *token;
	struct resp *r;
	struct buf b;
	long before;

	r = t_http(&api, "POST", "/v1/consultations", cochair, "application/json", body, strlen(body), NULL);
	ck_assert_int_eq(r->status, 201);
	snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(r->json, "id")));
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "state")), "draft");
	ck_assert_int_eq(json_integer_value(json_object_get(r->json, "max_file_mb")), 5);
	t_resp_free(r);
	snprintf(path, sizeof path, "/v1/consultations/%s", id);
	snprintf(pub, sizeof pub, "/v1/public/consultations/%s", id);
	snprintf(form, sizeof form, "%s/form", pub);
	/* a draft: not public, no form, no input */
	r = t_get(&api, pub, NULL);
	ck_assert_int_eq(r->status, 404);
	t_resp_free(r);
	r = t_get(&api, form, NULL);
	t_assert_problem(r, 409, "consultation-closed");
	t_resp_free(r);
	r = t_http_from(&api, "127.0.0.12", "POST", "/v1/public/consultations/999999/inputs", NULL,
			"application/json", "{}", 2, NULL);
	ck_assert_int_eq(r->status, 404);
	t_resp_free(r);
	snprintf(inputs_path, sizeof inputs_path, "%s/inputs", pub);
	form_input(&b, "early@example.org", "Too early.", "x");
	form_end(&b);
	r = send_form(&api, "127.0.0.12", &b);
	t_assert_problem(r, 409, "consultation-closed");
	t_resp_free(r);

	/* PATCH takes If-Match */
	r = t_http(&api, "PATCH", path, cochair, "application/json", "{\"word_limit\":500}", 18, NULL);
	t_assert_problem(r, 428, "precondition-required");
	t_resp_free(r);
	r = t_http(&api, "PATCH", path, cochair, "application/json", "{\"word_limit\":500}", 18,
		   "If-Match: \"7\"");
	t_assert_problem(r, 412, "precondition-failed");
	t_resp_free(r);
	r = t_http(&api, "PATCH", path, cochair, "application/json",
		   "{\"closes_at\":\"2026-02-01T00:00:00Z\"}", 36, "If-Match: \"1\"");
	t_assert_problem(r, 422, "validation");
	ck_assert_str_eq(field_of(r), "closes_at");
	t_resp_free(r);
	r = t_http(&api, "PATCH", path, cochair, "application/json", "{\"word_limit\":500}", 18,
		   "If-Match: \"1\"");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "version")), "2");
	ck_assert_int_eq(json_integer_value(json_object_get(r->json, "word_limit")), 500);
	t_resp_free(r);
	snprintf(ifm, sizeof ifm, "If-Match: \"2\"");
	r = t_http(&api, "PATCH", path, NULL, "application/json", "{}", 2, ifm);
	ck_assert_int_eq(r->status, 401);
	t_resp_free(r);

	/* in March it is open: public, with a form, and takes inputs */
	t_server_start_env(&open_, db, march);
	t_server_start_env(&open_later, db, march_later);
	r = t_get(&open_, pub, NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "state")), "open");
	ck_assert_ptr_null(json_object_get(r->json, "version"));
	t_resp_free(r);
	token = form_token(&open_, id);
	before = inputs();
	form_input(&b, "spring@example.org", "An idea for the Work Plan.", token);
	form_end(&b);
	r = send_form(&open_later, "127.0.0.12", &b);
	ck_assert_msg(r->status == 201, "%ld %s", r->status, r->body);
	t_resp_free(r);
	ck_assert_int_eq(inputs(), before + 1);

	/* from closes_at on it is closed, with nobody closing it */
	t_server_start_env(&closed, db, april);
	r = t_get(&closed, path, cochair);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "state")), "closed");
	t_resp_free(r);
	form_input(&b, "spring2@example.org", "Another idea.", token);
	form_end(&b);
	r = send_form(&closed, "127.0.0.12", &b);
	t_assert_problem(r, 409, "consultation-closed");
	t_resp_free(r);
	ck_assert_int_eq(inputs(), before + 1);
	snprintf(inputs_path, sizeof inputs_path, "/v1/public/consultations/%s/inputs", call);
	free(token);
	t_server_stop(&open_);
	t_server_stop(&open_later);
	t_server_stop(&closed);
}
END_TEST

/* Sends a file with a valid input; the answer. */
static struct resp *send_file(const char *from, const char *email, const char *text, const char *name,
			      const char *type, const char *file)
{
	char *token = form_token(&api, call), *data;
	struct buf b;
	size_t len;

	data = slurp(file, &len);
	form_input(&b, email, text, token);
	form_file(&b, name, type, data, len);
	form_end(&b);
	free(data);
	free(token);
	return send_form(&later, from, &b);
}

START_TEST(word_and_pdf_files_are_stored_by_content_and_their_text_extracted)
{
	static const char *const env[] = { "WORKPLAN_NOW=" T_LATER, NULL };
	unsigned char digest[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1], sql[600], evil[128], name[160], *data, *v, *text;
	struct resp *r;
	size_t len;
	pid_t worker;
	long long t0;
	struct stat st;

	/* a DOCX declared as a PDF, under a name that climbs out of any folder */
	snprintf(evil, sizeof evil, "/tmp/consult-evil-%d.docx", (int)getpid());
	snprintf(name, sizeof name, "../../../../..%s", evil);
	r = send_file("127.0.0.13", "docx@example.org", "See the attached file.", name, "application/pdf",
		      "small.docx");
	ck_assert_msg(r->status == 201, "%ld %s", r->status, r->body);
	ck_assert_ptr_nonnull(json_string_value(json_object_get(r->json, "receipt")));
	ck_assert(!strncmp(json_string_value(json_object_get(r->json, "received_at")), "2026-01-10T11:0", 15));
	t_resp_free(r);
	ck_assert_int_ne(stat(evil, &st), 0);
	data = slurp("small.docx", &len);
	sha256(data, len, digest);
	sha256_hex(digest, hex);
	free(data);
	snprintf(sql, sizeof sql,
		 "SELECT concat_ws('|', a.file_name, a.media_type, a.size, encode(a.sha256, 'hex'))"
		 " FROM consultation_attachment a JOIN consultation_input i ON i.id = a.input_id"
		 " WHERE i.email = 'docx@example.org'");
	v = t_sql(db, sql);
	snprintf(sql, sizeof sql, "consult-evil-%d.docx|" DOCX_TYPE "|%zu|%s", (int)getpid(), len, hex);
	ck_assert_str_eq(v, sql);
	free(v);
	/* the PDF LibreOffice made, and one over the word limit */
	r = send_file("127.0.0.13", "pdf@example.org", "See the PDF.", "input.pdf", "application/octet-stream",
		      "small.pdf");
	ck_assert_msg(r->status == 201, "%ld %s", r->status, r->body);
	t_resp_free(r);
	r = send_file("127.0.0.13", "long@example.org", "A short text with a long file.", "long.docx",
		      DOCX_TYPE, "long.docx");
	ck_assert_int_eq(r->status, 201);
	t_resp_free(r);
	/* a PDF whose text runs to megabytes */
	r = send_file("127.0.0.13", "huge@example.org", "And a long PDF.", "long.pdf", "application/pdf",
		      "long.pdf");
	ck_assert_msg(r->status == 201, "%ld %s", r->status, r->body);
	t_resp_free(r);

	/* the worker extracts each text, within its limits */
	t0 = t_ms();
	worker = t_worker_start(db, env);
	while (t_sql_long(db, "SELECT count(*) FROM consultation_attachment WHERE extraction = 'pending'") &&
	       t_ms() - t0 < 90000)
		usleep(100000);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM consultation_attachment WHERE extraction = 'pending'"),
			 0);
	text = t_sql(db, "SELECT a.text FROM consultation_attachment a JOIN consultation_input i"
			 " ON i.id = a.input_id WHERE i.email = 'docx@example.org'");
	ck_assert_msg(strstr(text, "Peacebuilding with minorities"), "the DOCX's text: %s", text);
	free(text);
	text = t_sql(db, "SELECT a.text FROM consultation_attachment a JOIN consultation_input i"
			 " ON i.id = a.input_id WHERE i.email = 'pdf@example.org'");
	ck_assert_msg(strstr(text, "Peacebuilding with minorities"), "the PDF's text: %s", text);
	free(text);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM consultation_input WHERE over_word_limit"
					" AND email = 'long@example.org'"), 1);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM consultation_input WHERE over_word_limit"
					" AND email IN ('docx@example.org', 'pdf@example.org')"), 0);
	v = t_sql(db, "SELECT concat_ws('|', a.extraction, a.extract_error) FROM consultation_attachment a"
		      " JOIN consultation_input i ON i.id = a.input_id WHERE i.email = 'huge@example.org'");
	ck_assert_msg(!strncmp(v, "failed|pdftotext: the text is longer than 2 MB", 46), "%s", v);
	free(v);
	/* the receipt mails, held (no SMTP server here), name the receipt */
	t0 = t_ms();
	while (t_sql_long(db, "SELECT count(*) FROM outbox WHERE kind = 'consultation-receipt'"
			      " AND state = 'queued'") && t_ms() - t0 < 30000)
		usleep(100000);
	v = t_sql(db, "SELECT o.state || '|' || (o.composed->>'to') || '|'"
		      " || (strpos(o.composed->>'text', i.receipt) > 0)::text"
		      " FROM outbox o JOIN consultation_input i ON i.id = o.input_id"
		      " WHERE i.email = 'pdf@example.org'");
	ck_assert_str_eq(v, "held|pdf@example.org|true");
	free(v);
	t_worker_stop(worker, 0);
}
END_TEST

START_TEST(files_that_are_not_what_they_claim_are_refused)
{
	static const struct {
		const char *file, *name, *type, *why;
	} bad[] = {
		{ "macro.docx", "plan.docx", DOCX_TYPE, "macros" },
		{ "bomb.docx", "plan.docx", DOCX_TYPE, "50 MB" },
		{ "program.pdf", "plan.pdf", "application/pdf", "neither a PDF" },
		{ "fake.pdf", "plan.pdf", "application/pdf", "pdfinfo" },
	};
	long before = inputs();
	struct resp *r;
	char text[64];

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(text, sizeof text, "File number %zu.", i);
		r = send_file("127.0.0.14", "files@example.org", text, bad[i].name, bad[i].type, bad[i].file);
		t_assert_problem(r, 415, "unsupported-media-type");
		ck_assert_msg(strstr(json_string_value(json_object_get(r->json, "detail")), bad[i].why),
			      "%s: %s", bad[i].file, r->body);
		t_resp_free(r);
	}
	/* a name with control characters is no name */
	r = send_file("127.0.0.14", "files@example.org", "Named badly.", "plan\x01\x1b[2J.docx", DOCX_TYPE,
		      "small.docx");
	t_assert_problem(r, 422, "validation");
	ck_assert_str_eq(field_of(r), "attachment");
	t_resp_free(r);
	ck_assert_int_eq(inputs(), before);
	/* each file checked and refused spent the address's budget */
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM consultation_intake WHERE address = '127.0.0.14'"),
			 4);
	/* a macro part under another name, its type declared with a
	 * character reference: the content types are read as XML reads them */
	r = send_file("127.0.0.22", "files@example.org", "Hidden macros.", "plan.docx", DOCX_TYPE,
		      "hidden-macro.docx");
	t_assert_problem(r, 415, "unsupported-media-type");
	ck_assert_msg(strstr(json_string_value(json_object_get(r->json, "detail")), "macros"), "%s", r->body);
	t_resp_free(r);
	ck_assert_int_eq(inputs(), before);
	/* an entry that unpacks to more than the archive says: what a ZIP
	 * reader inflates is the data, not the directory's word */
	r = send_file("127.0.0.23", "files@example.org", "A lying archive.", "plan.docx", DOCX_TYPE,
		      "liar.docx");
	t_assert_problem(r, 415, "unsupported-media-type");
	ck_assert_msg(strstr(json_string_value(json_object_get(r->json, "detail")), "more than its size says"),
		      "%s", r->body);
	t_resp_free(r);
	ck_assert_int_eq(inputs(), before);
}
END_TEST

static void send_raw(int fd, const char *s)
{
	ck_assert_int_eq(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

START_TEST(a_body_over_the_calls_size_is_refused_before_it_is_read)
{
	char req[512], buf[4096];
	long before = inputs();
	bool closed;
	struct resp *r;
	struct buf b;
	char *big, *token = form_token(&api, call);
	int fd = t_connect(&later, "127.0.0.15", NULL);

	/* the call takes 2 MB files: 10 MB announced is refused at once */
	snprintf(req, sizeof req, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
				  "Content-Length: 10000000\r\n\r\n", inputs_path, MULTIPART);
	send_raw(fd, req);
	t_recv(fd, buf, sizeof buf, 5000, &closed);
	close(fd);
	ck_assert_msg(atoi(buf + 9) == 413 && strstr(buf, "/problems/payload-too-large"),
		      "expected 413 before any body was sent: %s", buf);
	/* chunked, its size unknown until the end: refused too */
	fd = t_connect(&later, "127.0.0.15", NULL);
	snprintf(req, sizeof req, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
				  "Transfer-Encoding: chunked\r\n\r\n", inputs_path, MULTIPART);
	send_raw(fd, req);
	t_recv(fd, buf, sizeof buf, 5000, &closed);
	close(fd);
	ck_assert_msg(atoi(buf + 9) == 411, "expected 411: %s", buf);
	/* a file a little over 2 MB within a body the size allowed */
	big = xcalloc(1, 2 * 1024 * 1024 + 100);
	memcpy(big, "%PDF-1.4\n", 9);
	form_input(&b, "big@example.org", "A big file.", token);
	form_file(&b, "big.pdf", "application/pdf", big, 2 * 1024 * 1024 + 100);
	form_end(&b);
	r = send_form(&later, "127.0.0.15", &b);
	t_assert_problem(r, 413, "payload-too-large");
	t_resp_free(r);
	free(big);
	free(token);
	ck_assert_int_eq(inputs(), before);
}
END_TEST

START_TEST(the_honeypot_and_the_form_token_keep_robots_out)
{
	/* 25 hours after api's clock started: its tokens are a day old */
	static const char *const next_day[] = { "WORKPLAN_NOW=2026-01-11T11:00:00Z", NULL };
	char *token = form_token(&api, call), *fresh = form_token(&later, call), *forged = xstrdup(token);
	long before = inputs();
	struct server day2;
	struct resp *r;
	struct buf b;

	/* the honeypot filled */
	honeypot = "http://spam.example";
	form_input(&b, "bot@example.org", "Buy now.", token);
	honeypot = "";
	form_end(&b);
	r = send_form(&later, "127.0.0.16", &b);
	t_assert_problem(r, 422, "validation");
	ck_assert(names_field(r, "website"));
	t_resp_free(r);
	/* no token, a forged one, one used at once, one a day old */
	form_input(&b, "bot@example.org", "Buy now.", NULL);
	form_end(&b);
	r = send_form(&later, "127.0.0.16", &b);
	ck_assert(names_field(r, "form_token"));
	t_resp_free(r);
	forged[strlen(forged) - 1] = forged[strlen(forged) - 1] == '0' ? '1' : '0';
	form_input(&b, "bot@example.org", "Buy now.", forged);
	form_end(&b);
	r = send_form(&later, "127.0.0.16", &b);
	t_assert_problem(r, 422, "validation");
	ck_assert_str_eq(field_of(r), "form_token");
	t_resp_free(r);
	form_input(&b, "bot@example.org", "Buy now.", fresh);
	form_end(&b);
	r = send_form(&later, "127.0.0.16", &b);
	ck_assert_str_eq(field_of(r), "form_token");
	ck_assert_msg(strstr(r->body, "within seconds"), "%s", r->body);
	t_resp_free(r);
	t_server_start_env(&day2, db, next_day);
	form_input(&b, "bot@example.org", "Buy now.", token);
	form_end(&b);
	r = send_form(&day2, "127.0.0.16", &b);
	ck_assert_str_eq(field_of(r), "form_token");
	ck_assert_msg(strstr(r->body, "older than 24 hours"), "%s", r->body);
	t_resp_free(r);
	t_server_stop(&day2);
	ck_assert_int_eq(inputs(), before);
	/* the same token, an hour old, lets a person in */
	form_input(&b, "person@example.org", "A real suggestion.", token);
	form_end(&b);
	r = send_form(&later, "127.0.0.16", &b);
	ck_assert_int_eq(r->status, 201);
	t_resp_free(r);
	free(token);
	free(fresh);
	free(forged);
}
END_TEST

START_TEST(each_address_sends_at_most_five_inputs_an_hour)
{
	char *token = form_token(&api, call), *ra, text[64];
	struct resp *r;
	struct buf b;

	for (int i = 0; i < 5; i++) {
		snprintf(text, sizeof text, "Suggestion number %d.", i);
		form_input(&b, "busy@example.org", text, token);
		form_end(&b);
		r = send_form(&later, "127.0.0.17", &b);
		ck_assert_msg(r->status == 201, "input %d: %ld %s", i, r->status, r->body);
		t_resp_free(r);
	}
	form_input(&b, "busy@example.org", "One too many.", token);
	form_end(&b);
	r = send_form(&later, "127.0.0.17", &b);
	t_assert_problem(r, 429, "rate-limited");
	ra = t_header(r, "Retry-After");
	ck_assert_ptr_nonnull(ra);
	ck_assert_msg(atoi(ra) > 3000 && atoi(ra) <= 3600, "Retry-After: %s", ra);
	free(ra);
	t_resp_free(r);
	/* kept in PostgreSQL: the other API server counts the same */
	form_input(&b, "busy@example.org", "Through the other door.", token);
	form_end(&b);
	r = t_http_from(&api, "127.0.0.17", "POST", inputs_path, NULL, MULTIPART, b.data, b.len, NULL);
	buf_free(&b);
	ck_assert_int_eq(r->status, 429);
	t_resp_free(r);
	/* another address has its own budget */
	form_input(&b, "busy@example.org", "One too many.", token);
	form_end(&b);
	r = send_form(&later, "127.0.0.18", &b);
	ck_assert_int_eq(r->status, 201);
	t_resp_free(r);
	free(token);
}
END_TEST

START_TEST(the_same_input_twice_gets_the_first_receipt)
{
	char *token = form_token(&api, call), *first;
	long before;
	struct resp *r;
	struct buf b;

	form_input(&b, "twice@example.org", "Say it once.", token);
	form_end(&b);
	r = send_form(&later, "127.0.0.19", &b);
	ck_assert_int_eq(r->status, 201);
	first = xstrdup(json_string_value(json_object_get(r->json, "receipt")));
	t_resp_free(r);
	before = inputs();
	form_input(&b, "TWICE@example.org", "Say it once.", token);
	form_end(&b);
	r = send_form(&later, "127.0.0.19", &b);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(r->json, "receipt")), first);
	t_resp_free(r);
	ck_assert_int_eq(inputs(), before);
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM outbox o JOIN consultation_input i"
					" ON i.id = o.input_id WHERE i.email = 'twice@example.org'"), 1);
	free(first);
	free(token);
}
END_TEST

START_TEST(hostile_text_is_kept_as_text_and_contacts_stay_private)
{
	static const char hostile[] =
		"<script>alert(1)</script><img src=x onerror=alert(2)> **bold** [link](javascript:alert(3))\n"
		"set output '/tmp/pwned'; system('touch /tmp/pwned')\n"
		"---\ntitle: x\n---\n\\input{/etc/passwd} $\\x$ ```{=html}\n<b>raw</b>\n```\n"
		"=cmd|' /C calc'!A0";
	static const char wh[] =
		"{\"url\":\"http://127.0.0.1:9/hook\",\"events\":[\"update.created\",\"update.reviewed\","
		"\"report.done\",\"report.published\",\"reporting.overdue\"]}";
	char *token = form_token(&api, call), *v, *log, path[700];
	struct resp *r;
	struct buf b;
	json_t *j;
	FILE *f;
	size_t n;

	r = t_http(&api, "POST", "/v1/webhooks", cochair, "application/json", wh, strlen(wh), NULL);
	ck_assert_msg(r->status == 201, "the webhook: %ld %s", r->status, r->body);
	t_resp_free(r);
	form_input(&b, "hostile@example.org", hostile, token);
	form_end(&b);
	r = send_form(&later, "127.0.0.20", &b);
	ck_assert_msg(r->status == 201, "%ld %s", r->status, r->body);
	t_resp_free(r);
	v = t_sql(db, "SELECT text FROM consultation_input WHERE email = 'hostile@example.org'");
	ck_assert_str_eq(v, hostile);
	free(v);
	/* JSON, with the file in base64 */
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:{s:s, s:s}}", "name",
		      "<b>Bold Name</b>", "contributor_type", "individual", "email", "json@example.org",
		      "language", "fr", "subject", "work plan, by JSON", "text", "# Heading\n\n| a | b |",
		      "consent", true, "form_token", token, "attachment", "file_name", "note.docx",
		      "content_base64", "UEsDBAo=");
	v = json_dumps(j, JSON_COMPACT);
	r = t_http_from(&later, "127.0.0.20", "POST", inputs_path, NULL, "application/json", v, strlen(v), NULL);
	t_assert_problem(r, 415, "unsupported-media-type");
	t_resp_free(r);
	free(v);
	json_object_del(j, "attachment");
	v = json_dumps(j, JSON_COMPACT);
	r = t_http_from(&later, "127.0.0.20", "POST", inputs_path, NULL, "application/json", v, strlen(v), NULL);
	ck_assert_msg(r->status == 201, "%ld %s", r->status, r->body);
	t_resp_free(r);
	free(v);
	json_decref(j);
	v = t_sql(db, "SELECT name || '|' || text FROM consultation_input WHERE email = 'json@example.org'");
	ck_assert_str_eq(v, "<b>Bold Name</b>|# Heading\n\n| a | b |");
	free(v);
	/* no webhook tells of an input; names and addresses are in no public
	 * answer and no log line */
	ck_assert_int_eq(t_sql_long(db, "SELECT count(*) FROM outbox WHERE channel = 'webhook'"), 0);
	r = t_get(&later, "/v1/public/consultations", NULL);
	ck_assert_ptr_null(strstr(r->body, "example.org"));
	ck_assert_ptr_null(strstr(r->body, "Ana Contributor"));
	t_resp_free(r);
	snprintf(path, sizeof path, "%s/api-%s.log", getenv("WORKPLAN_TEST_LOGDIR"), db);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	log = xcalloc(1, 16 << 20);
	n = fread(log, 1, (16 << 20) - 1, f);
	fclose(f);
	ck_assert_uint_gt(n, 0);
	ck_assert_ptr_null(strstr(log, "example.org"));
	ck_assert_ptr_null(strstr(log, "Ana Contributor"));
	ck_assert_ptr_null(strstr(log, "Bold Name"));
	free(log);
	free(token);
}
END_TEST

START_TEST(the_fields_are_checked_and_name_what_is_wrong)
{
	char *token = form_token(&api, call), words[800] = "";
	long before = inputs();
	struct resp *r;
	struct buf b;

	for (int i = 0; i < 61; i++)
		strcat(words, "word ");
	form_input(&b, "limit@example.org", words, token);
	form_end(&b);
	r = send_form(&later, "127.0.0.21", &b);
	t_assert_problem(r, 422, "validation");
	ck_assert_str_eq(field_of(r), "text");
	ck_assert_msg(strstr(r->body, "61 words"), "%s", r->body);
	t_resp_free(r);
	/* no "Work Plan" in the subject, no consent, an unknown field */
	buf_init(&b, 1 << 20);
	form_field(&b, "name", "X");
	form_field(&b, "contributor_type", "robot");
	form_field(&b, "email", "not-an-address");
	form_field(&b, "language", "en");
	form_field(&b, "subject", "Hello");
	form_field(&b, "text", "Hi.");
	form_field(&b, "form_token", token);
	form_end(&b);
	r = send_form(&later, "127.0.0.21", &b);
	t_assert_problem(r, 422, "validation");
	ck_assert(names_field(r, "contributor_type"));
	ck_assert(names_field(r, "email"));
	ck_assert(names_field(r, "subject"));
	ck_assert(names_field(r, "consent"));
	t_resp_free(r);
	form_input(&b, "limit@example.org", "Fine.", token);
	form_field(&b, "admin", "true");
	form_end(&b);
	r = send_form(&later, "127.0.0.21", &b);
	t_assert_problem(r, 422, "validation");
	ck_assert_str_eq(field_of(r), "admin");
	t_resp_free(r);
	/* bytes that are not UTF-8 are named, not dropped */
	buf_init(&b, 1 << 20);
	form_field(&b, "name", "\xff\xfe Ana");
	form_end(&b);
	r = send_form(&later, "127.0.0.21", &b);
	t_assert_problem(r, 422, "validation");
	ck_assert(names_field(r, "name"));
	ck_assert_msg(strstr(r->body, "UTF-8"), "%s", r->body);
	t_resp_free(r);
	r = t_http_from(&later, "127.0.0.21", "POST", inputs_path, NULL, "text/plain", "hi", 2, NULL);
	t_assert_problem(r, 415, "unsupported-media-type");
	t_resp_free(r);
	ck_assert_int_eq(inputs(), before);
	free(token);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("consult");
	TCase *tc = tcase_create("consult");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, the_seeded_2021_call_stays_as_it_is);
	tcase_add_test(tc, a_call_goes_from_draft_to_open_to_closed_by_the_clock);
	tcase_add_test(tc, word_and_pdf_files_are_stored_by_content_and_their_text_extracted);
	tcase_add_test(tc, files_that_are_not_what_they_claim_are_refused);
	tcase_add_test(tc, a_body_over_the_calls_size_is_refused_before_it_is_read);
	tcase_add_test(tc, the_honeypot_and_the_form_token_keep_robots_out);
	tcase_add_test(tc, each_address_sends_at_most_five_inputs_an_hour);
	tcase_add_test(tc, the_same_input_twice_gets_the_first_receipt);
	tcase_add_test(tc, hostile_text_is_kept_as_text_and_contacts_stay_private);
	tcase_add_test(tc, the_fields_are_checked_and_name_what_is_wrong);
	suite_add_tcase(s, tc);
	return t_run(s);
}
