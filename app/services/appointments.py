"""Appointments: booking a showroom visit or test drive, and marking whether the customer came."""
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import (
    Activity, ActivityKind, Appointment, AppointmentKind, AppointmentStatus, Lead, Origin, ReturnReason, Stage,
    User, utcnow,
)
from app.services import cadence, follow_ups, lead_changes, milestones, pools

BOOKING_HORIZON = timedelta(days=120)


class AppointmentError(ValueError):
    """A booking or a mark that cannot be made; the message is for the consultant."""


def check_time(starts_at: datetime) -> None:
    """:raise AppointmentError: for a time in the past or more than four months ahead."""
    now = utcnow()
    if starts_at <= now:
        raise AppointmentError(_l("Choose a time in the future."))
    if starts_at > now + BOOKING_HORIZON:
        raise AppointmentError(_l("Book at most four months ahead."))


def book(user: User, lead: Lead, kind: AppointmentKind, starts_at: datetime,
         model_of_interest: str | None, *, commit: bool = True) -> Appointment:
    """Book a visit or test drive; an invitation moves a new or contacted lead to "invited", and any lead that
    was never invited gets its invited milestone (a delivery appointment is no invitation).

    :raise AppointmentError: for a time in the past or too far ahead, or a closed lead.
    """
    if not lead.is_open:
        raise AppointmentError(_l("This lead is closed."))
    check_time(starts_at)
    appointment = Appointment(lead_id=lead.id, dealer_id=lead.dealer_id, consultant_id=lead.consultant_id or user.id,
                              kind=kind, starts_at=starts_at,
                              model_of_interest=model_of_interest or lead.model_of_interest)
    db.session.add(appointment)
    if kind is not AppointmentKind.DELIVERY:
        milestones.reach(lead, Stage.INVITED, utcnow())
    lead_changes.advance_to(user, lead, Stage.INVITED)
    if commit:
        db.session.commit()
    return appointment


def mark(user: User, appointment: Appointment, showed: bool) -> None:
    """Record that the customer came (visit or test drive in the history and milestones, the stage moves on) or
    did not.
    A no-show must not vanish: a dealer's own lead gets a reschedule follow-up on the next working day; a lead
    from the brand's lead desk goes back to the desk's inbox, which calls the customer and routes it again.

    :raise AppointmentError: when the appointment was already marked or cancelled.
    """
    if appointment.status is not AppointmentStatus.BOOKED:
        raise AppointmentError(_l("This appointment is already marked."))
    lead = appointment.lead
    now = utcnow()
    if showed:
        appointment.status = AppointmentStatus.ATTENDED
        test_drive = appointment.kind is AppointmentKind.TEST_DRIVE
        kind = ActivityKind.TEST_DRIVE if test_drive else ActivityKind.VISIT
        db.session.add(Activity(lead_id=lead.id, user_id=user.id, kind=kind,
                                summary=appointment.model_of_interest))
        lead.last_contact_at, lead.last_contact_kind, lead.last_contact_outcome = now, kind, None
        step = Stage.TEST_DRIVE if test_drive else Stage.VISITED
        milestones.reach(lead, step, now)  # also on a lead past this stage, or closed since the booking
        lead_changes.advance_to(user, lead, step)
    else:
        appointment.status = AppointmentStatus.NO_SHOW
        db.session.add(Activity(lead_id=lead.id, user_id=user.id, kind=ActivityKind.NOTE,
                                summary="no_show"))
        if lead.origin is Origin.OEM:  # the lead desk tracks its own leads' no-shows
            pools.take_back(lead, ReturnReason.NO_SHOW, now, by=user)
        else:
            policy = cadence.policy_for(lead.dealer)
            follow_ups.set_next(lead, cadence.next_working_day_start(policy, now),
                                purpose="reschedule_no_show", done=False, policy=policy)
    db.session.commit()
