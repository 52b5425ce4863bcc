"""Follow-up tasks: a lead has at most one open next step; setting a new one completes the old."""
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import FollowUpTask, Lead, TaskStatus, utcnow


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
