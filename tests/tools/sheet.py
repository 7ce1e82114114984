#!/usr/bin/env python3
"""Spreadsheets for tests/check_sheet.c, made the way a person's tools make
them: Python's csv writer fills a downloaded template; hand-made XLSX files
(zipfile) carry what LibreOffice would not write on request (a formula
cell, a DTD, a ZIP bomb).

  sheet.py fill TEMPLATE.csv OUT.csv SEP JSON   fill rows: {"<action id>": {"Status": ..., ...}}
  sheet.py xlsx OUT.xlsx JSON                   rows [[cell, ...], ...]; a cell {"f": "...", "v": "..."} is a formula
  sheet.py bomb OUT.xlsx MIB                    sheet1.xml that unpacks to MIB MiB
  sheet.py dtd OUT.xlsx                         sheet1.xml with a billion-laughs DTD
  sheet.py dtd16 OUT.xlsx                       the same, sheet1.xml in UTF-16
  sheet.py rows OUT.csv N                       a CSV of a header and N short rows
  sheet.py same A.csv B.csv                     exit 0 when both read as the same rows
"""
import csv
import io
import json
import sys
import zipfile
from xml.sax.saxutils import escape


def fill(template, out, sep, rows):
    with open(template, encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    head = table[0]
    for line in table[1:]:
        for label, value in rows.get(line[0], {}).items():
            line[head.index(label)] = value
    with open(out, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=sep).writerows(table)


def column(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def sheet_xml(rows, doctype=""):
    out = io.StringIO()
    out.write('<?xml version="1.0" encoding="UTF-8"?>' + doctype)
    out.write('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    for r, cells in enumerate(rows, 1):
        out.write(f'<row r="{r}">')
        for c, cell in enumerate(cells):
            ref = f"{column(c)}{r}"
            if cell is None:
                continue
            if isinstance(cell, dict):
                out.write(f'<c r="{ref}" t="str"><f>{escape(cell["f"])}</f><v>{escape(cell.get("v", ""))}</v></c>')
            elif isinstance(cell, (int, float)):
                out.write(f'<c r="{ref}"><v>{cell}</v></c>')
            else:
                out.write(f'<c r="{ref}" t="inlineStr"><is><t>{escape(cell)}</t></is></c>')
        out.write("</row>")
    out.write("</sheetData></worksheet>")
    return out.getvalue()


def xlsx(out, sheet, compress=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(out, "w", compress) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>')
        z.writestr("xl/worksheets/sheet1.xml", sheet)


def main():
    cmd = sys.argv[1]
    if cmd == "fill":
        fill(sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5]))
    elif cmd == "xlsx":
        xlsx(sys.argv[2], sheet_xml(json.loads(sys.argv[3])))
    elif cmd == "bomb":
        mib = int(sys.argv[3])
        with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
                f.write(b'<?xml version="1.0"?><worksheet><sheetData>')
                chunk = b" " * (1 << 20)
                for _ in range(mib):
                    f.write(chunk)
                f.write(b"</sheetData></worksheet>")
    elif cmd in ("dtd", "dtd16"):
        laughs = '<!DOCTYPE worksheet [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">' \
                 '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
        sheet = sheet_xml([["Action id", "Status", "Percent complete", "Narrative"], [1, "On track", 10, "x"]], laughs)
        sheet = sheet.replace(">x<", ">&d;<")
        if cmd == "dtd16":
            sheet = sheet.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
        xlsx(sys.argv[2], sheet)
    elif cmd == "rows":
        with open(sys.argv[2], "w", encoding="utf-8", newline="") as f:
            f.write("Action id,Status,Percent complete,Narrative\n")
            f.write("1,On track,1,x\n" * int(sys.argv[3]))
    elif cmd == "same":
        tables = []
        for name in sys.argv[2:4]:
            with open(name, encoding="utf-8-sig", newline="") as f:
                tables.append(list(csv.reader(f)))
        if tables[0] != tables[1]:
            print(tables, file=sys.stderr)
            sys.exit(1)
    else:
        sys.exit(2)


if __name__ == "__main__":
    main()
