"""The dealer manager's dashboard, computed by hand on a small crafted dealer and compared with the service:
period boundaries at local midnight in Guangzhou, the funnel, response times, store ratios, consultants (one
with no leads at all), and the leads behind a number. Another dealer's leads never count."""
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.models import (
    ApprovalKind, ApprovalRequest, ApprovalStatus, Appointment, AppointmentKind, AppointmentStatus, FollowUpTask, Role,
    ShowroomVisit, Source, Stage, TaskStatus,
)
from app.services import dealer_dashboard
from app.services.periods import period
from tests import factories

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 2, 4, 0, tzinfo=timezone.utc)


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZONE).astimezone(timezone.utc)


def lead(consultant, arrived, *, contact_after=None, due_after=30, dealer=None, **fields):
    first_contact = arrived + timedelta(minutes=contact_after) if contact_after is not None else None
    return factories.make_lead(consultant, dealer=dealer, arrived_at=arrived, first_contact_at=first_contact,
                               first_contact_due_at=arrived + timedelta(minutes=due_after), **fields)


@pytest.fixture
def crafted(world):
    """Dealer one, week 2 to 8 November 2026 (Monday to Sunday):

    Ann (world.one.consultant): L1 (contact after 10 min, in time; invited, visited, test drive, ordered, from the
    brand site, model HY-X7), L2 (contact after 50 min, late; invited; portal, HY-X7), L3 (23:30 on the 8th:
    inside; never contacted; portal, no model). Bob (colleague): L6 (contact after 20 min, in time; lost; walk-in,
    HY-S5). Cai: a consultant with nothing. Outside: L4 (00:10 on the 9th), L5 (23:50 on 1 November, the week
    before), L7 (dealer two).
    """
    ann, bob = world.one.consultant, world.one.colleague
    cai = factories.make_user(Role.CONSULTANT, oem=world.oem, dealer=world.one.dealer, name="Cai")
    l1 = lead(ann, local(2, 10), contact_after=10, source=Source.BRAND_WEBSITE, model_of_interest="HY-X7",
              stage=Stage.ORDERED, invited_at=local(3, 9), visited_at=local(4, 15), test_drive_at=local(4, 16),
              ordered_at=local(6, 11))
    l2 = lead(ann, local(3, 9), contact_after=50, source=Source.AUTOHOME, model_of_interest="HY-X7",
              stage=Stage.INVITED, invited_at=local(5, 9))
    l3 = lead(ann, local(8, 23, 30), source=Source.AUTOHOME, model_of_interest=None)
    l6 = lead(bob, local(5, 12), contact_after=20, source=Source.WALK_IN, model_of_interest="HY-S5",
              stage=Stage.LOST, closed_at=local(7, 10))
    lead(ann, local(9, 0, 10), source=Source.AUTOHOME)
    lead(ann, local(1, 23, 50), contact_after=5, source=Source.AUTOHOME)
    lead(world.two.consultant, local(4, 10), contact_after=1, stage=Stage.ORDERED, ordered_at=local(5, 10))
    one = world.one.dealer.id

    def appointment(kind, status, day):
        db.session.add(Appointment(lead_id=l1.id, dealer_id=one, consultant_id=ann.id, kind=kind,
                                   starts_at=local(day, 10), status=status))

    appointment(AppointmentKind.VISIT, AppointmentStatus.ATTENDED, 4)
    appointment(AppointmentKind.TEST_DRIVE, AppointmentStatus.ATTENDED, 4)
    appointment(AppointmentKind.VISIT, AppointmentStatus.NO_SHOW, 6)
    appointment(AppointmentKind.VISIT, AppointmentStatus.CANCELLED, 6)  # never counts
    db.session.add(ShowroomVisit(dealer_id=one, lead_id=l2.id, consultant_id=ann.id, registered_by_id=ann.id,
                                 test_drive=True, arrived_at=local(7, 14), left_at=local(7, 15)))
    for due, done, status in ((local(3, 10), local(3, 18), TaskStatus.DONE),  # same day: on time
                              (local(4, 10), local(5, 9), TaskStatus.DONE),  # the next day: late
                              (local(6, 10), None, TaskStatus.OPEN)):  # never done
        db.session.add(FollowUpTask(lead_id=l2.id, consultant_id=ann.id, due_at=due, done_at=done, status=status))
    db.session.add(ApprovalRequest(lead_id=l6.id, dealer_id=one, requested_by_id=bob.id,
                                   kind=ApprovalKind.MARK_LOST, reason="bought_elsewhere",
                                   status=ApprovalStatus.APPROVED, created_at=local(7, 9)))
    db.session.commit()
    return {"ann": ann, "bob": bob, "cai": cai, "l1": l1, "l2": l2, "l3": l3, "l6": l6}


