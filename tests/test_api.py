"""The JSON API under /api/v1: each endpoint's answer and the rows it writes, who sees what (out of scope is a 404
problem), session callers and their CSRF token, Idempotency-Key replays, problem details for every error, and the
OpenAPI document."""
import uuid
from datetime import timedelta

import pytest
import schemathesis
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Activity, ActivityKind, Appointment, ConsentRecord, Customer, FollowUpTask, IntentLevel, Lead, Notification,
    Origin, Outcome, Stage, TaskStatus, utcnow,
)
from app.services import api_tokens
from tests import factories
from tests.conftest import AuthActions

PROBLEM = "application/problem+json"


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


class Api:
    """A client of the API with one user's token."""

    def __init__(self, client, secret: str):
        self.client, self.headers = client, {"Authorization": f"Bearer {secret}"}

    def get(self, path, **kwargs):
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kwargs)

    def post(self, path, json=None, key=None, **kwargs):
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {}), **kwargs.pop("headers", {})}
        return self.client.post(f"/api/v1{path}", json=json, headers=headers, **kwargs)


@pytest.fixture
def api_as(app, world):
    """api_as(user): an API client acting as the user, with a token issued by their manager (or themselves)."""
    def client_for(user):
        issuer = world.one.manager if user.dealer_id == world.one.dealer.id else world.oem_admin
        if user.dealer_id == world.two.dealer.id:
            issuer = world.two.manager
        return Api(app.test_client(), api_tokens.issue(issuer, user, "test")[1])
    return client_for


def later(**delta) -> str:
    return (utcnow() + timedelta(**delta)).isoformat()


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["status"] == status and body["type"] == "about:blank" and body["title"] and body["detail"]
    return body


# Reading

def test_me_names_the_caller_and_their_dealer(api_as, world):
    body = api_as(world.one.consultant).get("/me").json
    assert body["id"] == world.one.consultant.id and body["role"] == "consultant"
    assert body["dealer"] == {"id": world.one.dealer.id, "name": world.one.dealer.name, "time_zone": "Asia/Shanghai"}
    assert api_as(world.idcc_agent).get("/me").json["dealer"] is None


def test_leads_are_the_callers_own_filtered_and_paged(api_as, world):
    me = world.one.consultant
    hot = factories.make_lead(me, intent_level=IntentLevel.H, stage=Stage.CONTACTED)
    warm = [factories.make_lead(me) for _ in range(2)]
    factories.make_lead(me, stage=Stage.LOST)
    factories.make_lead(world.one.colleague)
    factories.make_lead(world.two.consultant)
    api = api_as(me)
    listed = api.get("/leads").json
    assert {lead["id"] for lead in listed["items"]} == {hot.id, *(lead.id for lead in warm)}
    assert listed["next_page"] is None and listed["limit"] == 50
    assert [lead["id"] for lead in api.get("/leads?intent=H").json["items"]] == [hot.id]
    assert [lead["id"] for lead in api.get("/leads?stage=contacted").json["items"]] == [hot.id]
    phone = hot.customer.phone_e164
    assert [lead["id"] for lead in api.get(f"/leads?q=0{phone[3:6]} {phone[6:]}").json["items"]] == [hot.id]
    first = api.get("/leads?limit=2").json
    assert len(first["items"]) == 2 and first["next_page"] == 2
    second = api.get("/leads?limit=2&page=2").json
    assert len(second["items"]) == 1 and second["next_page"] is None
    one = api.get(f"/leads/{hot.id}").json
    assert one["customer"]["phone"] == phone and one["intent_level"] == "H" and one["origin"] == "dealer"


def test_the_page_size_is_capped(api_as, world):
    body = assert_problem(api_as(world.one.consultant).get("/leads?limit=101"), 422)
    assert set(body["errors"]) == {"limit"}


