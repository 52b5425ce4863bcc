"""Lead import files: CSV exports and ADF XML parsed into normalised rows; every input row is accounted for."""
from datetime import datetime, timezone
from pathlib import Path

import pytest

from app.services.lead_files import MAX_BYTES, FileTooLarge, LeadRow, UnreadableFile, csv_file, parse

FILES = Path(__file__).parent / "files" / "lead_files"
HALF_PAST_TWO_IN_BEIJING = datetime(2026, 11, 20, 6, 30, tzinfo=timezone.utc)


def read(name: str):
    return parse((FILES / name).read_bytes(), name)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def reasons(parsed) -> list[str]:
    return [skipped.reason for skipped in parsed.skipped]


def test_clean_csv_with_english_headers():
    parsed = read("clean.csv")
    assert parsed.format == "csv"
    assert parsed.rows == [
        LeadRow(line=2, name="Zhang Wei", phone_e164="+8613800138000", email="zhang.wei@example.com",
                wechat_id="zw_2026", city="Guangzhou", province="Guangdong", model_of_interest="Han EV",
                source="autohome", provider="Autohome Inc.", requested_at=HALF_PAST_TWO_IN_BEIJING,
                intent_level="H", consent_channels=("call", "sms"), resend=False, external_id="AH-1001",
                comments="Wants a test drive on Saturday"),
        LeadRow(line=3, name="Li Na", phone_e164="+8613900139000", city="Shenzhen", province="Guangdong",
                model_of_interest="Tang DM-i", source="dongchedi", requested_at=utc(2026, 11, 20, 1, 15),
                intent_level="A", consent_channels=("call", "sms"), external_id="AH-1002"),
        LeadRow(line=4, name="Wang Fang", phone_e164="+8615012345678", email="wang@example.com", city="Beijing",
                province="Beijing", model_of_interest="Seal", source="brand_website",
                requested_at=utc(2026, 11, 20, 16), intent_level="B", resend=True, external_id="AH-1003",
                comments="Call after 6 pm, please"),
    ]
    assert parsed.skipped == [] and parsed.warnings == []


def test_chinese_headers_in_gb18030():
    parsed = read("chinese_gb18030.csv")
    assert parsed.warnings == ["the file is not UTF-8: read as GB18030"]
    assert parsed.rows == [
        LeadRow(line=2, name="王伟", phone_e164="+8613812345678", wechat_id="wangwei88", city="广州", province="广东",
                model_of_interest="汉EV", source="autohome", provider="汽车之家", requested_at=utc(2026, 11, 19, 16),
                intent_level="H", consent_channels=("call", "sms"), external_id="QC-001", comments="周六到店试驾"),
        LeadRow(line=3, name="客户4321", phone_e164="+8613987654321", city="成都", province="四川",
                model_of_interest="宋PLUS", source="dongchedi", requested_at=HALF_PAST_TWO_IN_BEIJING,
                intent_level="A", resend=True, external_id="QC-002"),
        LeadRow(line=4, name="赵敏", phone_e164="+8618600001111", city="杭州", province="浙江", model_of_interest="海豹",
                source="yiche", requested_at=utc(2026, 11, 20), intent_level="C", consent_channels=("call",),
                external_id="QC-003", comments="只接受电话联系"),
    ]


def test_bom_semicolons_multiline_cells_and_ragged_rows():
    parsed = read("bom_semicolon.csv")
    assert parsed.rows == [
        LeadRow(line=2, name="陈静", phone_e164="+8613700001234", email="chen@example.com", model_of_interest="元PLUS",
                source="oem_hotline", requested_at=utc(2026, 11, 20, 14, 30), intent_level="O",
                comments="第一行\n第二行"),
        LeadRow(line=4, name="刘洋", phone_e164="+8613700005678"),
        LeadRow(line=5, name="Sun Li", phone_e164="+8613700009999", source="auto_show",
                requested_at=utc(2026, 11, 22, 2, 5)),
    ]
    assert parsed.warnings == []


def test_bad_rows_are_skipped_with_a_reason_naming_the_row():
    parsed = read("bad_rows.csv")
    assert [(row.line, row.name, row.phone_e164) for row in parsed.rows] == [
        (2, "Good One", "+8613800138000"),
        (10, "Spreadsheet", "+8613900139000"),
        (11, "Two Numbers", "+8613600136000"),
        (12, "Apostrophe", "+8613500135000"),
    ]
    assert reasons(parsed) == [
        "row 3: phone '12345' is not a valid mobile number",
        "row 5: no phone number given",
        "row 6: phone '010-12345678' is not a valid mobile number",
        "row 9: phone '138****8000' is not a valid mobile number",
    ]
    assert parsed.skipped[0].line == 3
    assert parsed.skipped[0].raw == {"name": "Bad Phone", "phone": "12345", "city": "Beijing", "email": "",
                                     "date": "", "intent": ""}
    assert parsed.warnings == [
        "row 2: date 'next week' not understood, left empty",
        "row 2: intent level 'Z' not understood, left empty",
        "row 2: email 'not-an-email' is not an address, left empty",
    ]


