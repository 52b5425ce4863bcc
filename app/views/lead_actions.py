"""One-tap changes on a lead page: stage, intent level, next follow-up, a note, requests for the manager's
approval (close as lost or invalid, cancel the follow-up), the details, the customer's consent."""
from flask import Blueprint, request
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from app.labels import label
from app.models import ApprovalKind, ConsentState, Role
from app.schemas import first_errors
from app.schemas.lead_forms import (
    CancelFollowUpSchema, CloseRequestSchema, ConsentSchema, IntentSchema, LeadDetailsSchema, NextFollowUpSchema,
    NoteSchema, StageSchema,
)
from app.services import cadence, consent_changes, follow_ups, lead_changes, lead_details, visibility
from app.services.phones import InvalidPhone
from app.templating import when
from app.views.access import roles_required
from app.views.idempotency import idempotent
from app.views.rendering import changed, render, render_sheet

bp = Blueprint("lead_actions", __name__, url_prefix="/leads/<int:lead_id>")
dealer_staff = roles_required(Role.CONSULTANT, Role.MANAGER)
ONE_TAP_ERRORS = (ValidationError, lead_changes.LeadChangeError, follow_ups.FollowUpError)


@bp.post("/stage")
@dealer_staff
def stage(lead_id: int):
    """Move the lead to another stage of the funnel."""
    lead = visibility.get_lead_to_work(current_user, lead_id)
    try:
        lead_changes.change_stage(current_user, lead, StageSchema().load(request.form)["stage"])
    except ONE_TAP_ERRORS as error:
        return changed(lead, _message(error), refused=True)
    return changed(lead, _("Stage: %(stage)s.", stage=label(lead.stage)))


@bp.post("/intent")
@dealer_staff
def intent(lead_id: int):
    """Change how soon the customer will buy."""
    lead = visibility.get_lead_to_work(current_user, lead_id)
    try:
        lead_changes.change_intent(current_user, lead, IntentSchema().load(request.form)["intent_level"])
    except ONE_TAP_ERRORS as error:
        return changed(lead, _message(error), refused=True)
    return changed(lead, _("Intent level: %(level)s.", level=label(lead.intent_level)))


@bp.post("/next-follow-up")
@dealer_staff
@idempotent
def next_follow_up(lead_id: int):
    """Move the next follow-up to another day."""
    lead = visibility.get_lead_to_work(current_user, lead_id)
    try:
        due = follow_ups.chosen_due(cadence.policy_for(lead.dealer), NextFollowUpSchema().load(request.form))
        follow_ups.reschedule(lead, due)
    except ONE_TAP_ERRORS as error:
        return changed(lead, _message(error), refused=True)
    return changed(lead, _("Next follow-up %(when)s.", when=when(due)))


@bp.post("/notes")
@dealer_staff
@idempotent
def note(lead_id: int):
    """Add a note to the lead's history without logging a contact."""
    lead = visibility.get_lead_to_work(current_user, lead_id)
    try:
        lead_changes.add_note(current_user, lead, NoteSchema().load(request.form)["note"])
    except ONE_TAP_ERRORS as error:
        return changed(lead, _message(error), refused=True)
    return changed(lead, _("Note added."))


@bp.post("/consent")
@dealer_staff
def consent(lead_id: int):
    """Record that the customer gave, or withdrew, their consent to be contacted on a channel."""
    lead = visibility.get_lead_to_work(current_user, lead_id)
    try:
        data = ConsentSchema().load(request.form)
        consent_changes.record(current_user, lead, data["channel"], data["state"])
    except (ValidationError, consent_changes.ConsentError) as error:
        return changed(lead, _message(error), refused=True)
    if data["state"] is ConsentState.GRANTED:
        return changed(lead, _("Consent recorded: %(channel)s.", channel=label(data["channel"])))
    return changed(lead, _("Withdrawal recorded: %(channel)s.", channel=label(data["channel"])))


@bp.route("/close", methods=["GET", "POST"])
@dealer_staff
def close(lead_id: int):
    """Ask the manager to close the lead as lost or invalid, with a reason from the list and a note."""
    lead = visibility.get_lead_to_work(current_user, lead_id)
    errors = {}
    if request.method == "POST":
        try:
            data = CloseRequestSchema().load(request.form)
            lead_changes.request_approval(current_user, lead, data["kind"], data["reason"], data.get("note"))
        except ValidationError as error:
            errors = first_errors(error.messages)
        except lead_changes.LeadChangeError as error:
            errors = {"form": str(error)}
        else:
            return changed(lead, _("Sent to your manager for approval. The lead stays active until then."))
    reasons = {kind: lead_changes.REASONS[kind] for kind in lead_changes.CLOSE_KINDS}
    return render_sheet("leads/_close_form.html", _("Lost or invalid"), status=422 if errors else 200, lead=lead,
                        errors=errors, form=request.form if errors else request.args, reasons=reasons)


@bp.route("/cancel-follow-up", methods=["GET", "POST"])
@dealer_staff
def cancel_follow_up(lead_id: int):
    """Ask the manager to cancel the lead's next follow-up, with a reason from the list and a note."""
    lead = visibility.get_lead_to_work(current_user, lead_id)
    errors = {}
    if request.method == "POST":
        try:
            data = CancelFollowUpSchema().load(request.form)
            lead_changes.request_approval(current_user, lead, ApprovalKind.CANCEL_FOLLOW_UP, data["reason"],
                                          data.get("note"))
        except ValidationError as error:
            errors = first_errors(error.messages)
        except lead_changes.LeadChangeError as error:
            errors = {"form": str(error)}
        else:
            return changed(lead, _("Sent to your manager for approval. The follow-up stays until then."))
    return render_sheet("leads/_cancel_follow_up_form.html", _("Cancel the follow-up"),
                        status=422 if errors else 200, lead=lead, errors=errors,
                        form=request.form if errors else request.args,
                        reasons=lead_changes.REASONS[ApprovalKind.CANCEL_FOLLOW_UP])


@bp.route("/edit", methods=["GET", "POST"])
@dealer_staff
def edit(lead_id: int):
    """Edit the customer's and the lead's details."""
    lead = visibility.get_lead_to_work(current_user, lead_id)
    errors = {}
    if request.method == "POST":
        try:
            lead_details.update(current_user, lead, LeadDetailsSchema().load(request.form))
        except ValidationError as error:
            errors = first_errors(error.messages)
        except InvalidPhone as error:
            errors = {"phone": str(error)}
        except lead_details.DetailsError as error:
            errors = {error.field: str(error)}
        else:
            return changed(lead, _("Details saved."))
    form = request.form if request.method == "POST" else lead_details.as_form(lead)
    return render_sheet("leads/_edit_form.html", _("Edit details"), status=422 if errors else 200, lead=lead,
                        errors=errors, form=form)


@bp.get("/edit/phone")
@dealer_staff
def check_phone(lead_id: int):
    """Check a mobile number as it is typed: its normalised form, or what is wrong with it."""
    lead = visibility.get_lead_to_work(current_user, lead_id)
    try:
        verdict, error = lead_details.check_phone(lead, request.args.get("phone", "")), False
    except (InvalidPhone, lead_details.DetailsError) as problem:
        verdict, error = str(problem), True
    return render("leads/_phone_check.html", verdict=verdict, error=error)


def _message(error) -> str:
    if isinstance(error, ValidationError):
        return " ".join(first_errors(error.messages).values())
    return str(error)
