"""Cadence: when the next follow-up of a lead falls due, by the dealer's rhythm and working time.

How a due time is computed (`next_follow_up`):
1. Take the moment of the contact in the dealer's time zone.
2. Add the dealer's interval for the lead's intent level in calendar days, keeping the wall-clock time
   (a call at 14:30 on Monday with "H every 2 days" gives Wednesday 14:30).
3. Move the result into working time (`into_working_time`): before the day starts → that day's start; after the
   day ends → the next working day's start; on a day the dealer does not follow up → the next working day.
A dealer without its own cadence row follows the defaults in app.models.cadence (H 2, A 7, B 14, C 30, O 7 days,
every day 09:00–18:00, first contact within 30 minutes).
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.extensions import db
from app.models import DEFAULT_DAYS, Cadence, Dealer, IntentLevel


@dataclass(frozen=True)
class Policy:
    """A dealer's rhythm, resolved: what the cadence functions need and nothing more."""

    days: dict[str, int]
    working_days: frozenset[int]
    day_starts: time
    day_ends: time
    first_contact_minutes: int
    zone: ZoneInfo
    return_after_hours: int = 24
    recycle_days: int = 14
    # No reminders between quiet_starts and quiet_ends (it may span midnight); the morning digest at digest_at.
    quiet_starts: time | None = time(21, 0)
    quiet_ends: time | None = time(9, 0)
    digest_at: time | None = time(8, 30)

    def interval(self, level: IntentLevel) -> timedelta:
        return timedelta(days=self.days[level.value])


def policy_for(dealer: Dealer) -> Policy:
    """The dealer's own cadence, or the defaults where it has none."""
    row = db.session.scalar(select(Cadence).where(Cadence.dealer_id == dealer.id)) or Cadence()
    days = {level: getattr(row, f"{level.lower()}_days") or DEFAULT_DAYS[level] for level in DEFAULT_DAYS}
    return Policy(
        days=days,
        working_days=frozenset(int(d) for d in (row.working_days or "1234567")),
        day_starts=row.day_starts or time(9, 0),
        day_ends=row.day_ends or time(18, 0),
        first_contact_minutes=row.first_contact_minutes or 30,
        zone=ZoneInfo(dealer.time_zone),
        return_after_hours=row.return_after_hours or 24,
        recycle_days=row.recycle_days or 14,
    )


def into_working_time(policy: Policy, moment: datetime) -> datetime:
    """The first moment at or after `moment` inside the dealer's working hours on a working day (UTC)."""
    local = moment.astimezone(policy.zone)
    for offset in range(8):  # a week and a day reach the next working day, whichever it is
        day = local.date() + timedelta(days=offset)
        if day.isoweekday() not in policy.working_days:
            continue
        if offset > 0 or local.time() < policy.day_starts:
            return _at(policy, day, policy.day_starts)
        if local.time() <= policy.day_ends:
            return local.astimezone(timezone.utc)
    raise ValueError("a cadence needs at least one working day")


def next_follow_up(policy: Policy, level: IntentLevel, after: datetime) -> datetime:
    """When to follow up a lead of this intent level next, counted from `after` (see the module's steps)."""
    local = after.astimezone(policy.zone)
    return into_working_time(policy, _at(policy, local.date() + policy.interval(level), local.time()))


def add_working_minutes(policy: Policy, start: datetime, minutes: int) -> datetime:
    """The moment `minutes` of the dealer's working time after `start` (time outside working hours and days
    does not count): a lead arriving at 20:00 with a 30-minute limit is due at 09:30 on the next working day."""
    moment, remaining = into_working_time(policy, start), timedelta(minutes=minutes)
    while True:
        day_ends = _at(policy, moment.astimezone(policy.zone).date(), policy.day_ends)
        if moment + remaining <= day_ends:
            return moment + remaining
        remaining -= day_ends - moment
        moment = into_working_time(policy, day_ends + timedelta(microseconds=1))


def next_working_day_start(policy: Policy, after: datetime) -> datetime:
    """The start of the next working day after `after`: where a missed appointment's reschedule call goes."""
    local = after.astimezone(policy.zone)
    return into_working_time(policy, _at(policy, local.date() + timedelta(days=1), time(0, 0)))


def quick_picks(policy: Policy, level: IntentLevel, now: datetime) -> list[tuple[str, datetime]]:
    """The one-tap choices for the next follow-up: the cadence's date first, then tomorrow, +3 days, next week."""
    local = now.astimezone(policy.zone)

    def later(days: int) -> datetime:
        return into_working_time(policy, _at(policy, local.date() + timedelta(days=days), local.time()))

    return [("cadence", next_follow_up(policy, level, now)), ("tomorrow", later(1)), ("three_days", later(3)),
            ("next_week", later(7))]


def local_day(policy: Policy, now: datetime) -> tuple[datetime, datetime]:
    """The start and end (UTC) of the dealer's calendar day containing `now`: what "today" means there."""
    day = now.astimezone(policy.zone).date()
    return _at(policy, day, time(0, 0)), _at(policy, day + timedelta(days=1), time(0, 0))


def _at(policy: Policy, day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=policy.zone).astimezone(timezone.utc)
