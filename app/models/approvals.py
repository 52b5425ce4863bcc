"""Approval requests: marking a lead lost or invalid, or cancelling a follow-up, needs the manager's yes."""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.leads import Lead
from app.models.types import UTCDateTime, enum_column, utcnow
from app.models.users import User


class ApprovalKind(enum.StrEnum):
    MARK_LOST = "mark_lost"
    MARK_INVALID = "mark_invalid"
    CANCEL_FOLLOW_UP = "cancel_follow_up"


class ApprovalStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ApprovalRequest(db.Model):
    """A consultant's request that the dealer's manager approves or rejects, with the reason kept for audit."""

    __tablename__ = "approval_requests"
    __table_args__ = (
        Index("ix_approval_requests_dealer_status", "dealer_id", "status", "created_at"),
        Index("ix_approval_requests_lead", "lead_id"),
        # One undecided request per lead at a time.
        Index("uq_approval_requests_pending_lead", "lead_id", unique=True,
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[ApprovalKind] = mapped_column(enum_column(ApprovalKind))
    reason: Mapped[str] = mapped_column(Text)  # a code from app.services.lead_changes.REASONS
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ApprovalStatus] = mapped_column(enum_column(ApprovalStatus), default=ApprovalStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead: Mapped[Lead] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
