"""The form of a customer's erasure: why, and that the manager knows it cannot be undone."""
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from app.schemas import FormSchema

REASON_MISSING = _l("Say why they are erased, for example “their request by phone on 3 May”.")
NOT_CONFIRMED = _l("Tick the box to confirm that the erasure cannot be undone.")


class ErasureSchema(FormSchema):
    reason = fields.String(required=True, validate=validate.Length(
        min=1, max=200, error=_l("Write the reason in at most {max} characters.")),
        error_messages={"required": REASON_MISSING, "null": REASON_MISSING, "invalid": _l("Enter text.")})
    confirm = fields.Boolean(required=True, truthy={"yes"}, falsy=set(), error_messages={
        "required": NOT_CONFIRMED, "null": NOT_CONFIRMED, "invalid": NOT_CONFIRMED})
