/* Reading a filled spreadsheet (SPEC 14): CSV (UTF-8, an optional BOM,
 * comma or semicolon) or XLSX, told apart by content, never by name or
 * header. The result is a grid of text cells with the row numbers a user
 * sees in the sheet (the header is row 1). Everything here is bounded:
 * rows, cells, the ZIP's entries and the size of what is unpacked. An
 * XLSX is read with libzip and libxml2 (no network, no DTD, no entities);
 * formulas are never evaluated: a cell that holds one is marked. */
#ifndef WP_SHEET_H
#define WP_SHEET_H

#include <stdbool.h>
#include <stddef.h>

#define SHEET_MAX_COLS 32
/* the most any entry of an XLSX unpacks to, and all of them together */
#define SHEET_XML_MAX (16u << 20)

struct sheet_cell {
	char *text;    /* UTF-8 as it was in the file (not checked here); NULL when empty */
	bool formula;  /* the cell holds a formula (XLSX) */
};

struct sheet_row {
	int number;                             /* as the user sees it; header = 1 */
	struct sheet_cell cells[SHEET_MAX_COLS]; /* by column, A = 0 */
};

struct sheet {
	struct sheet_row *rows;
	int nrows;
	bool xlsx;
};

enum sheet_rc {
	SHEET_OK,
	SHEET_TOO_LARGE,   /* more rows than allowed, or a ZIP that unpacks too far: 413 */
	SHEET_UNSUPPORTED, /* not UTF-8 text nor an XLSX (UTF-16, Latin-1, binary...): 415 */
	SHEET_MALFORMED,   /* an XLSX that cannot be read (broken ZIP or XML): 422 */
};

/* Reads data (len bytes) into s; rows past max_rows refuse the whole
 * file. On failure why (n bytes) says what is wrong, in words for the
 * person who sent it, and s is empty. */
enum sheet_rc sheet_read(const char *data, size_t len, int max_rows, struct sheet *s, char *why,
			 size_t n);
void sheet_free(struct sheet *s);

#endif
