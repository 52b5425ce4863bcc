"""What a consultant must do next: follow-up tasks and appointments."""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.leads import Lead
from app.models.types import UTCDateTime, enum_column, utcnow


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


_OPEN_TASK = text("status = 'open'")
_TO_REMIND = text("status = 'open' AND reminded_at IS NULL")
_BOOKED_TO_REMIND = text("status = 'booked' AND reminded_at IS NULL")


class FollowUpTask(db.Model):
    """A follow-up due at a time, set by the dealer's cadence or picked by the consultant."""

    __tablename__ = "follow_up_tasks"
    __table_args__ = (
        # A consultant's due and overdue follow-ups; the reminder sweep by due time.
        Index("ix_follow_up_tasks_consultant_due", "consultant_id", "due_at",
              postgresql_where=_OPEN_TASK, sqlite_where=_OPEN_TASK),
        Index("ix_follow_up_tasks_open_due", "due_at", postgresql_where=_OPEN_TASK, sqlite_where=_OPEN_TASK),
        # The reminder sweep: open follow-ups nobody was reminded of yet, by due time.
        Index("ix_follow_up_tasks_to_remind", "due_at", postgresql_where=_TO_REMIND, sqlite_where=_TO_REMIND),
        Index("ix_follow_up_tasks_lead", "lead_id"),
        # A lead has one next step at a time: logging a contact completes it and sets the next one.
        Index("uq_follow_up_tasks_open_lead", "lead_id", unique=True,
              postgresql_where=_OPEN_TASK, sqlite_where=_OPEN_TASK),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    consultant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[TaskStatus] = mapped_column(enum_column(TaskStatus), default=TaskStatus.OPEN)
    purpose: Mapped[str | None] = mapped_column(String(200))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the "follow-up due" reminder went out
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AppointmentKind(enum.StrEnum):
    VISIT = "visit"
    TEST_DRIVE = "test_drive"
    DELIVERY = "delivery"


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class Appointment(db.Model):
    """A booked showroom visit, test drive or delivery."""

    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_consultant_starts", "consultant_id", "starts_at"),
        Index("ix_appointments_dealer_starts", "dealer_id", "starts_at"),
        Index("ix_appointments_lead", "lead_id"),
        # The reminder sweep: booked appointments nobody was reminded of yet, by start.
        Index("ix_appointments_to_remind", "starts_at", postgresql_where=_BOOKED_TO_REMIND,
              sqlite_where=_BOOKED_TO_REMIND),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"))
    consultant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[AppointmentKind] = mapped_column(enum_column(AppointmentKind))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    model_of_interest: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[AppointmentStatus] = mapped_column(
        enum_column(AppointmentStatus), default=AppointmentStatus.BOOKED
    )
    note: Mapped[str | None] = mapped_column(Text)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when "your appointment in an hour" went out
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead: Mapped[Lead] = relationship()
