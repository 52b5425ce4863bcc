"""Contacting a lead: the attempt is history the moment the consultant taps Call, SMS or WeChat; the outcome
and the next follow-up come when they are back from the call."""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Activity, ActivityKind, AppointmentKind, Lead, Outcome, Stage, User, utcnow
from app.services import appointments, follow_ups, lead_changes

CHANNELS = (ActivityKind.CALL, ActivityKind.SMS, ActivityKind.WECHAT)


@dataclass(frozen=True)
class Booking:
    """A visit or test drive agreed on the call, booked with its outcome."""

    kind: AppointmentKind
    starts_at: datetime
    model_of_interest: str | None


class ContactError(ValueError):
    """A contact that cannot be logged as asked; the message is for the consultant."""


def record_attempt(user: User, lead: Lead, kind: ActivityKind) -> Activity:
    """Record that the user is calling or messaging the lead now; the first attempt stamps first contact.

    :raise ContactError: for a kind that is not a contact channel, or a closed lead.
    """
    if kind not in CHANNELS:
        raise ContactError(_l("Choose call, SMS or WeChat."))
    if not lead.is_open:
        raise ContactError(_l("This lead is closed."))
    now = utcnow()
    attempt = Activity(lead_id=lead.id, user_id=user.id, kind=kind, occurred_at=now)
    db.session.add(attempt)
    if lead.first_contact_at is None:
        lead.first_contact_at = now
    lead.last_contact_at, lead.last_contact_kind, lead.last_contact_outcome = now, kind, None
    db.session.commit()
    return attempt


def log_outcome(user: User, attempt: Activity, lead: Lead, *, outcome: Outcome | None, note: str | None,
                next_due: datetime | None, booking: Booking | None = None) -> None:
    """Complete a contact attempt: its outcome and note, the stage it earns, the next follow-up, and the visit
    or test drive the customer agreed to, all in one transaction.

    A reached call or a sent message moves a new lead to "contacted". The lead's open follow-up counts as
    done and `next_due` becomes its next step.
    :raise ContactError: when the attempt already has its outcome, or a call lacks one.
    :raise AppointmentError: when the booking's time is past or too far ahead.
    """
    if booking is not None:
        appointments.check_time(booking.starts_at)
    if attempt.outcome is not None or attempt.note is not None:
        raise ContactError(_l("This contact is already logged."))
    if attempt.kind is ActivityKind.CALL and outcome is None:
        raise ContactError(_l("Choose how the call went."))
    attempt.outcome = outcome if attempt.kind is ActivityKind.CALL else None
    attempt.note = note
    if lead.last_contact_at == attempt.occurred_at:
        lead.last_contact_outcome = attempt.outcome
    if lead.stage is Stage.NEW and (outcome is Outcome.REACHED or attempt.kind is not ActivityKind.CALL):
        lead_changes.change_stage(user, lead, Stage.CONTACTED, commit=False)
    follow_ups.set_next(lead, next_due)
    if booking is not None:
        appointments.book(user, lead, booking.kind, booking.starts_at, booking.model_of_interest, commit=False)
    db.session.commit()
