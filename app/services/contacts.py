"""Contacting a lead: the attempt is history the moment the consultant taps Call, SMS or WeChat; the outcome
and the next follow-up come when they are back from the call. A phone without signal cannot record the attempt
first: it logs the whole contact later, attempt and outcome in one go, at the time it was made (`log_contact`).
Either way a channel the customer has not consented to (app.services.consent) is refused before anything is
written: an SMS or WeChat message without a recorded grant, a call after the customer withdrew consent to calls."""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Activity, ActivityKind, AppointmentKind, Channel, Lead, Outcome, Stage, User, utcnow
from app.services import appointments, consent, follow_ups, lead_changes
from app.services.cadence import Policy

CHANNELS = (ActivityKind.CALL, ActivityKind.SMS, ActivityKind.WECHAT)
CLOCK_SLACK = timedelta(minutes=5)  # a phone's clock may run a little ahead of the server's
LOGGED_WITHIN = timedelta(days=14)  # as long as a phone keeps an entry waiting (idempotency.KEEP_FOR)


@dataclass(frozen=True)
class Booking:
    """A visit or test drive agreed on the call, booked with its outcome."""

    kind: AppointmentKind
    starts_at: datetime
    model_of_interest: str | None


class ContactError(ValueError):
    """A contact that cannot be logged as asked; the message is for the consultant."""


class NoConsent(ContactError):
    """A contact on a channel the customer has not consented to; the message says why."""


def record_attempt(user: User, lead: Lead, kind: ActivityKind, *, at: datetime | None = None,
                   commit: bool = True) -> Activity:
    """Record that the user is calling or messaging the lead now, or did at `at` (a contact logged afterwards).

    The earliest attempt is the lead's first contact; the last contact only moves forward, so a contact logged
    late never hides a later one already recorded.
    :param commit: False when the caller completes the contact in the same transaction (log_contact).
    :raise ContactError: for a kind that is not a contact channel, or a closed lead.
    :raise NoConsent: for a channel the customer has not consented to.
    """
    if kind not in CHANNELS:
        raise ContactError(_l("Choose call, SMS or WeChat."))
    if not lead.is_open:
        raise ContactError(_l("This lead is closed."))
    if (reason := consent.refusal(lead.customer, Channel(kind.value))) is not None:
        raise NoConsent(reason)
    at = (at or utcnow()).astimezone(timezone.utc)
    attempt = Activity(lead_id=lead.id, user_id=user.id, kind=kind, occurred_at=at)
    db.session.add(attempt)
    if lead.first_contact_at is None or at < lead.first_contact_at:
        lead.first_contact_at = at
    if lead.last_contact_at is None or at >= lead.last_contact_at:
        lead.last_contact_at, lead.last_contact_kind, lead.last_contact_outcome = at, kind, None
    if commit:
        db.session.commit()
    return attempt


def log_outcome(user: User, attempt: Activity, lead: Lead, *, outcome: Outcome | None, note: str | None,
                next_due: datetime | None, booking: Booking | None = None, policy: Policy | None = None) -> None:
    """Complete a contact attempt: its outcome and note, the stage it earns, the next follow-up, and the visit
    or test drive the customer agreed to, all in one transaction.

    A reached call or a sent message moves a new lead to "contacted". The lead's open follow-up counts as
    done and `next_due` becomes its next step.
    :raise ContactError: when the attempt already has its outcome, or a call lacks one.
    :raise AppointmentError: when the booking's time is past or too far ahead.
    :param policy: the dealer's cadence, when the caller has read it already (for `next_due`).
    """
    if attempt.outcome is not None or attempt.note is not None:
        raise ContactError(_l("This contact is already logged."))
    _check_outcome(attempt.kind, outcome, booking)
    attempt.outcome = outcome if attempt.kind is ActivityKind.CALL else None
    attempt.note = note
    if lead.last_contact_at == attempt.occurred_at:
        lead.last_contact_outcome = attempt.outcome
    if lead.stage is Stage.NEW and (outcome is Outcome.REACHED or attempt.kind is not ActivityKind.CALL):
        lead_changes.change_stage(user, lead, Stage.CONTACTED, commit=False)
    follow_ups.set_next(lead, next_due, policy=policy)
    if booking is not None:
        appointments.book(user, lead, booking.kind, booking.starts_at, booking.model_of_interest, commit=False)
    db.session.commit()


def log_contact(user: User, lead: Lead, kind: ActivityKind, made_at: datetime, *, outcome: Outcome | None,
                note: str | None, next_due: datetime | None, booking: Booking | None = None,
                policy: Policy | None = None) -> Activity:
    """Log a call or message made at `made_at` with its outcome, note, next follow-up and booking, in one
    transaction: the attempt and the outcome that a phone without signal could not send one after the other.

    `made_at` comes from the phone's clock; the entry may reach the server days later, after contacts recorded
    online (record_attempt keeps the lead's last contact on the latest of them).
    :raise ContactError: for a time in the future or older than the phone keeps entries, a kind that is not a
        contact channel, a closed lead, a channel without the customer's consent, or a call without its outcome.
    :raise AppointmentError: when the booking's time is past or too far ahead.
    """
    now = utcnow()
    if made_at > now + CLOCK_SLACK:
        raise ContactError(_l("The time of this contact is in the future."))
    if made_at < now - LOGGED_WITHIN:
        raise ContactError(_l("This contact was made more than 14 days ago: it can no longer be logged."))
    _check_outcome(kind, outcome, booking)  # before anything is written, so a refusal leaves nothing behind
    attempt = record_attempt(user, lead, kind, at=made_at, commit=False)
    log_outcome(user, attempt, lead, outcome=outcome, note=note, next_due=next_due, booking=booking,
                policy=policy)
    return attempt


def _check_outcome(kind: ActivityKind, outcome: Outcome | None, booking: Booking | None) -> None:
    """:raise ContactError: for a call without its outcome. :raise AppointmentError: for a booking's bad time."""
    if booking is not None:
        appointments.check_time(booking.starts_at)
    if kind is ActivityKind.CALL and outcome is None:
        raise ContactError(_l("Choose how the call went."))
