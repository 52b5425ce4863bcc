"""Activities: the append-only history of what happened with a lead."""
import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, event, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow
from app.models.users import User

if TYPE_CHECKING:
    from app.models.leads import Lead  # leads imports this module's enums


class ActivityKind(enum.StrEnum):
    CALL = "call"
    SMS = "sms"
    WECHAT = "wechat"
    VISIT = "visit"
    TEST_DRIVE = "test_drive"
    NOTE = "note"
    STAGE_CHANGE = "stage_change"
    INTENT_CHANGE = "intent_change"
    ASSIGNMENT = "assignment"


class Outcome(enum.StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    WRONG_NUMBER = "wrong_number"


class Activity(db.Model):
    """One thing that happened: a call and its outcome, a visit, a note, a stage change. Never edited."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_lead_occurred", "lead_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[ActivityKind] = mapped_column(enum_column(ActivityKind))
    # active_history: the old value is loaded before a change, so the append-only guard can see it.
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome), active_history=True)
    summary: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text, active_history=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()
    lead: Mapped["Lead"] = relationship()


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete history."""


# A call is recorded the moment it is dialled and its outcome when the consultant comes back: these may be
# filled in once, while still empty; nothing written is ever changed.
COMPLETABLE = ("outcome", "note")


@event.listens_for(Activity, "before_update")
def _refuse_change(_mapper, _connection, target: Activity) -> None:
    state = inspect(target)
    for attribute in state.attrs:
        history = attribute.history
        if not history.has_changes():
            continue
        completing = attribute.key in COMPLETABLE and not any(v is not None for v in history.deleted)
        if not completing:
            raise AppendOnlyError(f"activity {target.id} is history: {attribute.key} cannot be changed")


@event.listens_for(Activity, "before_delete")
def _refuse_delete(_mapper, _connection, target: Activity) -> None:
    raise AppendOnlyError(f"activity {target.id} is history and cannot be deleted")
