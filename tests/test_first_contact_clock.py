"""The first-contact clock and the pools: deadlines in the dealer's working time, breaches escalated once,
unworked leads returned to the lead desk or the dealer's pool, untouched leads recycled; all with a clock the
test controls."""
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Activity, AuditEntry, CadencePolicy, FollowUpTask, Lead, Notification, Origin, ReturnReason, Stage, TaskStatus,
    utcnow,
)
from app.services import cadence, first_contact_clock, pools, routing
from app.worker import Worker
from tests import concurrency, factories

SHANGHAI = timezone(timedelta(hours=8))


def at(text: str) -> datetime:
    """A moment on the dealers' wall clock (Asia/Shanghai, UTC+8)."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(timezone.utc)


def fresh(lead: Lead) -> Lead:
    db.session.expire_all()
    return db.session.get(Lead, lead.id)


def notified(kind: str) -> list[int]:
    return list(db.session.scalars(select(Notification.user_id).where(Notification.kind == kind)))


@pytest.fixture
def policy(world):
    return cadence.policy_for(world.one.dealer)


@pytest.mark.parametrize(("start", "minutes", "due"), [
    ("2026-11-23 10:00", 30, "2026-11-23 10:30"),   # inside working hours
    ("2026-11-23 20:00", 30, "2026-11-24 09:30"),   # at night: from the next opening
    ("2026-11-23 17:50", 30, "2026-11-24 09:20"),   # 10 minutes today, 20 tomorrow
    ("2026-11-23 07:00", 600, "2026-11-24 10:00"),  # 9 hours today, 1 tomorrow
])
def test_the_limit_counts_working_time_only(policy, start, minutes, due):
    assert cadence.add_working_minutes(policy, at(start), minutes) == at(due)


def test_days_the_dealer_does_not_work_do_not_count(world):
    closed_at_weekends = frozenset(range(1, 6))
    db.session.add(CadencePolicy(dealer_id=world.one.dealer.id, working_days=closed_at_weekends))
    db.session.commit()
    friday_evening = at("2026-11-27 17:45")
    assert cadence.add_working_minutes(cadence.policy_for(world.one.dealer), friday_evening, 30) \
        == at("2026-11-30 09:15")


def test_routing_starts_the_clock_with_the_dealers_limits(world):
    db.session.add(CadencePolicy(dealer_id=world.one.dealer.id, first_contact_minutes=15, return_after_hours=4,
                           day_starts=time(0, 0), day_ends=time(23, 59, 59)))
    db.session.commit()
    lead = factories.make_lead(dealer=None, origin=Origin.OEM, oem_id=world.oem.id)
    before = utcnow()
    routing.route(world.idcc_agent, lead, world.one.dealer)
    db.session.commit()
    lead = fresh(lead)
    assert lead.consultant_id is not None and lead.assigned_at >= before
    assert lead.first_contact_due_at == lead.assigned_at + timedelta(minutes=15)
    assert lead.return_due_at == lead.assigned_at + timedelta(hours=4)


@pytest.fixture
def routed(world):
    """A lead of the brand's lead desk routed to dealer one at 10:00 on a Monday and assigned there."""
    lead = factories.make_lead(dealer=None, origin=Origin.OEM, oem_id=world.oem.id,
                               customer=factories.make_customer(world.oem, name="钱多多"))
    routing.route(world.idcc_agent, lead, world.one.dealer)
    first_contact_clock.start(lead, at("2026-11-23 10:00"))
    factories.make_follow_up(lead)
    db.session.commit()
    return lead


def test_a_breach_is_flagged_and_the_managers_told_once(world, routed):
    assert routed.first_contact_due_at == at("2026-11-23 10:30")
    assert first_contact_clock.sweep(at("2026-11-23 10:29")).breached == 0
    assert first_contact_clock.sweep(at("2026-11-23 10:31")).breached == 1
    assert first_contact_clock.sweep(at("2026-11-23 10:45")).breached == 0
    assert fresh(routed).sla_breached_at == at("2026-11-23 10:31")
    assert notified("first_contact_breach") == [world.one.manager.id]
    assert first_contact_clock.is_breached(fresh(routed), at("2026-11-23 10:31"))


def test_a_first_contact_stops_the_clock(world, routed):
    consultant = routed.consultant_id
    routed.first_contact_at, routed.stage = at("2026-11-23 10:20"), Stage.CONTACTED
    db.session.commit()
    assert first_contact_clock.sweep(at("2026-11-25 10:00")) == first_contact_clock.SweepResult(0, 0)
    assert fresh(routed).consultant_id == consultant and not notified("first_contact_breach")


def test_a_desk_lead_nobody_called_goes_back_to_the_desk(client, auth, world, routed):
    consultant = routed.consultant_id
    assert first_contact_clock.sweep(at("2026-11-24 09:59")).returned == 0
    assert first_contact_clock.sweep(at("2026-11-24 10:00")).returned == 1
    lead = fresh(routed)
    assert (lead.dealer_id, lead.consultant_id, lead.return_reason) == (None, None, ReturnReason.NOT_CONTACTED)
    assert lead.returned_at == at("2026-11-24 10:00") and lead.first_contact_due_at is None
    assert db.session.scalar(select(FollowUpTask.status)) is TaskStatus.CANCELLED and lead.next_follow_up_at is None
    assert notified("lead_taken_back") == [consultant]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "lead.returned"))
    assert entry.before == {"dealer_id": world.one.dealer.id, "consultant_id": consultant}
    assert entry.after == {"dealer_id": None, "consultant_id": None, "reason": "not_contacted"}

    auth.sign_in(world.idcc_agent)
    page = client.get("/desk").get_data(as_text=True)
    returned = page.split('id="returned"', 1)[1].split("</section>", 1)[0]
    assert "钱多多" in returned and "Nobody called within the limit" in returned
    assert client.get(f"/leads/{lead.id}").status_code == 200

    auth.sign_out()
    auth.sign_in(db.session.get(type(world.one.consultant), consultant))
    assert client.get(f"/leads/{lead.id}").status_code == 404  # no longer theirs


