"""Funnel milestones: each way a lead progresses records when it first reached the step, with every earlier step
it implies; nothing moves a milestone once set, neither going back a stage nor closing as lost. Migration 0009
fills them for existing leads from their history; the demo writes them as the app would."""
import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.demo import generate
from app.extensions import db
from app.models import (
    Activity, ActivityKind, Appointment, AppointmentKind, AppointmentStatus, ApprovalKind, ApprovalRequest,
    ApprovalStatus, AuditEntry, Lead, ShowroomVisit, Stage, utcnow,
)
from app.services import approvals, lead_changes, milestones
from tests import factories

HTMX = {"HX-Request": "true"}
COLUMNS = ("invited_at", "visited_at", "test_drive_at", "ordered_at", "delivered_at")
PHONE = "+8613912345678"
WALK_IN = {"phone": "13912345678", "name": "王芳", "model_of_interest": "HY-S7", "intent_level": "H",
           "party_size": "2"}


@pytest.fixture
def lead(me, world):
    return factories.make_lead(me, stage=Stage.CONTACTED, first_contact_at=utcnow() - timedelta(days=1))


def post(client, auth, path, **data):
    return client.post(path, data={"csrf_token": auth.csrf_token("/account"), **data}, headers=HTMX)


def fresh(lead) -> Lead:
    db.session.expire_all()
    return db.session.get(Lead, lead.id)


def marks(lead) -> tuple:
    """The lead's milestones, invited first."""
    return tuple(getattr(lead, name) for name in COLUMNS)


def move(client, auth, lead, stage: str) -> Lead:
    response = post(client, auth, f"/leads/{lead.id}/stage", stage=stage)
    assert response.status_code == 200, response.get_data(as_text=True)
    return fresh(lead)


def test_the_steps_and_what_each_implies():
    assert milestones.implied(Stage.CONTACTED) == ()
    assert milestones.implied(Stage.VISITED) == ("invited_at", "visited_at")
    assert milestones.implied(Stage.NEGOTIATING) == ("invited_at", "visited_at", "test_drive_at")
    assert milestones.implied(Stage.DELIVERED) == COLUMNS
    assert milestones.implied(Stage.NEW) == milestones.implied(Stage.LOST) == milestones.implied(Stage.INVALID) == ()


def test_moving_on_sets_the_stage_and_every_earlier_milestone_at_once(client, auth, lead):
    before = utcnow()
    moved = move(client, auth, lead, "ordered")
    assert moved.stage is Stage.ORDERED and moved.delivered_at is None
    ordered = moved.ordered_at
    assert before <= ordered <= utcnow()
    assert marks(moved)[:4] == (ordered,) * 4  # ordered online without a visit: counted through the funnel


def test_negotiating_has_no_milestone_but_implies_the_test_drive(client, auth, lead):
    moved = move(client, auth, lead, "negotiating")
    assert moved.invited_at is not None
    assert marks(moved) == (moved.invited_at,) * 3 + (None, None)


def test_a_milestone_never_moves_and_going_back_keeps_it(client, auth, lead):
    visited = move(client, auth, lead, "visited")
    first = visited.visited_at
    assert marks(visited) == (first, first, None, None, None)

    back = move(client, auth, lead, "contacted")
    assert back.stage is Stage.CONTACTED and marks(back) == (first, first, None, None, None)

    again = move(client, auth, lead, "test_drive")
    assert again.test_drive_at > first
    assert marks(again) == (first, first, again.test_drive_at, None, None)
    assert marks(move(client, auth, lead, "invited")) == marks(again)


def test_delivered_is_reached_when_the_lead_closes(client, auth, lead):
    delivered = move(client, auth, lead, "delivered")
    assert delivered.closed_at is not None
    assert marks(delivered) == (delivered.closed_at,) * 5


def test_a_lead_closed_as_lost_keeps_how_far_it_got(client, auth, lead, world):
    reached = marks(move(client, auth, lead, "test_drive"))
    request = lead_changes.request_approval(world.one.consultant, fresh(lead), ApprovalKind.MARK_LOST, "price", None)
    approvals.decide(world.one.manager, request, approve=True, comment=None)

    lost = fresh(lead)
    assert lost.stage is Stage.LOST and marks(lost) == reached and reached[2] is not None


