"""Cadence arithmetic: intervals per intent level, working days and hours, in each dealer's time zone."""
from datetime import datetime, time

import pytest
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import CadencePolicy, IntentLevel
from app.services import cadence
from tests import factories

SHANGHAI = "+08:00"


def at(text: str, zone: str = SHANGHAI) -> datetime:
    return datetime.fromisoformat(text + zone)


@pytest.fixture
def dealer(world):
    return world.one.dealer


def test_defaults_follow_the_oems_rule(dealer):
    policy = cadence.policy_for(dealer)
    monday_afternoon = at("2026-11-23T14:30:00")
    expected = {IntentLevel.H: "2026-11-25", IntentLevel.A: "2026-11-30", IntentLevel.B: "2026-12-07",
                IntentLevel.C: "2026-12-23", IntentLevel.O: "2026-11-30"}
    for level, day in expected.items():
        assert cadence.next_follow_up(policy, level, monday_afternoon) == at(f"{day}T14:30:00")


def test_a_dealers_own_rhythm_wins(dealer):
    db.session.add(CadencePolicy(dealer_id=dealer.id, h_days=3, a_days=15))
    db.session.commit()
    policy = cadence.policy_for(dealer)
    assert cadence.next_follow_up(policy, IntentLevel.H, at("2026-11-23T10:00:00")) == at("2026-11-26T10:00:00")
    assert cadence.next_follow_up(policy, IntentLevel.B, at("2026-11-23T10:00:00")) == at("2026-12-07T10:00:00")


@pytest.mark.parametrize(("contact", "due"), [
    ("2026-11-23T20:15:00", "2026-11-26T09:00:00"),  # logged after hours: next morning after the interval
    ("2026-11-23T07:40:00", "2026-11-25T09:00:00"),  # before opening: the interval's day at opening
    ("2026-11-27T11:00:00", "2026-11-30T09:00:00"),  # Friday + 2 is Sunday, a rest day: Monday's opening
])
def test_due_times_fall_in_working_days_and_hours(dealer, contact, due):
    db.session.add(CadencePolicy(dealer_id=dealer.id, working_days=frozenset(range(1, 7)), day_starts=time(9),
                                 day_ends=time(18)))
    db.session.commit()
    policy = cadence.policy_for(dealer)
    assert cadence.next_follow_up(policy, IntentLevel.H, at(contact)) == at(due)


def test_each_dealer_counts_in_its_own_time_zone(world):
    urumqi = factories.make_dealer(factories.make_region(world.oem), time_zone="Asia/Urumqi", city="Urumqi")
    policy = cadence.policy_for(urumqi)
    # 08:30 in Shanghai is 06:30 in Urumqi: before the dealer opens, so 09:00 Urumqi time (11:00 in Shanghai).
    due = cadence.next_follow_up(policy, IntentLevel.H, at("2026-11-23T08:30:00"))
    assert due == at("2026-11-25T09:00:00", "+06:00")
    start, end = cadence.local_day(policy, at("2026-11-23T01:00:00"))  # still 22 November in Urumqi
    assert start == at("2026-11-22T00:00:00", "+06:00") and end == at("2026-11-23T00:00:00", "+06:00")


def test_quick_picks_offer_cadence_tomorrow_three_days_and_next_week(dealer):
    policy = cadence.policy_for(dealer)
    picks = dict(cadence.quick_picks(policy, IntentLevel.A, at("2026-11-23T15:00:00")))
    assert picks == {"cadence": at("2026-11-30T15:00:00"), "tomorrow": at("2026-11-24T15:00:00"),
                     "three_days": at("2026-11-26T15:00:00"), "next_week": at("2026-11-30T15:00:00")}


def test_a_missed_appointment_is_rescheduled_for_the_next_working_day(dealer):
    db.session.add(CadencePolicy(dealer_id=dealer.id, working_days=frozenset(range(1, 6))))
    db.session.commit()
    policy = cadence.policy_for(dealer)
    assert cadence.next_working_day_start(policy, at("2026-11-27T16:00:00")) == at("2026-11-30T09:00:00")


def test_the_database_refuses_a_day_without_hours(dealer):
    db.session.add(CadencePolicy(dealer_id=dealer.id, day_starts=time(18), day_ends=time(9)))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
