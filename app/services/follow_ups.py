"""Follow-up tasks: a lead has at most one open next step; setting a new one completes the old.

A lead that meets one of its dealer's stop conditions (`stopped`: won, lost or invalid, or the customer opted out
of calls, that is withdrew their consent to calls: app.services.consent) gets no next step: `set_next` leaves it
without one, and moving its next step is refused. `silenced` tells the lead page why a lead's follow-ups send no
reminder.
"""
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Channel, ConsentState, FollowUpTask, Lead, Stage, StopCondition, TaskStatus, utcnow
from app.services import cadence, consent
from app.services.cadence import Policy

HORIZON = timedelta(days=366)
STOPPED = {
    StopCondition.WON: _l("This lead is won: its follow-ups have stopped."),
    StopCondition.LOST: _l("This lead is closed: its follow-ups have stopped."),
    StopCondition.OPTED_OUT: _l("The customer opted out of calls: this lead's follow-ups have stopped."),
}
UNREACHABLE = _l("The customer may not be contacted on any channel: no reminder is sent for this follow-up.")


class FollowUpError(ValueError):
    """A next follow-up time that cannot be used; the message is for the consultant."""


def chosen_due(policy: Policy, choice: dict) -> datetime:
    """The time the consultant picked: one of the offered times (ISO), or a custom day and time in the
    dealer's zone (the day's start when no time is given).

    :raise FollowUpError: for a time that is unreadable, past, or more than a year ahead.
    """
    if choice["next_at"] == "custom":
        clock = choice.get("custom_time") or policy.day_starts
        due = datetime.combine(choice["custom_date"], clock, tzinfo=policy.zone)
    else:
        try:
            due = datetime.fromisoformat(choice["next_at"])
        except ValueError:
            raise FollowUpError(_l("Choose when to follow up next.")) from None
        if due.tzinfo is None:
            raise FollowUpError(_l("Choose when to follow up next."))
    now = utcnow()
    if due <= now:
        raise FollowUpError(_l("The next follow-up must be in the future."))
    if due > now + HORIZON:
        raise FollowUpError(_l("Choose a day within the next year."))
    return due.astimezone(timezone.utc)


def open_follow_up(lead: Lead) -> FollowUpTask | None:
    """The lead's current next step, if it has one."""
    return db.session.scalar(
        select(FollowUpTask).where(FollowUpTask.lead_id == lead.id, FollowUpTask.status == TaskStatus.OPEN))


def stopped(policy: Policy, lead: Lead) -> StopCondition | None:
    """The first of the policy's stop conditions that the lead meets, if any."""
    met = {StopCondition.WON: lambda: lead.stage is Stage.DELIVERED,
           StopCondition.LOST: lambda: lead.stage in (Stage.LOST, Stage.INVALID),
           StopCondition.OPTED_OUT: lambda: _opted_out_of_calls(lead)}
    return next((condition for condition in StopCondition if condition in policy.stop_on and met[condition]()),
                None)


def stop_condition(lead: Lead, policy: Policy | None = None) -> StopCondition | None:
    """The stop condition of its dealer's policy (read unless given) that the lead meets (none for a lead
    without a dealer)."""
    if lead.dealer is None:
        return None
    return stopped(policy or cadence.policy_for(lead.dealer), lead)


def _opted_out_of_calls(lead: Lead) -> bool:
    """Whether the customer's latest word on calls is a withdrawal (no record at all is no opt-out)."""
    return consent.by_channel(lead.customer)[Channel.CALL].state is ConsentState.WITHDRAWN


def silenced(lead: Lead, policy: Policy | None = None) -> str | None:
    """Why an open lead's follow-ups send no reminder, for the lead page: a stop condition of its dealer's
    cadence (read unless given), or a customer who may be contacted on no channel (app.services.reminders skips
    their follow-ups)."""
    if not lead.is_open:
        return None
    if (condition := stop_condition(lead, policy)) is not None:
        return str(STOPPED[condition])
    if lead.next_follow_up_at is not None and not consent.reachable(lead.customer):
        return str(UNREACHABLE)
    return None


def set_next(lead: Lead, due_at: datetime | None, *, purpose: str | None = None, done: bool = True,
             policy: Policy | None = None) -> FollowUpTask | None:
    """Replace the lead's next step: the open one is done (or cancelled), a new one is due at `due_at`, unless
    the lead meets a stop condition of its dealer's policy: then it is left without one.

    The caller commits. :param done: False when the old step is dropped rather than carried out.
    :param policy: the dealer's, when the caller has read it already.
    """
    if due_at is not None and stop_condition(lead, policy) is not None:
        due_at = None
    current = open_follow_up(lead)
    if current is not None:
        current.status = TaskStatus.DONE if done else TaskStatus.CANCELLED
        current.done_at = utcnow()
        db.session.flush()  # the one-open-per-lead index must see the old step closed first
    lead.next_follow_up_at = due_at
    if due_at is None or lead.consultant_id is None:
        return None
    task = FollowUpTask(lead_id=lead.id, consultant_id=lead.consultant_id, due_at=due_at, purpose=purpose)
    db.session.add(task)
    return task


def reschedule(lead: Lead, due_at: datetime) -> FollowUpTask | None:
    """Move the lead's next step to another time (the old one counts as moved, not done).

    :raise FollowUpError: when the lead meets a stop condition of its dealer's policy.
    """
    if (condition := stop_condition(lead)) is not None:
        raise FollowUpError(STOPPED[condition])
    task = set_next(lead, due_at, purpose=lead.open_follow_up.purpose if lead.open_follow_up else None, done=False)
    db.session.commit()
    return task
