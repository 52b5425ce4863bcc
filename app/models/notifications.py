"""The notification outbox and inbox, the devices that receive Web Push, and what each user wants pushed."""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow

_NOT_FANNED_OUT = text("fanned_out_at IS NULL")
_PENDING = text("state = 'pending'")


class Notification(db.Model):
    """A message for one user: written in the same transaction as its cause, shown in the inbox at once, and
    the outbox of its other channels (the worker fans it out into deliveries, one per device).

    The dedupe key (person, reason, object, due time) makes writing it twice a no-op.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index("ix_notifications_to_fan_out", "id", postgresql_where=_NOT_FANNED_OUT, sqlite_where=_NOT_FANNED_OUT),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(300))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # its deliveries were written


class PushSubscription(db.Model):
    """One browser or phone that asked for Web Push for a user."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # to send at next_attempt_at (quiet hours, a retry's backoff, a push service's Retry-After)
    SENT = "sent"  # the push service accepted it (201)
    FAILED = "failed"  # given up: too many attempts, or refused for good (our configuration: 400/401/403/413)


class PushDelivery(db.Model):
    """One notification to one device: the unit the worker claims, sends, and retries with backoff."""

    __tablename__ = "push_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "subscription_id"),
        Index("ix_push_deliveries_due", "next_attempt_at", postgresql_where=_PENDING, sqlite_where=_PENDING),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    # A device that is gone (404/410) is deleted, and its deliveries with it.
    subscription_id: Mapped[int] = mapped_column(ForeignKey("push_subscriptions.id", ondelete="CASCADE"),
                                                 index=True)
    state: Mapped[DeliveryState] = mapped_column(enum_column(DeliveryState), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    notification: Mapped[Notification] = relationship()
    subscription: Mapped[PushSubscription] = relationship()


class PushPreferences(db.Model):
    """What a user wants pushed to their devices; without a row, everything. The inbox always has everything."""

    __tablename__ = "push_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    new_lead: Mapped[bool] = mapped_column(default=True, server_default=true())
    follow_up_due: Mapped[bool] = mapped_column(default=True, server_default=true())
    appointment: Mapped[bool] = mapped_column(default=True, server_default=true())
    approval: Mapped[bool] = mapped_column(default=True, server_default=true())
    digest: Mapped[bool] = mapped_column(default=True, server_default=true())
