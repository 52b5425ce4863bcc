"""Customers: one row per person and brand, found by normalised mobile number, with consent records."""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow
from app.models.users import User


class Channel(enum.StrEnum):
    CALL = "call"
    SMS = "sms"
    WECHAT = "wechat"
    EMAIL = "email"


class ConsentState(enum.StrEnum):
    """A customer's current word on a channel: its latest consent record's, or none at all."""

    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    NOT_RECORDED = "not_recorded"


class ConsentMethod(enum.StrEnum):
    WALK_IN_FORM = "walk_in_form"
    PHONE = "phone"
    PORTAL = "portal"
    WEB_FORM = "web_form"
    IMPORT = "import"


class Customer(db.Model):
    """A person who may buy a car. Never two rows for one mobile number within a brand."""

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("oem_id", "phone_e164"),
        Index("ix_customers_oem_name", "oem_id", "name"),  # search by the start of a name
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    oem_id: Mapped[int] = mapped_column(ForeignKey("oems.id"))
    name: Mapped[str] = mapped_column(String(80))
    phone_e164: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(254))
    wechat_id: Mapped[str | None] = mapped_column(String(64))
    city: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Erased on the customer's request (app.services.erasure): personal data replaced, the row and its leads
    # kept so the dealer's counts stay true; an erased customer is never found by phone again.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    consents: Mapped[list["ConsentRecord"]] = relationship(
        back_populates="customer", order_by="ConsentRecord.recorded_at.desc()",
        cascade="all, delete-orphan", passive_deletes=True,
    )

    @property
    def latest_consents(self) -> dict[Channel, "ConsentRecord"]:
        """Each channel's latest consent record, the customer's current word on it: a later record wins (a
        withdrawal over an earlier yes, a new yes over a withdrawal); one not yet saved counts as the latest.
        What that word allows is app.services.consent's to say."""
        latest: dict[Channel, ConsentRecord] = {}
        for record in self.consents:
            current = latest.get(record.channel)
            if current is None or record.order_key > current.order_key:
                latest[record.channel] = record
        return latest

    @property
    def consented_channels(self) -> list[Channel]:
        """Channels whose latest consent record is a yes."""
        latest = self.latest_consents
        return [channel for channel in Channel if channel in latest and latest[channel].granted]


class ConsentRecord(db.Model):
    """That a customer agreed (or withdrew) to be contacted on a channel: when, how and from which source."""

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_customer_channel", "customer_id", "channel", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    granted: Mapped[bool]
    method: Mapped[ConsentMethod] = mapped_column(enum_column(ConsentMethod))
    source: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    customer: Mapped[Customer] = relationship(back_populates="consents")
    recorded_by: Mapped[User | None] = relationship()

    @property
    def order_key(self) -> tuple:
        """Orders one customer's records in time; the id breaks a tie, and a record not yet saved is the latest."""
        return (self.recorded_at or utcnow(), self.id if self.id is not None else float("inf"))
