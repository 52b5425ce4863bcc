"""People who sign in: consultants and managers of a dealer, IDCC agents and OEM admins of the brand."""
import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.org import Dealer, Oem
from app.models.types import UTCDateTime, enum_column, utcnow


class Role(enum.StrEnum):
    CONSULTANT = "consultant"
    MANAGER = "manager"
    IDCC_AGENT = "idcc_agent"
    OEM_ADMIN = "oem_admin"

    @property
    def belongs_to_dealer(self) -> bool:
        return self in (Role.CONSULTANT, Role.MANAGER)


class User(UserMixin, db.Model):
    """A user account. Dealer roles carry a dealer; brand roles (IDCC, OEM admin) do not."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role IN ('consultant', 'manager')) = (dealer_id IS NOT NULL)", name="dealer_matches_role"
        ),
        CheckConstraint("email IS NOT NULL OR phone_e164 IS NOT NULL", name="has_sign_in_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    oem_id: Mapped[int] = mapped_column(ForeignKey("oems.id"), index=True)
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    name: Mapped[str] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone_e164: Mapped[str | None] = mapped_column(String(16), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # Bumped on password change or reset and on "sign out on all devices": it is part of the session id, so
    # older sessions (and remember-me cookies) stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    locale: Mapped[str | None] = mapped_column(String(10))
    # Round robin: only consultants on shift receive leads, in proportion to their weight; `rotation_count`
    # is how many leads the rotation has given them (see app.services.routing).
    on_shift: Mapped[bool] = mapped_column(default=True, server_default=true())
    routing_weight: Mapped[int] = mapped_column(default=1, server_default="1")
    rotation_count: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_digest_on: Mapped[date | None]  # the dealer's day of the last morning digest ("7 follow-ups today")
    # Lockout (app.services.accounts.authenticate): failed sign-ins counted from the first one in the current
    # window; enough of them lock the account until `locked_until`, even against the right password.
    failed_sign_ins: Mapped[int] = mapped_column(default=0, server_default="0")
    failed_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    oem: Mapped[Oem] = relationship()
    dealer: Mapped[Dealer | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """The session id names the account and its session version (see app.services.accounts)."""
        return f"{self.id}.{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
