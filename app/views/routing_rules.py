"""The brand's routing rules, edited by the OEM admin."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from app.models import Role
from app.schemas import first_errors
from app.schemas.routing_rules import NewRuleSchema, PlaceSchema, RuleDealerSchema
from app.services import routing_rules
from app.views.access import roles_required
from app.views.rendering import render, wants_fragment

bp = Blueprint("routing_rules", __name__, url_prefix="/routing-rules")
oem_admin_only = roles_required(Role.OEM_ADMIN)
EDITOR = "routing_rules/_editor.html"


@bp.get("")
@oem_admin_only
def index():
    """The rules by city, by province and region fallbacks, the form to add one, and "where would a lead go?"."""
    return _page()


@bp.post("")
@oem_admin_only
def add():
    """Add a rule."""
    try:
        data = NewRuleSchema().load(request.form)
        rule = routing_rules.add(current_user, data["scope"], data["match_value"], data["dealer_id"])
    except ValidationError as error:
        return _page(422, errors=first_errors(error.messages), form=request.form)
    except routing_rules.RuleError as error:
        return _page(422, errors={error.field: str(error)}, form=request.form)
    return _saved(_now_going(rule), form={"scope": rule.scope.value})


@bp.post("/<int:rule_id>")
@oem_admin_only
def change(rule_id: int):
    """Send a rule's leads to another dealer."""
    rule = _rule(rule_id)
    try:
        routing_rules.change_dealer(current_user, rule, RuleDealerSchema().load(request.form)["dealer_id"])
    except ValidationError as error:
        return _page(422, rule_errors={rule.id: first_errors(error.messages)["dealer_id"]})
    except routing_rules.RuleError as error:
        return _page(422, rule_errors={rule.id: str(error)})
    return _saved(_now_going(rule))


@bp.post("/<int:rule_id>/delete")
@oem_admin_only
def delete(rule_id: int):
    """Delete a rule; its leads go by the next rule that matches."""
    rule = _rule(rule_id)
    message = _("The rule for %(match)s is deleted: its leads go by the next rule that matches.",
                match=routing_rules.what_it_matches(rule))
    routing_rules.delete(current_user, rule)
    return _saved(message)


@bp.get("/explain")
@oem_admin_only
def explain():
    """Where a lead from this city and province would go, and which rule decides it."""
    try:
        place = PlaceSchema().load(request.args)
    except ValidationError as error:
        return _page(422, "routing_rules/_answer.html", place=request.args, place_errors=first_errors(error.messages))
    answer = None
    if place:
        answer = routing_rules.explain(current_user.oem_id, place.get("city"), place.get("province"))
    return _page(200, "routing_rules/_answer.html", place=place, answer=answer)


def _rule(rule_id: int):
    """The admin's brand's rule; another brand's (or none) is a 404.

    :raise NotFound: when the admin may not edit a rule with this id.
    """
    rule = routing_rules.get_rule(current_user, rule_id)
    if rule is None:
        abort(404)
    return rule


def _now_going(rule) -> str:
    """The message after a rule is added or its dealer changed."""
    return _("Leads from %(match)s now go to %(dealer)s.",
             match=routing_rules.what_it_matches(rule), dealer=rule.dealer.name)


def _page(status: int = 200, fragment: str = EDITOR, **context):
    """The rules page, or for htmx the fragment named; the editor's lists and choices are always there.

    :param context: errors and form of the add form, rule_errors (by rule id), message, place, answer.
    """
    context = {"errors": {}, "form": {}, "rule_errors": {}, "message": None, "place": {}, "place_errors": {},
               "answer": None, **context}
    return render("routing_rules/index.html", fragment, status=status, rules=routing_rules.rules(current_user),
                  choices=routing_rules.choices(current_user), **context)


def _saved(message: str, **context):
    """A plain form goes back to the rules with the message (303); htmx gets the editor again, in place."""
    if wants_fragment():
        return _page(message=message, **context)
    flash(message, "success")
    return redirect(url_for("routing_rules.index"), 303)
