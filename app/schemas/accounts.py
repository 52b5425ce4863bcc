"""Forms of the account pages: signing in, changing password, language, managing consultants."""
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from app.i18n import LOCALES
from app.schemas import REQUIRED, FormSchema, text


class SignInSchema(FormSchema):
    identifier = text(254, required=True)
    password = fields.String(required=True, error_messages=REQUIRED)
    remember = fields.Boolean(load_default=False)
    next = text(500)


class PasswordChangeSchema(FormSchema):
    current_password = fields.String(required=True, error_messages=REQUIRED)
    new_password = fields.String(required=True, error_messages=REQUIRED)
    confirm_password = fields.String(required=True, error_messages=REQUIRED)

    @validates_schema
    def _passwords_match(self, data, **_kwargs):
        if data.get("new_password") != data.get("confirm_password"):
            raise ValidationError(_l("The two new passwords differ."), "confirm_password")


class LocaleSchema(FormSchema):
    locale = fields.String(
        required=True, validate=validate.OneOf(list(LOCALES), error=_l("Choose a language from the list.")),
        error_messages=REQUIRED,
    )


class NewConsultantSchema(FormSchema):
    name = text(80, required=True)
    email = fields.String(validate=[validate.Length(max=254, error=_l("Use at most {max} characters.")),
                                    validate.Email(error=_l("Enter a valid email address."))])
    phone = text(32)

    @validates_schema
    def _reachable(self, data, **_kwargs):
        if not data.get("email") and not data.get("phone"):
            raise ValidationError(_l("Give an email address or a mobile number to sign in with."), "email")
