"""The row types every lead file format parses into, and the field rules both formats share.

A format module reads its file into `RawLead`s (text as found, phone candidates in order of preference) and
hands each to `build`, which normalises it into a `LeadRow`, or a `SkippedRow` when no valid mobile number is
given: the mobile number is how a person is found (DOMAIN.md), so a lead without one cannot be imported.
A lead without a name is kept as "客户" + the last 4 digits of its number, since portal customers often leave
the name empty and consultants still need something to call them in lists.
Reasons, warnings and row labels go through gettext when they are made, so they are in the language in force
(the importer's, see app.services.import_jobs); English without an app context.
"""
import codecs
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from app.models import Channel, Source
from app.services.phones import InvalidPhone, normalise_mobile

# Lead files come from Chinese portals and OEM systems: a time without a zone is Beijing time, and "CST" is
# China Standard Time here, not US Central.
SHANGHAI = ZoneInfo("Asia/Shanghai")
NAMELESS_PREFIX = "客户"


class FileTooLarge(ValueError):
    """The file is over the import size limit."""


class UnreadableFile(ValueError):
    """The file is neither usable CSV nor XML at all; the message says why, in the language in force."""


@dataclass(frozen=True)
class LeadRow:
    """One usable lead, normalised: E.164 phone, aware UTC time, values of app.models enums."""

    line: int
    name: str
    phone_e164: str
    email: str | None = None
    wechat_id: str | None = None
    city: str | None = None
    province: str | None = None
    model_of_interest: str | None = None
    source: str = Source.BRAND_WEBSITE.value
    provider: str | None = None
    requested_at: datetime | None = None
    intent_level: str | None = None
    consent_channels: tuple[str, ...] = ()
    resend: bool = False
    external_id: str | None = None
    comments: str | None = None


@dataclass(frozen=True)
class SkippedRow:
    """A row that could not be used: where it was, why, and what it held, for the import report."""

    line: int
    reason: str
    raw: Any


@dataclass
class ParsedFile:
    """Everything read from one file: each input row is in exactly one of `rows` and `skipped`."""

    format: str
    rows: list[LeadRow] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, outcome: LeadRow | SkippedRow) -> None:
        """File one row's outcome under `rows` or `skipped`."""
        (self.rows if isinstance(outcome, LeadRow) else self.skipped).append(outcome)


@dataclass
class RawLead:
    """A lead's fields as found in the file, before normalisation; `label` names it in reasons ("row 7")."""

    line: int
    label: str
    raw: Any
    phones: list[str] = field(default_factory=list)
    name: str | None = None
    email: str | None = None
    wechat_id: str | None = None
    city: str | None = None
    province: str | None = None
    model_of_interest: str | None = None
    source: str = Source.BRAND_WEBSITE.value
    provider: str | None = None
    requested_at: str | None = None
    intent_level: str | None = None
    consent_channels: tuple[str, ...] = ()
    resend: bool = False
    external_id: str | None = None
    comments: str | None = None


def decode(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Return the text of a file and the name of the encoding it was read with.

    :param data: the file's bytes; a UTF-8 or UTF-16 byte order mark decides the encoding and is dropped.
    :param declared: an encoding the file names for itself (an XML declaration), tried before UTF-8.
    :raise UnreadableFile: when no candidate encoding reads it.
    """
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                      (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            data, candidates = data[len(bom):], [name]
            break
    else:
        candidates = [declared] if declared else []
        candidates += ["utf-8", "gb18030"]  # GB18030 is a superset of GBK and GB2312, so it covers both
    for name in candidates:
        try:
            return data.decode(name), codecs.lookup(name).name
        except (LookupError, UnicodeDecodeError):
            continue
    raise UnreadableFile(_("the file is not text in UTF-8 or GB18030"))


def clean(value: str | None, collapse: bool = True) -> str | None:
    """Strip a value (zero-width spaces too, which pasted portal data carries); None when nothing is left.

    :param collapse: turn every run of whitespace into one space; off for comments, whose lines matter.
    """
    if value is None:
        return None
    value = value.replace("\u200b", "").replace("\ufeff", "")
    value = " ".join(value.split()) if collapse else value.strip()
    return value or None


TRUE_WORDS = frozenset({"是", "yes", "y", "1", "true", "同意", "√", "✓"})


def truthy(value: str | None) -> bool:
    """True for the ways files say yes: 是, yes, y, 1, true, 同意, a tick."""
    return (clean(value) or "").lower() in TRUE_WORDS


# Checked in order, each as a substring of the lowered text: portals before generic words, so that
# "汽车之家微信" is Autohome, not WeChat.
SOURCE_ALIASES = (
    (Source.AUTOHOME, ("汽车之家", "autohome")), (Source.DONGCHEDI, ("懂车帝", "dongchedi")),
    (Source.YICHE, ("易车", "yiche", "bitauto")), (Source.OEM_HOTLINE, ("热线", "hotline")),
    (Source.BRAND_WEBSITE, ("官网", "website")), (Source.AUTO_SHOW, ("车展", "auto show")),
    (Source.REFERRAL, ("转介绍", "referral")), (Source.WECHAT, ("微信", "wechat")),
    (Source.PHONE_IN, ("来电", "phone-in")), (Source.WALK_IN, ("到店", "walk-in")),
    (Source.REPEAT_CUSTOMER, ("老客户", "repeat")),
)
SOURCE_VALUES = frozenset(source.value for source in Source)


def source_for(text: str | None) -> str | None:
    """The app's Source value a source or provider name stands for, or None when it names none we know."""
    lowered = (clean(text) or "").lower()
    if not lowered:
        return None
    if lowered in SOURCE_VALUES:
        return lowered
    return next((source.value for source, aliases in SOURCE_ALIASES if any(a in lowered for a in aliases)), None)


_MOMENT = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:(?:T|\s)*(\d{1,2})\s*[:：时点]\s*(\d{1,2})\s*分?(?:\s*[:：]?\s*(\d{1,2})(?:[.,]\d+)?\s*秒?)?)?"
    r"\s*(Z|UTC|GMT|CST|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)
