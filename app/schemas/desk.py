"""The lead desk's form: a lead from a call."""
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from app.models import IntentLevel
from app.schemas import REQUIRED, FormSchema, text
from app.schemas.lead_forms import choice
from app.services.lead_desk import DESK_SOURCES


class DeskLeadSchema(FormSchema):
    phone = text(32, required=True)
    name = text(80, required=True)
    city = text(60)
    model_of_interest = text(80)
    intent_level = choice(IntentLevel, _l("Choose an intent level."), required=True)
    source = fields.String(required=True, validate=validate.OneOf(DESK_SOURCES, error=_l("Choose a source.")),
                           error_messages=REQUIRED)
    consent = fields.List(fields.String(validate=validate.OneOf(("call", "sms", "wechat"))), load_default=list)


class RouteSchema(FormSchema):
    dealer_id = fields.Integer(required=True, error_messages={"invalid": _l("Choose a dealer."), **REQUIRED})
