"""One-tap contact: tapping Call, SMS or WeChat records the attempt; the outcome sheet logs how it went and
sets the next follow-up."""
from datetime import datetime

from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from app.extensions import db
from app.models import Activity, ActivityKind, Role
from app.schemas import first_errors
from app.schemas.lead_forms import OutcomeSchema
from app.services import cadence, contacts, visibility
from app.services.appointments import AppointmentError
from app.services.follow_ups import FollowUpError, chosen_due
from app.views.access import roles_required
from app.views.idempotency import idempotent
from app.templating import when
from app.views.rendering import changed, render_sheet, wants_fragment

bp = Blueprint("contacts", __name__)
dealer_staff = roles_required(Role.CONSULTANT, Role.MANAGER)


@bp.post("/leads/<int:lead_id>/contacts/<any(call, sms, wechat):kind>")
@dealer_staff
def attempt(lead_id: int, kind: str):
    """Record a call or message being made now, and open the outcome sheet for it."""
    lead = visibility.get_lead_to_work(current_user, lead_id)
    try:
        activity = contacts.record_attempt(current_user, lead, ActivityKind(kind))
    except contacts.ContactError as error:
        return render_sheet("contacts/_sheet.html", _("Log contact"), status=409, lead=lead, activity=None,
                            errors={"form": str(error)}, form={}, picks=[])
    if wants_fragment():
        return _sheet(activity, {}, {})
    return redirect(url_for("contacts.outcome", activity_id=activity.id), 303)


@bp.route("/contacts/<int:activity_id>", methods=["GET", "POST"])
@dealer_staff
@idempotent
def outcome(activity_id: int):
    """Log how the contact went, a note, and when to follow up next."""
    activity = _own_attempt(activity_id)
    if request.method == "GET":
        return _sheet(activity, {}, {})
    lead = activity.lead
    try:
        data = OutcomeSchema().load(request.form)
        policy = cadence.policy_for(lead.dealer)
        booking = None
        if data.get("book_kind"):
            starts_at = datetime.combine(data["book_date"], data["book_time"], tzinfo=policy.zone)
            booking = contacts.Booking(data["book_kind"], starts_at, data.get("book_model"))
        contacts.log_outcome(current_user, activity, lead, outcome=data.get("outcome"), note=data.get("note"),
                             next_due=chosen_due(policy, data), booking=booking)
    except ValidationError as error:
        return _sheet(activity, first_errors(error.messages), request.form, 422)
    except (FollowUpError, contacts.ContactError, AppointmentError) as error:
        return _sheet(activity, {"form": str(error)}, request.form, 422)
    if lead.next_follow_up_at is None:  # the dealer's cadence stops here (won, lost, opted out)
        return changed(lead, _("Saved. No next follow-up: the dealer's cadence stops for this lead."))
    return changed(lead, _("Saved. Next follow-up %(when)s.", when=when(lead.next_follow_up_at)))


def _own_attempt(activity_id: int) -> Activity:
    """An attempt the current user made on a lead they may still work; anyone else's is a 404."""
    activity = db.session.get(Activity, activity_id)
    if activity is None or activity.user_id != current_user.id:
        abort(404)
    visibility.get_lead_to_work(current_user, activity.lead_id)
    return activity


def _sheet(activity: Activity, errors: dict, form, status: int = 200):
    lead = activity.lead
    picks = cadence.quick_picks(cadence.policy_for(lead.dealer), lead.intent_level, activity.occurred_at)
    return render_sheet("contacts/_sheet.html", _("Log contact"), status=status, lead=lead, activity=activity,
                        errors=errors, form=form, picks=picks)
