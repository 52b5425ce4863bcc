"""Offline entries carry an Idempotency-Key: however often the phone replays one, it is applied once and the
replay gets the first answer; the same key with another body is refused, a malformed key too; a failed entry
may be sent again with its key; keys are per user; requests without the header work as before."""
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import (
    Activity, ActivityKind, Appointment, FollowUpTask, IdempotentRequest, ShowroomVisit, utcnow,
)
from app.services import idempotency
from tests import concurrency, factories
from tests.conftest import AuthActions

HTMX = {"HX-Request": "true"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
WALK_IN = {"phone": "13912345678", "name": "王芳", "model_of_interest": "HY-S7", "intent_level": "H"}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def send(client, path, key, headers=HTMX, **data):
    """POST a form as the offline outbox does: a fresh CSRF token, the entry's key in the header."""
    token = AuthActions(client).csrf_token("/account")
    return client.post(path, data={"csrf_token": token, **data}, headers={**headers, "Idempotency-Key": key})


def booking(days=2, clock="10:00", kind="test_drive") -> dict:
    return {"kind": kind, "date": (datetime.now(SHANGHAI) + timedelta(days=days)).date().isoformat(), "time": clock}


def signed_in_client(app, user):
    client = app.test_client()
    AuthActions(client).sign_in(user)
    return client


@pytest.fixture
def lead(me):
    return factories.make_lead(me)


def test_a_walk_in_is_registered_once_and_its_replay_gets_the_same_redirect(client, me):
    key = str(uuid.uuid4())
    first = send(client, "/walk-ins/new", key, headers={}, **WALK_IN)
    assert first.status_code == 303 and "Idempotent-Replayed" not in first.headers
    again = send(client, "/walk-ins/new", key, headers={}, **WALK_IN)
    assert (again.status_code, again.headers["Location"]) == (303, first.headers["Location"])
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(ShowroomVisit) == 1
    stored = db.session.scalar(select(IdempotentRequest))
    assert (stored.user_id, stored.key, stored.status_code) == (me.id, key, 303)


def test_a_logged_outcome_is_saved_once_and_its_replay_gets_the_same_answer(client, lead):
    client.post(f"/leads/{lead.id}/contacts/call", data={"csrf_token": AuthActions(client).csrf_token("/today")},
                headers=HTMX)
    attempt = db.session.scalar(select(Activity).where(Activity.kind == ActivityKind.CALL))
    day = (utcnow() + timedelta(days=3)).date().isoformat()
    key = str(uuid.uuid4())
    outcome = {"outcome": "reached", "note": "Wants a test drive", "next_at": "custom", "custom_date": day,
               "custom_time": "15:00"}
    first = send(client, f"/contacts/{attempt.id}", key, **outcome)
    saved = (count(Activity), count(FollowUpTask))
    again = send(client, f"/contacts/{attempt.id}", key, **outcome)
    assert first.status_code == again.status_code == 200
    assert again.headers["HX-Trigger"] == first.headers["HX-Trigger"] and "Saved." in first.headers["HX-Trigger"]
    assert again.get_data() == first.get_data() and again.headers["Idempotent-Replayed"] == "true"
    assert (count(Activity), count(FollowUpTask)) == saved and saved[1] == 1


def test_a_moved_follow_up_is_moved_once(client, lead):
    key, day = str(uuid.uuid4()), (utcnow() + timedelta(days=4)).date().isoformat()
    form = {"next_at": "custom", "custom_date": day, "custom_time": "15:00"}
    first = send(client, f"/leads/{lead.id}/next-follow-up", key, **form)
    again = send(client, f"/leads/{lead.id}/next-follow-up", key, **form)
    assert first.status_code == again.status_code == 200 and again.headers["HX-Trigger"] == first.headers["HX-Trigger"]
    assert count(FollowUpTask) == 1


def test_the_same_key_with_another_body_is_refused_and_saves_nothing(client, lead):
    key = str(uuid.uuid4())
    assert send(client, f"/leads/{lead.id}/appointments", key, **booking()).status_code == 200
    other = send(client, f"/leads/{lead.id}/appointments", key, **booking(clock="11:00"))
    assert other.status_code == 422 and "already used for a different entry" in other.get_data(as_text=True)
    assert count(Appointment) == 1


@pytest.mark.parametrize("key", ["", "not-a-uuid", "123e4567e89b42d3a456426614174000", "123e4567-e89b-42d3-a456"])
def test_a_malformed_key_is_a_bad_request(client, lead, key):
    response = send(client, f"/leads/{lead.id}/appointments", key, **booking())
    assert response.status_code == 400 and "must be a UUID" in response.get_data(as_text=True)
    assert count(Appointment) == count(IdempotentRequest) == 0


def test_two_replays_racing_book_one_appointment(app, me, lead):
    key, answers = str(uuid.uuid4()), []
    clients = [signed_in_client(app, me) for _ in range(2)]

    def work(client):
        return lambda: answers.append(send(client, f"/leads/{lead.id}/appointments", key, **booking()))

    assert not concurrency.at_once(app, *(work(client) for client in clients))
    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].headers["HX-Trigger"] == answers[1].headers["HX-Trigger"]
    assert sorted("Idempotent-Replayed" in answer.headers for answer in answers) == [False, True]
    assert count(Appointment) == count(IdempotentRequest) == 1


