"""Cadence policies: the follow-up rhythm and working time at three levels, each inheriting from the one above.

A policy row belongs to exactly one level: the brand's default (oem_id), a region's override (region_id) or a
dealer's override (dealer_id). Every setting column is nullable: NULL means "inherit" from the level above
(dealer → region → brand → BUILT_IN below). app.services.cadence resolves the chain.

"No daily digest" is `digest_off` true (then digest_at stays NULL); a level with neither a digest time nor
digest_off inherits the digest. The stop conditions are a comma-separated set of StopCondition codes (an empty
string: stop on none of them).
"""
import enum
from datetime import time

from sqlalchemy import CheckConstraint, ForeignKey, String, Time, false
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

# The OEM's default rhythm (DOMAIN.md, "one brand's rule"): days between follow-ups per intent level.
DEFAULT_DAYS = {"H": 2, "A": 7, "B": 14, "C": 30, "O": 7}


class StopCondition(enum.StrEnum):
    """When a lead gets no next follow-up any more."""

    WON = "won"  # delivered
    LOST = "lost"  # closed as lost or invalid
    OPTED_OUT = "opted_out"  # the customer withdrew their consent to calls


class Digest(enum.Enum):
    """The one digest value that is not a time of day."""

    OFF = "off"


# Every setting a level may set or inherit, and its built-in default: what applies where no level set it.
# working_days are ISO weekdays ("1234567" = every day: 4S stores are busiest at weekends); the first-contact
# clock gives minutes of working time to the first call, then calendar hours until an uncontacted lead goes
# back to its pool; recycle_days without any touch before an open lead is recycled.
BUILT_IN = {
    **{f"{level.lower()}_days": days for level, days in DEFAULT_DAYS.items()},
    "working_days": frozenset(range(1, 8)),
    "day_starts": time(9, 0),
    "day_ends": time(18, 0),
    "quiet_starts": time(21, 0),
    "quiet_ends": time(9, 0),
    "digest_at": time(8, 30),
    "first_contact_minutes": 30,
    "return_after_hours": 24,
    "recycle_days": 14,
    "stop_on": frozenset(StopCondition),
}
SETTINGS = tuple(BUILT_IN)


class CadencePolicy(db.Model):
    """One level's own settings (NULL = inherited), as the module describes."""

    __tablename__ = "cadence_policies"
    __table_args__ = (
        CheckConstraint("(CASE WHEN oem_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN region_id IS NULL THEN 0 ELSE 1"
                        " END) + (CASE WHEN dealer_id IS NULL THEN 0 ELSE 1 END) = 1", name="one_level"),
        # A NULL (inherited) value passes a CHECK: only the values a level sets are tested.
        CheckConstraint("h_days BETWEEN 1 AND 365 AND a_days BETWEEN 1 AND 365 AND b_days BETWEEN 1 AND 365"
                        " AND c_days BETWEEN 1 AND 365 AND o_days BETWEEN 1 AND 365", name="days_in_range"),
        CheckConstraint("working_days <> ''", name="some_working_day"),
        CheckConstraint("day_starts < day_ends", name="day_has_hours"),
        CheckConstraint("quiet_starts <> quiet_ends", name="quiet_hours_differ"),
        CheckConstraint("digest_at IS NULL OR NOT digest_off", name="digest_time_or_off"),
        CheckConstraint("first_contact_minutes BETWEEN 1 AND 1440 AND return_after_hours BETWEEN 1 AND 720"
                        " AND recycle_days BETWEEN 1 AND 365", name="limits_in_range"),
        CheckConstraint("return_after_hours * 60 > first_contact_minutes", name="return_after_first_call"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    oem_id: Mapped[int | None] = mapped_column(ForeignKey("oems.id"), unique=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), unique=True)
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id"), unique=True)
    h_days: Mapped[int | None]
    a_days: Mapped[int | None]
    b_days: Mapped[int | None]
    c_days: Mapped[int | None]
    o_days: Mapped[int | None]
    working_days_codes: Mapped[str | None] = mapped_column("working_days", String(7))
    day_starts: Mapped[time | None] = mapped_column(Time)
    day_ends: Mapped[time | None] = mapped_column(Time)
    quiet_starts: Mapped[time | None] = mapped_column(Time)  # no reminders from then (may span midnight) ...
    quiet_ends: Mapped[time | None] = mapped_column(Time)  # ... until then, in the dealer's time zone
    digest_time: Mapped[time | None] = mapped_column("digest_at", Time)
    digest_off: Mapped[bool] = mapped_column(default=False, server_default=false())
    first_contact_minutes: Mapped[int | None]
    return_after_hours: Mapped[int | None]
    recycle_days: Mapped[int | None]
    stop_on_codes: Mapped[str | None] = mapped_column("stop_on", String(40))

    @property
    def working_days(self) -> frozenset[int] | None:
        codes = self.working_days_codes
        return None if codes is None else frozenset(int(day) for day in codes)

    @working_days.setter
    def working_days(self, days: frozenset[int] | None) -> None:
        self.working_days_codes = None if days is None else "".join(str(day) for day in sorted(days))

    @property
    def digest_at(self) -> time | Digest | None:
        """The level's digest time, Digest.OFF, or None (inherited)."""
        return Digest.OFF if self.digest_off else self.digest_time

    @digest_at.setter
    def digest_at(self, value: time | Digest | None) -> None:
        self.digest_off = value is Digest.OFF
        self.digest_time = None if value is Digest.OFF else value

    @property
    def stop_on(self) -> frozenset[StopCondition] | None:
        codes = self.stop_on_codes
        return None if codes is None else frozenset(StopCondition(code) for code in codes.split(",") if code)

    @stop_on.setter
    def stop_on(self, conditions: frozenset[StopCondition] | None) -> None:
        self.stop_on_codes = None if conditions is None else ",".join(sorted(c.value for c in conditions))

    def own(self) -> dict:
        """The settings this level sets itself (inherited ones left out)."""
        return {name: value for name in SETTINGS if (value := getattr(self, name)) is not None}
