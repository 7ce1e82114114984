/* sheet_read: any bytes as a filled spreadsheet (CSV or XLSX). Never
 * reads out of bounds, leaks or hangs; what it accepts has at most the
 * rows asked for, numbered upward from 1, each cell NUL-terminated. */
#include "fuzz.h"
#include "sheet.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sheet s;
	char why[256];
	int last = 0;

	if (sheet_read((const char *)data, size, 50, &s, why, sizeof why) != SHEET_OK) {
		FUZZ_ASSERT(why[0] != '\0');
		return 0;
	}
	FUZZ_ASSERT(s.nrows <= 50);
	for (int i = 0; i < s.nrows; i++) {
		FUZZ_ASSERT(s.rows[i].number > last);
		last = s.rows[i].number;
		for (int c = 0; c < SHEET_MAX_COLS; c++)
			FUZZ_ASSERT(!s.rows[i].cells[c].text || strlen(s.rows[i].cells[c].text) <= 2 * SHEET_XML_MAX);
	}
	sheet_free(&s);
	return 0;
}
