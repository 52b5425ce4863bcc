"""Reminders the worker writes: follow-ups due, appointments within the hour, the morning digest in each dealer's
time zone; quiet hours defer a push to their end. Each is told once, with a clock the test controls."""
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Appointment, AppointmentKind, FollowUpTask, Notification, Stage, User
from app.services import cadence, quiet_hours, reminders
from tests import factories

SHANGHAI = timezone(timedelta(hours=8))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(timezone.utc)


def told(kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.kind == kind).order_by(Notification.id)))


@pytest.fixture
def lead(world):
    return factories.make_lead(world.one.consultant, stage=Stage.CONTACTED, customer=factories.make_customer(
        world.oem, name="吴磊"), first_contact_at=at("2026-11-20 10:00"))


def test_a_follow_up_that_falls_due_is_reminded_once(world, lead):
    task = factories.make_follow_up(lead, due_in=timedelta(0), due_at=at("2026-11-23 10:00"), purpose="发送报价单")
    assert reminders.follow_ups_due(at("2026-11-23 09:59")) == 0
    assert reminders.follow_ups_due(at("2026-11-23 10:00")) == 1
    assert reminders.follow_ups_due(at("2026-11-23 10:30")) == 0
    [note] = told("follow_up_due")
    assert (note.user_id, note.title, note.body, note.url) == (world.one.consultant.id, "吴磊", "发送报价单",
                                                               f"/leads/{lead.id}")
    db.session.expire_all()
    assert db.session.get(FollowUpTask, task.id).reminded_at == at("2026-11-23 10:00")


def test_a_moved_follow_up_is_reminded_again_and_an_old_one_silently(world, lead):
    from app.services import follow_ups

    factories.make_follow_up(lead, due_in=timedelta(0), due_at=at("2026-11-20 10:00"))
    assert reminders.follow_ups_due(at("2026-11-23 10:00")) == 0  # three days late: Today shows it, no push
    follow_ups.reschedule(lead, at("2026-11-24 15:00"))
    assert reminders.follow_ups_due(at("2026-11-24 15:01")) == 1
    assert len(told("follow_up_due")) == 1


def test_an_appointment_within_the_hour_is_reminded_once(world, lead):
    appointment = Appointment(lead_id=lead.id, dealer_id=lead.dealer_id, consultant_id=lead.consultant_id,
                              kind=AppointmentKind.TEST_DRIVE, starts_at=at("2026-11-23 15:00"))
    db.session.add(appointment)
    db.session.commit()
    assert reminders.appointments_soon(at("2026-11-23 13:59")) == 0
    assert reminders.appointments_soon(at("2026-11-23 14:00")) == 1
    assert reminders.appointments_soon(at("2026-11-23 14:30")) == 0
    [note] = told("appointment_soon")
    assert (note.user_id, note.body) == (world.one.consultant.id, "test_drive")


def test_the_digest_comes_at_the_dealers_time_in_its_zone_once_a_day(world, lead):
    world.two.dealer.time_zone = "Asia/Urumqi"  # two hours behind Beijing's clock in practice (UTC+6)
    other = factories.make_lead(world.two.consultant, stage=Stage.CONTACTED, first_contact_at=at("2026-11-20 10:00"))
    factories.make_follow_up(lead, due_in=timedelta(0), due_at=at("2026-11-23 11:00"))
    factories.make_follow_up(other, due_in=timedelta(0), due_at=at("2026-11-23 16:00"))
    world.one.consultant.locale = "zh_Hans"
    db.session.commit()
    assert reminders.digests(at("2026-11-23 08:29")) == 0
    assert reminders.digests(at("2026-11-23 08:30")) == 1  # Guangzhou's 08:30; in Urumqi it is 06:30
    assert reminders.digests(at("2026-11-23 10:29")) == 0
    assert reminders.digests(at("2026-11-23 10:30")) == 1  # Urumqi's 08:30
    assert reminders.digests(at("2026-11-23 11:00")) == 0  # once a day
    first, second = told("digest")
    assert (first.user_id, first.title, first.url) == (world.one.consultant.id, "今天有1个跟进", "/today")
    assert (second.user_id, second.title) == (world.two.consultant.id, "1 follow-up today")
    assert reminders.digests(at("2026-11-24 08:30")) == 1  # the next day: overdue ones count too
    assert db.session.get(User, world.one.consultant.id).last_digest_on.isoformat() == "2026-11-24"


def test_a_digest_missed_in_the_morning_is_not_sent_in_the_evening(world, lead):
    factories.make_follow_up(lead, due_in=timedelta(0), due_at=at("2026-11-23 19:00"))
    assert reminders.digests(at("2026-11-23 11:31")) == 0  # three hours after 08:30: too late for "your day"
    assert reminders.digests(at("2026-11-24 08:31")) == 1


def test_nobody_is_digested_on_a_day_with_nothing_to_do(world):
    assert reminders.digests(at("2026-11-23 09:00")) == 0 and not told("digest")


@pytest.mark.parametrize(("moment", "allowed"), [
    ("2026-11-23 20:59", "2026-11-23 20:59"),
    ("2026-11-23 21:00", "2026-11-24 09:00"),
    ("2026-11-24 02:00", "2026-11-24 09:00"),
    ("2026-11-24 09:00", "2026-11-24 09:00"),
])
def test_quiet_hours_defer_to_their_end_across_midnight(world, moment, allowed):
    policy = cadence.policy_for(world.one.dealer)
    assert (policy.quiet_starts, policy.quiet_ends) == (time(21, 0), time(9, 0))
    assert quiet_hours.next_allowed(policy, at(moment)) == at(allowed)


def test_quiet_hours_are_the_dealers_own_in_its_zone(world):
    world.one.dealer.time_zone = "Asia/Urumqi"
    db.session.commit()
    policy = cadence.policy_for(world.one.dealer)  # 21:00 in Urumqi is 23:00 in Beijing
    assert quiet_hours.next_allowed(policy, at("2026-11-23 22:30")) == at("2026-11-23 22:30")
    assert quiet_hours.next_allowed(policy, at("2026-11-23 23:30")) == at("2026-11-24 11:00")


def test_the_worker_reminds_every_pass_and_digests_every_five_minutes(world, lead):
    from app.worker import Worker

    factories.make_follow_up(lead, due_in=timedelta(0), due_at=at("2026-11-23 10:00"))
    worker = Worker()
    first = worker.run_once(at("2026-11-23 08:29"))
    assert (first["follow_ups_due"], first["digests"]) == (0, 0)
    assert worker.run_once(at("2026-11-23 08:31"))["digests"] == 0  # digest time came, but it ran 2 minutes ago
    assert worker.run_once(at("2026-11-23 08:34"))["digests"] == 1
    assert worker.run_once(at("2026-11-23 10:00"))["follow_ups_due"] == 1