_FIXED_ZONES = {"Z": timezone.utc, "UTC": timezone.utc, "GMT": timezone.utc, "CST": timezone(timedelta(hours=8))}


def parse_moment(text: str) -> datetime:
    """Read a request time as written in lead files, into an aware UTC datetime.

    Understands ISO 8601 and the usual Chinese forms (2026/11/20 14:30, 2026-11-20 14:30:00, 2026年11月20日),
    with a zone that may be cut short ("+08", "+0800"), named ("Z", "UTC", "CST") or missing (Beijing time).
    :raise ValueError: when the text is no date we understand.
    """
    match = _MOMENT.fullmatch(text.strip())
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups()[:6])
    zone_text = (match.group(7) or "").upper()
    if zone_text in _FIXED_ZONES:
        zone = _FIXED_ZONES[zone_text]
    elif zone_text:
        sign = -1 if zone_text[0] == "-" else 1
        digits = zone_text[1:].replace(":", "")
        zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0)))
    else:
        zone = SHANGHAI
    return datetime(year, month, day, hour, minute, second, tzinfo=zone).astimezone(timezone.utc)


def _intent(text: str) -> str | None:
    """H/A/B/C/O from "H", "h", "H级", "Level H"; None when it is none of them."""
    letters = text.upper().replace("LEVEL", "").replace("级", "").replace("类", "").strip()
    return letters if len(letters) == 1 and letters in "HABCO" else None


_PHONE_SEPARATORS = re.compile(r"[/,;，；、|]")
_SPREADSHEET_FLOAT = re.compile(r"\d+\.0")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _mobile(values: list[str], region: str) -> tuple[str | None, list[str]]:
    """The first valid mobile number among the values, and every number found, as written.

    Cells may hold several numbers ("138.../139...") and carry spreadsheet damage, undone here.
    """
    candidates = []
    for value in values:
        for part in _PHONE_SEPARATORS.split(value or ""):
            part = (clean(part) or "").lstrip("'`")  # an apostrophe is how spreadsheets keep digits as text
            if _SPREADSHEET_FLOAT.fullmatch(part):  # a number column that went through a spreadsheet as a float
                part = part[:-2]
            if part:
                candidates.append(part)
    for candidate in candidates:
        try:
            return normalise_mobile(candidate, region), candidates
        except InvalidPhone:
            continue
    return None, candidates


def build(lead: RawLead, region: str, warnings: list[str]) -> LeadRow | SkippedRow:
    """Normalise one lead; fields that cannot be read are left empty with a note in `warnings`.

    :param lead: the fields as found, with `label` naming the row for reasons and warnings.
    :param region: the phone region assumed for numbers without a country code.
    :param warnings: the file's warnings, appended to.
    """
    phone, candidates = _mobile(lead.phones, region)
    if phone is None:
        reason = (_("%(label)s: phone '%(phone)s' is not a valid mobile number", label=lead.label,
                    phone=candidates[0]) if candidates
                  else _("%(label)s: no phone number given", label=lead.label))
        return SkippedRow(lead.line, reason, lead.raw)
    requested_at = intent = email = None
    if text := clean(lead.requested_at):
        try:
            requested_at = parse_moment(text)
        except ValueError:
            warnings.append(_("%(label)s: date '%(value)s' not understood, left empty", label=lead.label, value=text))
    if text := clean(lead.intent_level):
        if not (intent := _intent(text)):
            warnings.append(_("%(label)s: intent level '%(value)s' not understood, left empty", label=lead.label,
                               value=text))
    if text := clean(lead.email):
        if _EMAIL.fullmatch(text):
            email = text
        else:
            warnings.append(_("%(label)s: email '%(value)s' is not an address, left empty", label=lead.label,
                               value=text))
    return LeadRow(
        line=lead.line, name=clean(lead.name) or NAMELESS_PREFIX + phone[-4:], phone_e164=phone, email=email,
        wechat_id=clean(lead.wechat_id), city=clean(lead.city), province=clean(lead.province),
        model_of_interest=clean(lead.model_of_interest), source=lead.source, provider=clean(lead.provider),
        requested_at=requested_at, intent_level=intent,
        consent_channels=tuple(c.value for c in Channel if c.value in lead.consent_channels),
        resend=lead.resend, external_id=clean(lead.external_id), comments=clean(lead.comments, collapse=False),
    )