def test_a_reached_call_makes_a_new_lead_contacted_and_nothing_more(client, auth, me):
    new = factories.make_lead(me)
    response = client.post(f"/leads/{new.id}/contacts/call", data={"csrf_token": auth.csrf_token("/today")},
                           headers=HTMX)
    assert response.status_code == 200
    attempt = db.session.scalar(sa.select(Activity).where(Activity.lead_id == new.id))
    day = (utcnow() + timedelta(days=3)).date().isoformat()
    saved = post(client, auth, f"/contacts/{attempt.id}", outcome="reached", next_at="custom", custom_date=day,
                 custom_time="10:30")
    assert saved.status_code == 200, saved.get_data(as_text=True)

    contacted = fresh(new)
    assert contacted.stage is Stage.CONTACTED and contacted.first_contact_at == attempt.occurred_at
    assert marks(contacted) == (None,) * 5


def test_a_stage_tap_never_stands_for_the_first_contact(client, auth, me):
    """The first-contact clock stops only for a logged call, message or visit; the funnel counts the lead as
    contacted all the same, from its invitation."""
    new = factories.make_lead(me)
    untouched = factories.make_lead(me)
    moved = move(client, auth, new, "invited")

    assert moved.invited_at is not None and moved.first_contact_at is None
    contacted = db.session.scalars(sa.select(Lead.id).where(milestones.reached(Stage.CONTACTED))).all()
    assert contacted == [new.id] and untouched.id not in contacted


def test_funnel_counts_are_plain_aggregates_by_dealer_and_arrival(client, auth, me, world):
    for stage in ("contacted", "visited", "ordered", "delivered"):
        move(client, auth, factories.make_lead(me, first_contact_at=utcnow()), stage)
    factories.make_lead(me)  # still new
    steps = (Stage.CONTACTED, Stage.INVITED, Stage.VISITED, Stage.TEST_DRIVE, Stage.ORDERED, Stage.DELIVERED)
    funnel = db.session.execute(
        sa.select(sa.func.count(), *(sa.func.count(sa.case((milestones.reached(s), 1))) for s in steps))
        .where(Lead.dealer_id == world.one.dealer.id, Lead.arrived_at >= utcnow() - timedelta(days=1))).one()
    assert tuple(funnel) == (5, 4, 3, 3, 2, 2, 1)
    with pytest.raises(ValueError):
        milestones.reached(Stage.NEGOTIATING)


@pytest.mark.parametrize(("test_drive", "expected"), [("", (True, True, False)), ("y", (True, True, True))])
def test_a_new_walk_in_lead_has_visited_and_maybe_test_driven(client, auth, me, test_drive, expected):
    response = client.post("/walk-ins/new", data={"csrf_token": auth.csrf_token("/account"), **WALK_IN,
                                                  "test_drive": test_drive})
    assert response.status_code == 303
    walk_in = db.session.scalar(sa.select(Lead))
    visit = db.session.scalar(sa.select(ShowroomVisit))
    assert walk_in.stage is (Stage.TEST_DRIVE if test_drive else Stage.VISITED)
    assert marks(walk_in) == tuple(visit.arrived_at if on else None for on in expected) + (None, None)


@pytest.mark.parametrize(("stage", "test_drive", "expected_stage", "expected"), [
    (Stage.CONTACTED, "", Stage.VISITED, (True, True, False)),
    (Stage.INVITED, "y", Stage.TEST_DRIVE, (True, True, True)),
    # a lead further on keeps its stage; the test drive is a milestone all the same
    (Stage.NEGOTIATING, "y", Stage.NEGOTIATING, (True, True, True)),
])
def test_a_visit_on_a_known_lead_reaches_visited_and_the_test_drive(client, auth, me, world, stage, test_drive,
                                                                     expected_stage, expected):
    known = factories.make_lead(me, customer=factories.make_customer(world.oem, phone_e164=PHONE), stage=stage)
    response = client.post(f"/leads/{known.id}/visits", data={"csrf_token": auth.csrf_token("/account"),
                                                              "party_size": "1", "test_drive": test_drive})
    assert response.status_code == 303
    visited = fresh(known)
    visit = db.session.scalar(sa.select(ShowroomVisit))
    assert visited.stage is expected_stage
    assert marks(visited) == tuple(visit.arrived_at if on else None for on in expected) + (None, None)


