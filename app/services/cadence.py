"""Cadence: which follow-up rhythm applies to a dealer, and when the next follow-up of a lead falls due.

Which rhythm applies (`policy_for`): setting by setting, the dealer's own value, else its region's, else the
brand's default, else the built-in default (app.models.cadence: BUILT_IN, with H 2, A 7, B 14, C 30, O 7 days,
every day 09:00–18:00, first contact within 30 minutes). The three levels are read in one query (`levels`);
`policies_for` resolves many dealers with two, `PolicyTree` holds a level with everything above and below it
(what a change reaches), and `setting_by_dealer` resolves one setting for every dealer in SQL. The dealer's
time zone is its own (Dealer.time_zone), never inherited.

How a due time is computed (`next_follow_up`):
1. Take the moment of the contact in the dealer's time zone.
2. Add the dealer's interval for the lead's intent level in calendar days, keeping the wall-clock time
   (a call at 14:30 on Monday with "H every 2 days" gives Wednesday 14:30).
3. Move the result into working time (`into_working_time`): before the day starts → that day's start; after the
   day ends → the next working day's start; on a day the dealer does not follow up → the next working day.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import BUILT_IN, DEFAULT_DAYS, CadencePolicy, Dealer, Digest, IntentLevel, Oem, Region, StopCondition

LEVELS = ("dealer", "region", "oem")  # the levels of a policy, most specific first


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
    # No reminders between quiet_starts and quiet_ends (it may span midnight); the morning digest at digest_at
    # (None: the dealer sends no digest).
    quiet_starts: time | None = time(21, 0)
    quiet_ends: time | None = time(9, 0)
    digest_at: time | None = time(8, 30)
    # A lead that meets one of these gets no next follow-up (app.services.follow_ups.stopped).
    stop_on: frozenset[StopCondition] = field(default_factory=lambda: frozenset(StopCondition))

    def interval(self, level: IntentLevel) -> timedelta:
        return timedelta(days=self.days[level.value])


def policy_for(dealer: Dealer) -> Policy:
    """The dealer's rhythm, inherited setting by setting as the module describes (one query)."""
    return resolved_policy(merge(levels(dealer)), dealer.time_zone)


def policies_for(dealers) -> dict[int, Policy]:
    """The rhythm of each of these dealers (dealer id → Policy), in two queries however many dealers."""
    dealers = list(dealers)
    brand_of = dict(db.session.execute(select(Region.id, Region.oem_id).where(
        Region.id.in_({dealer.region_id for dealer in dealers}))).all())
    rows = db.session.scalars(select(CadencePolicy).where(or_(
        CadencePolicy.dealer_id.in_({dealer.id for dealer in dealers}), CadencePolicy.region_id.in_(brand_of),
        CadencePolicy.oem_id.in_(set(brand_of.values())))))
    by_level = {level_key(row): row for row in rows}
    return {dealer.id: resolved_policy(merge(by_level.get(key) for key in (
        ("dealer", dealer.id), ("region", dealer.region_id), ("oem", brand_of[dealer.region_id]))), dealer.time_zone)
        for dealer in dealers}


def levels(owner: Oem | Region | Dealer) -> list[CadencePolicy]:
    """The policy rows that apply to a dealer, a region or a brand, most specific first (one query)."""
    if isinstance(owner, Dealer):
        brand = select(Region.oem_id).where(Region.id == owner.region_id).scalar_subquery()
        applies = or_(CadencePolicy.dealer_id == owner.id, CadencePolicy.region_id == owner.region_id,
                      CadencePolicy.oem_id == brand)
    elif isinstance(owner, Region):
        applies = or_(CadencePolicy.region_id == owner.id, CadencePolicy.oem_id == owner.oem_id)
    else:
        applies = CadencePolicy.oem_id == owner.id
    rows = db.session.scalars(select(CadencePolicy).where(applies))
    return sorted(rows, key=lambda row: LEVELS.index(level_key(row)[0]))


def owner_key(owner: Oem | Region | Dealer) -> tuple[str, int]:
    """("oem" | "region" | "dealer", id): the level a brand, region or dealer owns."""
    return {Oem: "oem", Region: "region", Dealer: "dealer"}[type(owner)], owner.id


