"""Reporting periods: local days in the dealer's zone, and the like-for-like period each is compared with."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from app.services.periods import PeriodError, PeriodKind, period

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Wednesday 10 December 2025, 00:30 in Shanghai (16:30 UTC the day before).
NOW = datetime(2025, 12, 9, 16, 30, tzinfo=timezone.utc)


def test_today_is_the_local_day_with_local_midnights_as_bounds():
    today = period("today", SHANGHAI, NOW)

    assert (today.kind, today.first, today.last) == (PeriodKind.TODAY, date(2025, 12, 10), date(2025, 12, 10))
    assert today.start == datetime(2025, 12, 9, 16, 0, tzinfo=timezone.utc)
    assert today.end == datetime(2025, 12, 10, 16, 0, tzinfo=timezone.utc)
    assert today.previous().first == date(2025, 12, 9)
    assert today.day_of(datetime(2025, 12, 9, 15, 59, tzinfo=timezone.utc)) == date(2025, 12, 9)
    assert today.day_of(datetime(2025, 12, 9, 16, 0, tzinfo=timezone.utc)) == date(2025, 12, 10)


def test_no_kind_means_today():
    assert period(None, SHANGHAI, NOW).kind is PeriodKind.TODAY


def test_this_week_runs_from_monday_to_today_against_the_same_days_a_week_before():
    week = period("week", SHANGHAI, NOW)

    assert (week.first, week.last) == (date(2025, 12, 8), date(2025, 12, 10))
    before = week.previous()
    assert (before.first, before.last) == (date(2025, 12, 1), date(2025, 12, 3))
    assert len(week.days) == 3


def test_this_month_runs_to_today_against_the_same_days_of_the_month_before():
    month = period("month", SHANGHAI, datetime(2026, 3, 31, 4, 0, tzinfo=timezone.utc))

    assert (month.first, month.last) == (date(2026, 3, 1), date(2026, 3, 31))
    before = month.previous()
    assert (before.first, before.last) == (date(2026, 2, 1), date(2026, 2, 28))  # February has no 31st
    january = period("month", SHANGHAI, datetime(2026, 1, 15, 4, 0, tzinfo=timezone.utc)).previous()
    assert (january.first, january.last) == (date(2025, 12, 1), date(2025, 12, 15))


def test_chosen_days_are_compared_with_as_many_days_just_before():
    chosen = period("custom", SHANGHAI, NOW, "2025-11-01", "2025-11-10")

    assert (chosen.first, chosen.last, len(chosen.days)) == (date(2025, 11, 1), date(2025, 11, 10), 10)
    before = chosen.previous()
    assert (before.first, before.last) == (date(2025, 10, 22), date(2025, 10, 31))
    assert chosen.query == {"period": "custom", "from": "2025-11-01", "to": "2025-11-10"}
    assert period("week", SHANGHAI, NOW).query == {"period": "week"}


@pytest.mark.parametrize(("kind", "first", "last", "field"), [
    ("yearly", None, None, "period"),
    ("custom", "2025-11-10", "2025-11-01", "to"),
    ("custom", "2024-01-01", "2025-11-01", "to"),
    ("custom", "soon", "2025-11-01", "from"),
    ("custom", None, None, "from"),
])
def test_unusable_periods_are_refused_with_the_field_to_fix(kind, first, last, field):
    with pytest.raises(PeriodError) as refused:
        period(kind, SHANGHAI, NOW, first, last)
    assert refused.value.field == field and str(refused.value)


def test_a_zone_west_of_utc_has_its_own_days():
    chicago = period("today", ZoneInfo("America/Chicago"), NOW)
    assert chicago.first == date(2025, 12, 9)
    assert chicago.start == datetime(2025, 12, 9, 6, 0, tzinfo=timezone.utc)