def test_a_repeat_visit_moves_no_milestone(client, auth, lead):
    reached = marks(move(client, auth, lead, "test_drive"))
    response = client.post(f"/leads/{lead.id}/visits", data={"csrf_token": auth.csrf_token("/account"),
                                                             "party_size": "1", "test_drive": "y"})
    assert response.status_code == 303 and db.session.scalar(sa.select(sa.func.count(ShowroomVisit.id))) == 1
    assert marks(fresh(lead)) == reached


def book(client, auth, lead, kind: str):
    day = (datetime.now(timezone.utc) + timedelta(days=2)).date()
    response = post(client, auth, f"/leads/{lead.id}/appointments", kind=kind, date=day.isoformat(), time="10:00")
    assert response.status_code == 200, response.get_data(as_text=True)
    return db.session.scalars(sa.select(Appointment).order_by(Appointment.id.desc())).first()


@pytest.mark.parametrize(("kind", "expected_stage", "expected"), [
    ("visit", Stage.VISITED, (True, True, False)),
    ("test_drive", Stage.TEST_DRIVE, (True, True, True)),
])
def test_a_booking_invites_and_showing_up_visits(client, auth, lead, kind, expected_stage, expected):
    before = utcnow()
    appointment = book(client, auth, lead, kind)
    invited = fresh(lead)
    assert invited.stage is Stage.INVITED and before <= invited.invited_at <= utcnow()
    assert marks(invited)[1:] == (None,) * 4

    post(client, auth, f"/appointments/{appointment.id}/showed")
    came = fresh(lead)
    assert came.stage is expected_stage and came.invited_at == invited.invited_at
    shown = came.visited_at
    assert shown > invited.invited_at
    assert marks(came) == (invited.invited_at,) + tuple(shown if on else None for on in expected[1:]) + (None, None)


def test_a_no_show_is_only_an_invitation(client, auth, lead):
    appointment = book(client, auth, lead, "visit")
    post(client, auth, f"/appointments/{appointment.id}/no_show")
    missed = fresh(lead)
    assert missed.invited_at is not None and marks(missed)[1:] == (None,) * 4


def test_a_lead_further_on_keeps_its_stage_and_milestones_when_booked_and_shown(client, auth, lead):
    reached = marks(move(client, auth, lead, "negotiating"))
    appointment = book(client, auth, lead, "test_drive")
    post(client, auth, f"/appointments/{appointment.id}/showed")
    later = fresh(lead)
    assert later.stage is Stage.NEGOTIATING and marks(later) == reached


def test_a_test_drive_shown_on_a_lead_booked_before_its_milestones_sets_them(client, auth, me):
    """A lead moved on before milestones existed (none set) still gets the test drive it came for."""
    earlier = factories.make_lead(me, stage=Stage.NEGOTIATING, first_contact_at=utcnow())
    appointment = Appointment(lead_id=earlier.id, dealer_id=earlier.dealer_id, consultant_id=me.id,
                              kind=AppointmentKind.TEST_DRIVE, starts_at=utcnow() - timedelta(hours=1))
    db.session.add(appointment)
    db.session.commit()
    post(client, auth, f"/appointments/{appointment.id}/showed")
    came = fresh(earlier)
    assert came.stage is Stage.NEGOTIATING and came.test_drive_at is not None
    assert marks(came) == (came.test_drive_at,) * 3 + (None, None)


# The demo ---------------------------------------------------------------------------------------------------------

