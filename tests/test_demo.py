"""The demo data: `flask demo` resets the database and fills it with a believable brand, the same for a seed."""
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import random
import time

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from app.demo import DAY, Brand, DealerStaff, generate
from app.demo.leads import LeadStories
from app.extensions import db
from app.models import (
    CLOSED_STAGES, Activity, Appointment, AppointmentStatus, ApprovalRequest, ApprovalStatus, ConsentMethod,
    ConsentRecord, Customer, Dealer, FollowUpTask, IntentLevel, Lead, Oem, Origin, Region, Role, Source, Stage,
    TaskStatus, User,
)
from app.services import routing
from app.services.phones import normalise_mobile
from tests import factories

OEM_SOURCES = {Source.OEM_HOTLINE, Source.BRAND_WEBSITE, Source.AUTOHOME, Source.DONGCHEDI, Source.YICHE}


def quiet(_line: str) -> None:
    """An echo that prints nothing."""


@pytest.fixture
def demo(app):
    """The demo as `flask serve` writes it: 2,000 leads with the default seed."""
    generate.run(leads=2000, seed=2026, echo=quiet)
    return app


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def table_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def test_demo_command_fills_a_believable_brand(runner):
    result = runner.invoke(args=["demo", "--leads", "300", "--yes"])

    assert result.exit_code == 0, result.output
    assert "300 leads" in result.output
    assert db.session.scalars(select(Oem.code)).all() == ["HY"]
    assert db.session.scalar(select(func.count()).select_from(Region)) == 3
    dealers = db.session.scalars(select(Dealer)).all()
    assert len(dealers) >= 6
    assert len({d.province for d in dealers}) >= 4
    assert len({d.time_zone for d in dealers}) >= 2
    for dealer in dealers:
        roles = Counter(db.session.scalars(select(User.role).where(User.dealer_id == dealer.id)))
        assert roles[Role.MANAGER] == 1 and 4 <= roles[Role.CONSULTANT] <= 6, dealer.code
    brand_roles = Counter(db.session.scalars(select(User.role).where(User.dealer_id.is_(None))))
    assert brand_roles == {Role.IDCC_AGENT: 2, Role.OEM_ADMIN: 1}
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 300


def test_the_fixed_demo_accounts_sign_in_with_the_readme_password(demo):
    consultant, manager = user("consultant@hengyuan-demo.cn"), user("manager@hengyuan-demo.cn")
    idcc, oem = user("idcc@hengyuan-demo.cn"), user("oem@hengyuan-demo.cn")

    assert (consultant.role, manager.role, idcc.role, oem.role) == (
        Role.CONSULTANT, Role.MANAGER, Role.IDCC_AGENT, Role.OEM_ADMIN)
    assert consultant.dealer_id == manager.dealer_id and consultant.dealer.code == "GZ01"
    assert idcc.dealer_id is None and oem.dealer_id is None
    assert consultant.phone_e164 and consultant.locale is None
    assert check_password_hash(consultant.password_hash, factories.PASSWORD)
    people = db.session.scalars(select(User)).all()
    assert all(p.email.endswith("@hengyuan-demo.cn") for p in people)
    assert all(normalise_mobile(p.phone_e164) == p.phone_e164 for p in people)


