"""Marshmallow schemas: every form and JSON body is loaded through one. Shape and format only; rules
that need the database or the current user live in the services."""
from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, fields, pre_load

REQUIRED = {"required": _l("This field is required."), "null": _l("This field is required.")}


class FormSchema(Schema):
    """Loads HTML form data: surrounding spaces trimmed, blank optional fields treated as absent."""

    class Meta:
        unknown = EXCLUDE  # the CSRF token and submit buttons ride along with every form

    @pre_load
    def _strip_blanks(self, data, **_kwargs):
        cleaned = {}
        for key in data:
            if isinstance(self.fields.get(key), fields.List) and hasattr(data, "getlist"):  # checkboxes
                cleaned[key] = [v.strip() for v in data.getlist(key) if v.strip()]
                continue
            value = data.get(key)
            value = value.strip() if isinstance(value, str) else value
            if value not in ("", None):
                cleaned[key] = value
        return cleaned


def text(max_length: int, required: bool = False, **kwargs) -> fields.String:
    """A text field with a length limit and our translated messages."""
    from marshmallow import validate

    return fields.String(
        required=required,
        validate=validate.Length(max=max_length, error=_l("Use at most {max} characters.")),
        error_messages={**REQUIRED, "invalid": _l("Enter text.")},
        **kwargs,
    )


def first_errors(error_messages: dict) -> dict[str, str]:
    """One message per field, as forms show them next to the field."""
    return {field: str(messages[0]) if isinstance(messages, list) else str(messages)
            for field, messages in error_messages.items()}