@pytest.mark.parametrize("whose", ["another dealer", "a colleague"])
def test_a_lead_out_of_scope_is_a_404_problem(api_as, world, whose):
    owner = world.two.consultant if whose == "another dealer" else world.one.colleague
    lead = factories.make_lead(owner)
    api = api_as(world.one.consultant)
    assert_problem(api.get(f"/leads/{lead.id}"), 404)
    assert_problem(api.post(f"/leads/{lead.id}/notes", json={"note": "x"}), 404)
    assert count(Activity) == 0


def test_a_manager_sees_the_dealers_leads_and_the_lead_desk_only_the_brands(api_as, world):
    colleague_lead = factories.make_lead(world.one.colleague)
    own = factories.make_lead(world.one.consultant, origin=Origin.DEALER)
    brands = factories.make_lead(world.one.consultant, origin=Origin.OEM)
    assert api_as(world.one.manager).get(f"/leads/{colleague_lead.id}").status_code == 200
    desk = api_as(world.idcc_agent)
    assert desk.get(f"/leads/{brands.id}").status_code == 200
    assert_problem(desk.get(f"/leads/{own.id}"), 404)
    assert_problem(desk.post(f"/leads/{brands.id}/notes", json={"note": "x"}), 403)


def test_follow_ups_due_are_the_callers(api_as, world):
    me = world.one.consultant
    overdue = factories.make_lead(me, stage=Stage.CONTACTED, first_contact_at=utcnow())
    factories.make_follow_up(overdue, due_in=timedelta(hours=-3))
    factories.make_follow_up(factories.make_lead(world.one.colleague, stage=Stage.CONTACTED,
                                                 first_contact_at=utcnow()), due_in=timedelta(hours=-3))
    body = api_as(me).get("/follow-ups").json
    assert body["overdue"]["count"] == 1 and [lead["id"] for lead in body["overdue"]["items"]] == [overdue.id]
    assert body["due_today"] == {"count": 0, "items": []}
    assert api_as(world.one.manager).get("/follow-ups").json["overdue"]["count"] == 2
    assert_problem(api_as(world.idcc_agent).get("/follow-ups"), 403)


def test_a_customer_is_found_by_number_within_what_the_caller_sees(api_as, world):
    lead = factories.make_lead(world.one.consultant)
    theirs = factories.make_lead(world.two.consultant)
    api = api_as(world.one.consultant)
    national = "+86 " + lead.customer.phone_e164[3:]
    found = api.get("/customers", query_string={"phone": national}).json["items"]
    assert [(one["customer"]["id"], [each["id"] for each in one["leads"]]) for one in found] == [
        (lead.customer_id, [lead.id])]
    assert api.get("/customers", query_string={"phone": theirs.customer.phone_e164}).json["items"] == []
    body = assert_problem(api.get("/customers?phone=12"), 422)
    assert set(body["errors"]) == {"phone"}


def test_notifications_are_the_callers_inbox(api_as, world):
    me = world.one.consultant
    db.session.add_all([Notification(user_id=me.id, kind="lead_assigned", title="New lead", dedupe_key="a"),
                        Notification(user_id=world.one.colleague.id, kind="lead_assigned", title="x",
                                     dedupe_key="b")])
    db.session.commit()
    body = api_as(me).get("/notifications").json
    assert body["unread"] == 1 and [item["title"] for item in body["items"]] == ["New lead"]


# Writing

NEW_LEAD = {"phone": "139 1234 5678", "name": "王芳", "source": "phone_in", "intent_level": "H",
            "model_of_interest": "HY-S7", "consent": ["call", "sms"]}


def test_a_consultant_enters_their_own_lead(api_as, world):
    response = api_as(world.one.consultant).post("/leads", json=NEW_LEAD)
    assert response.status_code == 201, response.json
    lead = db.session.get(Lead, response.json["id"])
    assert response.headers["Location"].endswith(f"/api/v1/leads/{lead.id}")
    assert (lead.origin, lead.dealer_id, lead.consultant_id, lead.stage, lead.intent_level) == (
        Origin.DEALER, world.one.dealer.id, world.one.consultant.id, Stage.NEW, IntentLevel.H)
    assert lead.customer.phone_e164 == "+8613912345678" and lead.first_contact_due_at is not None
    assert count(ConsentRecord, ConsentRecord.customer_id == lead.customer_id) == 2
    assert response.json["customer"]["name"] == "王芳"


