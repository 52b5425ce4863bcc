"""The JSON bodies and query strings of /api/v1, and the shapes of its answers; the OpenAPI document is generated
from these (app.views.api.openapi). Bodies refuse unknown fields; query strings ignore them."""
import re

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from app.models import (
    ActivityKind, AppointmentKind, AppointmentStatus, IntentLevel, Origin, Outcome, Role, Source, Stage,
)
from app.schemas import REQUIRED

MAX_ID = 2**31 - 1  # ids are 32-bit in the database; a larger one names nothing
# Control characters (a NUL cannot even be stored by PostgreSQL) and lone surrogates (not text at all).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
CONTACT_KINDS = (ActivityKind.CALL, ActivityKind.SMS, ActivityKind.WECHAT)
BOOKABLE = (AppointmentKind.VISIT, AppointmentKind.TEST_DRIVE)
CONSENT_CHANNELS = ("call", "sms", "wechat")


def _printable(value: str) -> None:
    if _UNPRINTABLE.search(value):
        raise ValidationError(_l("Remove control characters."))


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError(_l("This field is required."))


def text(max_length: int, *, required: bool = False, **kwargs) -> fields.String:
    """Text with a length limit, printable; a required one may not be blank."""
    checks = [validate.Length(max=max_length, error=_l("Use at most {max} characters.")), _printable]
    if required:
        checks.append(_not_blank)
    return fields.String(required=required, validate=checks,
                         error_messages={**REQUIRED, "invalid": _l("Enter text.")}, **kwargs)


def choice(enum, allowed=None, **kwargs) -> fields.Enum:
    """One of an enum's values; `allowed` narrows them (the document lists only those)."""
    message = _l("Choose one of the options.")
    checks = validate.OneOf(allowed, error=message) if allowed else None
    return fields.Enum(enum, by_value=True, validate=checks,
                       error_messages={"unknown": message, "required": message, "null": message}, **kwargs)


def identifier(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), error_messages={
        "invalid": _l("Enter a number."), **REQUIRED}, **kwargs)


class Moment(fields.AwareDateTime):
    """An ISO 8601 time with its offset, between the years 2000 and 2100 (nothing this app stores is outside)."""

    def __init__(self, **kwargs):
        message = _l("Enter a time in ISO 8601 with its offset, such as 2026-05-01T10:30:00+08:00.")
        super().__init__(format="iso", error_messages={
            **REQUIRED, "invalid": message, "invalid_awareness": message, "range": message}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not 2000 <= moment.year <= 2100:
            raise self.make_error("range")
        return moment


class Body(Schema):
    """A JSON request body: unknown fields are refused, so a typo is never silently dropped."""


class Query(Schema):
    class Meta:
        unknown = EXCLUDE


# Requests

class LeadQuery(Query):
    stage = choice(Stage, metadata={"description": "Only leads at this stage (default: open leads)."})
    intent = choice(IntentLevel, metadata={"description": "Only leads of this intent level."})
    q = text(100, load_default="", metadata={
        "description": "A name's start, a mobile number in any format (or part of one), or part of a model."})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000),
                          error_messages={"invalid": _l("Not a page number.")})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100),
                           error_messages={"invalid": _l("Enter a number from 1 to 100.")})


class PhoneQuery(Query):
    phone = text(32, required=True, metadata={"description": "A mobile number in any usual format."})


class NewLeadBody(Body):
    phone = text(32, required=True, metadata={"description": "A mobile number in any usual format."})
    name = text(80, required=True)
    source = choice(Source, required=True)
    intent_level = choice(IntentLevel, load_default=IntentLevel.A)
    model_of_interest = text(80)
    city = text(60)
    consent = fields.List(fields.String(validate=validate.OneOf(CONSENT_CHANNELS)), load_default=list,
                          metadata={"description": "Channels the customer agreed to be contacted on."})
    consultant_id = identifier(metadata={"description": "A manager's pick; without it the dealer's rotation."})


class AppointmentBody(Body):
    kind = choice(AppointmentKind, BOOKABLE, required=True)
    starts_at = Moment(required=True)
    model_of_interest = text(80)


