"""A table as a download, CSV or XLSX, for the managers' dashboards ("Download" under a table).

    return table_download("leads-december", [("name", _("Customer")), ("orders", _("Orders"))], rows, fmt)

- columns: a list of (key, header label); rows: mappings with those keys (other keys are ignored, a missing one
  is an empty cell). A value is text, a number (int, float, Decimal), a date or datetime (give datetimes in the
  reader's time zone: the file has no zone), or None (an empty cell); anything else is written as its str().
  Enum values should be passed as their labels (app.labels.label), which is what the reader reads on the page.
- fmt: "csv" or "xlsx"; anything else is a 404, so a view can take it from the URL as it is.

Why these details:
- CSV starts with a UTF-8 byte order mark: without it Excel reads the file in the local code page and Chinese
  names turn to mojibake.
- A CSV cell starting with =, +, -, @ (or a tab or carriage return) would run as a formula in Excel (a customer
  could type "=HYPERLINK(...)" as their name); such text gets a leading ' (OWASP's advice), so a phone number
  written "+86 ..." reads "'+86 ..." in the CSV. Numbers are written as they are. XLSX needs no guard: text is
  stored as text (write_string), never as a formula.
- Content-Disposition has an ASCII file name for old clients and the real one, Chinese too, as RFC 5987
  filename*; the files hold customers' personal data, so they are not kept in caches (Cache-Control: no-store).
- The file is built in memory: the tables on a dashboard are at most a few thousand rows.
"""
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

import xlsxwriter
from flask import Response, abort

Column = tuple[str, str]  # (key in a row, header label)
Row = Mapping[str, object]

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT, DATETIME_FORMAT = "%Y-%m-%d", "%Y-%m-%d %H:%M"
MIN_WIDTH, MAX_WIDTH = 8, 50  # XLSX column widths, in characters


def table_download(filename_stem: str, columns: Sequence[Column], rows: Iterable[Row], fmt: str) -> Response:
    """The table as an attachment named `filename_stem`.csv or .xlsx; 404 for any other `fmt`."""
    if fmt not in FORMATS:
        abort(404)
    headers = [str(label) for _key, label in columns]
    table = [[row.get(key) for key, _label in columns] for row in rows]
    body = _csv(headers, table) if fmt == "csv" else _xlsx(filename_stem, headers, table)
    response = Response(body, content_type=FORMATS[fmt])
    response.headers["Content-Disposition"] = content_disposition(f"{filename_stem}.{fmt}")
    response.headers["Cache-Control"] = "no-store"
    return response


def content_disposition(filename: str) -> str:
    """attachment; filename="leads.csv"; filename*=UTF-8''%E7%BA%BF%E7%B4%A2.csv: an ASCII name any client reads
    (accents dropped, other characters as _, "export" when nothing is left) and the real name for those that can."""
    stem, dot, extension = filename.rpartition(".")
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    ascii_stem = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_stem).strip("._") or "export"
    return f"attachment; filename=\"{ascii_stem}{dot}{extension}\"; filename*=UTF-8''{quote(filename, safe='')}"


def csv_cell(value) -> str:
    """A value as CSV text, with the formula guard on text (not on numbers: -5 stays -5)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _csv(headers: list[str], table: list[list]) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)  # quotes cells with commas, quotes or line breaks; rows end in CRLF as Excel expects
    writer.writerow(csv_cell(header) for header in headers)
    writer.writerows([csv_cell(value) for value in row] for row in table)
    return out.getvalue().encode("utf-8")


def _xlsx(sheet_name: str, headers: list[str], table: list[list]) -> bytes:
    """One worksheet: a bold, frozen header row with a filter, numbers and dates as such, columns sized to fit."""
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "nan_inf_to_errors": True})
    bold = workbook.add_format({"bold": True})
    formats = {date: workbook.add_format({"num_format": "yyyy-mm-dd"}),
               datetime: workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})}
    sheet = workbook.add_worksheet(_sheet_name(sheet_name))
    for column, header in enumerate(headers):
        sheet.write_string(0, column, header, bold)
    for row_number, row in enumerate(table, start=1):
        for column, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                sheet.write_number(row_number, column, float(value) if isinstance(value, Decimal) else value)
            elif isinstance(value, datetime):
                sheet.write_datetime(row_number, column, value.replace(tzinfo=None), formats[datetime])
            elif isinstance(value, date):
                sheet.write_datetime(row_number, column, value, formats[date])
            else:
                sheet.write_string(row_number, column, str(value))
    for column, header in enumerate(headers):
        widest = max([_width(header)] + [_width(csv_cell(row[column])) for row in table])
        sheet.set_column(column, column, min(max(widest + 2, MIN_WIDTH), MAX_WIDTH))
    if headers:
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, len(table), len(headers) - 1)
    workbook.close()
    return out.getvalue()


def _width(text: str) -> int:
    """Characters a text takes in a spreadsheet column: a Chinese character counts twice."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _sheet_name(stem: str) -> str:
    """Excel's limits on a worksheet name: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", "_", stem)[:31].strip("'") or "Sheet1"