def test_a_second_open_lead_of_one_person_is_a_409_naming_it_where_visible(api_as, world):
    colleagues = factories.make_lead(world.one.colleague, customer=factories.make_customer(
        world.oem, phone_e164="+8613912345678"))
    body = assert_problem(api_as(world.one.consultant).post("/leads", json=NEW_LEAD), 409)
    assert "lead_id" not in body  # a colleague's lead: not the consultant's to open
    assert assert_problem(api_as(world.one.manager).post("/leads", json=NEW_LEAD), 409)["lead_id"] == colleagues.id
    assert count(Lead) == 1
    other_dealer = api_as(world.two.consultant).post("/leads", json=NEW_LEAD)  # each dealer keeps its own
    assert other_dealer.status_code == 201 and count(Customer) == 1


def test_a_managers_lead_goes_to_the_consultant_picked_or_the_rotation(api_as, world):
    api = api_as(world.one.manager)
    picked = api.post("/leads", json={**NEW_LEAD, "consultant_id": world.one.colleague.id})
    assert picked.json["consultant_id"] == world.one.colleague.id
    rotated = api.post("/leads", json={**NEW_LEAD, "phone": "13912345679"})
    assert rotated.status_code == 201 and rotated.json["consultant_id"] in {
        world.one.consultant.id, world.one.colleague.id}
    body = assert_problem(api.post("/leads", json={**NEW_LEAD, "phone": "13912345670",
                                                   "consultant_id": world.two.consultant.id}), 422)
    assert set(body["errors"]) == {"consultant_id"}
    assert count(Lead) == 2


def test_the_lead_desk_captures_a_brand_lead_once(api_as, world):
    desk = api_as(world.idcc_agent)
    response = desk.post("/leads", json={**NEW_LEAD, "source": "autohome"})
    assert response.status_code == 201
    lead = db.session.get(Lead, response.json["id"])
    assert (lead.origin, lead.dealer_id, lead.created_by_id) == (Origin.OEM, None, world.idcc_agent.id)
    assert assert_problem(desk.post("/leads", json={**NEW_LEAD, "source": "yiche"}), 409)["lead_id"] == lead.id
    assert set(assert_problem(desk.post("/leads", json={**NEW_LEAD, "phone": "13912345670"}), 422)["errors"]) == {
        "source"}
    assert_problem(api_as(world.oem_admin).post("/leads", json=NEW_LEAD), 403)


def test_logging_a_contact_sets_the_next_follow_up_by_the_cadence(api_as, world):
    lead = factories.make_lead(world.one.consultant, intent_level=IntentLevel.H)
    response = api_as(world.one.consultant).post(f"/leads/{lead.id}/contacts", json={
        "kind": "call", "outcome": "reached", "note": "Wants a test drive"})
    assert response.status_code == 201, response.json
    activity = db.session.get(Activity, response.json["activity"]["id"])
    assert (activity.kind, activity.outcome, activity.note) == (ActivityKind.CALL, Outcome.REACHED,
                                                                "Wants a test drive")
    db.session.refresh(lead)
    task = db.session.scalar(select(FollowUpTask).where(FollowUpTask.lead_id == lead.id,
                                                        FollowUpTask.status == TaskStatus.OPEN))
    assert lead.stage is Stage.CONTACTED and task.due_at == lead.next_follow_up_at
    assert timedelta(days=1) < task.due_at - utcnow() < timedelta(days=5)  # H: every 2 days, in working hours
    assert response.json["lead"]["next_follow_up_at"] is not None


