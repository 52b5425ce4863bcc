"""One-tap contact: the attempt is recorded on tap, the outcome sheet logs how it went and sets the next
follow-up by the dealer's cadence; nobody logs on another consultant's lead. Without signal the phone logs the
attempt and its outcome in one go, later, at the time the contact was made."""
import json
import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.models import (
    Activity, ActivityKind, Appointment, AppointmentKind, Channel, FollowUpTask, Lead, Outcome, Stage, TaskStatus,
    utcnow,
)
from app.services import cadence
from tests import factories

HTMX = {"HX-Request": "true"}


@pytest.fixture
def lead(me, world):
    """A lead whose customer agreed to SMS and WeChat (messages without consent: tests/test_consent.py)."""
    customer = factories.make_customer(world.oem, name="刘洋", wechat_id="liuyang88")
    for channel in (Channel.SMS, Channel.WECHAT):
        factories.make_consent(customer, channel)
    lead = factories.make_lead(me, customer=customer)
    factories.make_follow_up(lead, due_in=timedelta(hours=-2))
    return lead


def tap(client, auth, lead, kind="call", headers=HTMX):
    return client.post(f"/leads/{lead.id}/contacts/{kind}", data={"csrf_token": auth.csrf_token("/today")},
                       headers=headers)


def the_attempt(lead) -> Activity:
    db.session.expire_all()
    return db.session.scalars(db.select(Activity).where(Activity.lead_id == lead.id)
                              .order_by(Activity.id.desc())).first()


def cadence_pick(lead, key="cadence"):
    attempt = the_attempt(lead)
    return dict(cadence.quick_picks(cadence.policy_for(lead.dealer), lead.intent_level, attempt.occurred_at))[key]


def save(client, auth, attempt, headers=HTMX, **data):
    return client.post(f"/contacts/{attempt.id}", data={"csrf_token": auth.csrf_token("/today"), **data},
                       headers=headers)


def fresh(lead) -> Lead:
    db.session.expire_all()
    return db.session.get(Lead, lead.id)


def test_tapping_call_records_the_attempt_and_opens_the_sheet(client, auth, lead):
    response = tap(client, auth, lead)
    assert response.status_code == 200
    sheet = response.get_data(as_text=True)
    assert "<html" not in sheet and "How did the call go?" in sheet and "By cadence" in sheet
    attempt = the_attempt(lead)
    assert (attempt.kind, attempt.outcome) == (ActivityKind.CALL, None)
    saved = fresh(lead)
    assert saved.first_contact_at == attempt.occurred_at
    assert saved.last_contact_kind is ActivityKind.CALL


def test_no_answer_with_the_cadence_date_in_one_save(client, auth, lead):
    tap(client, auth, lead)
    attempt, due = the_attempt(lead), cadence_pick(lead)

    response = save(client, auth, attempt, outcome="no_answer", next_at=due.isoformat())

    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    event = json.loads(response.headers["HX-Trigger"])["lead-changed"]
    assert event["lead"] == lead.id and event["message"].startswith("Saved. Next follow-up")
    saved = fresh(lead)
    assert saved.next_follow_up_at == due and saved.stage is Stage.NEW  # nobody answered: still new
    assert saved.last_contact_outcome is Outcome.NO_ANSWER
    tasks = db.session.scalars(db.select(FollowUpTask).where(FollowUpTask.lead_id == lead.id)
                               .order_by(FollowUpTask.id)).all()
    assert [t.status for t in tasks] == [TaskStatus.DONE, TaskStatus.OPEN] and tasks[1].due_at == due
    assert the_attempt(lead).outcome is Outcome.NO_ANSWER


def test_reaching_a_new_lead_makes_it_contacted(client, auth, lead):
    tap(client, auth, lead)
    save(client, auth, the_attempt(lead), outcome="reached", note="想周六来看车", next_at=cadence_pick(lead).isoformat())
    saved = fresh(lead)
    assert saved.stage is Stage.CONTACTED
    kinds = db.session.scalars(db.select(Activity.kind).where(Activity.lead_id == lead.id)).all()
    assert ActivityKind.STAGE_CHANGE in kinds
    assert db.session.scalar(db.select(Activity.note).where(Activity.kind == ActivityKind.CALL)) == "想周六来看车"


