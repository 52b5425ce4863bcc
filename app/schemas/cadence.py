"""The form of a cadence policy level (the brand's, a region's, a dealer's with its own extras).

Loaded, it gives `settings`: every setting → the level's own value, or None to inherit (an empty field, or the
setting named in `inherit`, the "use inherited" boxes), and `reschedule` (move open follow-ups too).
"""
from flask_babel import lazy_gettext as _l
from marshmallow import fields, post_load, validate

from app.models import SETTINGS, AssignmentMode, Digest, StopCondition
from app.schemas import FormSchema, text
from app.schemas.lead_forms import choice
from app.services.cadence_policies import WHOLE_NUMBERS, number_message

TIME = {"invalid": _l("Enter a time like 09:00.")}
DAYS = _l("Choose days of the week from the list.")


def _number(name: str) -> fields.Integer:
    """A whole number; its range is the service's to check, the message already names it."""
    return fields.Integer(load_default=None, error_messages={"invalid": number_message(*WHOLE_NUMBERS[name])})


class PolicySchema(FormSchema):
    """One level's settings; see the module."""

    h_days, a_days, b_days, c_days, o_days = (_number(f"{level}_days") for level in "habco")
    working_days = fields.List(fields.String(), load_default=list,
                               validate=validate.ContainsOnly([str(day) for day in range(1, 8)], error=DAYS))
    day_starts, day_ends, quiet_starts, quiet_ends, digest_at = (
        fields.Time(load_default=None, error_messages=TIME) for _field in range(5))
    digest_off = fields.Boolean(load_default=False)
    first_contact_minutes = _number("first_contact_minutes")
    return_after_hours = _number("return_after_hours")
    recycle_days = _number("recycle_days")
    stop_on = fields.List(fields.String(), load_default=list, validate=validate.ContainsOnly(
        [condition.value for condition in StopCondition], error=_l("Choose one of the options.")))
    inherit = fields.List(fields.String(), load_default=list)
    reschedule = fields.Boolean(load_default=False)

    @post_load
    def _settings(self, data, **_kwargs):
        inherit = set(data.pop("inherit"))
        data["working_days"] = frozenset(int(day) for day in data["working_days"])
        data["stop_on"] = frozenset(StopCondition(code) for code in data["stop_on"])
        if data.pop("digest_off"):
            data["digest_at"] = Digest.OFF
        settings = {name: data.pop(name) for name in SETTINGS}
        return {**data, "settings": {name: None if name in inherit else value for name, value in settings.items()}}


class DealerPolicySchema(PolicySchema):
    """A dealer's level also chooses how leads reach its consultants and its time zone."""

    assignment_mode = choice(AssignmentMode, _l("Choose how leads reach consultants."), required=True)
    time_zone = text(64, required=True)
