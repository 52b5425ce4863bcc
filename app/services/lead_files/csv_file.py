"""CSV lead files: portal and OEM exports, in UTF-8 (with or without BOM) or GB18030, comma, semicolon or tab.

Columns are found by their header, whatever their order; headers match ignoring case, spaces, ``_``, ``-``,
``*`` and colons, so "Mobile Phone", "mobile_phone" and "手机号码*" all work. Columns not listed are ignored
(the file's warnings name them). Only a phone column is required.

================  =====================================================  =====================================
Field             Headers                                                Values
================  =====================================================  =====================================
name              name, customer, customer name, 姓名, 客户姓名, 客户名称  empty: "客户" + the phone's last 4 digits
phone             phone, mobile, mobile phone, cell, tel, 手机, 手机号,   required; several phone columns, or
                  手机号码, 电话, 联系电话                               "a/b" in one cell: the first valid
                                                                         mobile wins; none: the row is skipped
email             email, e-mail, 邮箱, 电子邮件                          kept when it looks like an address
wechat_id         wechat, weixin, 微信, 微信号                           as given
city              city, 城市, 所在城市                                   as given
province          province, 省份, 省                                     as given
model_of_interest model, vehicle, model of interest, 车型, 意向车型      as given
source            source, channel, 来源, 渠道                            汽车之家/autohome, 懂车帝/dongchedi,
                                                                         易车/yiche/bitauto, 官网/website,
                                                                         热线/hotline, 车展 … (rows.SOURCE_ALIASES);
                                                                         else the provider's; else brand_website
provider          provider, 提供方                                       as given
requested_at      date, created, request date, 日期, 时间, 留资时间      ISO 8601, 2026/11/20 14:30,
                                                                         2026年11月20日; no zone: Beijing time
intent_level      intent, level, 意向级别, 级别                          H, A, B, C or O ("H级" too)
consent           consent, 授权                                          是/yes/y/1/true: call and sms; or
                                                                         channel names ("电话,微信")
consent_call      consent call, call consent, 电话授权                   是/yes/y/1/true adds that channel
consent_sms       consent sms, sms consent, 短信授权                     likewise
consent_wechat    consent wechat, wechat consent, 微信授权               likewise
consent_email     consent email, email consent, 邮件授权                 likewise
external_id       id, lead id, 线索编号                                  as given
resend            resend, 重复                                           是/yes/y/1/true
comments          comments, note, remark, 备注                           as given, line breaks kept
================  =====================================================  =====================================

Line numbers count the file's physical lines, the header being line 1 when it is first. Blank lines are
ignored; rows with more or fewer cells than the header are read by header name. The header may sit below a few
title lines: the first row within the top 10 lines that names a phone column is the header.
"""
import csv
import io
import re

from flask_babel import gettext as _

from app.models import Channel, Source
from app.services.lead_files.rows import (
    ParsedFile, RawLead, UnreadableFile, build, clean, decode, source_for, truthy,
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "customer", "customer name", "姓名", "客户姓名", "客户名称"),
    "phone": ("phone", "mobile", "mobile phone", "cell", "tel", "手机", "手机号", "手机号码", "电话", "联系电话"),
    "email": ("email", "e-mail", "邮箱", "电子邮件"),
    "wechat_id": ("wechat", "weixin", "微信", "微信号"),
    "city": ("city", "城市", "所在城市"),
    "province": ("province", "省份", "省"),
    "model_of_interest": ("model", "vehicle", "model of interest", "车型", "意向车型"),
    "source": ("source", "channel", "来源", "渠道"),
    "provider": ("provider", "提供方"),
    "requested_at": ("date", "created", "request date", "日期", "时间", "留资时间"),
    "intent_level": ("intent", "level", "意向级别", "级别"),
    "consent": ("consent", "授权"),
    "consent_call": ("consent call", "call consent", "电话授权"),
    "consent_sms": ("consent sms", "sms consent", "短信授权"),
    "consent_wechat": ("consent wechat", "wechat consent", "微信授权"),
    "consent_email": ("consent email", "email consent", "邮件授权"),
    "external_id": ("id", "lead id", "线索编号"),
    "resend": ("resend", "重复"),
    "comments": ("comments", "note", "remark", "备注"),
}
HEADER_SEARCH_ROWS = 10
SNIFF_CHARS = 8192
CHANNEL_WORDS = (
    ("call", Channel.CALL), ("phone", Channel.CALL), ("电话", Channel.CALL),
    ("sms", Channel.SMS), ("短信", Channel.SMS), ("wechat", Channel.WECHAT), ("微信", Channel.WECHAT),
    ("email", Channel.EMAIL), ("邮件", Channel.EMAIL), ("邮箱", Channel.EMAIL),
)


def _key(header: str) -> str:
    return re.sub(r"[\s_\-*:：]", "", header.replace("\ufeff", "")).lower()


