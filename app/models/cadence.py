"""A dealer's follow-up rhythm (cadence) and working time; defaults apply where a dealer has set none."""
from datetime import time

from sqlalchemy import CheckConstraint, ForeignKey, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

# The OEM's default rhythm (DOMAIN.md, "one brand's rule"): days between follow-ups per intent level.
DEFAULT_DAYS = {"H": 2, "A": 7, "B": 14, "C": 30, "O": 7}


class Cadence(db.Model):
    """How often a dealer follows up each intent level, on which days and between which hours it works."""

    __tablename__ = "cadences"
    __table_args__ = (
        CheckConstraint("h_days BETWEEN 1 AND 365 AND a_days BETWEEN 1 AND 365 AND b_days BETWEEN 1 AND 365"
                        " AND c_days BETWEEN 1 AND 365 AND o_days BETWEEN 1 AND 365", name="days_in_range"),
        CheckConstraint("day_starts < day_ends", name="day_has_hours"),
        CheckConstraint("first_contact_minutes BETWEEN 1 AND 1440 AND return_after_hours BETWEEN 1 AND 720"
                        " AND recycle_days BETWEEN 1 AND 365", name="limits_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"), unique=True)
    h_days: Mapped[int] = mapped_column(default=DEFAULT_DAYS["H"])
    a_days: Mapped[int] = mapped_column(default=DEFAULT_DAYS["A"])
    b_days: Mapped[int] = mapped_column(default=DEFAULT_DAYS["B"])
    c_days: Mapped[int] = mapped_column(default=DEFAULT_DAYS["C"])
    o_days: Mapped[int] = mapped_column(default=DEFAULT_DAYS["O"])
    # ISO weekdays the dealer follows up on, "1234567" = every day (4S stores are busiest at weekends).
    working_days: Mapped[str] = mapped_column(String(7), default="1234567")
    day_starts: Mapped[time] = mapped_column(Time, default=time(9, 0))
    day_ends: Mapped[time] = mapped_column(Time, default=time(18, 0))
    # The first-contact clock: minutes of working time to the first call, then calendar hours until an
    # uncontacted lead goes back to the pool; days without any touch before an open lead is recycled.
    first_contact_minutes: Mapped[int] = mapped_column(default=30)
    return_after_hours: Mapped[int] = mapped_column(default=24, server_default="24")
    recycle_days: Mapped[int] = mapped_column(default=14, server_default="14")
