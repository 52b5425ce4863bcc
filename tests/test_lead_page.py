"""The lead page: one-tap stage and intent changes, the close request, editing details with inline checks,
booking and marking appointments, moving the next follow-up, and the timeline."""
import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.models import (
    Activity, ActivityKind, Appointment, AppointmentStatus, ApprovalRequest, AuditEntry, Customer, FollowUpTask,
    IntentLevel, Lead, Notification, Origin, Stage, TaskStatus, utcnow,
)
from app.services import cadence
from tests import factories

HTMX = {"HX-Request": "true"}
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def lead(me, world):
    lead = factories.make_lead(me, customer=factories.make_customer(world.oem, name="周杰", phone_e164="+8613800138000"),
                               stage=Stage.CONTACTED, first_contact_at=utcnow())
    factories.make_follow_up(lead, due_in=timedelta(days=1))
    return lead


def post(client, auth, path, headers=HTMX, **data):
    return client.post(path, data={"csrf_token": auth.csrf_token("/today"), **data}, headers=headers)


def fresh(lead) -> Lead:
    db.session.expire_all()
    return db.session.get(Lead, lead.id)


def trigger(response) -> dict:
    return json.loads(response.headers["HX-Trigger"])


def test_one_tap_stage_change_is_an_activity(client, auth, lead):
    response = post(client, auth, f"/leads/{lead.id}/stage", stage="invited")
    assert response.status_code == 200 and trigger(response)["lead-changed"]["message"] == "Stage: Invited."
    assert fresh(lead).stage is Stage.INVITED
    change = db.session.scalar(db.select(Activity).where(Activity.kind == ActivityKind.STAGE_CHANGE))
    assert change.summary == "contacted → invited"
    entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "lead.stage_changed"))
    assert (entry.actor_id, entry.object_id, entry.before, entry.after) == (
        lead.consultant_id, lead.id, {"stage": "contacted"}, {"stage": "invited"})
    assert "Contacted → Invited" in client.get(f"/leads/{lead.id}").get_data(as_text=True)


def test_ordered_sets_intent_o_and_delivered_closes_the_lead(client, auth, lead):
    post(client, auth, f"/leads/{lead.id}/stage", stage="ordered")
    assert fresh(lead).intent_level is IntentLevel.O
    post(client, auth, f"/leads/{lead.id}/stage", stage="delivered")
    closed = fresh(lead)
    assert closed.stage is Stage.DELIVERED and closed.closed_at is not None and closed.next_follow_up_at is None
    assert db.session.scalar(db.select(FollowUpTask.status)) is TaskStatus.CANCELLED


def test_lost_is_never_one_tap(client, auth, lead):
    response = post(client, auth, f"/leads/{lead.id}/stage", stage="lost")
    assert response.status_code == 422
    assert "approval" in trigger(response)["lead-refused"]["message"]
    assert fresh(lead).stage is Stage.CONTACTED


def test_intent_change_is_an_activity(client, auth, lead):
    post(client, auth, f"/leads/{lead.id}/intent", intent_level="H")
    assert fresh(lead).intent_level is IntentLevel.H
    assert db.session.scalar(db.select(Activity.summary).where(Activity.kind == ActivityKind.INTENT_CHANGE)) == "A → H"


def test_lost_request_waits_for_the_manager_and_tells_them(client, auth, lead, world):
    response = post(client, auth, f"/leads/{lead.id}/close", kind="mark_lost", reason="bought_competitor",
                    note="买了别的品牌")
    assert response.status_code == 200
    saved = fresh(lead)
    assert saved.is_open and saved.stage is Stage.CONTACTED  # still active until the manager decides
    request = db.session.scalar(db.select(ApprovalRequest))
    assert (request.reason, request.note, request.dealer_id) == ("bought_competitor", "买了别的品牌", lead.dealer_id)
    assert db.session.scalar(db.select(Notification.user_id)) == world.one.manager.id
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "Lost requested · Bought another brand" in page
    again = post(client, auth, f"/leads/{lead.id}/close", kind="mark_invalid", reason="duplicate")
    assert again.status_code == 422 and "already waiting" in again.get_data(as_text=True)


@pytest.mark.parametrize(("data", "message"), [
    ({"kind": "mark_lost"}, "This field is required."),
    ({"kind": "mark_lost", "reason": "duplicate"}, "Choose a reason from the list."),
    ({"kind": "cancel_follow_up", "reason": "price"}, "Choose lost or invalid."),
])
def test_close_request_needs_a_reason_from_the_list(client, auth, lead, data, message):
    response = post(client, auth, f"/leads/{lead.id}/close", **data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.query(ApprovalRequest).count() == 0


def test_edit_details_normalises_the_number_and_audits_the_change(client, auth, lead):
    response = post(client, auth, f"/leads/{lead.id}/edit", name="周杰伦", phone="+86 139-1111-2222",
                    wechat_id="jay", email="Jay@Example.com", city="广州", model_of_interest="HY-E3")
    assert response.status_code == 200
    db.session.expire_all()
    customer = db.session.get(Customer, lead.customer_id)
    assert (customer.name, customer.phone_e164, customer.email) == ("周杰伦", "+8613911112222", "jay@example.com")
    assert fresh(lead).model_of_interest == "HY-E3"
    entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "customer.updated"))
    assert entry.before["phone_e164"] == "+8613800138000" and entry.after["phone_e164"] == "+8613911112222"


