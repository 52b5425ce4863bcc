"""Reporting periods, in days of a dealer's (or the brand's) time zone: today, this week, this month, or days of
one's choosing, each compared with the period before it, like for like.

"This week" and "this month" run to today, and the period before them covers the same days of the previous week
or month (Monday to Wednesday against Monday to Wednesday; 1 to 10 March against 1 to 10 February), so a
comparison on the 10th is not against a whole month. A chosen range is compared with as many days just before it.
Boundaries are local midnights: a lead that arrives at 23:30 in Guangzhou on the 31st belongs to the 31st.
"""
import calendar
import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from app.services import FieldError

LONGEST = 366  # days in a chosen range


class PeriodKind(enum.StrEnum):
    TODAY = "today"
    WEEK = "week"
    MONTH = "month"
    CUSTOM = "custom"


class PeriodError(FieldError):
    """A chosen range that cannot be used; the message is for the manager."""


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    first: date  # the first day, in the zone
    last: date  # the last day, included
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        """The first day's local midnight, in UTC."""
        return _midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The local midnight after the last day, in UTC: periods are half-open, [start, end)."""
        return _midnight(self.last + timedelta(days=1), self.zone)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def day_of(self, moment: datetime) -> date:
        """The local day a moment falls on."""
        return moment.astimezone(self.zone).date()

    def previous(self) -> "Period":
        """The period it is compared with: the same days of the week or month before, else as many days just
        before it."""
        if self.kind is PeriodKind.WEEK:
            return Period(self.kind, self.first - timedelta(days=7), self.last - timedelta(days=7), self.zone)
        if self.kind is PeriodKind.MONTH:
            first = _month_before(self.first)
            last = first.replace(day=min(self.last.day, calendar.monthrange(first.year, first.month)[1]))
            return Period(self.kind, first, last, self.zone)
        length = (self.last - self.first).days + 1
        return Period(self.kind, self.first - timedelta(days=length), self.first - timedelta(days=1), self.zone)

    @property
    def query(self) -> dict[str, str]:
        """The period as query arguments, for links that keep it (a drill-down, an export)."""
        if self.kind is PeriodKind.CUSTOM:
            return {"period": self.kind.value, "from": self.first.isoformat(), "to": self.last.isoformat()}
        return {"period": self.kind.value}


def period(kind: str | None, zone: ZoneInfo, now: datetime, first: str | None = None,
           last: str | None = None) -> Period:
    """The period asked for (today when none is), as of `now` in the zone.

    :raise PeriodError: for an unknown kind, or a chosen range that is unreadable, reversed or over a year.
    """
    today = now.astimezone(zone).date()
    try:
        chosen = PeriodKind(kind or PeriodKind.TODAY)
    except ValueError:
        raise PeriodError("period", _l("Choose today, this week, this month or your own days.")) from None
    if chosen is PeriodKind.TODAY:
        return Period(chosen, today, today, zone)
    if chosen is PeriodKind.WEEK:
        return Period(chosen, today - timedelta(days=today.weekday()), today, zone)
    if chosen is PeriodKind.MONTH:
        return Period(chosen, today.replace(day=1), today, zone)
    try:
        start, end = date.fromisoformat(first or ""), date.fromisoformat(last or "")
    except ValueError:
        raise PeriodError("from", _l("Enter the first and the last day.")) from None
    if end < start:
        raise PeriodError("to", _l("The last day comes before the first."))
    if (end - start).days + 1 > LONGEST:
        raise PeriodError("to", _l("Choose at most a year of days."))
    return Period(chosen, start, end, zone)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)


def _month_before(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)