def week():
    return period("custom", ZONE, NOW, "2026-11-02", "2026-11-08")


def test_the_funnel_and_response_times_of_the_week(crafted, world):
    board = dealer_dashboard.dashboard(world.one.manager, week(), NOW)

    total = board.total
    assert [(step, count) for step, count, _rate in total.funnel()] == [
        ("leads", 4), ("contacted", 3), ("invited", 2), ("visited", 1), ("test_drive", 1), ("ordered", 1),
        ("delivered", 0)]
    assert [rate for _step, _count, rate in total.funnel()] == [None, 3 / 4, 2 / 3, 1 / 2, 1, 1, 0]
    assert (total.in_time, total.lost) == (2, 1)
    assert total.median_response == 20 * 60  # 10, 50 and 20 minutes
    assert total.close_rate == 1 / 4
    assert board.total_before.leads == 1  # 23:50 on 1 November belongs to the week before


def test_each_consultant_including_one_with_nothing(crafted, world):
    board = dealer_dashboard.dashboard(world.one.manager, week(), NOW)
    rows = {row.consultant.name if row.consultant else None: row for row in board.consultants}

    ann, bob, cai = rows[crafted["ann"].name], rows[crafted["bob"].name], rows["Cai"]
    assert (ann.measures.leads, ann.measures.contacted, ann.measures.in_time, ann.measures.ordered) == (3, 2, 1, 1)
    assert ann.measures.median_response == 30 * 60 and ann.measures.close_rate == 1 / 3
    assert (ann.activity.follow_ups_due, ann.activity.follow_ups_on_time) == (3, 1)
    assert (ann.activity.appointments, ann.activity.shows, ann.activity.test_drives) == (3, 2, 2)
    assert (bob.measures.leads, bob.measures.lost, bob.activity.lost_requests) == (1, 1, 1)
    assert bob.measures.median_response == 20 * 60
    assert (cai.measures.leads, cai.activity.appointments, cai.measures.median_response) == (0, 0, None)
    assert None not in rows  # every lead had a consultant


def test_store_ratios(crafted, world):
    ratios = dealer_dashboard.dashboard(world.one.manager, week(), NOW).ratios

    assert (ratios.visitors, ratios.captured, ratios.invitations, ratios.came, ratios.orders) == (1, 1, 3, 2, 1)
    assert ratios.reception_rate == 1 and ratios.invitation_success_rate == 2 / 3
    assert ratios.close_rate == 1 / 4  # 1 order ÷ (1 visitor captured + 3 invitations)


def test_sources_models_and_the_daily_trend(crafted, world):
    board = dealer_dashboard.dashboard(world.one.manager, week(), NOW)

    sources = {source: measures for source, measures in board.sources}
    assert {source: (m.leads, m.ordered) for source, m in sources.items()} == {
        Source.AUTOHOME: (2, 0), Source.BRAND_WEBSITE: (1, 1), Source.WALK_IN: (1, 0)}
    assert [(model, m.leads) for model, m in board.models] == [("HY-X7", 2), (None, 1), ("HY-S5", 1)]
    trend = board.trend
    assert len(trend.days) == 14 and trend.days[-1].isoformat() == "2026-11-08"
    by_day = dict(zip([day.day for day in trend.days], zip(trend.leads, trend.orders, trend.median_response_minutes)))
    assert by_day[2] == (1, 0, 10.0) and by_day[3] == (1, 0, 50.0) and by_day[6] == (0, 1, None)
    assert by_day[8] == (1, 0, None) and by_day[1] == (1, 0, 5.0)  # the day before the week, in the trend