def test_clean_single_prospect_adf():
    parsed = read("single_prospect.xml")
    assert parsed.format == "adf"
    assert parsed.rows == [
        LeadRow(line=1, name="Zhang Wei", phone_e164="+8613800138000", email="zhang.wei@example.com",
                city="Guangzhou", province="GD", model_of_interest="Han EV", source="autohome", provider="Autohome",
                requested_at=HALF_PAST_TWO_IN_BEIJING, consent_channels=("call",), resend=False,
                external_id="autohome:AH-778899", comments="Prefers a call after 6 pm."),
    ]
    assert parsed.skipped == [] and parsed.warnings == []


def test_multi_prospect_adf_with_a_resend():
    parsed = read("multi_prospect.xml")
    assert parsed.rows == [
        LeadRow(line=1, name="王伟", phone_e164="+8613812345678", source="dongchedi", provider="懂车帝",
                requested_at=HALF_PAST_TWO_IN_BEIJING, consent_channels=("call",),
                external_id="dongchedi:DCD-501"),
        LeadRow(line=2, name="John Smith", phone_e164="+8613912345678", email="john.smith@example.com",
                model_of_interest="Seal", source="brand_website", provider="OEM DCC",
                requested_at=utc(2026, 11, 21, 1), consent_channels=("call",), resend=True,
                external_id="dongchedi:DCD-501"),
        LeadRow(line=3, name="客户5678", phone_e164="+8615912345678", city="成都", model_of_interest="BYD",
                requested_at=HALF_PAST_TWO_IN_BEIJING, consent_channels=("call",), external_id="778"),
    ]
    assert parsed.warnings == []


def test_malformed_adf_is_repaired_and_one_broken_prospect_loses_no_other():
    parsed = read("malformed.xml")
    assert parsed.rows == [
        LeadRow(line=1, name="Smith & Sons Motors", phone_e164="+8613700137000", source="yiche", provider="易车",
                requested_at=HALF_PAST_TWO_IN_BEIJING, consent_channels=("call",), external_id="yiche:YC-1",
                comments='Call <after> 6pm & ask for "Mr. Li"'),
        LeadRow(line=2, name="李娜", phone_e164="+8613700137001", requested_at=HALF_PAST_TWO_IN_BEIJING,
                consent_channels=("call",), resend=True),
    ]
    assert reasons(parsed) == [
        "prospect 3: not well-formed XML at line 22 (mismatched tag)",
        "prospect 4: phone '010-87654321' is not a valid mobile number",
    ]
    assert [skipped.line for skipped in parsed.skipped] == [3, 4]
    assert "<name>Broken</contact>" in parsed.skipped[0].raw
    assert parsed.warnings[:2] == ["XML declaration out of order, removed", "1 bare '&' escaped"]
    assert parsed.warnings[2].startswith("the XML is not well-formed")


def test_billion_laughs_is_refused_before_any_expansion():
    with pytest.raises(UnreadableFile, match="entities"):
        read("billion_laughs.xml")


@pytest.mark.parametrize(("data", "message"), [
    pytest.param((FILES / "empty.csv").read_bytes(), "empty", id="empty"),
    pytest.param(b" \r\n\t\n", "empty", id="whitespace"),
    pytest.param(bytes(range(256)) * 8, "binary", id="binary"),
    pytest.param(b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64, "workbook", id="xlsx"),
    pytest.param("姓名,城市\n张三,北京\n".encode(), "no phone column", id="no-phone-column"),
    pytest.param(b"phone\n\x80\xff\x80\xff\n", "not text", id="neither-utf8-nor-gb18030"),
    pytest.param(b"<adf></adf>", "no <prospect>", id="adf-without-prospect"),
    pytest.param(b"<html><body><p>Login<br></body></html>", "not well-formed", id="html"),
])
def test_unreadable_files(data, message):
    with pytest.raises(UnreadableFile, match=message):
        parse(data, "upload.csv")


def test_file_size_limit():
    with pytest.raises(FileTooLarge):
        parse(b"\n" * (MAX_BYTES + 1), "huge.csv")
    at_limit = b"phone\n13800138000\n"
    assert len(parse(at_limit + b"\n" * (MAX_BYTES - len(at_limit)), "full.csv").rows) == 1


