"""The manager's approval queue and everyone's inbox: lost and invalid requests decided with a comment, their
effects on the lead, the consultant told, the audit log."""
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import (
    Activity, ApprovalKind, ApprovalRequest, ApprovalStatus, AuditEntry, FollowUpTask, Lead, Notification, Stage,
    TaskStatus, utcnow,
)
from app.services import lead_changes
from tests import factories

HTMX = {"HX-Request": "true"}


@pytest.fixture
def request_(world):
    """A consultant's pending request to close a lead as lost."""
    lead = factories.make_lead(world.one.consultant, customer=factories.make_customer(world.oem, name="孙丽"),
                               stage=Stage.CONTACTED, first_contact_at=utcnow())
    factories.make_follow_up(lead, due_in=timedelta(days=2))
    return lead_changes.request_approval(world.one.consultant, lead, ApprovalKind.MARK_LOST, "bought_competitor",
                                      "买了别的品牌")


@pytest.fixture
def manager(auth, world):
    auth.sign_in(world.one.manager)
    return world.one.manager


def decide(client, auth, request_, decision, headers=HTMX, **data):
    return client.post(f"/approvals/{request_.id}/{decision}",
                       data={"csrf_token": auth.csrf_token("/approvals"), **data}, headers=headers)


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def test_the_queue_shows_pending_requests_with_reason_and_note(client, manager, request_):
    page = client.get("/approvals").get_data(as_text=True)
    assert "孙丽" in page and "Lost requested · Bought another brand" in page and "买了别的品牌" in page


def test_approving_a_lost_request_closes_the_lead_and_tells_the_consultant(client, auth, manager, request_, world):
    response = decide(client, auth, request_, "approve", comment="同意，客户已购车")
    assert response.status_code == 200 and "Approved." in response.get_data(as_text=True)
    lead = fresh(Lead, request_.lead_id)
    assert lead.stage is Stage.LOST and lead.closed_at is not None and lead.next_follow_up_at is None
    assert db.session.scalar(db.select(FollowUpTask.status)) is TaskStatus.CANCELLED
    decided = fresh(ApprovalRequest, request_.id)
    assert (decided.status, decided.decided_by_id, decided.decision_note) == (
        ApprovalStatus.APPROVED, manager.id, "同意，客户已购车")
    told = db.session.scalar(db.select(Notification).where(Notification.kind == "approval_approved"))
    assert told.user_id == world.one.consultant.id and told.body == "同意，客户已购车"
    entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "approval.approved"))
    assert entry.actor_id == manager.id and entry.before["stage"] == "contacted" and entry.after["stage"] == "lost"


def test_rejecting_keeps_the_lead_open(client, auth, manager, request_):
    decide(client, auth, request_, "reject", comment="再跟进一次")
    lead = fresh(Lead, request_.lead_id)
    assert lead.is_open and lead.next_follow_up_at is not None
    assert fresh(ApprovalRequest, request_.id).status is ApprovalStatus.REJECTED
    assert db.session.scalar(db.select(Activity.note).where(Activity.summary.like("rejected:%"))) == "再跟进一次"
    told = db.session.scalar(db.select(Notification).where(Notification.kind == "approval_rejected"))
    assert told.user_id == request_.requested_by_id


def test_a_request_is_decided_once(client, auth, manager, request_):
    decide(client, auth, request_, "approve")
    again = decide(client, auth, request_, "reject")
    assert again.status_code == 409 and "already decided" in again.get_data(as_text=True)
    assert fresh(ApprovalRequest, request_.id).status is ApprovalStatus.APPROVED


def test_without_javascript_the_decision_returns_to_the_queue(client, auth, manager, request_):
    response = decide(client, auth, request_, "approve", headers={})
    assert response.status_code == 303 and response.headers["Location"] == "/approvals"
    assert "Nothing waits for your decision." in client.get("/approvals").get_data(as_text=True)


def test_only_the_dealers_manager_decides(app, auth, request_, world):
    other = app.test_client()
    type(auth)(other).sign_in(world.two.manager)
    token = type(auth)(other).csrf_token("/approvals")
    assert other.post(f"/approvals/{request_.id}/approve", data={"csrf_token": token}).status_code == 404
    assert "孙丽" not in other.get("/approvals").get_data(as_text=True)
    consultant = app.test_client()
    type(auth)(consultant).sign_in(world.one.consultant)
    token = type(auth)(consultant).csrf_token("/today")
    assert consultant.post(f"/approvals/{request_.id}/approve", data={"csrf_token": token}).status_code == 403
    assert fresh(ApprovalRequest, request_.id).status is ApprovalStatus.PENDING


def test_the_inbox_counts_unread_and_opens_what_it_is_about(app, client, auth, manager, request_, world):
    page = client.get("/today").get_data(as_text=True)
    assert 'aria-label="Inbox: 1 unread"' in page and '<span class="badge">1</span>' in page
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "Asks for your approval" in inbox and "孙丽" in inbox
    notification = db.session.scalar(db.select(Notification).where(Notification.user_id == manager.id))
    assert client.get(f"/inbox/{notification.id}").headers["Location"] == "/approvals"
    assert fresh(Notification, notification.id).read_at is not None
    assert 'aria-label="Inbox: 0 unread"' in client.get("/today").get_data(as_text=True)
    colleague = app.test_client()
    type(auth)(colleague).sign_in(world.one.consultant)
    assert colleague.get(f"/inbox/{notification.id}").status_code == 404


def test_mark_all_read(client, auth, manager, request_):
    client.post("/inbox/read", data={"csrf_token": auth.csrf_token("/inbox")})
    assert db.session.scalar(db.select(Notification.read_at)) is not None


@pytest.mark.browser
def test_a_manager_approves_a_lost_request_on_a_phone(phone, request_, world):
    from tests.test_browser import sign_in

    sign_in(phone, world.one.manager)
    phone.locator(".bell .badge").get_by_text("1").wait_for()
    phone.locator(".bell").click()
    phone.get_by_role("link", name="Approvals").click()
    item = phone.locator(f"#approval-{request_.id}")
    item.locator("textarea[name=comment]").fill("同意")
    item.get_by_role("button", name="Approve").click()
    phone.locator(f"#approval-{request_.id}").get_by_text("Approved.").wait_for()
    assert fresh(Lead, request_.lead_id).stage is Stage.LOST
