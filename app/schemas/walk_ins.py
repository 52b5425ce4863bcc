"""Forms of the showroom traffic log: a walk-in's registration, and a visit of a customer the dealer knows."""
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate

from app.models import IntentLevel, Source
from app.schemas import FormSchema, text
from app.services.phones import InvalidPhone, normalise_mobile

# O (ordered) is never where a walk-in starts; the sources are those a showroom sees in person.
WALK_IN_LEVELS = (IntentLevel.H, IntentLevel.A, IntentLevel.B, IntentLevel.C)
WALK_IN_SOURCES = (Source.WALK_IN, Source.AUTO_SHOW, Source.REFERRAL, Source.REPEAT_CUSTOMER, Source.PHONE_IN,
                   Source.WECHAT)
MAX_PARTY = 20
PARTY_SIZE = _l("Enter the number of people, from %(min)d to %(max)d.", min=1, max=MAX_PARTY)


class Mobile(fields.String):
    """A mobile number typed in any usual way, loaded in its E.164 form (in the schema's phone region)."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return normalise_mobile(super()._deserialize(value, attr, data, **kwargs), self.parent.phone_region)
        except InvalidPhone as error:
            raise ValidationError(error.args[0]) from None


def _choice(enum, allowed, message, **kwargs) -> fields.Enum:
    messages = {"unknown": message, "required": message, "null": message}
    return fields.Enum(enum, by_value=True, error_messages=messages, validate=validate.OneOf(allowed, error=message),
                       **kwargs)


class VisitSchema(FormSchema):
    party_size = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PARTY, error=PARTY_SIZE),
                                error_messages={"invalid": PARTY_SIZE})
    test_drive = fields.Boolean(load_default=False)
    wechat_added = fields.Boolean(load_default=False)


class WalkInSchema(VisitSchema):
    phone = Mobile(required=True, error_messages={"required": _l("Enter a mobile number.")})
    name = text(80, required=True)
    model_of_interest = text(80, required=True)
    intent_level = _choice(IntentLevel, WALK_IN_LEVELS, _l("Choose an intent level."), required=True)
    source = _choice(Source, WALK_IN_SOURCES, _l("Choose a source from the list."), load_default=Source.WALK_IN)
    consultant_id = fields.Integer(error_messages={"invalid": _l("Choose the consultant who receives them.")})
    consent_call = fields.Boolean(load_default=False)
    consent_sms = fields.Boolean(load_default=False)
    consent_wechat = fields.Boolean(load_default=False)

    def __init__(self, *, phone_region: str, **kwargs):
        """:param phone_region: the dealer's default region, for numbers typed without a country code."""
        super().__init__(**kwargs)
        self.phone_region = phone_region


class LookupSchema(FormSchema):
    phone = text(32, load_default="")