def test_leads_cover_every_stage_intent_level_and_source(demo):
    leads = db.session.scalars(select(Lead)).all()
    idcc_agents = set(db.session.scalars(select(User.id).where(User.role == Role.IDCC_AGENT)))
    now = datetime.now(timezone.utc)

    assert {lead.stage for lead in leads} == set(Stage)
    assert {lead.intent_level for lead in leads} == set(IntentLevel)
    assert {lead.source for lead in leads} == set(Source)
    stages = Counter(lead.stage for lead in leads)
    assert 0.05 <= stages[Stage.DELIVERED] / len(leads) <= 0.08
    assert 0.10 <= stages[Stage.LOST] / len(leads) <= 0.15
    waiting = [lead for lead in leads if lead.origin is Origin.OEM and lead.routed_at is None]
    assert len(waiting) == 4 and all(lead.stage is Stage.NEW and lead.dealer_id is None for lead in waiting)
    suggested = {lead.customer.city: routing.dealer_for(lead.oem_id, lead.customer.city, None) for lead in waiting}
    assert suggested["广州"].code == "GZ01" and suggested["成都"] is None  # the brand has no dealer there yet
    for lead in set(leads) - set(waiting):
        assert (lead.intent_level is IntentLevel.O) == (lead.stage is Stage.ORDERED)
        if lead.source in OEM_SOURCES:
            assert lead.origin is Origin.OEM and lead.routed_by_id in idcc_agents
            assert lead.arrived_at <= lead.routed_at <= lead.assigned_at
        else:
            assert lead.origin is Origin.DEALER and lead.routed_by_id is None and lead.routed_at is None
        assert lead.arrived_at <= lead.assigned_at <= now
        assert (lead.first_contact_at is None) == (lead.stage is Stage.NEW)
        if lead.stage is Stage.NEW:  # as the worker leaves it: on the clock for a day, then back in a pool
            assert (lead.first_contact_due_at is None) == (lead.returned_at is not None)
            if lead.returned_at:
                assert lead.consultant_id is None and (lead.dealer_id is None) == (lead.origin is Origin.OEM)
        assert (lead.closed_at is not None) == (lead.stage in CLOSED_STAGES)
        assert lead.arrived_at > now - timedelta(days=125)


def test_activities_are_an_ordered_history_within_each_lead(demo):
    leads = {lead.id: lead for lead in db.session.scalars(select(Lead))}
    history = defaultdict(list)
    for lead_id, occurred_at in db.session.execute(
            select(Activity.lead_id, Activity.occurred_at).order_by(Activity.lead_id, Activity.id)):
        history[lead_id].append(occurred_at)
    now = datetime.now(timezone.utc)

    unrouted = {lead.id for lead in leads.values() if lead.origin is Origin.OEM and lead.routed_at is None}
    assert history.keys() == leads.keys() - unrouted  # the desk's waiting leads have no history yet
    for lead_id, times in history.items():
        lead = leads[lead_id]
        assert 1 <= len(times) <= 7  # up to six entries of work, and a return to the pool
        assert times == sorted(times)
        assert lead.arrived_at <= times[0] and times[-1] <= (lead.closed_at or now)
        if lead.first_contact_at:
            assert times[0] == lead.first_contact_at


def test_follow_ups_appointments_and_approvals_fit_their_leads(demo):
    leads = {lead.id: lead for lead in db.session.scalars(select(Lead))}
    open_tasks = db.session.scalars(select(FollowUpTask).where(FollowUpTask.status == TaskStatus.OPEN)).all()
    dealers = db.session.scalars(select(Dealer.id)).all()

    assert len({task.lead_id for task in open_tasks}) == len(open_tasks)  # one next step per lead
    for task in open_tasks:
        assert leads[task.lead_id].stage not in CLOSED_STAGES
        assert leads[task.lead_id].next_follow_up_at == task.due_at
    without_next_step = [lead for lead in leads.values() if lead.is_open and lead.next_follow_up_at is None]
    assert 0 < len(without_next_step) < 0.1 * len(leads)
    statuses = Counter(db.session.scalars(select(Appointment.status)))
    assert statuses[AppointmentStatus.BOOKED] and statuses[AppointmentStatus.ATTENDED]
    assert statuses[AppointmentStatus.NO_SHOW]
    pending = Counter(db.session.scalars(
        select(ApprovalRequest.dealer_id).where(ApprovalRequest.status == ApprovalStatus.PENDING)))
    assert all(pending[dealer] >= 2 for dealer in dealers)
    for request in db.session.scalars(select(ApprovalRequest).where(ApprovalRequest.status != ApprovalStatus.PENDING)):
        assert leads[request.lead_id].stage in (Stage.LOST, Stage.INVALID) and request.reason


def test_customers_have_unique_valid_mobiles_and_consents_from_their_source(demo):
    phones = db.session.scalars(select(Customer.phone_e164)).all()
    assert len(phones) == len(set(phones))
    assert all(normalise_mobile(phone) == phone for phone in phones)
    leads_per_customer = Counter(db.session.scalars(select(Lead.customer_id)))
    assert 0 < sum(1 for n in leads_per_customer.values() if n > 1) < 0.05 * len(phones)
    assert db.session.scalar(select(func.count(func.distinct(ConsentRecord.customer_id)))) > 0.9 * len(phones)
    walk_in_customers = select(Lead.customer_id).where(Lead.source == Source.WALK_IN)
    methods = set(db.session.scalars(select(ConsentRecord.method).where(
        ConsentRecord.customer_id.in_(walk_in_customers), ConsentRecord.source == Source.WALK_IN.value)))
    assert methods == {ConsentMethod.WALK_IN_FORM}


