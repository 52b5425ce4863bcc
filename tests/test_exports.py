"""Table downloads as CSV and XLSX (app/views/exports.py): what Excel opens, and what it must not run."""
import codecs
import csv
import io
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from xml.etree import ElementTree as ET

import pytest
from flask import Blueprint
from werkzeug.exceptions import NotFound

from app.views.exports import table_download

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
COLUMNS = [("name", "Customer"), ("model", "Model 车型"), ("leads", "Leads"), ("day", "Day")]
ROWS = [
    {"name": "王小明", "model": "汉 EV", "leads": 3, "day": date(2025, 12, 1)},
    {"name": 'Wang, "Tiger"', "model": "Line one\nline two", "leads": 0, "day": None},
    {"name": "=HYPERLINK(\"http://x\",\"y\")", "model": "+86 138 0013 8000", "leads": -5, "day": None},
    {"name": "-1+2", "model": "@SUM(A1)", "leads": 2.5, "day": datetime(2025, 12, 2, 9, 30)},
    {"name": "Plain", "leads": Decimal("7"), "extra": "not a column"},
]


def download(app, fmt, stem="leads-december", columns=COLUMNS, rows=ROWS):
    with app.test_request_context():
        return table_download(stem, columns, rows, fmt)


def test_csv_opens_in_excel_with_chinese_and_every_cell_intact(app):
    body = download(app, "csv").get_data()
    assert body.startswith(codecs.BOM_UTF8)
    text = body.decode("utf-8-sig")
    assert text.startswith("Customer,Model 车型,Leads,Day\r\n")
    assert '"Wang, ""Tiger""","Line one\nline two",0,\r\n' in text
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["Customer", "Model 车型", "Leads", "Day"],
        ["王小明", "汉 EV", "3", "2025-12-01"],
        ['Wang, "Tiger"', "Line one\nline two", "0", ""],
        ["'=HYPERLINK(\"http://x\",\"y\")", "'+86 138 0013 8000", "-5", ""],
        ["'-1+2", "'@SUM(A1)", "2.5", "2025-12-02 09:30"],
        ["Plain", "", "7", ""],
    ]


def test_csv_headers_name_the_file_in_ascii_and_in_chinese(app):
    response = download(app, "csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"leads-december.csv\"; filename*=UTF-8''leads-december.csv")
    assert response.headers["Cache-Control"] == "no-store"

    chinese = download(app, "csv", stem="十二月线索 December").headers["Content-Disposition"]
    assert chinese == ("attachment; filename=\"December.csv\"; "
                       "filename*=UTF-8''%E5%8D%81%E4%BA%8C%E6%9C%88%E7%BA%BF%E7%B4%A2%20December.csv")
    only_chinese = download(app, "xlsx", stem="线索").headers["Content-Disposition"]
    assert only_chinese == "attachment; filename=\"export.xlsx\"; filename*=UTF-8''%E7%BA%BF%E7%B4%A2.xlsx"
    hostile = download(app, "csv", stem='a"b\r\nX-Evil: 1').headers["Content-Disposition"]
    assert hostile.startswith('attachment; filename="a_b_X-Evil_1.csv"; ') and "\n" not in hostile


def read_xlsx(body: bytes) -> tuple[zipfile.ZipFile, dict[str, tuple[str | None, str]]]:
    """The workbook's first sheet as {cell: (type, value)}, strings looked up in the shared strings."""
    book = zipfile.ZipFile(io.BytesIO(body))
    assert book.testzip() is None
    shared = [si.findtext(f"{MAIN}t") for si in ET.fromstring(book.read("xl/sharedStrings.xml")).iter(f"{MAIN}si")]
    sheet = ET.fromstring(book.read("xl/worksheets/sheet1.xml"))
    assert not list(sheet.iter(f"{MAIN}f")), "no formulas"
    cells = {}
    for cell in sheet.iter(f"{MAIN}c"):
        value = cell.findtext(f"{MAIN}v")
        cells[cell.get("r")] = ("s", shared[int(value)]) if cell.get("t") == "s" else (cell.get("t"), value)
    return book, cells


def test_xlsx_is_a_workbook_with_text_numbers_and_empty_cells(app):
    response = download(app, "xlsx", stem="十二月线索")
    assert response.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    book, cells = read_xlsx(response.get_data())
    assert {"[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/styles.xml"} <= set(
        book.namelist())
    assert '<sheet name="十二月线索"' in book.read("xl/workbook.xml").decode()
    assert [cells[ref] for ref in ("A1", "B1", "C1", "D1")] == [
        ("s", "Customer"), ("s", "Model 车型"), ("s", "Leads"), ("s", "Day")]
    assert cells["A2"] == ("s", "王小明") and cells["C2"] == (None, "3")
    assert cells["D2"] == (None, str((date(2025, 12, 1) - date(1899, 12, 30)).days))  # an Excel date serial
    assert cells["A3"] == ("s", 'Wang, "Tiger"') and cells["B3"] == ("s", "Line one\nline two")
    assert "D3" not in cells  # None is an empty cell
    # Text that looks like a formula stays text, as typed: no ' needed in a workbook
    assert cells["A4"] == ("s", '=HYPERLINK("http://x","y")') and cells["B4"] == ("s", "+86 138 0013 8000")
    assert cells["C4"] == (None, "-5") and cells["C5"] == (None, "2.5") and cells["C6"] == (None, "7")
    assert "B6" not in cells and "E6" not in cells


def test_xlsx_header_is_bold_frozen_and_columns_fit(app):
    book, _cells = read_xlsx(download(app, "xlsx").get_data())
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    styles = ET.fromstring(book.read("xl/styles.xml"))
    fonts = list(styles.find(f"{MAIN}fonts"))
    header_style = int(re.search(r'<c r="A1" s="(\d+)"', sheet).group(1))
    header_font = list(styles.find(f"{MAIN}cellXfs"))[header_style].get("fontId")
    assert fonts[int(header_font)].find(f"{MAIN}b") is not None
    assert 'state="frozen"' in sheet and '<autoFilter ref="A1:D6"/>' in sheet
    widths = [float(w) for w in re.findall(r'<col min="\d+" max="\d+" width="([\d.]+)"', sheet)]
    assert len(widths) == 4
    # "=HYPERLINK(...)" (26 characters, with its guard) is the widest name; "Model 车型" counts 车型 twice
    assert widths[0] > widths[1] > widths[2] and all(8 <= w <= 51 for w in widths)


def test_an_unknown_format_is_not_found(app):
    with pytest.raises(NotFound):
        download(app, "pdf")


def test_a_view_serves_the_download_from_its_url(app):
    bp = Blueprint("export_probe", __name__)

    @bp.get("/export-probe.<fmt>")
    def probe(fmt):
        return table_download("线索", [("name", "客户")], [{"name": "王小明"}], fmt)

    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/export-probe.csv").get_data().decode("utf-8-sig") == "客户\r\n王小明\r\n"
    assert client.get("/export-probe.xlsx").status_code == 200
    assert client.get("/export-probe.json").status_code == 404