def test_a_returned_lead_is_routed_again_with_a_new_clock(world, routed):
    first_contact_clock.sweep(at("2026-11-24 10:00"))
    lead = fresh(routed)
    routing.route(world.idcc_agent, lead, world.two.dealer)
    db.session.commit()
    lead = fresh(routed)
    assert lead.dealer_id == world.two.dealer.id and lead.consultant.dealer_id == world.two.dealer.id
    assert lead.return_reason is None and lead.returned_at is None
    assert lead.return_due_at > utcnow() + timedelta(hours=23)


def test_a_dealers_own_lead_goes_back_to_the_dealers_pool(world):
    lead = factories.make_lead(world.one.consultant, customer=factories.make_customer(world.oem, name="赵敏"))
    first_contact_clock.start(lead, at("2026-11-23 10:00"))
    db.session.commit()
    first_contact_clock.sweep(at("2026-11-24 11:00"))
    lead = fresh(lead)
    assert (lead.dealer_id, lead.consultant_id) == (world.one.dealer.id, None)
    assert lead.return_reason is ReturnReason.NOT_CONTACTED
    assert sorted(notified("lead_to_assign")) == [world.one.manager.id]
    assert notified("first_contact_breach") == [world.one.manager.id]  # the breach came first, in the same sweep


def test_closed_leads_keep_no_clock(world, routed):
    routed.stage = Stage.INVALID
    db.session.commit()
    assert first_contact_clock.sweep(at("2026-11-30 10:00")) == first_contact_clock.SweepResult(0, 0)


@pytest.fixture
def worked(world):
    """A contacted lead of dealer one: last contact 20 days before `now`, follow-up overdue for 15 days."""
    now = at("2026-12-01 12:00")
    lead = factories.make_lead(world.one.consultant, stage=Stage.CONTACTED, first_contact_at=now - timedelta(days=25),
                               assigned_at=now - timedelta(days=26), last_contact_at=now - timedelta(days=20))
    factories.make_follow_up(lead, due_in=timedelta(0), due_at=now - timedelta(days=15))
    lead.next_follow_up_at = now - timedelta(days=15)
    db.session.commit()
    return lead, now


def test_an_untouched_lead_is_recycled_to_the_pool(world, worked):
    lead, now = worked
    assert pools.recycle(now) == 1
    lead = fresh(lead)
    assert (lead.consultant_id, lead.return_reason) == (None, ReturnReason.UNTOUCHED)
    assert notified("lead_taken_back") == [world.one.consultant.id]
    assert db.session.scalar(select(func.count()).select_from(Activity).where(
        Activity.summary == "returned_to_pool")) == 1
    assert pools.recycle(now) == 0


@pytest.mark.parametrize("change", ["recent_contact", "follow_up_ahead", "lately_due", "longer_period", "closed"])
def test_leads_being_worked_are_not_recycled(world, worked, change):
    lead, now = worked
    if change == "recent_contact":
        lead.last_contact_at = now - timedelta(days=10)
    elif change == "follow_up_ahead":  # a C-level lead waiting for its monthly call
        lead.next_follow_up_at = now + timedelta(days=10)
    elif change == "lately_due":  # the monthly call fell due last week: the consultant still has time
        lead.next_follow_up_at = now - timedelta(days=7)
    elif change == "longer_period":
        db.session.add(CadencePolicy(dealer_id=world.one.dealer.id, recycle_days=30))
    else:
        lead.stage = Stage.LOST
    db.session.commit()
    assert pools.recycle(now) == 0
    assert fresh(lead).consultant_id == world.one.consultant.id


def test_the_worker_sweeps_every_pass_and_recycles_every_quarter_hour(world, routed, worked):
    _, now = worked
    worker = Worker()
    def clock_and_recycling(done: dict) -> tuple[int, int, int]:
        return done["breached"], done["returned"], done["recycled"]

    assert clock_and_recycling(worker.run_once(at("2026-11-23 10:31"))) == (1, 0, 0)
    assert clock_and_recycling(worker.run_once(at("2026-11-23 10:40"))) == (0, 0, 0)
    assert clock_and_recycling(worker.run_once(now)) == (0, 1, 1)


def test_the_worker_command_runs_one_pass(runner, world, routed):
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "'returned': 1" in result.output  # routed on 23 November, never called
    assert fresh(routed).dealer_id is None


def test_parallel_workers_act_on_each_lead_once(app, world):
    """Three workers sweep 90 unworked leads at once; on PostgreSQL rows are claimed with SKIP LOCKED."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("one worker runs beside an SQLite database; parallel workers need PostgreSQL")
    start = at("2026-11-23 10:00")
    for _ in range(90):
        first_contact_clock.start(factories.make_lead(world.one.consultant), start)
    db.session.commit()
    passes = []

    def work():
        passes.append(Worker().run_once(start + timedelta(days=2)))

    assert not concurrency.at_once(app, work, work, work)
    assert sum(done["breached"] for done in passes) == 90 and sum(done["returned"] for done in passes) == 90
    assert len(notified("first_contact_breach")) == 90 and len(notified("lead_taken_back")) == 90
    assert db.session.scalar(select(func.count()).select_from(Activity).where(
        Activity.summary == "returned_to_pool")) == 90
