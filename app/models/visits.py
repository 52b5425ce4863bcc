"""The showroom traffic log (展厅客流登记): every walk-in, from arrival to leaving."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.leads import Lead
from app.models.types import UTCDateTime, utcnow
from app.models.users import User


class ShowroomVisit(db.Model):
    """One party's visit to the showroom; open until its leave time is recorded."""

    __tablename__ = "showroom_visits"
    __table_args__ = (
        Index("ix_showroom_visits_dealer_arrived", "dealer_id", "arrived_at"),
        Index("ix_showroom_visits_open", "dealer_id", postgresql_where=text("left_at IS NULL"),
              sqlite_where=text("left_at IS NULL")),
        Index("ix_showroom_visits_lead", "lead_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    consultant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    first_visit: Mapped[bool] = mapped_column(default=True)
    party_size: Mapped[int] = mapped_column(default=1)
    test_drive: Mapped[bool] = mapped_column(default=False)
    wechat_added: Mapped[bool] = mapped_column(default=False)
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lead: Mapped[Lead] = relationship()
    consultant: Mapped[User] = relationship(foreign_keys=[consultant_id])