def test_a_failed_entry_can_be_sent_again_with_its_key(client, lead):
    key = str(uuid.uuid4())
    refused = send(client, f"/leads/{lead.id}/appointments", key, **booking(days=-1))
    assert refused.status_code == 422 and count(IdempotentRequest) == 0
    assert send(client, f"/leads/{lead.id}/appointments", key, **booking()).status_code == 200
    assert count(Appointment) == 1


def test_keys_are_per_user(app, client, world, lead):
    key = str(uuid.uuid4())
    send(client, f"/leads/{lead.id}/appointments", key, **booking())
    colleague = world.one.colleague
    theirs = factories.make_lead(colleague)
    answer = send(signed_in_client(app, colleague), f"/leads/{theirs.id}/appointments", key, **booking())
    assert answer.status_code == 200 and "Idempotent-Replayed" not in answer.headers
    assert count(Appointment) == count(IdempotentRequest) == 2


def test_requests_without_a_key_work_as_before(client, lead):
    token = AuthActions(client).csrf_token("/account")
    for _ in range(2):
        response = client.post(f"/leads/{lead.id}/appointments", data={"csrf_token": token, **booking()}, headers=HTMX)
        assert response.status_code == 200 and "Idempotent-Replayed" not in response.headers
    assert count(Appointment) == 2 and count(IdempotentRequest) == 0


def claimed_without_answer(me, lead, key, age: timedelta) -> None:
    """A claim committed with its entry by a request that has not stored its answer (yet, or ever)."""
    db.session.add(IdempotentRequest(
        user_id=me.id, key=key, method="POST", path=f"/leads/{lead.id}/appointments",
        body_hash=idempotency.body_hash(MultiDict(booking())), created_at=utcnow() - age))
    db.session.commit()


def test_a_replay_of_a_request_still_running_is_told_to_retry(client, me, lead, monkeypatch):
    monkeypatch.setattr(idempotency, "WAIT", 0.2)
    key = str(uuid.uuid4())
    claimed_without_answer(me, lead, key, timedelta(seconds=1))
    response = send(client, f"/leads/{lead.id}/appointments", key, **booking())
    assert response.status_code == 409 and "still being saved" in response.get_data(as_text=True)
    assert count(Appointment) == 0


def test_a_replay_of_a_request_that_died_after_saving_is_not_applied_again(client, me, lead, monkeypatch):
    monkeypatch.setattr(idempotency, "WAIT", 0.2)
    key = str(uuid.uuid4())
    claimed_without_answer(me, lead, key, idempotency.LOST_AFTER * 2)
    response = send(client, f"/leads/{lead.id}/appointments", key, **booking())
    assert response.status_code == 200 and response.headers["Idempotent-Replayed"] == "true"
    assert "saved earlier" in response.get_data(as_text=True) and count(Appointment) == 0


def test_old_keys_are_purged(me):
    for age in (idempotency.KEEP_FOR + timedelta(hours=1), timedelta(days=1)):
        db.session.add(IdempotentRequest(user_id=me.id, key=str(uuid.uuid4()), method="POST", path="/walk-ins/new",
                                         body_hash="0" * 64, created_at=utcnow() - age))
    db.session.commit()
    assert idempotency.purge(utcnow()) == 1 and count(IdempotentRequest) == 1