def test_an_empty_period_has_zeros_and_no_rates(crafted, world):
    board = dealer_dashboard.dashboard(world.one.manager, period("custom", ZONE, NOW, "2026-06-01", "2026-06-07"),
                                       NOW)

    assert board.total.leads == 0 and board.total.median_response is None and board.total.close_rate is None
    assert board.ratios.close_rate is None and board.ratios.reception_rate is None
    assert all(row.measures.leads == 0 for row in board.consultants)
    assert sum(board.trend.leads) == 0


def test_the_numbers_lead_to_the_leads_behind_them(crafted, world):
    manager = world.one.manager
    behind = dealer_dashboard.leads_behind

    assert {lead.id for lead in behind(manager, week(), "leads")} == {
        crafted[name].id for name in ("l1", "l2", "l3", "l6")}
    assert [lead.id for lead in behind(manager, week(), "ordered")] == [crafted["l1"].id]
    assert {lead.id for lead in behind(manager, week(), "contacted", consultant_id=crafted["ann"].id)} == {
        crafted["l1"].id, crafted["l2"].id}
    assert [lead.id for lead in behind(manager, week(), "in_time", consultant_id=crafted["ann"].id)] == [
        crafted["l1"].id]
    assert [lead.id for lead in behind(manager, week(), "leads", model="")] == [crafted["l3"].id]
    assert [lead.id for lead in behind(manager, week(), "lost")] == [crafted["l6"].id]
    theirs = behind(world.two.manager, week(), "leads")  # dealer two: only its own lead
    assert [lead.dealer_id for lead in theirs] == [world.two.dealer.id]
    with pytest.raises(ValueError):
        behind(manager, week(), "everything")


def test_now_what_needs_doing(world):
    manager, ann = world.one.manager, world.one.consultant
    now = datetime.now(timezone.utc)
    waiting = lead(ann, now - timedelta(hours=2), due_after=30)  # past its deadline
    lead(ann, now - timedelta(minutes=5), due_after=30)  # still in time
    contacted = lead(ann, now - timedelta(days=1), contact_after=5)  # contacted, no next step
    factories.make_follow_up(contacted, due_in=timedelta(hours=-3))  # overdue (and now it has a next step)
    lead(ann, now - timedelta(days=3), contact_after=5, stage=Stage.LOST)  # closed: not counted
    lead(world.two.consultant, now - timedelta(hours=5))  # another dealer's
    one = world.one.dealer.id
    midnight = datetime.combine(now.astimezone(ZONE).date(), time.min, tzinfo=ZONE)
    for starts in (midnight + timedelta(minutes=1), midnight + timedelta(days=1, minutes=1)):  # today, tomorrow
        db.session.add(Appointment(lead_id=contacted.id, dealer_id=one, consultant_id=ann.id,
                                   kind=AppointmentKind.VISIT, starts_at=starts))
    db.session.add(ShowroomVisit(dealer_id=one, lead_id=contacted.id, consultant_id=ann.id,
                                 registered_by_id=ann.id, arrived_at=now - timedelta(minutes=20)))
    db.session.add(ApprovalRequest(lead_id=contacted.id, dealer_id=one, requested_by_id=ann.id,
                                   kind=ApprovalKind.CANCEL_FOLLOW_UP, reason="duplicate"))
    db.session.commit()

    board = dealer_dashboard.dashboard(manager, period("today", ZONE, now), now)

    assert (board.now.waiting, board.now.breached) == (2, 1)
    assert board.now.waiting_since == waiting.arrived_at
    assert board.now.overdue_follow_ups == 1
    assert board.now.no_next_step == 2  # the two waiting leads
    assert (board.now.open_visits, board.now.approvals_waiting) == (1, 1)
    assert board.now.appointments_today == 1
