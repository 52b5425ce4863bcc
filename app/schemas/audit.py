"""Query strings of the audit trail: its filters and page."""
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from app.schemas import FormSchema, text


class AuditQuerySchema(FormSchema):
    action = text(60)
    actor = fields.Integer(validate=validate.Range(min=1), error_messages={"invalid": _l("Not a person.")})
    type = text(40)
    object = text(20)
    first = fields.Date(data_key="from", error_messages={"invalid": _l("Not a date.")})
    last = fields.Date(data_key="to", error_messages={"invalid": _l("Not a date.")})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000),
                          error_messages={"invalid": _l("Not a page number.")})
