"""Account lockout: five failed sign-ins within 15 minutes lock an account for 15 minutes, even against the right
password; the message says when to try again; a success resets the count; unknown accounts reveal nothing; a
manager's password reset opens the account at once."""
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from app.models import AuditEntry, Role, User
from tests import factories
from tests.test_milestones import empty_database  # noqa: F401 (a fixture)

WRONG = "not-the-password"
WRONG_PASSWORD = "The email, mobile number or password is not correct."
LOCKED = "Too many failed sign-ins: this account is locked."
# 02:00 UTC is 10:00 in Shanghai, the factories' dealers' zone.
START = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


class Clock:
    """The time the sign-in code reads, moved by the test."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(START)
    monkeypatch.setattr("app.services.accounts.utcnow", clock)
    monkeypatch.setattr("app.views.auth.utcnow", clock)
    return clock


def fail(auth, user, times: int):
    return [auth.sign_in(user, password=WRONG) for _ in range(times)]


def stored(user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def form_error(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_five_failures_lock_the_account_and_say_until_when(auth, world, clock):
    consultant = world.one.consultant
    answers = fail(auth, consultant, 4)
    assert all(WRONG_PASSWORD in a.get_data(as_text=True) for a in answers)
    assert stored(consultant).locked_until is None and stored(consultant).failed_sign_ins == 4

    fifth = auth.sign_in(consultant, password=WRONG)

    assert fifth.status_code == 422
    page = form_error(fifth)
    assert LOCKED in page
    assert "Try again at 10:15 (in 15 minutes), or ask your manager to reset your password." in page
    assert stored(consultant).locked_until == START + timedelta(minutes=15)
    entry = db.session.query(AuditEntry).filter_by(action="user.locked", object_id=consultant.id).one()
    assert entry.actor_id is None and entry.dealer_id == consultant.dealer_id


def test_the_right_password_is_refused_while_locked_and_works_after_the_time(client, auth, world, clock):
    consultant = world.one.consultant
    fail(auth, consultant, 5)
    clock.advance(minutes=3)

    refused = auth.sign_in(consultant)

    assert refused.status_code == 422
    assert "Try again at 10:15 (in 12 minutes)" in form_error(refused)
    assert client.get("/leads").status_code == 302
    clock.advance(minutes=12, seconds=1)
    assert auth.sign_in(consultant).status_code == 302
    assert client.get("/leads").status_code == 200
    user = stored(consultant)
    assert user.locked_until is None and user.failed_sign_ins == 0
    unlocked = db.session.query(AuditEntry).filter_by(action="user.unlocked", object_id=consultant.id).one()
    assert unlocked.after == {"reason": "expired"}


def test_brand_users_without_a_dealer_are_told_in_minutes(auth, world, clock):
    agent = world.idcc_agent
    response = fail(auth, agent, 5)[-1]
    assert "Try again in 15 minutes, or ask a manager to reset your password." in form_error(response)


def test_failures_spread_over_more_than_the_window_do_not_lock(auth, world, clock):
    consultant = world.one.consultant
    fail(auth, consultant, 4)
    clock.advance(minutes=16)
    assert WRONG_PASSWORD in auth.sign_in(consultant, password=WRONG).get_data(as_text=True)
    assert stored(consultant).locked_until is None
    assert stored(consultant).failed_sign_ins == 1


def test_a_successful_sign_in_resets_the_count(client, auth, world, clock):
    consultant = world.one.consultant
    fail(auth, consultant, 4)
    assert auth.sign_in(consultant).status_code == 302
    assert stored(consultant).failed_sign_ins == 0
    auth.sign_out()
    answers = fail(auth, consultant, 3)
    assert all(WRONG_PASSWORD in a.get_data(as_text=True) for a in answers)
    assert stored(consultant).locked_until is None
    assert auth.sign_in(consultant).status_code == 302


def test_unknown_accounts_never_read_as_locked(auth, world, clock):
    """The same answer as a wrong password however often it is tried (within the address's rate limit), and
    nothing recorded: an unknown name cannot be told from a known one by a lockout."""
    answers = fail(auth, "nobody@test.example", 8)
    assert all(a.status_code == 422 for a in answers)
    assert all(WRONG_PASSWORD in a.get_data(as_text=True) and LOCKED not in form_error(a) for a in answers)
    assert db.session.query(AuditEntry).filter_by(action="user.locked").count() == 0


def test_the_lock_holds_for_every_form_of_the_sign_in_name(auth, world, clock):
    consultant = world.one.consultant
    consultant.phone_e164 = "+8613800138000"
    db.session.commit()
    fail(auth, consultant.email, 3)
    fail(auth, "138 0013 8000", 2)
    assert LOCKED in form_error(auth.sign_in("+86 138-0013-8000"))


def test_a_managers_password_reset_unlocks(app, client, auth, world, clock):
    consultant = world.one.consultant
    their_phone = type(auth)(app.test_client())
    fail(their_phone, consultant, 5)
    auth.sign_in(world.one.manager)

    response = client.post(f"/team/{consultant.id}/reset-password", data={"csrf_token": auth.csrf_token("/team")})

    password = re.search(r'<p class="secret"[^>]*>([^<]+)</p>', response.get_data(as_text=True)).group(1).strip()
    assert stored(consultant).locked_until is None
    assert their_phone.sign_in(consultant, password=password).status_code == 302
    unlocked = db.session.query(AuditEntry).filter_by(action="user.unlocked", object_id=consultant.id).one()
    assert unlocked.actor_id == world.one.manager.id and unlocked.after == {"reason": "password_reset"}


def test_the_numbers_come_from_the_config(app, auth, world, clock):
    app.config.update(SIGN_IN_LOCKOUT_ATTEMPTS=2, SIGN_IN_LOCKOUT_MINUTES=5)
    consultant = world.one.consultant
    assert LOCKED in form_error(fail(auth, consultant, 2)[-1])
    assert stored(consultant).locked_until == START + timedelta(minutes=5)


def test_a_deactivated_account_counts_failures_but_never_opens(auth, world, clock):
    other = factories.make_user(Role.CONSULTANT, oem=world.oem, dealer=world.one.dealer, active=False)
    assert WRONG_PASSWORD in auth.sign_in(other).get_data(as_text=True)
    assert stored(other).failed_sign_ins == 1


def test_the_migration_adds_and_the_downgrade_drops_the_columns_with_users_in_place(empty_database):  # noqa: F811
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": empty_database,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        upgrade()
        world = factories.make_world()
        factories.make_lead(world.one.consultant)  # rows pointing at users
        world.one.consultant.locked_until = START
        db.session.commit()
        db.session.remove()

        downgrade(revision="0009")
        columns = {column["name"] for column in sa.inspect(db.engine).get_columns("users")}
        assert "session_version" in columns and not columns & {"failed_sign_ins", "failed_sign_in_at", "locked_until"}
        upgrade()
        assert {user.failed_sign_ins for user in db.session.scalars(sa.select(User))} == {0}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.locked_until.is_not(None))) == 0
        db.session.remove()
        db.engine.dispose()
