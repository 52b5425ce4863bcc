"""ADF 1.0 (Auto-lead Data Format) lead files: ``<adf><prospect>…</prospect>…</adf>``, one lead per prospect.

What is read from each prospect (tags in any case, namespaces ignored):

- ``status="resend"`` → resend; ``<id source="autohome">12345</id>`` → external id "autohome:12345";
- ``<requestdate>`` → requested_at (a cut-short or missing zone is repaired, see rows.parse_moment);
- the ``<vehicle>`` the customer wants (interest buy, lease or unstated, not a trade-in): its ``<model>``,
  else its ``<make>`` → model_of_interest (one brand's dealers need the model, not the brand or year);
- ``<customer>``: ``<name part="first|last|full">`` (first and last in Chinese order, surname first and no
  space, when they are Chinese; else "first last"), ``<email>``, ``<phone type=…>`` (cellphone or mobile
  first, then the others in order: the first valid mobile wins), ``<address><city/><regioncode/>``,
  ``<comments>`` (with the vehicle's comments);
- ``<provider><name>`` → provider, and the source when it names one (a portal), else brand_website.
  A phone implies consent to be called: a portal passes a number on only with that consent.

Real files are often not well-formed, so the text is repaired before parsing and each repair is noted in
the file's warnings: XML declarations out of order are dropped (the bytes are decoded here, so they carry no
information), bare ``&`` are escaped. CDATA text is kept. If the XML is still broken, each ``<prospect>`` block
is parsed on its own: one broken prospect is skipped with its ordinal, the others are read. Entities are
refused (defusedxml), so an entity-expansion bomb is an unreadable file, not a hung worker.
"""
import re
from xml.etree.ElementTree import Element, ParseError, tostring
from xml.sax.saxutils import escape

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException
from flask_babel import gettext as _

from app.models import Channel, Source
from app.services.lead_files.rows import (
    ParsedFile, RawLead, SkippedRow, UnreadableFile, build, clean, decode, source_for,
)

_ENCODING = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9_.-]+)", re.IGNORECASE)
_DECLARATION = re.compile(r"<\?xml(?:\s[^>]*?)?\?>", re.IGNORECASE)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
_BARE_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)")
_PROSPECT_START = re.compile(r"<prospect[\s>/]", re.IGNORECASE)
_PROSPECT_END = re.compile(r"</prospect\s*>", re.IGNORECASE)
MOBILE_TYPES = frozenset({"cellphone", "mobile", "cell"})
NOT_WANTED = frozenset({"trade-in", "sell"})
_CJK = re.compile(r"[\u3400-\u9fff]")


def parse_adf(data: bytes, region: str) -> ParsedFile:
    """Read an ADF XML lead file into normalised rows, one per prospect, numbered 1, 2, 3… in file order.

    :param data: the file's bytes.
    :param region: the phone region assumed for numbers without a country code.
    :raise UnreadableFile: when it is not text, declares entities, or holds no readable ``<prospect>``.
    """
    declared = _ENCODING.search(data[:256])
    text = decode(data, declared.group(1).decode("ascii") if declared else None)[0]
    result = ParsedFile("adf")
    text = _repair(text, result.warnings)
    try:
        root = _parse(text)
    except ParseError as error:
        _read_one_by_one(text, str(error), region, result)
        return result
    prospects = list(root.iter("prospect"))
    if not prospects:
        raise UnreadableFile(_("no <prospect> in the XML file"))
    for ordinal, prospect in enumerate(prospects, 1):
        result.add(build(_raw_lead(ordinal, prospect, tostring(prospect, "unicode")), region, result.warnings))
    return result


def _repair(text: str, warnings: list[str]) -> str:
    """Mend what lead senders commonly get wrong, noting each kind of repair once."""
    # CDATA is legal, but its text becomes escaped text first so that the & repair below cannot change it.
    text = _CDATA.sub(lambda match: escape(match.group(1)), text)
    declarations = _DECLARATION.findall(text)
    if len(declarations) > 1 or (declarations and not text.lstrip().lower().startswith("<?xml")):
        warnings.append(_("XML declaration out of order, removed"))
    text = _DECLARATION.sub("", text)
    text, count = _BARE_AMPERSAND.subn("&amp;", text)
    if count:
        warnings.append(_("%(count)d bare '&' escaped", count=count))
    return text