def test_the_demo_writes_milestones_as_the_app_would(app):
    generate.run(leads=600, seed=7, echo=lambda _line: None)
    leads = db.session.scalars(sa.select(Lead)).all()
    for lead in leads:
        values = marks(lead)
        present = [v for v in values if v is not None]
        assert present == sorted(present), lead.id  # each step no earlier than the one before
        assert values[:len(present)] == tuple(present), lead.id  # a step reached implies the earlier ones
        for name in milestones.implied(lead.stage):  # an open or delivered lead has reached its stage
            assert getattr(lead, name) is not None, (lead.id, lead.stage)
        if present:
            assert lead.first_contact_at is not None and lead.first_contact_at <= present[0], lead.id
    by_stage = {stage: [lead for lead in leads if lead.stage is stage] for stage in Stage}
    assert all(lead.delivered_at == lead.closed_at for lead in by_stage[Stage.DELIVERED])
    assert all(marks(lead) == (None,) * 5 for lead in by_stage[Stage.NEW] + by_stage[Stage.INVALID])
    assert any(lead.visited_at for lead in by_stage[Stage.LOST])  # lost after a visit: still counted as visited
    assert any(lead.invited_at is None for lead in by_stage[Stage.LOST])


# The migration ----------------------------------------------------------------------------------------------------

T0 = datetime(2026, 11, 20, 2, 0)  # naive UTC, as the database holds it


