"""One-tap contact: tapping Call, SMS or WeChat records the attempt; the outcome sheet logs how it went and
sets the next follow-up. Without signal the attempt cannot be recorded first: the phone opens the log sheet
instead, which records the attempt and its outcome in one request when it is sent."""
from datetime import datetime

from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from app.extensions import db
from app.models import Activity, ActivityKind, Channel, Lead, Role, utcnow
from app.schemas import first_errors
from app.schemas.lead_forms import ContactLogSchema, OutcomeSchema
from app.services import cadence, consent, contacts, visibility
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
    except contacts.ContactError as error:  # a closed lead is a conflict; a channel without consent, refused
        status = 422 if isinstance(error, contacts.NoConsent) else 409
        return render_sheet("contacts/_sheet.html", _("Log contact"), status=status, lead=lead, activity=None,
                            errors={"form": str(error)}, form={}, picks=[])
    if wants_fragment():
        return _sheet(activity, {}, {})
    return redirect(url_for("contacts.outcome", activity_id=activity.id), 303)


@bp.route("/contacts/<int:activity_id>", methods=["GET", "POST"])
@dealer_staff
@idempotent
def outcome(activity_id: int):
    """Log how the contact went, a note, and when to follow up next."""
    activity, lead = _own_attempt(activity_id)
    if request.method == "GET":
        return _sheet(activity, {}, {})
    try:
        data = OutcomeSchema().load(request.form)
        policy = cadence.policy_for(lead.dealer)
        contacts.log_outcome(current_user, activity, lead, outcome=data.get("outcome"), note=data.get("note"),
                             next_due=chosen_due(policy, data), booking=_booking(policy, data), policy=policy)
    except ValidationError as error:
        return _sheet(activity, first_errors(error.messages), request.form, 422)
    except (FollowUpError, contacts.ContactError, AppointmentError) as error:
        return _sheet(activity, {"form": str(error)}, request.form, 422)
    return _saved(lead)


@bp.route("/leads/<int:lead_id>/contacts/log", methods=["GET", "POST"])
@dealer_staff
@idempotent
def log(lead_id: int):
    """Log a call or message with its outcome in one go, at the time the phone says it was made: the sheet a
    phone opens when tapping Call cannot reach the server; the entry waits on the phone until there is signal.
    `?kind=` chooses the channel the sheet opens with (a channel the customer consented to; app.services.consent)."""
    lead = visibility.get_lead_to_work(current_user, lead_id)
    if request.method == "GET":
        kind = request.args.get("kind")
        allowed = [channel.value for channel in _channels(lead)
                   if consent.may_contact(lead.customer, Channel(channel.value))]
        return _log_sheet(lead, {}, {"kind": kind if kind in allowed else next(iter(allowed), None)})
    try:
        data = ContactLogSchema().load(request.form)
        policy = cadence.policy_for(lead.dealer)
        contacts.log_contact(current_user, lead, data["kind"], data["made_at"], outcome=data.get("outcome"),
                             note=data.get("note"), next_due=chosen_due(policy, data),
                             booking=_booking(policy, data), policy=policy)
    except ValidationError as error:
        return _log_sheet(lead, first_errors(error.messages), request.form, 422)
    except (FollowUpError, contacts.ContactError, AppointmentError) as error:
        return _log_sheet(lead, {"form": str(error)}, request.form, 422)
    return _saved(lead)


def _booking(policy: cadence.Policy, data: dict) -> contacts.Booking | None:
    """The visit or test drive agreed on the call, its day and time read in the dealer's zone."""
    if not data.get("book_kind"):
        return None
    starts_at = datetime.combine(data["book_date"], data["book_time"], tzinfo=policy.zone)
    return contacts.Booking(data["book_kind"], starts_at, data.get("book_model"))


def _saved(lead: Lead):
    if lead.next_follow_up_at is None:  # the dealer's cadence stops here (won, lost, opted out)
        return changed(lead, _("Saved. No next follow-up: the dealer's cadence stops for this lead."))
    return changed(lead, _("Saved. Next follow-up %(when)s.", when=when(lead.next_follow_up_at)))


def _own_attempt(activity_id: int) -> tuple[Activity, Lead]:
    """An attempt the current user made on a lead they may still work, and the lead; anyone else's is a 404."""
    activity = db.session.get(Activity, activity_id)
    if activity is None or activity.user_id != current_user.id:
        abort(404)
    return activity, visibility.get_lead_to_work(current_user, activity.lead_id)


def _sheet(activity: Activity, errors: dict, form, status: int = 200):
    lead = activity.lead
    picks = cadence.quick_picks(cadence.policy_for(lead.dealer), lead.intent_level, activity.occurred_at)
    return render_sheet("contacts/_sheet.html", _("Log contact"), status=status, lead=lead, activity=activity,
                        errors=errors, form=form, picks=picks)


def _log_sheet(lead: Lead, errors: dict, form, status: int = 200):
    """The log sheet, its time of contact now unless the form brought one (the phone's script sets it again
    when the sheet opens: the time the consultant makes the call, not when the page was loaded)."""
    now = utcnow()
    picks = cadence.quick_picks(cadence.policy_for(lead.dealer), lead.intent_level, now)
    return render_sheet("contacts/_log_sheet.html", _("Log contact"), status=status, lead=lead, errors=errors,
                        form=form, picks=picks, channels=_channels(lead),
                        made_at=form.get("made_at") or now.isoformat())


def _channels(lead: Lead) -> list[ActivityKind]:
    """The ways to reach this customer: call and SMS, and WeChat when their WeChat id is known."""
    return [kind for kind in contacts.CHANNELS if kind is not ActivityKind.WECHAT or lead.customer.wechat_id]