def test_a_contact_with_a_chosen_follow_up_and_a_booking(api_as, world):
    lead = factories.make_lead(world.one.consultant)
    due = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    response = api_as(world.one.consultant).post(f"/leads/{lead.id}/contacts", json={
        "kind": "call", "outcome": "reached", "next_follow_up_at": due.isoformat(),
        "booking": {"kind": "test_drive", "starts_at": later(days=2)}})
    assert response.status_code == 201, response.json
    db.session.refresh(lead)
    assert lead.next_follow_up_at == due and lead.stage is Stage.INVITED
    assert count(Appointment, Appointment.lead_id == lead.id) == 1


@pytest.mark.parametrize("body, field", [
    ({"kind": "visit"}, "kind"),
    ({"kind": "call", "made_at": "yesterday"}, "made_at"),
    ({"kind": "call", "made_at": "0001-01-01T00:00:00+01:00"}, "made_at"),
    ({"kind": "call", "note": "a\x00b"}, "note"),
    ({"kind": "call", "booking": {"kind": "visit"}}, "booking.starts_at"),
    ({"kind": "call", "extra": 1}, "extra"),
])
def test_a_contact_with_fields_not_valid_is_a_422_by_field(api_as, world, body, field):
    lead = factories.make_lead(world.one.consultant)
    problem = assert_problem(api_as(world.one.consultant).post(f"/leads/{lead.id}/contacts", json=body), 422)
    assert field in problem["errors"]
    assert count(Activity) == 0


def test_a_call_without_its_outcome_is_refused(api_as, world):
    lead = factories.make_lead(world.one.consultant)
    problem = assert_problem(api_as(world.one.consultant).post(f"/leads/{lead.id}/contacts", json={"kind": "call"}),
                             422)
    assert problem["detail"] == "Choose how the call went." and count(Activity) == 0


def test_a_note_is_added_to_the_history(api_as, world):
    lead = factories.make_lead(world.one.consultant)
    response = api_as(world.one.consultant).post(f"/leads/{lead.id}/notes", json={"note": "Prefers WeChat"})
    assert response.status_code == 201 and response.json["kind"] == "note"
    assert db.session.scalar(select(Activity.note).where(Activity.lead_id == lead.id)) == "Prefers WeChat"


def test_the_next_follow_up_is_moved(api_as, world):
    lead = factories.make_lead(world.one.consultant)
    factories.make_follow_up(lead)
    due = (utcnow() + timedelta(days=4)).replace(microsecond=0)
    api = api_as(world.one.consultant)
    response = api.post(f"/leads/{lead.id}/follow-up", json={"due_at": due.isoformat()})
    assert response.status_code == 200 and response.json["next_follow_up_at"] is not None
    open_tasks = list(db.session.scalars(select(FollowUpTask).where(FollowUpTask.status == TaskStatus.OPEN)))
    assert [task.due_at for task in open_tasks] == [due]
    past = assert_problem(api.post(f"/leads/{lead.id}/follow-up", json={"due_at": later(days=-1)}), 422)
    assert past["detail"] == "The next follow-up must be in the future."


def test_a_visit_is_booked(api_as, world):
    lead = factories.make_lead(world.one.consultant, stage=Stage.CONTACTED)
    response = api_as(world.one.consultant).post(f"/leads/{lead.id}/appointments", json={
        "kind": "visit", "starts_at": later(days=1), "model_of_interest": "HY-S9"})
    assert response.status_code == 201 and response.json["status"] == "booked"
    appointment = db.session.get(Appointment, response.json["id"])
    assert (appointment.lead_id, appointment.model_of_interest) == (lead.id, "HY-S9")
    db.session.refresh(lead)
    assert lead.stage is Stage.INVITED


# Idempotency, sessions and CSRF

