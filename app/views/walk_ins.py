"""The showroom traffic log: registering walk-ins and closing their visits."""
from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from app.models import Role
from app.schemas import first_errors
from app.schemas.walk_ins import WALK_IN_LEVELS, WALK_IN_SOURCES, LookupSchema, VisitSchema, WalkInSchema
from app.services import walk_ins
from app.views.access import roles_required
from app.views.idempotency import idempotent
from app.views.rendering import render, wants_fragment

bp = Blueprint("walk_ins", __name__)
dealer_staff = roles_required(Role.CONSULTANT, Role.MANAGER)
FORM_ERRORS = (ValidationError, walk_ins.WalkInError)


@bp.route("/walk-ins/new", methods=["GET", "POST"])
@dealer_staff
@idempotent
def new():
    """Register a walk-in, mobile number first; a customer the dealer already has gets a visit on their lead."""
    if request.method == "GET":
        return _form_page({})
    try:
        data = WalkInSchema(phone_region=current_user.dealer.phone_region).load(request.form)
        registration = walk_ins.register_walk_in(current_user, data)
    except FORM_ERRORS as error:
        return _form_page(_messages(error))
    return _recorded(registration)


@bp.get("/walk-ins/lookup")
@dealer_staff
def lookup():
    """As the number is typed: does this dealer already have this person? (A fragment of the walk-in form.)"""
    try:
        phone = LookupSchema().load(request.args)["phone"]
    except ValidationError:
        phone = ""  # whatever was pasted, typing never ends in an error page; the form's own check will tell
    return render("walk_ins/_lookup.html", lookup=walk_ins.look_up(current_user, phone))


@bp.post("/leads/<int:lead_id>/visits")
@dealer_staff
def record_visit(lead_id: int):
    """Record a visit on an open lead of this dealer, whichever colleague works it."""
    lead = walk_ins.get_dealer_lead(current_user, lead_id)
    try:
        registration = walk_ins.record_visit(current_user, lead, VisitSchema().load(request.form))
    except FORM_ERRORS as error:
        return _form_page(_messages(error))
    return _recorded(registration)


@bp.get("/visits")
@dealer_staff
def visits():
    """Today's showroom traffic of the dealer, with everyone still in the showroom (from any day) on top."""
    return render("walk_ins/visits.html", log=walk_ins.traffic_log(current_user))


@bp.post("/visits/<int:visit_id>/leave")
@dealer_staff
def leave(visit_id: int):
    """Record that a party has left: htmx swaps the row in place, a plain form goes back to the log."""
    visit = walk_ins.get_visit(current_user, visit_id)
    walk_ins.record_leave(visit)
    if not wants_fragment():
        return redirect(url_for("walk_ins.visits"), 303)
    return render("walk_ins/_visit.html", visit=visit, openable=walk_ins.openable_leads(current_user, [visit]))


def _messages(error: Exception) -> dict[str, str]:
    if isinstance(error, ValidationError):
        return first_errors(error.messages)
    return {error.field: str(error)}


def _form_page(errors: dict):
    """The walk-in form with what was typed (both of this module's forms post it) and the messages beside it: the
    page, or only the form for an htmx request (an offline walk-in sent later shows what needs fixing)."""
    form = request.form
    return render("walk_ins/new.html", "walk_ins/_form.html", status=422 if errors else 200, errors=errors, form=form,
                  lookup=walk_ins.look_up(current_user, form.get("phone", "")),
                  consultants=walk_ins.consultant_choices(current_user), levels=WALK_IN_LEVELS,
                  sources=WALK_IN_SOURCES)


def _recorded(registration: walk_ins.Registration):
    """Open the lead where the user may; else back to the traffic log, saying whose visit it was."""
    names = {"name": registration.lead.customer.name, "consultant": registration.visit.consultant.name}
    if registration.recorded:
        flash(_("Visit recorded for %(name)s (%(consultant)s).", **names), "success")
    else:
        flash(_("This visit was already recorded for %(name)s (%(consultant)s).", **names), "info")
    if walk_ins.openable_leads(current_user, [registration.visit]):
        return redirect(url_for("leads.show", lead_id=registration.lead.id), 303)
    return redirect(url_for("walk_ins.visits"), 303)