@pytest.mark.parametrize(("phone", "message"), [
    ("12345", "This number does not exist: check the digits."),
    ("020 8888 8888", "Enter a mobile number, not a landline."),
    ("", "This field is required."),
    ("taken", "This number belongs to another customer."),
])
def test_bad_details_say_why_next_to_the_field_and_keep_the_input(client, auth, lead, world, phone, message):
    if phone == "taken":
        phone = factories.make_customer(world.oem, phone_e164="+8613722223333").phone_e164
    response = post(client, auth, f"/leads/{lead.id}/edit", name="新名字", phone=phone)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and 'value="新名字"' in html
    db.session.expire_all()
    assert db.session.get(Customer, lead.customer_id).name == "周杰"


def test_the_phone_is_checked_as_it_is_typed(client, auth, lead):
    ok = client.get(f"/leads/{lead.id}/edit/phone?phone=139 1111 2222", headers=HTMX).get_data(as_text=True)
    assert "+8613911112222" in ok and 'class="hint"' in ok
    bad = client.get(f"/leads/{lead.id}/edit/phone?phone=1391111", headers=HTMX).get_data(as_text=True)
    assert 'class="error"' in bad and "check the digits" in bad


def test_moving_the_next_follow_up(client, auth, lead):
    day = date.today() + timedelta(days=5)
    post(client, auth, f"/leads/{lead.id}/next-follow-up", next_at="custom", custom_date=day.isoformat(),
         custom_time="15:00")
    assert fresh(lead).next_follow_up_at == datetime.combine(day, time(15), tzinfo=SHANGHAI)
    statuses = db.session.scalars(db.select(FollowUpTask.status).order_by(FollowUpTask.id)).all()
    assert statuses == [TaskStatus.CANCELLED, TaskStatus.OPEN]


def book(client, auth, lead, kind="test_drive", days=2, clock="10:00", **extra):
    day = (datetime.now(SHANGHAI) + timedelta(days=days)).date()
    return post(client, auth, f"/leads/{lead.id}/appointments", kind=kind, date=day.isoformat(), time=clock, **extra)


def test_booking_a_test_drive_invites_the_lead(client, auth, lead):
    response = book(client, auth, lead, model_of_interest="HY-X7")
    assert response.status_code == 200 and "Booked for" in trigger(response)["lead-changed"]["message"]
    appointment = db.session.scalar(db.select(Appointment))
    assert appointment.model_of_interest == "HY-X7" and appointment.starts_at.astimezone(SHANGHAI).hour == 10
    assert fresh(lead).stage is Stage.INVITED


@pytest.mark.parametrize(("days", "message"), [(-1, "Choose a time in the future."), (200, "four months")])
def test_booking_refuses_odd_times(client, auth, lead, days, message):
    response = book(client, auth, lead, days=days)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.query(Appointment).count() == 0


def test_a_shown_test_drive_moves_the_lead_on(client, auth, lead):
    book(client, auth, lead)
    appointment = db.session.scalar(db.select(Appointment))
    post(client, auth, f"/appointments/{appointment.id}/showed")
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status is AppointmentStatus.ATTENDED
    assert fresh(lead).stage is Stage.TEST_DRIVE
    assert ActivityKind.TEST_DRIVE in db.session.scalars(db.select(Activity.kind)).all()
    again = post(client, auth, f"/appointments/{appointment.id}/no_show")
    assert again.status_code == 422


def test_a_no_show_gets_a_reschedule_follow_up_on_the_next_working_day(client, auth, lead):
    book(client, auth, lead, kind="visit")
    appointment = db.session.scalar(db.select(Appointment))
    post(client, auth, f"/appointments/{appointment.id}/no_show")
    saved = fresh(lead)
    expected = cadence.next_working_day_start(cadence.policy_for(saved.dealer), utcnow())
    assert saved.next_follow_up_at == expected
    task = db.session.scalar(db.select(FollowUpTask).where(FollowUpTask.status == TaskStatus.OPEN))
    assert task.purpose == "reschedule_no_show"
    assert "Reschedule the missed appointment" in client.get(f"/leads/{lead.id}").get_data(as_text=True)


def test_timeline_shows_activities_tasks_and_appointments_newest_first(client, auth, lead):
    factories.make_activity(lead, ActivityKind.CALL, note="第一次电话", occurred_at=utcnow() - timedelta(days=2))
    book(client, auth, lead, days=3)
    html = client.get(f"/leads/{lead.id}").get_data(as_text=True).split('class="timeline"')[1]
    assert html.index("entry-appointment") < html.index("entry-follow_up") < html.index("第一次电话")


