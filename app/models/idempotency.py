"""Writes sent with an Idempotency-Key (offline entries replayed by the phone): one row per user and key,
holding what the request was and the answer it got, so a replay gets that answer instead of a second row."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class IdempotentRequest(db.Model):
    """A user's keyed write: claimed before the view runs, answered (status, body, headers) once it succeeded.

    A row without a status is a claim whose answer is not stored (yet, or never: see app.views.idempotency).
    """

    __tablename__ = "idempotent_requests"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_idempotent_requests_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(36))  # a UUID in its canonical lower-case form
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    body_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the sorted form fields, csrf_token left out
    status_code: Mapped[int | None]
    body: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
