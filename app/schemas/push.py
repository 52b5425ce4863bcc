"""Web Push: a browser's subscription as `PushSubscription.toJSON()` sends it, and what a user wants pushed."""
import binascii
from base64 import urlsafe_b64decode
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates

from app.schemas import FormSchema

KINDS = ("new_lead", "follow_up_due", "appointment", "approval", "digest")


def _key(length: int, name: str):
    """A base64url key of exactly `length` bytes (P-256 point: 65, auth secret: 16)."""
    def check(value: str) -> None:
        try:
            raw = urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != length:
            raise ValidationError(_l("The browser sent an unusable %(name)s key.", name=name))
    return check


class SubscriptionKeysSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    p256dh = fields.String(required=True, validate=[validate.Length(max=200), _key(65, "p256dh")])
    auth = fields.String(required=True, validate=[validate.Length(max=100), _key(16, "auth")])


class SubscriptionSchema(Schema):
    """The JSON a browser's PushSubscription gives (endpoint, keys; expirationTime is ignored)."""

    class Meta:
        unknown = EXCLUDE

    endpoint = fields.String(required=True, validate=validate.Length(max=1000))
    keys = fields.Nested(SubscriptionKeysSchema, required=True)

    @validates("endpoint")
    def _https(self, value: str, **_kwargs) -> None:
        """Push services are reached over https (which of them may be used is the service's rule)."""
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ValidationError(_l("The browser sent an unusable push address."))


class PreferencesSchema(FormSchema):
    """Checkboxes: a kind that is not sent is off."""

    new_lead = fields.Boolean(load_default=False)
    follow_up_due = fields.Boolean(load_default=False)
    appointment = fields.Boolean(load_default=False)
    approval = fields.Boolean(load_default=False)
    digest = fields.Boolean(load_default=False)