def level_key(row: CadencePolicy) -> tuple[str, int]:
    """("dealer" | "region" | "oem", id): the level a policy row belongs to."""
    if row.dealer_id is not None:
        return "dealer", row.dealer_id
    if row.region_id is not None:
        return "region", row.region_id
    return "oem", row.oem_id


def merge(rows) -> dict[str, tuple[object, CadencePolicy | None]]:
    """Each setting's value and the row it comes from (None: built in): the first row that sets it.

    :param rows: policy rows, most specific first; None for a level without a row.
    """
    found = {}
    for row in rows:
        if row is not None:
            for name, value in row.own().items():
                found.setdefault(name, (value, row))
    return {name: found.get(name, (default, None)) for name, default in BUILT_IN.items()}


def resolved_policy(merged: dict, zone: str) -> Policy:
    """The Policy of merged settings (as `merge` gives them) in a time zone."""
    value = {name: setting[0] for name, setting in merged.items()}
    return Policy(
        days={level: value[f"{level.lower()}_days"] for level in DEFAULT_DAYS},
        working_days=value["working_days"], day_starts=value["day_starts"], day_ends=value["day_ends"],
        first_contact_minutes=value["first_contact_minutes"], zone=ZoneInfo(zone),
        return_after_hours=value["return_after_hours"], recycle_days=value["recycle_days"],
        quiet_starts=value["quiet_starts"], quiet_ends=value["quiet_ends"],
        digest_at=None if value["digest_at"] is Digest.OFF else value["digest_at"], stop_on=value["stop_on"],
    )


@dataclass(frozen=True)
class PolicyTree:
    """A level with the levels above it and every level below it: their policy rows by level, and the regions
    and dealers it governs."""

    brand_id: int
    regions: list[Region]
    dealers: list[Dealer]
    rows: dict[tuple[str, int], CadencePolicy]

    @classmethod
    def of(cls, owner: Oem | Region | Dealer) -> "PolicyTree":
        if isinstance(owner, Oem):
            brand_id, regions = owner.id, list(owner.regions)
            dealers = list(db.session.scalars(select(Dealer).join(Region).where(Region.oem_id == owner.id)
                                              .order_by(Dealer.code)))
        elif isinstance(owner, Region):
            brand_id, regions, dealers = owner.oem_id, [owner], list(owner.dealers)
        else:
            brand_id, regions, dealers = owner.oem_id, [], [owner]
        rows = db.session.scalars(select(CadencePolicy).where(or_(
            CadencePolicy.oem_id == brand_id,
            CadencePolicy.region_id.in_({region.id for region in regions} | {d.region_id for d in dealers}),
            CadencePolicy.dealer_id.in_({dealer.id for dealer in dealers}))))
        return cls(brand_id, regions, dealers, {level_key(row): row for row in rows})

    def chain(self, level: Oem | Region | Dealer) -> list[CadencePolicy | None]:
        """The rows that apply to the brand, a region or a dealer of the tree, most specific first (None for a
        level without a row)."""
        keys = [("oem", self.brand_id)]
        if isinstance(level, Region):
            keys = [("region", level.id), *keys]
        elif isinstance(level, Dealer):
            keys = [("dealer", level.id), ("region", level.region_id), *keys]
        return [self.rows.get(key) for key in keys]


def setting_by_dealer(name: str) -> Select:
    """select(dealer id, value) of one setting for every dealer, inherited in SQL: one query at any number of
    dealers. Only for settings stored as a plain column of the same name (the day counts and limits)."""
    mine, region, brand = (aliased(CadencePolicy) for _level in LEVELS)
    return (select(Dealer.id, func.coalesce(getattr(mine, name), getattr(region, name), getattr(brand, name),
                                            BUILT_IN[name]))
            .join(Region, Region.id == Dealer.region_id)
            .outerjoin(mine, mine.dealer_id == Dealer.id)
            .outerjoin(region, region.region_id == Dealer.region_id)
            .outerjoin(brand, brand.oem_id == Region.oem_id))


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