class ContactBody(Body):
    kind = choice(ActivityKind, CONTACT_KINDS, required=True)
    made_at = Moment(metadata={"description": "When the contact was made (default: now); within 14 days."})
    outcome = choice(Outcome, metadata={"description": "How a call went; required for calls."})
    note = text(2000)
    next_follow_up_at = Moment(metadata={"description": "Default: the dealer's cadence for the intent level."})
    booking = fields.Nested(AppointmentBody, metadata={"description": "A visit or test drive agreed on the call."})


class NoteBody(Body):
    note = text(2000, required=True)


class FollowUpBody(Body):
    due_at = Moment(required=True)


# Answers

class DealerOut(Schema):
    id = fields.Integer()
    name = fields.String()
    time_zone = fields.String()


class MeOut(Schema):
    id = fields.Integer()
    name = fields.String()
    role = fields.Enum(Role, by_value=True)
    email = fields.String(allow_none=True)
    phone = fields.String(attribute="phone_e164", allow_none=True)
    oem_id = fields.Integer()
    dealer = fields.Nested(DealerOut, allow_none=True)


class CustomerOut(Schema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String(attribute="phone_e164")
    city = fields.String(allow_none=True)
    wechat_id = fields.String(allow_none=True)


class LeadOut(Schema):
    id = fields.Integer()
    customer = fields.Nested(CustomerOut)
    stage = fields.Enum(Stage, by_value=True)
    intent_level = fields.Enum(IntentLevel, by_value=True)
    source = fields.Enum(Source, by_value=True)
    origin = fields.Enum(Origin, by_value=True)
    model_of_interest = fields.String(allow_none=True)
    dealer_id = fields.Integer(allow_none=True)
    consultant_id = fields.Integer(allow_none=True)
    arrived_at = fields.AwareDateTime()
    first_contact_at = fields.AwareDateTime(allow_none=True)
    last_contact_at = fields.AwareDateTime(allow_none=True)
    next_follow_up_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)


class LeadPageOut(Schema):
    items = fields.List(fields.Nested(LeadOut))
    page = fields.Integer()
    limit = fields.Integer()
    next_page = fields.Integer(allow_none=True, metadata={"description": "The next page's number, if any."})


class SectionOut(Schema):
    count = fields.Integer(metadata={"description": "How many in all; items holds the first few."})
    items = fields.List(fields.Nested(LeadOut), attribute="rows")


class FollowUpsOut(Schema):
    overdue = fields.Nested(SectionOut)
    due_today = fields.Nested(SectionOut, metadata={"description": "Due later today, in the dealer's time zone."})


class FoundCustomerOut(Schema):
    customer = fields.Nested(CustomerOut)
    leads = fields.List(fields.Nested(LeadOut), metadata={"description": "Their leads you may see, newest first."})


class CustomersOut(Schema):
    items = fields.List(fields.Nested(FoundCustomerOut))


class AppointmentOut(Schema):
    id = fields.Integer()
    lead_id = fields.Integer()
    kind = fields.Enum(AppointmentKind, by_value=True)
    starts_at = fields.AwareDateTime()
    model_of_interest = fields.String(allow_none=True)
    status = fields.Enum(AppointmentStatus, by_value=True)


class ActivityOut(Schema):
    id = fields.Integer()
    lead_id = fields.Integer()
    kind = fields.Enum(ActivityKind, by_value=True)
    outcome = fields.Enum(Outcome, by_value=True, allow_none=True)
    note = fields.String(allow_none=True)
    occurred_at = fields.AwareDateTime()


class ContactOut(Schema):
    activity = fields.Nested(ActivityOut)
    lead = fields.Nested(LeadOut)


class NotificationOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    body = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    lead_id = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)


class NotificationsOut(Schema):
    unread = fields.Integer()
    items = fields.List(fields.Nested(NotificationOut))


class ProblemOut(Schema):
    """RFC 9457 problem details."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "422: what is wrong with each field, by field name."})
    lead_id = fields.Integer(metadata={"description": "409 on a new lead: the person's open lead, if yours to see."})
