"""A customer's request to see their data: everything held about them, as JSON to hand over and as a page with the
same sections, for the dealer's manager (their dealer's leads) and the brand's administrator (the desk's leads);
every export is audited; consultants and the lead desk are refused, another dealer's manager finds nothing."""
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    ActivityKind, ApprovalKind, ApprovalRequest, Appointment, AppointmentKind, AuditEntry, Channel, ConsentMethod,
    ConsentRecord, Customer, IdempotentRequest, ImportedRow, Lead, Notification, Origin, Outcome, ShowroomVisit,
    Stage, TaskStatus, utcnow,
)
from app.services import approvals, customer_data, erasure, lead_changes, lead_details
from tests import factories

NAME = "郝思嘉Scarlett"
PHONE, DIGITS, WRITTEN = "+8613912345678", "13912345678", "139 1234 5678"
EMAIL, OLD_EMAIL = "scarlett.hao@example.cn", "old.scarlett@example.cn"
WECHAT, CITY = "scarlett_wx_77", "香洲区测试城"
NOTE = "她住在海湾路88号 lives at 88 Bay Road"
CALL_NOTE = "Husband Rhett prefers the grey HY-X7"
APPOINTMENT_NOTE = "Brings her sister Melanie"
REQUEST_NOTE = "Travelling to Atlanta until June"
DECISION = "Keep in touch with Scarlett monthly"
# Everything personal the history below writes, in any table: none may be left after an erasure.
PERSONAL = (NAME, PHONE, DIGITS, WRITTEN, EMAIL, OLD_EMAIL, WECHAT, CITY, NOTE, CALL_NOTE, APPOINTMENT_NOTE,
            REQUEST_NOTE, DECISION)
SECTIONS = ["customer", "consents", "leads", "activities", "follow_ups", "appointments", "showroom_visits",
            "approval_requests", "notifications", "imported_rows", "audit_entries"]


@dataclass
class History:
    customer: Customer
    lead: Lead
    request: ApprovalRequest
    other: Customer  # another customer of the same dealer: an erasure leaves them alone


@pytest.fixture
def history(world) -> History:
    """A walk-in of dealer one with everything a customer leaves behind: consent, a lead that was invited and
    visited, a note and a call with notes, follow-ups (one of them in the consultant's words), an appointment and a
    visit, a request to cancel a follow-up that the manager rejected (notifications both ways), details edited
    (an audit entry with the old email), a row of an imported file, and an offline entry's stored answer."""
    one, now = world.one, utcnow()
    customer = factories.make_customer(world.oem, name=NAME, phone_e164=PHONE, email=OLD_EMAIL, wechat_id=WECHAT,
                                       city=CITY)
    db.session.add(ConsentRecord(customer_id=customer.id, channel=Channel.CALL, granted=True,
                                 method=ConsentMethod.WALK_IN_FORM, source="walk_in", recorded_by_id=one.consultant.id))
    lead = factories.make_lead(one.consultant, customer=customer, stage=Stage.VISITED, arrived_at=now - timedelta(hours=3),
                               first_contact_at=now - timedelta(hours=2), invited_at=now - timedelta(hours=2),
                               visited_at=now - timedelta(hours=1))
    lead_changes.add_note(one.consultant, lead, NOTE)
    factories.make_activity(lead, ActivityKind.CALL, outcome=Outcome.REACHED, note=CALL_NOTE)
    factories.make_follow_up(lead, status=TaskStatus.DONE, purpose=f"Call {NAME} about the trade-in", done_at=now)
    factories.make_follow_up(lead, purpose="after_visit")
    db.session.add_all([
        Appointment(lead_id=lead.id, dealer_id=one.dealer.id, consultant_id=one.consultant.id,
                    kind=AppointmentKind.TEST_DRIVE, starts_at=now + timedelta(days=2), note=APPOINTMENT_NOTE),
        ShowroomVisit(dealer_id=one.dealer.id, lead_id=lead.id, consultant_id=one.consultant.id,
                      registered_by_id=one.consultant.id, party_size=3, arrived_at=now - timedelta(hours=1)),
        ImportedRow(oem_id=world.oem.id, import_key=f"{PHONE}|autohome|2026-05-03T10:00:00", lead_id=lead.id),
        IdempotentRequest(user_id=one.consultant.id, key=str(uuid.uuid4()), method="POST",
                          path=f"/leads/{lead.id}/note", body_hash="0" * 64, status_code=200,
                          body=f"<h2>{NAME}</h2><a href='tel:{PHONE}'>{WRITTEN}</a><p>{NOTE}</p>",
                          headers={"HX-Trigger": json.dumps({"lead-changed": {"message": f"Saved for {NAME}"}})}),
    ])
    db.session.commit()
    request = lead_changes.request_approval(one.consultant, lead, ApprovalKind.CANCEL_FOLLOW_UP,
                                            "away_for_now", REQUEST_NOTE)
    approvals.decide(one.manager, request, approve=False, comment=DECISION)
    lead_details.update(one.manager, lead, {"name": NAME, "phone": WRITTEN, "wechat_id": WECHAT, "email": EMAIL,
                                            "city": CITY, "model_of_interest": lead.model_of_interest})
    other = factories.make_lead(one.consultant, model_of_interest="HY-S5")
    factories.make_activity(other, note="Other's note")
    return History(customer, lead, request, other.customer)


