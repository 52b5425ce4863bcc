"""Invariants the database itself keeps, on SQLite and PostgreSQL alike."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError

from app.extensions import db
from app.models import Activity, ActivityKind, AppendOnlyError, Outcome, Customer, Lead, Role, User
from tests import factories


def test_one_customer_per_mobile_number_within_a_brand(world):
    factories.make_customer(world.oem, phone_e164="+8613800138000")
    with pytest.raises(IntegrityError):
        factories.make_customer(world.oem, phone_e164="+8613800138000")
    db.session.rollback()
    factories.make_customer(factories.make_oem(), phone_e164="+8613800138000")  # another brand: another file
    assert db.session.query(Customer).filter_by(phone_e164="+8613800138000").count() == 2


def test_activities_are_append_only(world):
    activity = factories.make_activity(factories.make_lead(world.one.consultant), note="first")
    activity.note = "rewritten"
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(Activity, activity.id))
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Activity, activity.id).note == "first"


def test_a_dialled_call_gets_its_outcome_once(world):
    call = factories.make_activity(factories.make_lead(world.one.consultant), ActivityKind.CALL)
    call.outcome = Outcome.NO_ANSWER
    db.session.commit()
    call.outcome = Outcome.REACHED
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Activity, call.id).outcome is Outcome.NO_ANSWER


def test_dealer_roles_need_a_dealer_and_brand_roles_have_none(world):
    with pytest.raises(IntegrityError):
        factories.make_user(Role.CONSULTANT, oem=world.oem, dealer=None)
    db.session.rollback()
    with pytest.raises(IntegrityError):
        factories.make_user(Role.OEM_ADMIN, oem=world.oem, dealer=world.one.dealer)
    db.session.rollback()


def test_stored_codes_are_checked_by_the_database(world):
    lead = factories.make_lead(world.one.consultant)
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE leads SET stage = 'bogus' WHERE id = :id"), {"id": lead.id})
        db.session.commit()
    db.session.rollback()


def test_times_are_stored_in_utc_and_read_back_aware(world):
    shanghai_nine = datetime.fromisoformat("2026-11-22T09:00:00+08:00")
    lead = factories.make_lead(world.one.consultant, arrived_at=shanghai_nine)
    raw = db.session.execute(text("SELECT arrived_at FROM leads WHERE id = :id"), {"id": lead.id}).scalar_one()
    assert str(raw).startswith("2026-11-22 01:00:00")
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).arrived_at == datetime(2026, 11, 22, 1, 0, tzinfo=timezone.utc)


def test_naive_times_are_refused(world):
    with pytest.raises(StatementError):
        factories.make_lead(world.one.consultant, arrived_at=datetime(2026, 11, 22, 9, 0))
    db.session.rollback()


def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(world):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite settings")
    pragma = lambda name: db.session.execute(text(f"PRAGMA {name}")).scalar()  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("foreign_keys") == 1
    assert pragma("busy_timeout") == 5000
    with pytest.raises(IntegrityError):
        db.session.add(User(oem_id=999, role=Role.OEM_ADMIN, name="x", email="x@y.z", password_hash="x"))
        db.session.commit()
    db.session.rollback()