def test_the_fixed_consultant_has_a_full_day(demo):
    consultant = user("consultant@hengyuan-demo.cn")
    zone = ZoneInfo(consultant.dealer.time_zone)
    now = datetime.now(timezone.utc)
    today = now.astimezone(zone).date()
    open_leads = db.session.scalars(select(Lead).where(
        Lead.consultant_id == consultant.id, Lead.stage.not_in(CLOSED_STAGES))).all()
    due_days = [task.due_at.astimezone(zone).date() for task in db.session.scalars(select(FollowUpTask).where(
        FollowUpTask.consultant_id == consultant.id, FollowUpTask.status == TaskStatus.OPEN))]
    visits_today = [a for a in db.session.scalars(select(Appointment).where(
        Appointment.consultant_id == consultant.id, Appointment.status == AppointmentStatus.BOOKED))
        if a.starts_at.astimezone(zone).date() == today]
    waiting = [lead for lead in open_leads
               if lead.first_contact_at is None and lead.arrived_at > now - timedelta(hours=1)]

    assert 40 <= len(open_leads) <= 80
    assert any(day < today for day in due_days), "overdue"
    assert any(day == today for day in due_days), "due today"
    assert any(day > today for day in due_days), "upcoming"
    assert len(visits_today) >= 2
    assert len(waiting) >= 2


def test_running_the_demo_again_starts_from_scratch(runner):
    assert runner.invoke(args=["demo", "--leads", "300", "--yes"]).exit_code == 0
    first = table_counts()
    assert runner.invoke(args=["demo", "--leads", "300", "--yes"]).exit_code == 0

    assert table_counts() == first
    assert db.session.scalar(select(func.min(Lead.id))) == 1
    # The id sequences moved past the demo's ids, so the app adds rows as usual.
    lead = factories.make_lead(user("consultant@hengyuan-demo.cn"))
    assert lead.id == 301


def test_the_same_seed_gives_the_same_data(app):
    def snapshot():
        rows = db.session.execute(
            select(Customer.name, Customer.phone_e164, Lead.stage, Lead.source, Lead.intent_level,
                   Lead.consultant_id, Lead.model_of_interest).join(Customer).order_by(Lead.id))
        return [tuple(row) for row in rows], db.session.scalars(select(User.name).order_by(User.id)).all()

    generate.run(leads=300, seed=7, echo=quiet)
    first = snapshot()
    generate.run(leads=300, seed=7, echo=quiet)
    assert snapshot() == first
    generate.run(leads=300, seed=8, echo=quiet)
    assert snapshot() != first


def test_the_seed_alone_decides_the_data_whatever_the_time_of_day():
    def stories(now: float) -> dict:
        offset = 8 * 3600
        dealer = DealerStaff(1, "广州", offset, now - (now + offset) % DAY, 2, [3, 4, 5, 6])
        rows = LeadStories(random.Random(1), Brand(1, now, [dealer], [7], 3), fixed=12).batch(0, 1000)
        # Times, and whether a time has passed yet ("reminded_at" set or None), move with the clock; nothing else.
        return {table: [{k: v for k, v in row.items() if not isinstance(v, datetime) and not k.endswith("_at")}
                        for row in table_rows] for table, table_rows in rows.items()}

    now = time.time()
    assert stories(now) == stories(now + 13.5 * 3600) == stories(now + 2 * DAY + 5 * 3600)


def test_a_million_leads_spread_over_400_dealers_and_about_8000_users():
    assert generate.dealer_count(300) == generate.dealer_count(20_000) == 8
    assert generate.dealer_count(100_000) == 40
    assert generate.dealer_count(1_000_000) == generate.dealer_count(5_000_000) == 400
    users = 3 + sum(1 + generate.consultant_count(i, 1_000_000 // 400) for i in range(400))
    assert 7_900 <= users <= 8_100
    sites = list(generate.dealer_sites(400))
    assert len({code for _, code, _ in sites}) == len({name for _, _, name in sites}) == 400
    assert sites[0][1:] == ("GZ01", "广州天河恒远4S店")
