"""Forms of a consultant's work on a lead: contact outcome (or a whole contact logged in one go), next follow-up,
appointment, stage, intent, close request, a note, and the customer and lead details."""
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from app.models import ActivityKind, AppointmentKind, ApprovalKind, Channel, ConsentState, IntentLevel, Outcome, Stage
from app.schemas import REQUIRED, FormSchema, text

DATE = {"invalid": _l("Enter a date."), **REQUIRED}
TIME = {"invalid": _l("Enter a time."), **REQUIRED}


def choice(enum, message=_l("Choose one of the options."), **kwargs) -> fields.Enum:
    return fields.Enum(enum, by_value=True, error_messages={"unknown": message, "required": message, "null": message},
                       **kwargs)


class NextFollowUpSchema(FormSchema):
    """A quick pick (an ISO time the page offered) or "custom" with a date and time in the dealer's zone."""

    next_at = text(40, required=True)
    custom_date = fields.Date(error_messages=DATE)
    custom_time = fields.Time(error_messages=TIME)

    @validates_schema
    def _custom_needs_a_date(self, data, **_kwargs):
        if data.get("next_at") == "custom" and not data.get("custom_date"):
            raise ValidationError(_l("Choose the day of the next follow-up."), "custom_date")


class OutcomeSchema(NextFollowUpSchema):
    outcome = choice(Outcome, _l("Choose how the call went."))
    note = text(2000)
    # A visit or test drive agreed on the call (optional): booked with the outcome.
    book_kind = choice(AppointmentKind)
    book_date = fields.Date(error_messages=DATE)
    book_time = fields.Time(error_messages=TIME)
    book_model = text(80)

    @validates_schema
    def _booking_needs_a_time(self, data, **_kwargs):
        if data.get("book_kind") and not (data.get("book_date") and data.get("book_time")):
            raise ValidationError(_l("Choose the day and time of the appointment."), "book_date")


class ContactLogSchema(OutcomeSchema):
    """A call or message and its outcome in one form (a contact logged on a phone without signal): the channel,
    and when it was made, as the phone's clock said (ISO 8601 with its offset, as JavaScript's toISOString)."""

    kind = choice(ActivityKind, _l("Choose call, SMS or WeChat."), required=True, validate=validate.OneOf(
        [ActivityKind.CALL, ActivityKind.SMS, ActivityKind.WECHAT], error=_l("Choose call, SMS or WeChat.")))
    made_at = fields.AwareDateTime(format="iso", required=True, error_messages={
        **REQUIRED, "invalid": _l("The time of this contact is missing or unreadable."),
        "invalid_awareness": _l("The time of this contact is missing or unreadable.")})


class NoteSchema(FormSchema):
    """A note on the lead's history, without a contact."""

    note = fields.String(required=True, validate=validate.Length(
        min=1, max=2000, error=_l("Write a note of at most {max} characters.")), error_messages={
        "required": _l("Write the note first."), "null": _l("Write the note first."), "invalid": _l("Enter text.")})


class AppointmentSchema(FormSchema):
    kind = choice(AppointmentKind, required=True)
    date = fields.Date(required=True, error_messages=DATE)
    time = fields.Time(required=True, error_messages=TIME)
    model_of_interest = text(80)


class StageSchema(FormSchema):
    stage = choice(Stage, required=True)


class IntentSchema(FormSchema):
    intent_level = choice(IntentLevel, required=True)


class CloseRequestSchema(FormSchema):
    kind = choice(ApprovalKind, required=True, validate=validate.OneOf(
        [ApprovalKind.MARK_LOST, ApprovalKind.MARK_INVALID], error=_l("Choose lost or invalid.")))
    reason = text(40, required=True)
    note = text(1000)


class CancelFollowUpSchema(FormSchema):
    reason = text(40, required=True)
    note = text(1000)


class LeadDetailsSchema(FormSchema):
    name = text(80, required=True)
    phone = text(32, required=True)
    wechat_id = text(64)
    email = fields.String(validate=[validate.Length(max=254, error=_l("Use at most {max} characters.")),
                                    validate.Email(error=_l("Enter a valid email address."))])
    city = text(60)
    model_of_interest = text(80)


class DecisionSchema(FormSchema):
    comment = text(1000)


class ConsentSchema(FormSchema):
    """The customer's word on a channel, recorded by hand: both the channel and the word are asked, never assumed."""

    channel = choice(Channel, required=True)
    state = choice(ConsentState, required=True, validate=validate.OneOf(
        [ConsentState.GRANTED, ConsentState.WITHDRAWN], error=_l("Choose one of the options.")))