def t(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def utc(minutes: int | None) -> datetime | None:
    return None if minutes is None else t(minutes).replace(tzinfo=timezone.utc)


@pytest.fixture
def empty_database(tmp_path):
    """A database of its own, with no schema yet: an SQLite file, or a fresh PostgreSQL schema."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        return
    server = server.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"migrate_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{server}{'&' if '?' in server else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


LEADS_0008 = sa.table("leads", *(sa.column(name) for name in (
    "id", "oem_id", "customer_id", "dealer_id", "consultant_id", "origin", "source", "intent_level", "stage")),
    *(sa.column(name, sa.DateTime) for name in ("arrived_at", "created_at", "updated_at", "closed_at")))

# (stage, updated_at, closed_at) of each lead, then what it has been through, then the milestones expected
# (invited, visited, test drive, ordered, delivered), all in minutes after T0.
CASES = {
    1: ("negotiating", 50, None),  # audited moves skipping the visit: implied at the move to negotiating
    2: ("lost", 50, 10),  # audited moves, then lost: the history only
    3: ("invalid", 50, 9),  # no history: nothing, whatever the stage
    4: ("ordered", 30, None),  # no history: its open stage, when last updated
    5: ("delivered", 45, 40),  # no history: delivered when it closed
    6: ("test_drive", 20, None),  # a walk-in who drove: their visit's time
    7: ("contacted", 50, None),  # visited, then moved back
    8: ("lost", 50, 9),  # history older than the audit: stage-change activities and a booking
    9: ("new", 50, None),
    10: ("lost", 50, 12),  # created at test drive (no stage change), lost: the approval tells how far it got
}
EXPECTED = {
    1: (2, 3, 3, None, None), 2: (4, 4, None, None, None), 3: (None,) * 5, 4: (30, 30, 30, 30, None),
    5: (40,) * 5, 6: (5, 5, 5, None, None), 7: (6, 6, None, None, None), 8: (7, None, None, None, None),
    9: (None,) * 5, 10: (12, 12, 12, None, None),
}


def _history(world, consultant) -> None:
    """Audit entries, activities, appointments and approvals of the leads in CASES, as 0008's code wrote them."""
    def moved(lead_id, before, after, minute):
        db.session.add(AuditEntry(actor_id=consultant.id, dealer_id=consultant.dealer_id, action="lead.stage_changed",
                                  object_type="leads", object_id=lead_id, before={"stage": before},
                                  after={"stage": after}, created_at=utc(minute)))

    def happened(lead_id, kind, minute, summary=None):
        db.session.add(Activity(lead_id=lead_id, user_id=consultant.id, kind=kind, summary=summary,
                                occurred_at=utc(minute)))

    def closed(lead_id, before, after, minute):
        request = ApprovalRequest(lead_id=lead_id, dealer_id=consultant.dealer_id, requested_by_id=consultant.id,
                                  kind=ApprovalKind.MARK_LOST, reason="price", status=ApprovalStatus.APPROVED)
        db.session.add(request)
        db.session.flush()
        db.session.add(AuditEntry(actor_id=consultant.id, action="approval.approved", object_type="approval_requests",
                                  object_id=request.id, before={"stage": before, "next_follow_up_at": None},
                                  after={"stage": after}, created_at=utc(minute)))
        happened(lead_id, ActivityKind.STAGE_CHANGE, minute, f"{before} → {after}")

    def booked(lead_id, kind, minute):
        db.session.add(Appointment(lead_id=lead_id, dealer_id=consultant.dealer_id, consultant_id=consultant.id,
                                   kind=kind, starts_at=utc(minute + 60), status=AppointmentStatus.NO_SHOW,
                                   created_at=utc(minute)))

    moved(1, "new", "contacted", 1), moved(1, "contacted", "invited", 2), moved(1, "invited", "negotiating", 3)
    moved(2, "new", "contacted", 1), moved(2, "contacted", "visited", 4), closed(2, "visited", "lost", 10)
    happened(6, ActivityKind.VISIT, 5, "Walk-in, party of 2"), happened(6, ActivityKind.TEST_DRIVE, 5)
    moved(7, "new", "visited", 6), moved(7, "visited", "contacted", 7)
    happened(8, ActivityKind.STAGE_CHANGE, 1, "new → contacted"), happened(8, ActivityKind.NOTE, 2, "a → visited")
    booked(8, AppointmentKind.DELIVERY, 3), booked(8, AppointmentKind.VISIT, 7)  # a delivery invites nobody
    happened(8, ActivityKind.STAGE_CHANGE, 8, "contacted → invited"), closed(8, "invited", "lost", 9)
    closed(10, "test_drive", "lost", 12)
    db.session.commit()


def test_the_migration_fills_milestones_from_the_history_and_the_downgrade_drops_them(empty_database):
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": empty_database,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        upgrade(revision="0008")
        # The factories write users and customers through today's models: meanwhile their tables get the columns
        # added after 0008.
        later_columns = {("users", "failed_sign_ins"): "INTEGER DEFAULT 0 NOT NULL",
                         ("users", "failed_sign_in_at"): "TIMESTAMP", ("users", "locked_until"): "TIMESTAMP",
                         ("customers", "erased_at"): "TIMESTAMP"}
        with db.engine.begin() as connection:
            for (table, name), kind in later_columns.items():
                connection.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {name} {kind}"))
        world = factories.make_world()
        consultant = world.one.consultant
        customer = factories.make_customer(world.oem)
        db.session.execute(sa.insert(LEADS_0008), [
            {"id": lead_id, "oem_id": world.oem.id, "customer_id": customer.id, "dealer_id": consultant.dealer_id,
             "consultant_id": consultant.id, "origin": "dealer", "source": "walk_in", "intent_level": "A",
             "stage": stage, "arrived_at": T0, "created_at": T0, "updated_at": t(updated),
             "closed_at": closed and t(closed)}
            for lead_id, (stage, updated, closed) in CASES.items()])
        db.session.commit()
        _history(world, consultant)
        db.session.remove()
        with db.engine.begin() as connection:
            for table, name in later_columns:
                connection.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {name}"))

        upgrade()
        found = {lead.id: marks(lead) for lead in db.session.scalars(sa.select(Lead))}
        assert found == {lead_id: tuple(map(utc, minutes)) for lead_id, minutes in EXPECTED.items()}
        db.session.remove()

        downgrade(revision="0008")
        columns = {column["name"] for column in sa.inspect(db.engine).get_columns("leads")}
        assert "stage" in columns and not columns & set(COLUMNS)
        indexes = {index["name"] for index in sa.inspect(db.engine).get_indexes("leads")}
        assert {"ix_leads_dealer_arrived", "ix_leads_first_contact_due"} <= indexes
        upgrade()
        assert {lead.id: marks(lead) for lead in db.session.scalars(sa.select(Lead))} == found
        db.session.remove()
        db.engine.dispose()