FIELD_BY_KEY = {_key(alias): name for name, aliases in COLUMNS.items() for alias in aliases}


def parse_csv(data: bytes, region: str) -> ParsedFile:
    """Read a CSV lead file into normalised rows.

    :param data: the file's bytes.
    :param region: the phone region assumed for numbers without a country code.
    :raise UnreadableFile: when it is not text, or no header row names a phone column.
    """
    text, encoding = decode(data)
    result = ParsedFile("csv")
    if encoding != "utf-8":
        result.warnings.append(_("the file is not UTF-8: read as %(encoding)s", encoding=encoding.upper()))
    for delimiter in _delimiters(text):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        if header := _find_header(reader, result.warnings):
            break
    else:
        raise UnreadableFile(_("no phone column found: name one 'phone', 'mobile', '手机号' or '联系电话'"))
    labels, columns = header
    previous_end = reader.line_num
    try:
        for cells in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                result.add(build(_raw_lead(line, cells, labels, columns), region, result.warnings))
    except csv.Error as error:
        raise UnreadableFile(_("line %(number)d: %(error)s", number=previous_end + 1, error=error)) from None
    return result


def _delimiters(text: str) -> list[str]:
    """Delimiters to try, the sniffed one first; the others follow since the Sniffer guesses wrong on some
    Chinese files, and a wrong guess shows itself by finding no phone column."""
    sample = text[:SNIFF_CHARS].rsplit("\n", 1)[0] if len(text) > SNIFF_CHARS else text
    try:
        first = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        first = ","
    return [first] + [d for d in ",;\t" if d != first]


def _find_header(reader, warnings: list[str]) -> tuple[list[str], dict[str, list[int]]] | None:
    """The header row's labels (for raw reports) and each field's column indexes, or None without a phone.

    Exports often start with a title line ("线索导出 2026-11"); those rows above the header are noted, as
    they are not leads.
    """
    above = 0
    for cells in reader:
        columns: dict[str, list[int]] = {}
        for index, cell in enumerate(cells):
            if name := FIELD_BY_KEY.get(_key(cell)):
                columns.setdefault(name, []).append(index)
        if "phone" in columns:
            if above:
                warnings.append(_("%(count)d line(s) above the header row ignored", count=above))
            used = {index for indexes in columns.values() for index in indexes}
            if ignored := [c for i, c in enumerate(cells) if c.strip() and i not in used]:
                warnings.append(_("columns ignored: %(columns)s", columns=", ".join(f"'{c.strip()}'" for c in ignored)))
            return _labels(cells), columns
        above += any(cell.strip() for cell in cells)
        if reader.line_num >= HEADER_SEARCH_ROWS:
            return None
    return None


def _labels(cells: list[str]) -> list[str]:
    """Unique names for the header's columns, to key a skipped row's raw cells."""
    labels: list[str] = []
    for index, cell in enumerate(cells):
        label = clean(cell) or _column(index)
        labels.append(label if label not in labels else f"{label} ({index + 1})")
    return labels


def _column(index: int) -> str:
    """A column without a header, named by its place (counted from 1, as spreadsheets do)."""
    return _("column %(number)d", number=index + 1)


def _raw_lead(line: int, cells: list[str], labels: list[str], columns: dict[str, list[int]]) -> RawLead:
    """One data row's fields by header name; short rows miss the last fields, long rows keep extras in raw."""
    found = {name: [cells[i] for i in indexes if i < len(cells)] for name, indexes in columns.items()}

    def first(name: str) -> str | None:
        return next((value for value in found.get(name, ()) if value.strip()), None)

    channels = {channel for value in found.get("consent", ()) for channel in _consent_channels(value)}
    channels |= {c.value for c in Channel if any(truthy(value) for value in found.get(f"consent_{c.value}", ()))}
    provider = first("provider")
    return RawLead(
        line=line, label=_("row %(number)d", number=line), phones=found["phone"],
        raw={labels[i] if i < len(labels) else _column(i): cell for i, cell in enumerate(cells)},
        name=first("name"), email=first("email"), wechat_id=first("wechat_id"), city=first("city"),
        province=first("province"), model_of_interest=first("model_of_interest"),
        source=source_for(first("source")) or source_for(provider) or Source.BRAND_WEBSITE.value,
        provider=provider, requested_at=first("requested_at"), intent_level=first("intent_level"),
        consent_channels=tuple(channels), resend=any(truthy(value) for value in found.get("resend", ())),
        external_id=first("external_id"), comments=first("comments"),
    )


def _consent_channels(value: str) -> set[str]:
    """A consent cell: yes means call and SMS (what a portal's phone consent covers); else channel names."""
    if truthy(value):
        return {Channel.CALL.value, Channel.SMS.value}
    lowered = value.lower()
    return {channel.value for word, channel in CHANNEL_WORDS if word in lowered}
