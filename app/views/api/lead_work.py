"""/api/v1: work on a lead, as a consultant's one-tap changes on the lead page: log a contact with its outcome and
next follow-up, add a note, move the next follow-up, book a visit or test drive. The same services as the pages,
so an entry sent here or as the page's form is one entry; each accepts an Idempotency-Key."""
from flask_login import current_user

from app.models import utcnow
from app.schemas.api import (
    ActivityOut, AppointmentBody, AppointmentOut, ContactBody, ContactOut, FollowUpBody, LeadOut, NoteBody,
)
from app.services import appointments, cadence, contacts, follow_ups, lead_changes
from app.views.api.blueprint import bp
from app.views.api.docs import WRITE_PROBLEMS, operation
from app.views.api.problems import answer, lead, load_body, problem
from app.views.idempotency import idempotent

REFUSALS = (contacts.ContactError, follow_ups.FollowUpError, appointments.AppointmentError,
            lead_changes.LeadChangeError)


@bp.post("/leads/<int:lead_id>/contacts")
@operation("Log a contact", answer=(201, ContactOut), body=ContactBody, problems=WRITE_PROBLEMS)
@idempotent
def log_contact(lead_id: int):
    """A call, SMS or WeChat made at `made_at` (default now) with its outcome and note; the lead's next follow-up
    becomes `next_follow_up_at`, or by default the dealer's cadence for the lead's intent level (none once the
    cadence stops: won, lost, opted out). A visit or test drive agreed on the call is booked with it."""
    work = lead(current_user, lead_id, to_work=True)
    data = load_body(ContactBody())
    policy = cadence.policy_for(work.dealer)
    try:
        due = (follow_ups.chosen_due(policy, {"next_at": data["next_follow_up_at"].isoformat()})
               if "next_follow_up_at" in data else cadence.next_follow_up(policy, work.intent_level, utcnow()))
        booking = data.get("booking")
        activity = contacts.log_contact(
            current_user, work, data["kind"], data.get("made_at") or utcnow(), outcome=data.get("outcome"),
            note=data.get("note"), next_due=due,
            booking=contacts.Booking(booking["kind"], booking["starts_at"], booking.get("model_of_interest"))
            if booking else None, policy=policy)
    except REFUSALS as error:
        problem(422, error)
    return answer(ContactOut(), {"activity": activity, "lead": work}, 201)


@bp.post("/leads/<int:lead_id>/notes")
@operation("Add a note", answer=(201, ActivityOut), body=NoteBody, problems=WRITE_PROBLEMS)
@idempotent
def add_note(lead_id: int):
    """A note on the lead's history, without a contact; kept even on a lead closed since it was written."""
    work = lead(current_user, lead_id, to_work=True)
    note = lead_changes.add_note(current_user, work, load_body(NoteBody())["note"])
    return answer(ActivityOut(), note, 201)


@bp.post("/leads/<int:lead_id>/follow-up")
@operation("Move the next follow-up", answer=(200, LeadOut), body=FollowUpBody, problems=WRITE_PROBLEMS)
@idempotent
def move_follow_up(lead_id: int):
    """Set when to follow the lead up next (in the future, within a year); refused once its cadence stopped."""
    work = lead(current_user, lead_id, to_work=True)
    data = load_body(FollowUpBody())
    try:
        due = follow_ups.chosen_due(cadence.policy_for(work.dealer), {"next_at": data["due_at"].isoformat()})
        follow_ups.reschedule(work, due)
    except REFUSALS as error:
        problem(422, error)
    return answer(LeadOut(), work)


@bp.post("/leads/<int:lead_id>/appointments")
@operation("Book a visit or test drive", answer=(201, AppointmentOut), body=AppointmentBody,
           problems=WRITE_PROBLEMS)
@idempotent
def book(lead_id: int):
    """Book a showroom visit or a test drive (in the future, within four months); a new or contacted lead becomes
    invited."""
    work = lead(current_user, lead_id, to_work=True)
    data = load_body(AppointmentBody())
    try:
        appointment = appointments.book(current_user, work, data["kind"], data["starts_at"],
                                        data.get("model_of_interest"))
    except REFUSALS as error:
        problem(422, error)
    return answer(AppointmentOut(), appointment, 201)
