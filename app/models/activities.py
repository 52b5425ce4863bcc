"""Activities: the append-only history of what happened with a lead."""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow
from app.models.users import User


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
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome))
    summary: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete history."""


@event.listens_for(Activity, "before_update")
@event.listens_for(Activity, "before_delete")
def _refuse_change(_mapper, _connection, target: Activity) -> None:
    raise AppendOnlyError(f"activity {target.id} is history and cannot be changed")