def _parse(text: str) -> Element:
    """Parse safely, with tag and attribute names in lower case and without namespaces, as senders vary.

    :raise ParseError: when the text is not well-formed.
    :raise UnreadableFile: when it declares entities.
    """
    try:
        root = safe_xml.fromstring(text)
    except DefusedXmlException:
        raise UnreadableFile(_("the XML declares entities, which are refused as unsafe")) from None
    for element in root.iter():
        element.tag = element.tag.rsplit("}", 1)[-1].lower()
        element.attrib = {name.rsplit("}", 1)[-1].lower(): value for name, value in element.attrib.items()}
    return root


def _read_one_by_one(text: str, error: str, region: str, result: ParsedFile) -> None:
    """Parse each <prospect> block alone, so that one broken prospect does not lose the others.

    A block runs to its </prospect>, or when that is missing, to the next <prospect>.
    """
    starts = [match.start() for match in _PROSPECT_START.finditer(text)]
    if not starts:
        raise UnreadableFile(_("not well-formed XML (%(error)s)", error=error))
    result.warnings.append(_("the XML is not well-formed (%(error)s): each prospect was read on its own",
                             error=error))
    for ordinal, (start, limit) in enumerate(zip(starts, starts[1:] + [len(text)]), 1):
        end = _PROSPECT_END.search(text, start, limit)
        block = text[start:end.end() if end else limit].strip()
        try:
            prospect = _parse(block)
        except ParseError as block_error:
            # The parser counts lines within the block; the report names the line of the file.
            line = text.count("\n", 0, start) + block_error.position[0]
            problem = str(block_error).split(":")[0]
            reason = _("%(label)s: not well-formed XML at line %(line)d (%(problem)s)", label=_label(ordinal),
                       line=line, problem=problem)
            result.add(SkippedRow(ordinal, reason, block))
            continue
        result.add(build(_raw_lead(ordinal, prospect, block), region, result.warnings))


def _text(element: Element | None, path: str | None = None) -> str | None:
    """The text under an element (CDATA and nested tags included), or None when it or the path is missing."""
    if element is not None and path is not None:
        element = element.find(path)
    return clean("".join(element.itertext()), collapse=False) if element is not None else None


def _raw_lead(ordinal: int, prospect: Element, raw: str) -> RawLead:
    """One prospect's fields as found; every part but a phone may be missing."""
    customer = prospect.find("customer")
    customer = customer if customer is not None else Element("customer")
    vehicle = next((v for v in prospect.findall("vehicle") if (v.get("interest") or "").lower() not in NOT_WANTED),
                   None)
    # Stable sort: mobiles first, each group in file order.
    phones = sorted(customer.iter("phone"), key=lambda p: (p.get("type") or "").lower() not in MOBILE_TYPES)
    address = customer.find(".//address")
    comments = [_text(customer, "comments"), _text(vehicle, "comments")]
    identifier = next((i for i in prospect.findall("id") if _text(i)), None)
    provider = _text(prospect, "provider/name")
    return RawLead(
        line=ordinal, label=_label(ordinal), raw=raw, phones=[_text(p) or "" for p in phones],
        name=_name(customer.findall(".//name")), email=_text(next(customer.iter("email"), None)),
        city=_text(address, "city"), province=_text(address, "regioncode"),
        model_of_interest=_text(vehicle, "model") or _text(vehicle, "make"),
        source=source_for(provider) or Source.BRAND_WEBSITE.value, provider=provider,
        requested_at=_text(prospect, "requestdate"),
        consent_channels=(Channel.CALL.value,), resend=(prospect.get("status") or "").lower() == "resend",
        external_id=_external_id(identifier), comments="\n".join(c for c in comments if c) or None,
    )


def _label(ordinal: int) -> str:
    """How reasons and warnings name a prospect: by its place in the file, as ADF has no line numbers."""
    return _("prospect %(number)d", number=ordinal)


def _name(elements: list[Element]) -> str | None:
    """A full name from <name part=…> elements: a full part wins; first and last are joined by script."""
    parts: dict[str, str] = {}
    for element in elements:
        if text := _text(element):
            parts.setdefault((element.get("part") or "full").lower(), text)
    first, last = parts.get("first"), parts.get("last")
    if parts.get("full") or not (first and last):
        return parts.get("full") or first or last
    return last + first if _CJK.search(first + last) else f"{first} {last}"


def _external_id(identifier: Element | None) -> str | None:
    """The sender's id, prefixed by its source system ("autohome:12345") since ids repeat across senders."""
    if identifier is None:
        return None
    source = clean(identifier.get("source"))
    return f"{source}:{_text(identifier)}" if source else _text(identifier)