def download(client, customer_id: int) -> dict:
    response = client.get(f"/customers/{customer_id}/data.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert f"customer-{customer_id}-data.json" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    return json.loads(response.get_data(as_text=True))


def test_the_json_holds_every_section_and_every_row(client, auth, world, history):
    auth.sign_in(world.one.manager)
    data = download(client, history.customer.id)

    assert list(data) == ["format", "version", "exported_at", "exported_by", *SECTIONS]
    assert (data["format"], data["version"], data["exported_by"]) == ("customer-data", 1, world.one.manager.name)
    person = data["customer"]
    assert (person["name"], person["phone_e164"], person["email"], person["wechat_id"], person["city"]) == (
        NAME, PHONE, EMAIL, WECHAT, CITY)
    assert person["erased_at"] is None
    assert [(c["channel"], c["granted"], c["method"], c["recorded_by"]) for c in data["consents"]] == [
        ("call", True, "walk_in_form", world.one.consultant.name)]
    [lead] = data["leads"]
    assert (lead["id"], lead["stage"], lead["source"], lead["intent_level"], lead["dealer"], lead["consultant"]) == (
        history.lead.id, "visited", "walk_in", "A", world.one.dealer.name, world.one.consultant.name)
    assert lead["invited_at"] and lead["visited_at"] and lead["first_contact_at"]
    notes = {a["note"] for a in data["activities"]}
    assert {NOTE, CALL_NOTE, REQUEST_NOTE, DECISION} <= notes
    assert {"reached"} <= {a["outcome"] for a in data["activities"]}
    assert {f["purpose"] for f in data["follow_ups"]} == {f"Call {NAME} about the trade-in", "after_visit"}
    assert [(a["kind"], a["note"]) for a in data["appointments"]] == [("test_drive", APPOINTMENT_NOTE)]
    assert [(v["party_size"], v["consultant"]) for v in data["showroom_visits"]] == [(3, world.one.consultant.name)]
    assert [(r["kind"], r["reason"], r["note"], r["decision_note"], r["status"]) for r in data["approval_requests"]] == [
        ("cancel_follow_up", "away_for_now", REQUEST_NOTE, DECISION, "rejected")]
    assert {(n["kind"], n["title"], n["body"]) for n in data["notifications"]} == {
        ("approval_requested", NAME, REQUEST_NOTE), ("approval_rejected", NAME, DECISION)}
    assert [r["import_key"] for r in data["imported_rows"]] == [f"{PHONE}|autohome|2026-05-03T10:00:00"]
    actions = {(e["action"], e["object_type"]) for e in data["audit_entries"]}
    assert {("customer.updated", "customers"), ("approval.rejected", "approval_requests")} <= actions
    updated = next(e for e in data["audit_entries"] if e["action"] == "customer.updated")
    assert updated["before"]["email"] == OLD_EMAIL and updated["after"]["email"] == EMAIL
    assert all("ip_address" not in e for e in data["audit_entries"])  # the staff's address, not theirs


def test_timestamps_are_iso_utc(client, auth, world, history):
    auth.sign_in(world.one.manager)
    data = download(client, history.customer.id)
    for stamp in (data["exported_at"], data["customer"]["created_at"], data["leads"][0]["arrived_at"],
                  data["activities"][0]["occurred_at"], data["appointments"][0]["starts_at"]):
        assert datetime.fromisoformat(stamp).utcoffset() == timedelta(0), stamp


def test_the_page_shows_the_same_sections(client, auth, world, history):
    auth.sign_in(world.one.manager)
    page = client.get(f"/customers/{history.customer.id}/data").get_data(as_text=True)
    for key in SECTIONS:
        assert f'id="section-{key}"' in page
    for text in (NAME, PHONE, EMAIL, WECHAT, CITY, NOTE, CALL_NOTE, APPOINTMENT_NOTE, REQUEST_NOTE, DECISION,
                 f"Call {NAME} about the trade-in", f"{PHONE}|autohome", world.one.dealer.name, "Visited",
                 "Customer details changed", OLD_EMAIL):
        assert text in page, text
    assert f'href="/customers/{history.customer.id}/data.json"' in page


def test_showing_and_downloading_are_audited(client, auth, world, history):
    auth.sign_in(world.one.manager)
    client.get(f"/customers/{history.customer.id}/data")
    client.get(f"/customers/{history.customer.id}/data.json")
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.exported")
                                 .order_by(AuditEntry.id)).all()
    assert [(e.actor_id, e.dealer_id, e.object_type, e.object_id, e.after) for e in entries] == [
        (world.one.manager.id, world.one.dealer.id, "customers", history.customer.id, {"format": fmt})
        for fmt in ("page", "json")]
    trail = client.get("/audit").get_data(as_text=True)
    assert trail.count('<th scope="row">Customer&#39;s data shown or downloaded</th>') == 2


