"""Follow-up tasks: a lead has at most one open next step; setting a new one completes the old."""
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import FollowUpTask, Lead, TaskStatus, utcnow
from app.services.cadence import Policy

HORIZON = timedelta(days=366)


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


def set_next(lead: Lead, due_at: datetime | None, *, purpose: str | None = None,
             done: bool = True) -> FollowUpTask | None:
    """Replace the lead's next step: the open one is done (or cancelled), a new one is due at `due_at`.

    The caller commits. :param done: False when the old step is dropped rather than carried out.
    """
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
    """Move the lead's next step to another time (the old one counts as moved, not done)."""
    task = set_next(lead, due_at, purpose=lead.open_follow_up.purpose if lead.open_follow_up else None, done=False)
    db.session.commit()
    return task
