"""Mobile numbers: every person is found by one normalised E.164 number."""
import phonenumbers
from flask_babel import lazy_gettext as _l

MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


class InvalidPhone(ValueError):
    """The text is not a mobile number we can call; the message says why, for the person who typed it."""


def normalise_mobile(raw: str, region: str = "CN") -> str:
    """Return the E.164 form of a mobile number typed in any usual way.

    :param raw: what was typed: "138 0013 8000", "+86-138-0013-8000", "008613800138000".
    :param region: the dealer's default phone region, used when no country code is given.
    :raise InvalidPhone: when it is not a valid mobile number of a real region.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone(_l("Enter a mobile number."))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(_l("This is not a phone number.")) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(_l("This number does not exist: check the digits."))
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise InvalidPhone(_l("Enter a mobile number, not a landline."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def looks_like_phone(text: str) -> bool:
    """True when a search text is mostly digits, so it should be matched as a number, not a name."""
    digits = sum(ch.isdigit() for ch in text)
    return digits >= 7 and digits >= len(text.replace(" ", "").replace("-", "")) - 1


def display(e164: str, region: str = "CN") -> str:
    """The number as people in the dealer's region write it (national format at home, else international); nothing
    for an erased customer's stand-in, which is no number (app.services.erasure)."""
    if not e164.startswith("+"):
        return ""
    number = phonenumbers.parse(e164)
    home = phonenumbers.region_code_for_number(number) == region
    fmt = phonenumbers.PhoneNumberFormat.NATIONAL if home else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, fmt)
