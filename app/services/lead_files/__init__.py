"""Lead import files, parsed into normalised rows without touching the database.

`parse` reads a CSV export (csv_file.py holds the column table) or an ADF 1.0 XML file (adf.py) into a
`ParsedFile`; the import service then creates, merges or skips each row and reports on it. Every row of the
input ends in exactly one of `rows` and `skipped`, so nothing is lost silently:

- a row without a valid mobile number is skipped, with a reason naming it ("row 7: …", "prospect 3: …");
- a row without a name is kept, named "客户" + the last 4 digits of its number (portal customers often leave
  the name empty, and a consultant still needs a handle for the lead);
- a field that cannot be read (a date, an intent level, an email) is left empty and noted in `warnings`,
  with the file-level notes (encoding, repairs made to broken XML, columns ignored).
All of these messages are made with gettext, in the language in force when the file is parsed.
"""
import re

from flask_babel import gettext as _

from app.services.lead_files.adf import parse_adf
from app.services.lead_files.csv_file import parse_csv
from app.services.lead_files.rows import FileTooLarge, LeadRow, ParsedFile, SkippedRow, UnreadableFile

__all__ = ["MAX_BYTES", "FileTooLarge", "LeadRow", "ParsedFile", "SkippedRow", "UnreadableFile", "check_size",
           "parse"]

MAX_BYTES = 10 * 1024 * 1024
# Spreadsheets uploaded as they are, instead of saved as CSV: xlsx (a zip) and the old xls (OLE2).
_WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
_ADF_TAG = re.compile(rb"<adf[\s>]", re.IGNORECASE)


def check_size(data: bytes, filename: str) -> None:
    """Refuse a file over MAX_BYTES, before parsing it or storing an upload.

    :raise FileTooLarge: with the file's name, its size and the limit.
    """
    if len(data) > MAX_BYTES:
        raise FileTooLarge(_("%(name)s: %(size)d bytes, over the limit of %(limit)d bytes", name=filename,
                              size=len(data), limit=MAX_BYTES))


def parse(data: bytes, filename: str, default_region: str = "CN") -> ParsedFile:
    """Parse a lead file into normalised rows, skipped rows with reasons, and warnings.

    The format is read from the content, not the name: ADF when, after a byte order mark and whitespace, it
    starts with "<" or it contains an <adf> tag; else CSV.
    :param data: the uploaded file's bytes.
    :param filename: the name it was uploaded under, only used in messages.
    :param default_region: the phone region for numbers without a country code (the dealer's).
    :raise FileTooLarge: when the file is over MAX_BYTES.
    :raise UnreadableFile: when it is empty, binary, a workbook, not text, or has no usable rows at all.
    """
    check_size(data, filename)
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not head:
        raise UnreadableFile(_("%(name)s: the file is empty", name=filename))
    if head.startswith(_WORKBOOK_SIGNATURES):
        raise UnreadableFile(_("%(name)s: this is a spreadsheet workbook: save it as CSV (UTF-8) first",
                                name=filename))
    # A NUL byte in a file without a UTF-16 byte order mark means binary content, not text.
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile(_("%(name)s: the file is binary, not CSV or XML", name=filename))
    try:
        if head.startswith(b"<") or _ADF_TAG.search(data):
            return parse_adf(data, default_region)
        return parse_csv(data, default_region)
    except UnreadableFile as error:
        raise UnreadableFile(_("%(name)s: %(problem)s", name=filename, problem=error)) from None
