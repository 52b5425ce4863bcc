"""Booking visits and test drives, and marking whether the customer came."""
from datetime import datetime

from flask import Blueprint, abort, request
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from app.extensions import db
from app.models import Appointment, AppointmentKind, Role
from app.schemas import first_errors
from app.schemas.lead_forms import AppointmentSchema
from app.services import appointments, cadence, visibility
from app.templating import when
from app.views.access import roles_required
from app.views.idempotency import idempotent
from app.views.rendering import changed, gone, render_sheet

bp = Blueprint("appointments", __name__)
dealer_staff = roles_required(Role.CONSULTANT, Role.MANAGER)


@bp.route("/leads/<int:lead_id>/appointments", methods=["GET", "POST"])
@dealer_staff
@idempotent
def book(lead_id: int):
    """Book a showroom visit or a test drive for the lead."""
    lead = visibility.get_lead_to_work(current_user, lead_id)
    errors = {}
    if request.method == "POST":
        try:
            data = AppointmentSchema().load(request.form)
            zone = cadence.policy_for(lead.dealer).zone
            starts_at = datetime.combine(data["date"], data["time"], tzinfo=zone)
            appointment = appointments.book(current_user, lead, data["kind"], starts_at, data.get("model_of_interest"))
        except ValidationError as error:
            errors = first_errors(error.messages)
        except appointments.AppointmentError as error:
            errors = {"form": str(error)}
        else:
            return changed(lead, _("Booked for %(when)s.", when=when(appointment.starts_at)))
    form = request.form if request.method == "POST" else {"kind": request.args.get("kind", AppointmentKind.VISIT)}
    return render_sheet("appointments/_form.html", _("Book"), status=422 if errors else 200, lead=lead,
                        errors=errors, form=form, kinds=list(AppointmentKind)[:2])


@bp.post("/appointments/<int:appointment_id>/<any(showed, no_show):result>")
@dealer_staff
def mark(appointment_id: int, result: str):
    """Mark that the customer came, or did not (a reschedule follow-up, or the lead desk takes its lead back)."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None:
        abort(404)
    lead = visibility.get_lead_to_work(current_user, appointment.lead_id)
    try:
        appointments.mark(current_user, appointment, showed=result == "showed")
    except appointments.AppointmentError as error:
        return changed(lead, str(error), refused=True)
    if result == "showed":
        return changed(lead, _("Marked as came."))
    if lead.dealer_id is None:
        return gone(_("Marked as no-show. The lead desk takes the lead back to call the customer."))
    return changed(lead, _("Marked as no-show. A follow-up to reschedule is set for %(when)s.",
                           when=when(lead.next_follow_up_at)))
