"""Query strings of the lead lists."""
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from app.models import Stage
from app.schemas import FormSchema, text


class LeadListQuerySchema(FormSchema):
    stage = fields.Enum(Stage, by_value=True, error_messages={"unknown": _l("Unknown stage.")})
    q = text(100, load_default="")
    pool = fields.Boolean(load_default=False, error_messages={"invalid": _l("Not a yes or no.")})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000),
                          error_messages={"invalid": _l("Not a page number.")})