def test_only_what_the_dealer_holds(client, auth, world, history):
    """The same person at dealer two: dealer one's export leaves that lead and its history out."""
    elsewhere = factories.make_lead(world.two.consultant, customer=history.customer)
    factories.make_activity(elsewhere, note="Dealer two's own note")
    auth.sign_in(world.one.manager)
    data = download(client, history.customer.id)
    assert [lead["id"] for lead in data["leads"]] == [history.lead.id]
    assert "Dealer two's own note" not in json.dumps(data, ensure_ascii=False)


def test_the_brand_exports_the_leads_its_desk_captured(client, auth, world):
    customer = factories.make_customer(world.oem, name="品牌客户")
    routed = factories.make_lead(world.one.consultant, customer=customer, origin=Origin.OEM)
    waiting = factories.make_lead(None, dealer=None, oem_id=world.oem.id, customer=customer, origin=Origin.OEM)
    auth.sign_in(world.oem_admin)
    data = download(client, customer.id)
    assert sorted(lead["id"] for lead in data["leads"]) == sorted([routed.id, waiting.id])
    assert db.session.scalar(select(AuditEntry.dealer_id).where(AuditEntry.action == "customer.exported")) is None
    assert '<th scope="row">Customer&#39;s data shown or downloaded</th>' in client.get("/audit").get_data(as_text=True)


def test_the_customer_page_links_to_the_data_for_managers_only(client, auth, world, history):
    auth.sign_in(world.one.manager)
    page = client.get(f"/customers/{history.customer.id}").get_data(as_text=True)
    for path in ("data", "data.json", "erase"):
        assert f'href="/customers/{history.customer.id}/{path}"' in page
    auth.sign_out()
    auth.sign_in(world.one.consultant)
    page = client.get(f"/customers/{history.customer.id}").get_data(as_text=True)
    assert f"/customers/{history.customer.id}/data" not in page


@pytest.mark.parametrize("path", ["data", "data.json"])
def test_consultants_and_the_lead_desk_are_refused_other_dealers_find_nothing(client, auth, world, path):
    customer = factories.make_customer(world.oem)
    factories.make_lead(world.one.consultant, customer=customer, origin=Origin.OEM)
    for who, status in ((world.one.consultant, 403), (world.idcc_agent, 403), (world.two.manager, 404)):
        auth.sign_in(who)
        assert client.get(f"/customers/{customer.id}/{path}").status_code == status, who.role
        auth.sign_out()
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "customer.exported")) is None


def test_an_erased_customers_export_says_so(client, auth, world, history):
    erasure.erase(history.customer, world.one.manager, "Asked by phone")
    auth.sign_in(world.one.manager)
    data = download(client, history.customer.id)
    assert data["customer"]["name"] == erasure.ERASED_NAME
    assert datetime.fromisoformat(data["customer"]["erased_at"]) <= utcnow()
    assert "customer.erased" in {e["action"] for e in data["audit_entries"]}
    page = client.get(f"/customers/{history.customer.id}/data").get_data(as_text=True)
    assert "Personal data erased on request" in page


def test_every_column_is_exported_by_its_name(world, history):
    """A column added to one of the tables later is exported without a change to the export."""
    data = customer_data.everything_about(history.customer, world.one.manager)
    assert set(Customer.__table__.columns.keys()) <= set(data["customer"])
    assert set(Lead.__table__.columns.keys()) <= set(data["leads"][0])
    assert set(Notification.__table__.columns.keys()) <= set(data["notifications"][0])