FIXTURE_ROWS = [
    ("clean.csv", 3), ("chinese_gb18030.csv", 3), ("bom_semicolon.csv", 3), ("bad_rows.csv", 8),
    ("single_prospect.xml", 1), ("multi_prospect.xml", 3), ("malformed.xml", 4),
]


@pytest.mark.parametrize(("name", "data_rows"), FIXTURE_ROWS)
def test_every_input_row_is_accounted_for(name, data_rows):
    parsed = read(name)
    assert len(parsed.rows) + len(parsed.skipped) == data_rows
    lines = sorted([row.line for row in parsed.rows] + [skipped.line for skipped in parsed.skipped])
    assert len(set(lines)) == data_rows


@pytest.mark.parametrize("name", [name for name, _ in FIXTURE_ROWS])
def test_same_bytes_parse_to_the_same_result(name):
    assert read(name) == read(name)


@pytest.mark.parametrize(("written", "instant"), [
    ("2026-11-20T14:30:00+08:00", HALF_PAST_TWO_IN_BEIJING),
    ("2026-11-20T14:30:00+08", HALF_PAST_TWO_IN_BEIJING),
    ("2026-11-20T14:30:00+0800", HALF_PAST_TWO_IN_BEIJING),
    ("2026-11-20T14:30:00 CST", HALF_PAST_TWO_IN_BEIJING),
    ("2026-11-20T14:30:00", HALF_PAST_TWO_IN_BEIJING),
    ("2026-11-20T06:30:00Z", HALF_PAST_TWO_IN_BEIJING),
    ("2026-11-20T01:30:00.250-05:00", HALF_PAST_TWO_IN_BEIJING),
    ("2026/11/20 14:30", HALF_PAST_TWO_IN_BEIJING),
    ("2026-11-20 14:30:00", HALF_PAST_TWO_IN_BEIJING),
    ("2026年11月20日 14:30", HALF_PAST_TWO_IN_BEIJING),
    ("2026年11月20日", utc(2026, 11, 19, 16)),
])
def test_request_dates_in_csv_and_adf(written, instant):
    csv_data = f"phone,留资时间\n13800138000,{written}\n".encode()
    adf_data = (f"<adf><prospect><requestdate>{written}</requestdate><customer><contact>"
                f"<phone>13800138000</phone></contact></customer></prospect></adf>").encode()
    for data in (csv_data, adf_data):
        (row,) = parse(data, "dates").rows
        assert row.requested_at == instant and row.requested_at.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(("written", "source"), [
    ("汽车之家", "autohome"), ("Autohome", "autohome"), ("懂车帝", "dongchedi"), ("易车网", "yiche"),
    ("Bitauto", "yiche"), ("官网", "brand_website"), ("热线", "oem_hotline"), ("车展", "auto_show"),
    ("walk_in", "walk_in"), ("某个论坛", "brand_website"), ("", "brand_website"),
])
def test_csv_sources_by_alias(written, source):
    (row,) = parse(f"手机号,来源\n13800138000,{written}\n".encode(), "sources.csv").rows
    assert row.source == source


def test_consent_columns_per_channel():
    data = "phone,授权,consent wechat,邮件授权\n13800138000,电话,是,否\n13900139000,yes,,y\n".encode()
    assert [row.consent_channels for row in parse(data, "consent.csv").rows] == [
        ("call", "wechat"), ("call", "sms", "email"),
    ]


def test_title_lines_above_the_header_and_unknown_columns_are_noted():
    data = "线索导出 2026-11\n\nName,Phone,Dealer Code\n张三,13800138000,GZ01\n".encode()
    parsed = parse(data, "export.csv")
    assert [(row.line, row.name) for row in parsed.rows] == [(4, "张三")]
    assert parsed.warnings == ["1 line(s) above the header row ignored", "columns ignored: 'Dealer Code'"]


def test_utf16_tab_separated_export_from_excel():
    data = "\ufeff手机\t姓名\r\n13800138000\t张三\r\n".encode("utf-16-le")
    parsed = parse(data, "unicode.txt")
    assert [(row.name, row.phone_e164) for row in parsed.rows] == [("张三", "+8613800138000")]


def test_adf_after_a_mail_preamble_is_still_found():
    data = b"Lead forwarded by the portal:\n<adf><prospect><customer><contact><phone>13800138000</phone>" \
           b"</contact></customer></prospect></adf>\n-- \nsent by mailer"
    parsed = parse(data, "mail.txt")
    assert parsed.format == "adf"
    assert [(row.line, row.name) for row in parsed.rows] == [(1, "客户8000")]


def test_every_header_alias_is_in_the_documented_table():
    for aliases in csv_file.COLUMNS.values():
        for alias in aliases:
            assert alias in csv_file.__doc__, alias
