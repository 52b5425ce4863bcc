"""A manager's hand on who works which lead: assigning from the list or the lead page, handing over a
consultant's leads, shifts and weights (rules: app.services.assignments). The dealer's lead handling is set on
its settings page (app.views.cadence).
"""
import json

from babel.lists import format_list
from flask import Blueprint, flash, g, make_response, redirect, request, url_for
from flask_babel import get_locale, gettext as _, ngettext
from flask_login import current_user
from marshmallow import ValidationError

from app.models import Role
from app.schemas import first_errors
from app.schemas.assignments import (
    AssignSchema, AssignSelectedSchema, HandOverSchema, ShiftSchema, WeightSchema,
)
from app.services import assignments, visibility
from app.views.access import roles_required
from app.views.rendering import changed, render, safe_next, wants_fragment

bp = Blueprint("assignments", __name__)
manager_only = roles_required(Role.MANAGER)


@bp.app_template_global()
def assignable_consultants():
    """The signed-in manager's consultants who may receive leads, read once a request; nobody for other roles."""
    if "assignable_consultants" not in g:
        is_manager = current_user.is_authenticated and current_user.role is Role.MANAGER
        g.assignable_consultants = assignments.assignable_consultants(current_user) if is_manager else []
    return g.assignable_consultants


@bp.app_template_global()
def pool_size() -> int:
    """How many leads wait in the signed-in manager's dealer's pool."""
    return assignments.pool_size(current_user)


@bp.post("/leads/assign")
@manager_only
def assign_selected():
    """Give the leads ticked in the list to one consultant; with htmx the list refreshes in place."""
    try:
        data = AssignSelectedSchema().load(request.form)
        consultant = visibility.get_consultant(current_user, data["consultant_id"])
        moved = assignments.assign_many(current_user, data["lead_ids"], consultant)
    except ValidationError as error:
        return _list_answer(" ".join(first_errors(error.messages).values()), refused=True)
    except assignments.AssignmentError as error:
        return _list_answer(str(error), refused=True)
    return _list_answer(_assigned(moved, consultant))


@bp.post("/leads/<int:lead_id>/assign")
@manager_only
def assign(lead_id: int):
    """Assign the lead from its page, or give it to another consultant."""
    lead = visibility.get_lead(current_user, lead_id)
    try:
        consultant = visibility.get_consultant(current_user, AssignSchema().load(request.form)["consultant_id"])
        moved = assignments.assign_many(current_user, [lead.id], consultant)
    except ValidationError as error:
        return changed(lead, " ".join(first_errors(error.messages).values()), refused=True)
    except assignments.AssignmentError as error:
        return changed(lead, str(error), refused=True)
    return changed(lead, _assigned(moved, consultant))


@bp.route("/team/<int:user_id>/hand-over", methods=["GET", "POST"])
@manager_only
def hand_over(user_id: int):
    """Hand all of a consultant's open leads to one colleague or evenly to the others: choose, confirm, done."""
    leaver = visibility.get_consultant(current_user, user_id)
    errors, plan = {}, None
    if request.method == "POST":
        try:
            data = HandOverSchema().load(request.form)
            to = visibility.get_consultant(current_user, data["to_id"]) if data["to_id"] else None
            if data["confirmed"]:
                received = assignments.hand_over(current_user, leaver, to)
                flash(_handed_over(received), "success")
                return redirect(url_for("team.index"), 303)
            plan = assignments.plan_hand_over(current_user, leaver, to)
        except ValidationError as error:
            errors = first_errors(error.messages)
        except assignments.AssignmentError as error:
            errors = {error.field: str(error)}
    return render("assignments/hand_over.html", status=422 if errors else 200, leaver=leaver, errors=errors,
                  plan=plan, form=request.form, open_leads=assignments.open_lead_counts(current_user).get(leaver.id, 0))


# The consultant's place in the round robin: which form field, read by which schema, changed by which service.
ROTATION = {"shift": (ShiftSchema, "on_shift", assignments.set_on_shift),
            "weight": (WeightSchema, "routing_weight", assignments.set_weight)}


@bp.post("/team/<int:user_id>/<any(shift, weight):setting>")
@manager_only
def rotation(user_id: int, setting: str):
    """Put a consultant on or off shift, or change their share of the round robin; the row updates in place."""
    consultant = visibility.get_consultant(current_user, user_id)
    schema, field, change = ROTATION[setting]
    try:
        change(current_user, consultant, schema().load(request.form)[field])
    except ValidationError as error:
        return _rotation_answer(consultant, " ".join(first_errors(error.messages).values()))
    except assignments.AssignmentError as error:
        return _rotation_answer(consultant, str(error))
    return _rotation_answer(consultant)


def _assigned(moved: int, consultant) -> str:
    if not moved:
        return _("Already with %(name)s.", name=consultant.name)
    return ngettext("%(num)d lead assigned to %(name)s.", "%(num)d leads assigned to %(name)s.", moved,
                    name=consultant.name)


def _handed_over(received) -> str:
    """"23 leads: 8 to 王芳, 8 to 李强 and 7 to 张伟" (the list in the reader's language: 、 and 和 in Chinese)."""
    shares = format_list([_("%(count)d to %(name)s", count=count, name=receiver.name) for receiver, count in received],
                         locale=get_locale())
    return ngettext("%(num)d lead: %(shares)s.", "%(num)d leads: %(shares)s.", sum(c for _r, c in received),
                    shares=shares)


def _list_answer(message: str, *, refused: bool = False):
    """Answer the list's assign bar: htmx hears "leads-assigned" (the list reloads with its filters) and the
    message as a toast, or "lead-refused"; a plain form post goes back to the list it came from."""
    if wants_fragment():
        events = {"lead-refused": {"message": message}} if refused else {
            "lead-changed": {"message": message}, "leads-assigned": {}}
        response = make_response("", 422 if refused else 200)
        response.headers["HX-Trigger"] = json.dumps(events)
        return response
    flash(message, "error" if refused else "success")
    return redirect(safe_next(request.form.get("next")) or url_for("leads.index"), 303)


def _rotation_answer(consultant, error: str | None = None):
    """The consultant's shift and weight controls again (htmx), or back to the team page."""
    if wants_fragment():
        return render("assignments/_rotation.html", status=422 if error else 200, consultant=consultant,
                      error=error, weights=assignments.WEIGHTS)
    if error:
        flash(error, "error")
    return redirect(url_for("team.index"), 303)