def test_a_replayed_write_gets_the_first_answer_and_no_second_row(api_as, world):
    lead = factories.make_lead(world.one.consultant)
    api, key = api_as(world.one.consultant), str(uuid.uuid4())
    first = api.post(f"/leads/{lead.id}/notes", json={"note": "Call after 6"}, key=key)
    again = api.post(f"/leads/{lead.id}/notes", json={"note": "Call after 6"}, key=key)
    assert (first.status_code, again.status_code) == (201, 201) and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true" and again.mimetype == "application/json"
    assert count(Activity) == 1
    assert_problem(api.post(f"/leads/{lead.id}/notes", json={"note": "Another"}, key=key), 422)
    assert_problem(api.post(f"/leads/{lead.id}/notes", json={"note": "x"}, key="not-a-uuid"), 400)
    replayed_lead = api.post("/leads", json=NEW_LEAD, key=key)  # a key is one entry, on one path
    assert replayed_lead.status_code == 422 and count(Activity) == 1


def test_a_session_caller_reads_and_writes_with_its_csrf_token(client, auth, world):
    lead = factories.make_lead(world.one.consultant)
    auth.sign_in(world.one.consultant)
    assert client.get("/api/v1/me").json["id"] == world.one.consultant.id
    refused = client.post(f"/api/v1/leads/{lead.id}/notes", json={"note": "x"})
    assert_problem(refused, 400)
    token = AuthActions(client).csrf_token("/account")
    sent = client.post(f"/api/v1/leads/{lead.id}/notes", json={"note": "x"}, headers={"X-CSRFToken": token})
    assert sent.status_code == 201 and count(Activity) == 1


def test_a_token_caller_gets_no_session_cookie_and_no_cached_copy(api_as, world):
    response = api_as(world.one.consultant).get("/me")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_temporary_password_blocks_the_api_with_a_problem(client, auth, world):
    world.one.consultant.must_change_password = True
    db.session.commit()
    auth.sign_in(world.one.consultant)
    assert_problem(client.get("/api/v1/leads"), 403)


# Problems

def test_without_credentials_the_api_answers_401_never_a_redirect(client, world):
    for response in (client.get("/api/v1/leads"), client.post("/api/v1/leads", json=NEW_LEAD)):
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"' and "Location" not in response.headers


def test_errors_are_problem_details(api_as, world, client):
    api = api_as(world.one.consultant)
    lead = factories.make_lead(world.one.consultant)
    assert_problem(api.get("/nowhere"), 404)
    not_allowed = api.client.delete("/api/v1/leads", headers=api.headers)
    assert_problem(not_allowed, 405)
    assert set(not_allowed.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert_problem(api.post(f"/leads/{lead.id}/notes", data={"note": "a form"}), 415)
    assert_problem(api.post(f"/leads/{lead.id}/notes", data="{not json", content_type="application/json"), 400)
    assert set(assert_problem(api.post(f"/leads/{lead.id}/notes", json=["x"]), 422)["errors"]) == {"_schema"}
    assert set(assert_problem(api.post(f"/leads/{lead.id}/notes", json={}), 422)["errors"]) == {"note"}
    huge = {"note": "x" * (1024 * 1024)}
    assert_problem(api.post(f"/leads/{lead.id}/notes", json=huge), 413)
    assert_problem(api.get("/leads/99999999999"), 404)
    page = client.get("/nowhere")  # the pages keep their own error page
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_an_unexpected_failure_is_a_500_problem(app, api_as, world, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    api = api_as(world.one.consultant)

    def broken(_user):
        raise RuntimeError("the inbox broke")
    monkeypatch.setattr("app.services.inbox.latest", broken)
    body = assert_problem(api.get("/notifications"), 500)
    assert "the inbox broke" not in body["detail"]


# The document

def test_the_openapi_document_is_public_valid_and_covers_every_endpoint(app, client, world):
    factories.make_lead(world.one.consultant)
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.json
    schemathesis.openapi.from_dict(document).validate()
    documented = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    routes = {(method, rule.rule.replace("<int:lead_id>", "{lead_id}")) for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routes and len(routes) == 11
    assert world.one.consultant.email not in response.get_data(as_text=True)
