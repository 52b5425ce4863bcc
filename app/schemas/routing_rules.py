"""The routing rules editor's forms: a new rule, another dealer for a rule, and a place to explain."""
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, post_load, validates_schema

from app.models import RuleScope
from app.schemas import FormSchema, text
from app.schemas.lead_forms import choice

_CHOOSE_A_DEALER = _l("Choose a dealer.")


class RuleDealerSchema(FormSchema):
    dealer_id = fields.Integer(required=True, error_messages={
        "invalid": _CHOOSE_A_DEALER, "required": _CHOOSE_A_DEALER, "null": _CHOOSE_A_DEALER})


class NewRuleSchema(RuleDealerSchema):
    """A city or province is typed (match_value); a region fallback's region is chosen from a select (region).

    Loaded, match_value holds the one that counts for the scope.
    """

    scope = choice(RuleScope, _l("Choose what the rule matches."), required=True)
    match_value = text(60)
    region = fields.String()  # a region code; whether it is one of the brand's, the service decides

    @validates_schema(skip_on_field_errors=False)
    def _value_given(self, data, **_kwargs):
        scope = data.get("scope")
        if scope is RuleScope.REGION_FALLBACK and not data.get("region"):
            raise ValidationError(_l("Choose a region."), "match_value")
        if scope is RuleScope.CITY and not data.get("match_value"):
            raise ValidationError(_l("Enter a city."), "match_value")
        if scope is RuleScope.PROVINCE and not data.get("match_value"):
            raise ValidationError(_l("Enter a province."), "match_value")

    @post_load
    def _value_of_the_scope(self, data, **_kwargs):
        region = data.pop("region", None)
        if data["scope"] is RuleScope.REGION_FALLBACK:
            data["match_value"] = region
        return data


class PlaceSchema(FormSchema):
    """Where a lead comes from, for "where would it go?"."""

    city = text(60)
    province = text(60)