def test_a_custom_day_is_read_in_the_dealers_time_zone(client, auth, lead):
    tap(client, auth, lead)
    day = (utcnow() + timedelta(days=3)).date()
    save(client, auth, the_attempt(lead), outcome="busy", next_at="custom", custom_date=day.isoformat(),
         custom_time="10:30")
    expected = datetime.combine(day, datetime.min.time().replace(hour=10, minute=30), tzinfo=ZoneInfo("Asia/Shanghai"))
    assert fresh(lead).next_follow_up_at == expected


@pytest.mark.parametrize(("data", "message"), [
    ({"next_at": "cadence-placeholder"}, "Choose how the call went."),
    ({"outcome": "no_answer", "next_at": "2020-01-01T00:00:00+00:00"}, "The next follow-up must be in the future."),
    ({"outcome": "no_answer", "next_at": "custom"}, "Choose the day of the next follow-up."),
    ({"outcome": "no_answer", "next_at": "yesterday"}, "Choose when to follow up next."),
    ({"outcome": "shouted", "next_at": "cadence-placeholder"}, "Choose how the call went."),
])
def test_bad_sheets_say_why_and_change_nothing(client, auth, lead, data, message):
    tap(client, auth, lead)
    if data["next_at"] == "cadence-placeholder":
        data["next_at"] = cadence_pick(lead).isoformat()
    before = fresh(lead).next_follow_up_at
    response = save(client, auth, the_attempt(lead), **data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert fresh(lead).next_follow_up_at == before and the_attempt(lead).outcome is None


def test_an_outcome_is_logged_once(client, auth, lead):
    tap(client, auth, lead)
    attempt, due = the_attempt(lead), cadence_pick(lead).isoformat()
    save(client, auth, attempt, outcome="no_answer", next_at=due)
    again = save(client, auth, attempt, outcome="reached", next_at=due)
    assert again.status_code == 422 and "already logged" in again.get_data(as_text=True)
    assert the_attempt(lead).outcome is Outcome.NO_ANSWER


def test_sms_needs_no_outcome_and_counts_as_contact(client, auth, lead):
    sheet = tap(client, auth, lead, "sms").get_data(as_text=True)
    assert "How did the call go?" not in sheet
    save(client, auth, the_attempt(lead), next_at=cadence_pick(lead, "tomorrow").isoformat())
    assert fresh(lead).stage is Stage.CONTACTED


def test_without_javascript_the_same_flow_works_with_pages(client, auth, lead):
    response = tap(client, auth, lead, headers={})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<html" in page and "How did the call go?" in page
    done = save(client, auth, the_attempt(lead), headers={}, outcome="reached", next_at=cadence_pick(lead).isoformat())
    assert done.status_code == 303 and done.headers["Location"] == f"/leads/{lead.id}"
    assert "Saved. Next follow-up" in client.get(done.headers["Location"]).get_data(as_text=True)


def test_a_closed_lead_takes_no_contact(client, auth, me, world):
    closed = factories.make_lead(me, stage=Stage.DELIVERED)
    response = tap(client, auth, closed)
    assert response.status_code == 409 and "This lead is closed." in response.get_data(as_text=True)


def test_nobody_logs_on_another_consultants_lead(app, client, auth, lead, world):
    colleague_lead = factories.make_lead(world.one.colleague)
    assert tap(client, auth, colleague_lead).status_code == 404
    tap(client, auth, lead)
    attempt = the_attempt(lead)
    colleague = app.test_client()
    type(auth)(colleague).sign_in(world.one.colleague)
    token = type(auth)(colleague).csrf_token("/today")
    assert colleague.post(f"/contacts/{attempt.id}", data={"outcome": "reached", "csrf_token": token,
                                                           "next_at": cadence_pick(lead).isoformat()}).status_code == 404
    assert colleague.get(f"/contacts/{attempt.id}").status_code == 404
    assert the_attempt(lead).outcome is None


def test_the_manager_may_call_a_dealer_lead_and_the_lead_desk_may_not(app, auth, lead, world):
    manager = app.test_client()
    type(auth)(manager).sign_in(world.one.manager)
    token = type(auth)(manager).csrf_token("/today")
    assert manager.post(f"/leads/{lead.id}/contacts/call", data={"csrf_token": token}, headers=HTMX).status_code == 200
    desk = app.test_client()
    type(auth)(desk).sign_in(world.idcc_agent)
    token = type(auth)(desk).csrf_token("/leads")
    assert desk.post(f"/leads/{lead.id}/contacts/call", data={"csrf_token": token}).status_code in (403, 404)


def test_a_test_drive_agreed_on_the_call_is_booked_with_the_outcome(client, auth, lead):
    tap(client, auth, lead)
    day = (utcnow() + timedelta(days=2)).date().isoformat()
    response = save(client, auth, the_attempt(lead), outcome="reached", next_at=cadence_pick(lead).isoformat(),
                    book_kind="test_drive", book_date=day, book_time="11:00", book_model="HY-X7")
    assert response.status_code == 200
    appointment = db.session.scalar(db.select(Appointment))
    assert appointment.kind is AppointmentKind.TEST_DRIVE and appointment.model_of_interest == "HY-X7"
    assert appointment.starts_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M") == f"{day} 11:00"
    assert fresh(lead).stage is Stage.INVITED


def test_a_booking_in_the_past_keeps_the_whole_sheet_unsaved(client, auth, lead):
    tap(client, auth, lead)
    response = save(client, auth, the_attempt(lead), outcome="reached", next_at=cadence_pick(lead).isoformat(),
                    book_kind="visit", book_date="2020-01-01", book_time="10:00")
    assert response.status_code == 422 and "Choose a time in the future." in response.get_data(as_text=True)
    assert the_attempt(lead).outcome is None and db.session.query(Appointment).count() == 0


# The one-shot log: a phone without signal logs the attempt and its outcome in one request, sent later.

def log(client, auth, lead, headers=HTMX, made_at=None, **data):
    made_at = made_at if made_at is not None else (utcnow() - timedelta(minutes=20)).isoformat()
    fields = {"kind": "call", "made_at": made_at, "next_at": "custom",
              "custom_date": (utcnow() + timedelta(days=3)).date().isoformat(), "custom_time": "10:00", **data}
    return client.post(f"/leads/{lead.id}/contacts/log", data={"csrf_token": auth.csrf_token("/today"), **fields},
                       headers=headers)


def offline_entry(html: str) -> dict:
    """What a form tells the phone's outbox about its entry (data-offline-entry, single-quoted JSON)."""
    return json.loads(re.search(r"data-offline-entry='([^']*)'", html).group(1))


def checked(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="(\w+)"[^>]*\bchecked', html)


def contacts_of(lead) -> list[Activity]:
    db.session.expire_all()
    return db.session.scalars(db.select(Activity).where(Activity.lead_id == lead.id,
                                                        Activity.kind.in_(("call", "sms", "wechat")))
                              .order_by(Activity.occurred_at)).all()


def test_the_contact_buttons_name_the_sheet_to_open_without_signal(client, lead):
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    for kind in ("call", "sms", "wechat"):
        assert f'data-offline-sheet="/leads/{lead.id}/contacts/log" data-kind="{kind}"' in page


def test_the_log_sheet_opens_with_the_channel_tapped_and_the_time_to_fill_in(client, lead):
    response = client.get(f"/leads/{lead.id}/contacts/log", query_string={"kind": "wechat"}, headers=HTMX)
    sheet = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in sheet
    assert f'hx-post="/leads/{lead.id}/contacts/log" hx-target="this" hx-swap="outerHTML"' in sheet
    assert offline_entry(sheet) == {"title": "刘洋", "lead": lead.id}
    assert checked(sheet, "kind") == ["wechat"] and checked(sheet, "outcome") == []
    assert "How did the call go?" in sheet and "By cadence" in sheet and "Book a visit or test drive" in sheet
    made_at = datetime.fromisoformat(re.search(r'name="made_at" data-now value="([^"]+)"', sheet).group(1))
    assert abs(made_at - utcnow()) < timedelta(minutes=1) and made_at.utcoffset() == timedelta(0)
    page = client.get(f"/leads/{lead.id}/contacts/log").get_data(as_text=True)
    assert "<html" in page and checked(page, "kind") == ["call"]


def test_the_log_sheet_offers_wechat_only_for_a_customer_with_a_wechat_id(client, me, world):
    plain = factories.make_lead(me)
    sheet = client.get(f"/leads/{plain.id}/contacts/log?kind=wechat", headers=HTMX).get_data(as_text=True)
    assert 'value="wechat"' not in sheet and checked(sheet, "kind") == ["call"]


def test_a_logged_call_is_the_attempt_and_its_outcome_at_the_time_it_was_made(client, auth, lead):
    made_at = (utcnow() - timedelta(hours=3)).replace(microsecond=0)
    response = log(client, auth, lead, made_at=made_at.astimezone(ZoneInfo("Asia/Shanghai")).isoformat(),
                   outcome="reached", note="周六来试驾")

    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    event = json.loads(response.headers["HX-Trigger"])["lead-changed"]
    assert event["lead"] == lead.id and event["message"].startswith("Saved. Next follow-up")
    [call] = contacts_of(lead)
    assert (call.occurred_at, call.outcome, call.note, call.user_id) == (made_at, Outcome.REACHED, "周六来试驾",
                                                                          lead.consultant_id)
    saved = fresh(lead)
    assert saved.first_contact_at == saved.last_contact_at == made_at
    assert (saved.last_contact_kind, saved.last_contact_outcome) == (ActivityKind.CALL, Outcome.REACHED)
    assert saved.stage is Stage.CONTACTED
    tasks = db.session.scalars(db.select(FollowUpTask).where(FollowUpTask.lead_id == lead.id)
                               .order_by(FollowUpTask.id)).all()
    assert [t.status for t in tasks] == [TaskStatus.DONE, TaskStatus.OPEN]
    assert "周六来试驾" in client.get(f"/leads/{lead.id}").get_data(as_text=True)


def test_a_contact_logged_late_is_the_first_but_not_the_last_contact(client, auth, lead):
    tap(client, auth, lead)
    save(client, auth, the_attempt(lead), outcome="busy", next_at=cadence_pick(lead).isoformat())
    online = fresh(lead)
    last = (online.last_contact_at, online.last_contact_kind, online.last_contact_outcome)
    made_at = online.first_contact_at - timedelta(hours=1)

    response = log(client, auth, lead, made_at=made_at.isoformat(), kind="sms", note="发了报价")

    assert response.status_code == 200
    saved = fresh(lead)
    assert saved.first_contact_at == made_at
    assert (saved.last_contact_at, saved.last_contact_kind, saved.last_contact_outcome) == last
    assert last[1:] == (ActivityKind.CALL, Outcome.BUSY)
    assert [(a.kind, a.note) for a in contacts_of(lead)] == [(ActivityKind.SMS, "发了报价"), (ActivityKind.CALL, None)]


def test_a_logged_call_with_the_same_book_as_the_outcome_sheet_books_the_test_drive(client, auth, lead):
    day = (utcnow() + timedelta(days=2)).date().isoformat()
    response = log(client, auth, lead, outcome="reached", book_kind="test_drive", book_date=day, book_time="11:00")
    assert response.status_code == 200
    assert db.session.scalar(db.select(Appointment)).kind is AppointmentKind.TEST_DRIVE
    assert fresh(lead).stage is Stage.INVITED


@pytest.mark.parametrize(("made_at", "data", "message"), [
    (timedelta(minutes=10), {"outcome": "reached"}, "The time of this contact is in the future."),
    (timedelta(days=-15), {"outcome": "reached"}, "more than 14 days ago"),
    (timedelta(minutes=-5), {}, "Choose how the call went."),
    (timedelta(minutes=-5), {"outcome": "reached", "kind": "visit"}, "Choose call, SMS or WeChat."),
    (timedelta(minutes=-5), {"outcome": "reached", "next_at": "2020-01-01T00:00:00+00:00"},
     "The next follow-up must be in the future."),
    (timedelta(minutes=-5), {"outcome": "reached", "book_kind": "visit", "book_date": "2020-01-01",
                             "book_time": "10:00"}, "Choose a time in the future."),
    (None, {"outcome": "reached", "made_at": "2026-01-01T10:00:00"}, "The time of this contact is missing"),
    (None, {"outcome": "reached", "made_at": ""}, "This field is required."),
])
def test_a_refused_log_says_why_in_the_sheet_and_saves_nothing(client, auth, lead, made_at, data, message):
    when_made = (utcnow() + made_at).isoformat() if made_at is not None else data.pop("made_at")
    before = fresh(lead)
    follow_up = before.next_follow_up_at

    response = log(client, auth, lead, made_at=when_made, note="客户在开会", **data)

    sheet = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in sheet
    assert message in sheet and "客户在开会</textarea>" in sheet
    assert f'hx-post="/leads/{lead.id}/contacts/log"' in sheet
    assert contacts_of(lead) == [] and db.session.query(Appointment).count() == 0
    saved = fresh(lead)
    assert (saved.first_contact_at, saved.last_contact_at, saved.next_follow_up_at) == (None, None, follow_up)


def test_a_phone_clock_a_little_ahead_is_accepted(client, auth, lead):
    made_at = (utcnow() + timedelta(minutes=3)).replace(microsecond=0)
    assert log(client, auth, lead, made_at=made_at.isoformat(), kind="sms").status_code == 200
    assert fresh(lead).first_contact_at == made_at


def test_a_refused_log_without_javascript_is_the_sheet_as_a_page(client, auth, lead):
    response = log(client, auth, lead, headers={}, made_at=(utcnow() + timedelta(hours=1)).isoformat(),
                   outcome="reached")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" in page and "in the future" in page
    done = log(client, auth, lead, headers={}, outcome="reached")
    assert done.status_code == 303 and done.headers["Location"] == f"/leads/{lead.id}"


def test_nobody_logs_a_contact_on_another_consultants_lead(client, auth, me, world):
    other = factories.make_lead(world.one.colleague)
    assert client.get(f"/leads/{other.id}/contacts/log", headers=HTMX).status_code == 404
    assert log(client, auth, other, outcome="reached").status_code == 404
    assert contacts_of(other) == [] and fresh(other).first_contact_at is None


def test_a_closed_lead_takes_no_logged_contact(client, auth, me):
    closed = factories.make_lead(me, stage=Stage.DELIVERED)
    response = log(client, auth, closed, outcome="reached")
    assert response.status_code == 422 and "This lead is closed." in response.get_data(as_text=True)
    assert contacts_of(closed) == []


def test_a_logged_contact_replayed_with_its_key_is_one_contact(client, auth, lead):
    key, made_at = str(uuid.uuid4()), (utcnow() - timedelta(minutes=30)).isoformat()
    headers = {**HTMX, "Idempotency-Key": key}
    first = log(client, auth, lead, headers=headers, made_at=made_at, outcome="no_answer")
    again = log(client, auth, lead, headers=headers, made_at=made_at, outcome="no_answer")
    assert first.status_code == again.status_code == 200
    assert again.headers["HX-Trigger"] == first.headers["HX-Trigger"] and again.headers["Idempotent-Replayed"] == "true"
    assert len(contacts_of(lead)) == 1
    assert db.session.query(FollowUpTask).filter_by(lead_id=lead.id, status=TaskStatus.OPEN).count() == 1
