"""A lead's timeline: every activity, follow-up and appointment, newest (or furthest ahead) first."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Activity, Appointment, FollowUpTask, Lead

LIMIT = 200


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # "activity", "follow_up" or "appointment": which template part shows it
    item: Activity | FollowUpTask | Appointment


def timeline(lead: Lead) -> list[Entry]:
    """The lead's history and plans in one list; follow-ups stand at their due time, appointments at theirs."""
    activities = db.session.scalars(select(Activity).where(Activity.lead_id == lead.id)
                                    .options(joinedload(Activity.user))
                                    .order_by(Activity.occurred_at.desc()).limit(LIMIT))
    tasks = db.session.scalars(select(FollowUpTask).where(FollowUpTask.lead_id == lead.id)
                               .order_by(FollowUpTask.due_at.desc()).limit(LIMIT))
    appointments = db.session.scalars(select(Appointment).where(Appointment.lead_id == lead.id)
                                      .order_by(Appointment.starts_at.desc()).limit(LIMIT))
    entries = ([Entry(a.occurred_at, "activity", a) for a in activities]
               + [Entry(t.due_at, "follow_up", t) for t in tasks]
               + [Entry(a.starts_at, "appointment", a) for a in appointments])
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:LIMIT]
