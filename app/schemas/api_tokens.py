"""The form that issues an API token."""
from flask_babel import lazy_gettext as _l
from marshmallow import fields

from app.schemas import REQUIRED, FormSchema, text


class NewApiTokenSchema(FormSchema):
    user_id = fields.Integer(required=True, error_messages={"invalid": _l("Choose whose token it is."), **REQUIRED})
    name = text(80, required=True)
