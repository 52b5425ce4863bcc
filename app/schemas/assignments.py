"""Forms of a manager's assignments: who gets which leads, hand-overs, shifts and weights."""
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from app.schemas import REQUIRED, FormSchema
from app.services.assignments import WEIGHTS

CONSULTANT = {"invalid": _l("Choose a consultant."), "required": _l("Choose a consultant."),
              "null": _l("Choose a consultant.")}


def whole_number(low: int, high: int) -> fields.Integer:
    message = _l("Enter a whole number from %(low)d to %(high)d.", low=low, high=high)
    return fields.Integer(required=True, validate=validate.Range(min=low, max=high, error=message),
                          error_messages={**REQUIRED, "invalid": message})


class AssignSchema(FormSchema):
    """The consultant to give a lead to (the lead page)."""

    consultant_id = fields.Integer(required=True, error_messages=CONSULTANT)


class AssignSelectedSchema(AssignSchema):
    """The consultant to give the leads ticked in the list to."""

    lead_ids = fields.List(fields.Integer(error_messages={"invalid": _l("Choose leads from the list.")}),
                           required=True, validate=validate.Length(min=1, error=_l("Choose at least one lead.")),
                           error_messages={"required": _l("Choose at least one lead.")})


class HandOverSchema(FormSchema):
    """To one colleague (to_id) or, with none chosen, evenly; `confirmed` once the plan has been seen."""

    to_id = fields.Integer(load_default=None, error_messages=CONSULTANT)
    confirmed = fields.Boolean(load_default=False)


class ShiftSchema(FormSchema):
    on_shift = fields.Boolean(required=True, error_messages=REQUIRED)


class WeightSchema(FormSchema):
    routing_weight = whole_number(WEIGHTS.start, WEIGHTS.stop - 1)