def test_the_lead_desk_reads_the_lead_but_cannot_change_it(app, auth, world):
    oem_lead = factories.make_lead(world.one.consultant, origin=Origin.OEM)
    desk = app.test_client()
    type(auth)(desk).sign_in(world.idcc_agent)
    detail = desk.get(f"/leads/{oem_lead.id}").get_data(as_text=True).split('id="lead-detail"')[1]
    assert oem_lead.customer.name in detail
    assert 'name="stage"' not in detail and "data-attempt" not in detail
    token = type(auth)(desk).csrf_token("/leads")
    assert desk.post(f"/leads/{oem_lead.id}/stage", data={"stage": "invited", "csrf_token": token}).status_code == 403


@pytest.mark.parametrize("path", ["stage", "intent", "close", "edit", "next-follow-up", "appointments"])
def test_a_colleagues_lead_is_not_found(client, auth, me, world, path):
    other = factories.make_lead(world.one.colleague)
    assert post(client, auth, f"/leads/{other.id}/{path}", stage="invited").status_code == 404
    assert fresh(other).stage is Stage.NEW


def test_a_no_show_on_a_lead_desk_lead_returns_it_to_the_desk(client, auth, lead, world, me):
    lead.origin = Origin.OEM
    db.session.commit()
    book(client, auth, lead, kind="visit")
    appointment = db.session.scalar(db.select(Appointment))
    response = post(client, auth, f"/appointments/{appointment.id}/no_show")
    assert response.status_code == 200 and response.headers["HX-Location"] == "/"
    saved = fresh(lead)
    assert (saved.dealer_id, saved.consultant_id, saved.return_reason.value) == (None, None, "no_show")
    assert saved.next_follow_up_at is None and db.session.get(Appointment, appointment.id).status \
        is AppointmentStatus.NO_SHOW
    assert not db.session.scalars(db.select(Notification).where(Notification.kind == "lead_taken_back")).all()
    assert "The lead desk takes the lead back" in client.get("/today").get_data(as_text=True)
    assert client.get(f"/leads/{lead.id}").status_code == 404
    auth.sign_out()
    auth.sign_in(world.idcc_agent)
    returned = client.get("/desk").get_data(as_text=True).split('id="returned"', 1)[1].split("</section>", 1)[0]
    assert "周杰" in returned and "Customer did not come" in returned


def test_cancelling_a_follow_up_needs_a_reason_and_the_managers_yes(client, auth, lead, world):
    sheet = client.get(f"/leads/{lead.id}/cancel-follow-up", headers=HTMX).get_data(as_text=True)
    assert "Customer asked not to be called for now" in sheet
    refused = post(client, auth, f"/leads/{lead.id}/cancel-follow-up", reason="price")
    assert refused.status_code == 422 and "Choose a reason from the list." in refused.get_data(as_text=True)
    sent = post(client, auth, f"/leads/{lead.id}/cancel-follow-up", reason="away_for_now", note="出国两个月")
    assert sent.status_code == 200 and "The follow-up stays" in trigger(sent)["lead-changed"]["message"]
    request = db.session.scalar(db.select(ApprovalRequest))
    assert (request.kind.value, request.reason, request.note) == ("cancel_follow_up", "away_for_now", "出国两个月")
    assert fresh(lead).next_follow_up_at is not None  # nothing changes before the manager decides
    again = post(client, auth, f"/leads/{lead.id}/cancel-follow-up", reason="away_for_now")
    assert again.status_code == 422 and "already waiting" in again.get_data(as_text=True)

    auth.sign_out()
    auth.sign_in(world.one.manager)
    queue = client.get("/approvals").get_data(as_text=True)
    assert "Cancel follow-up requested · Customer is away for a while" in queue
    client.post(f"/approvals/{request.id}/approve", data={"csrf_token": auth.csrf_token("/approvals")},
                headers=HTMX)
    saved = fresh(lead)
    assert saved.is_open and saved.next_follow_up_at is None
    assert db.session.scalar(db.select(FollowUpTask.status)) is TaskStatus.CANCELLED
    assert db.session.scalar(db.select(Notification.user_id).where(Notification.kind == "approval_approved")) \
        == lead.consultant_id


def test_a_lead_without_a_follow_up_has_none_to_cancel(client, auth, lead):
    lead.open_follow_up  # loaded before the change
    db.session.execute(db.update(FollowUpTask).values(status=TaskStatus.DONE))
    lead.next_follow_up_at = None
    db.session.commit()
    response = post(client, auth, f"/leads/{lead.id}/cancel-follow-up", reason="away_for_now")
    assert response.status_code == 422 and "no follow-up to cancel" in response.get_data(as_text=True)
