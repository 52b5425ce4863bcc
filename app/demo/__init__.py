"""Demo data: a believable brand with its dealers, people, leads and histories (`flask --app app demo`).

generate.run() writes it; this module holds what its parts share: the clock and the brand's shape.
"""
from dataclasses import dataclass
from datetime import datetime, timezone

MINUTE, HOUR, DAY = 60, 3600, 86400


@dataclass
class DealerStaff:
    """A dealer as the lead stories need it: its people's ids and its clock."""

    id: int
    city: str
    utc_offset: int  # seconds; China has no summer time, so one offset holds for the whole history
    today_start: float  # local midnight of today, as epoch seconds
    manager_id: int
    consultant_ids: list[int]


@dataclass
class Brand:
    """The organisation generate.run() wrote, which the lead stories fill with leads."""

    oem_id: int
    now: float  # epoch seconds: every timestamp derives from this one reading of the clock
    dealers: list[DealerStaff]
    idcc_ids: list[int]
    fixed_consultant_id: int


def dt(ts: float) -> datetime:
    """An aware UTC datetime from epoch seconds (the UTCDateTime columns refuse naive ones)."""
    return datetime.fromtimestamp(ts, timezone.utc)


def office(ts: float, utc_offset: int) -> float:
    """Squeeze a local day's 24 hours into 08:30–21:00 of that day: people work by day, and order is kept."""
    local = (ts + utc_offset) % DAY
    return ts - local + 8.5 * HOUR + local * (12.5 / 24)
