"""Erasing a customer on their request: nothing personal left in any table (searched generically over every
table the app has), the dashboards' figures unchanged, their number finds them no more and starts a new customer,
the erasure audited; only a manager (their dealer's customers) or the brand's administrator (the desk's) erase,
after saying why and confirming; a person known elsewhere in the brand is refused; twice changes nothing."""
import html
import json
import re

import pytest
from sqlalchemy import JSON, LargeBinary, String, func, select

from app.extensions import db
from app.models import (
    Activity, AppendOnlyError, AuditEntry, ConsentRecord, Customer, FollowUpTask, Lead, Origin, ShowroomVisit, utcnow,
)
from app.services import brand_dashboard, dealer_dashboard, erasure, lead_desk, lead_lists, walk_ins
from app.services.periods import period
from tests import factories
from tests.test_customer_data import DIGITS, NAME, PERSONAL, PHONE, WRITTEN, history  # noqa: F401

REASON = f"{NAME} asked by phone on 3 May"  # a careless reason: the erasure takes her name out of it
HTMX = {"HX-Request": "true"}


def forms_of(text: str) -> set[str]:
    """A text as it may be stored: as typed, inside JSON (non-ASCII escaped) and inside HTML."""
    return {text, json.dumps(text)[1:-1], html.escape(text)}


def where_found(texts) -> dict[str, set[str]]:
    """table.column of every string, JSON or binary column in db.metadata holding one of the texts (so a table
    added later is searched too)."""
    found: dict[str, set[str]] = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, JSON, LargeBinary))]
            if not columns:
                continue
            for row in connection.execute(select(*columns)):
                for column, value in zip(columns, row):
                    for stored in texts_in(value):
                        for text in texts:
                            if any(form in stored for form in forms_of(text)):
                                found.setdefault(text, set()).add(f"{table.name}.{column.name}")
    return found


def texts_in(value) -> list[str]:
    """The text a stored value holds: a string, a file's bytes, or every key and string inside JSON."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes):
        return [value.decode("utf-8", "replace")]
    if isinstance(value, dict):
        return [text for key, inner in value.items() for text in [key, *texts_in(inner)]]
    if isinstance(value, list):
        return [text for inner in value for text in texts_in(inner)]
    return []


def erase_form(client, auth, customer_id, **data):
    form = {"reason": REASON, "confirm": "yes", "csrf_token": auth.csrf_token(f"/customers/{customer_id}"), **data}
    return client.post(f"/customers/{customer_id}/erase", data={k: v for k, v in form.items() if v is not None})


def test_nothing_personal_is_left_in_any_table(world, history):  # noqa: F811
    before = where_found(PERSONAL)
    assert set(before) == set(PERSONAL), set(PERSONAL) - set(before)  # the history holds all of them, somewhere
    assert {"customers.name", "activities.note", "notifications.title", "audit_log.before", "idempotent_requests.body",
            "imported_rows.import_key", "approval_requests.note", "appointments.note",
            "follow_up_tasks.purpose"} <= set().union(*before.values())

    assert erasure.erase(history.customer, world.one.manager, REASON)

    assert where_found(PERSONAL) == {}
    other = db.session.get(Customer, history.other.id)
    assert where_found([other.name, "Other's note"]).keys() == {other.name, "Other's note"}  # others untouched


def test_the_leads_and_their_history_stay_without_personal_data(world, history):  # noqa: F811
    def counts():
        return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (Lead, Activity, FollowUpTask, ShowroomVisit, ConsentRecord, AuditEntry)}

    lead = history.lead
    kept = (lead.stage, lead.source, lead.model_of_interest, lead.arrived_at, lead.invited_at, lead.visited_at)
    kinds = db.session.execute(select(Activity.kind, Activity.outcome, Activity.summary)
                               .where(Activity.lead_id == lead.id).order_by(Activity.id)).all()
    before = counts()

    erasure.erase(history.customer, world.one.manager, REASON)

    db.session.expire_all()
    assert counts() == {**before, "AuditEntry": before["AuditEntry"] + 1}  # the erasure's own entry
    assert (lead.stage, lead.source, lead.model_of_interest, lead.arrived_at, lead.invited_at,
            lead.visited_at) == kept
    assert db.session.execute(select(Activity.kind, Activity.outcome, Activity.summary)
                              .where(Activity.lead_id == lead.id).order_by(Activity.id)).all() == kinds
    customer = history.customer
    assert (customer.name, customer.email, customer.wechat_id, customer.city) == (erasure.ERASED_NAME, None, None,
                                                                                   None)
    assert customer.phone_e164.startswith("erased-") and not re.search(r"\d", customer.phone_e164)
    assert customer.erased_at is not None
    assert db.session.scalar(select(FollowUpTask.purpose).where(FollowUpTask.lead_id == lead.id,
                                                                FollowUpTask.status == "open")) == "after_visit"


def test_history_stays_append_only_for_everyone_else(world, history):  # noqa: F811
    erasure.erase(history.customer, world.one.manager, REASON)
    activity = db.session.scalar(select(Activity).where(Activity.lead_id == history.lead.id).limit(1))
    activity.summary = "changed"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_the_dashboards_figures_do_not_change(world, history):  # noqa: F811
    now = utcnow()
    month = period("month", brand_dashboard.brand_zone(world.oem_admin), now)

    def figures():
        db.session.expire_all()
        return (dealer_dashboard.dashboard(world.one.manager, month, now),
                brand_dashboard.dashboard(world.oem_admin, month))

    before = figures()
    assert before[0].total.leads == 2 and before[0].ratios.visitors == 1  # the history counts
    erasure.erase(history.customer, world.one.manager, REASON)
    assert figures() == before


def test_their_number_finds_them_no_more(client, auth, world, history):  # noqa: F811
    manager, consultant = world.one.manager, world.one.consultant

    def found():
        return ([lead.id for q in (DIGITS, WRITTEN, PHONE, "12345678")
                 for lead in lead_lists.list_leads(manager, q=q, include_closed=True).leads],
                walk_ins.look_up(consultant, WRITTEN).leads, lead_desk.open_leads_of(world.oem.id, PHONE))

    assert found() == ([history.lead.id] * 4, [history.lead], [history.lead])
    erasure.erase(history.customer, manager, REASON)
    assert found() == ([], [], [])
    auth.sign_in(consultant)
    results = client.get("/search", query_string={"q": DIGITS}, headers=HTMX).get_data(as_text=True)
    assert erasure.ERASED_NAME not in results and f"/leads/{history.lead.id}" not in results


def test_a_new_inquiry_from_their_number_is_a_new_customer(client, auth, world, history):  # noqa: F811
    erasure.erase(history.customer, world.one.manager, REASON)
    auth.sign_in(world.one.consultant)
    response = client.post("/walk-ins/new", data={
        "phone": WRITTEN, "name": "Scarlett again", "model_of_interest": "HY-S7", "intent_level": "H",
        "csrf_token": auth.csrf_token("/account")})
    assert response.status_code == 303
    again = db.session.scalar(select(Customer).where(Customer.phone_e164 == PHONE))
    assert again.id != history.customer.id and again.name == "Scarlett again" and again.erased_at is None
    assert db.session.scalar(select(func.count()).select_from(Lead).where(Lead.customer_id == again.id)) == 1


def test_an_old_file_does_not_bring_them_back(runner, tmp_path, world):
    file = tmp_path / "portal.csv"
    file.write_text("Name,Phone,Source,Date,Lead ID\nScarlett Import,139 1234 5678,Autohome,2026-11-20 14:30:00,"
                    "\nRhett Import,138 0013 8000,Autohome,2026-11-20 15:30:00,AH-77\n", encoding="utf-8")
    imported = runner.invoke(args=["leads", "import", str(file), "--as", world.one.manager.email])
    assert "2 created" in imported.output, imported.output
    for phone in (PHONE, "+8613800138000"):
        erasure.erase(db.session.scalar(select(Customer).where(Customer.phone_e164 == phone)), world.one.manager,
                      "Asked by phone")
    customers = db.session.scalar(select(func.count()).select_from(Customer))
    again = runner.invoke(args=["leads", "import", str(file), "--as", world.one.manager.email])
    assert "0 created, 0 merged, 2 skipped" in again.output, again.output
    assert again.output.count("this person was erased on their request") == 2
    assert db.session.scalar(select(func.count()).select_from(Customer)) == customers
    assert where_found([PHONE, "13800138000", "AH-77"]) == {}


def test_the_manager_erases_on_the_page_and_the_trail_shows_it(client, auth, world, history):  # noqa: F811
    customer_id = history.customer.id
    auth.sign_in(world.one.manager)
    page = client.get(f"/customers/{customer_id}/erase").get_data(as_text=True)
    assert "cannot be undone" in page and "Their 1 lead stays" in page and 'name="confirm"' in page

    response = erase_form(client, auth, customer_id)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/customers/{customer_id}")
    page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "personal data was erased" in page and erasure.ERASED_NAME in page
    assert "Personal data erased on request" in page and f"/customers/{customer_id}/erase" not in page
    lead_page = client.get(f"/leads/{history.lead.id}").get_data(as_text=True)
    assert erasure.ERASED_NAME in lead_page and "tel:" not in lead_page and "/edit" not in lead_page

    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.erased")).all()
    assert (entry.actor_id, entry.dealer_id, entry.object_type, entry.object_id, entry.before) == (
        world.one.manager.id, world.one.dealer.id, "customers", customer_id, None)
    assert entry.after == {"reason": "[erased] asked by phone on 3 May", "leads": 1}
    trail = client.get("/audit").get_data(as_text=True)
    assert '<th scope="row">Customer erased on request</th>' in trail and "[erased] asked by phone on 3 May" in trail


@pytest.mark.parametrize("data, message", [
    ({"reason": None}, "Say why they are erased"),
    ({"reason": "   "}, "Say why they are erased"),
    ({"confirm": None}, "Tick the box to confirm"),
    ({"confirm": "no"}, "Tick the box to confirm"),
])
def test_bad_input_says_why_and_erases_nothing(client, auth, world, history, data, message):  # noqa: F811
    auth.sign_in(world.one.manager)
    response = erase_form(client, auth, history.customer.id, **data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert (history.customer.name, history.customer.erased_at) == (NAME, None)
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "customer.erased")) is None


def test_erasing_twice_changes_nothing(client, auth, world, history):  # noqa: F811
    assert erasure.erase(history.customer, world.one.manager, REASON) is True
    assert erasure.erase(history.customer, world.one.manager, REASON) is False
    auth.sign_in(world.one.manager)
    response = erase_form(client, auth, history.customer.id)
    assert response.status_code == 303
    assert "erased already" in client.get(f"/customers/{history.customer.id}").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "customer.erased")) == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_consultants_and_the_lead_desk_are_refused_another_dealer_finds_nothing(client, auth, world, method):
    customer = factories.make_customer(world.oem, name="Melanie")
    factories.make_lead(world.one.consultant, customer=customer, origin=Origin.OEM)
    for who, status in ((world.one.consultant, 403), (world.idcc_agent, 403), (world.two.manager, 404)):
        auth.sign_in(who)
        response = (client.get(f"/customers/{customer.id}/erase") if method == "get"
                    else erase_form(client, auth, customer.id))
        assert response.status_code == status, who.role
        auth.sign_out()
    db.session.expire_all()
    assert (customer.name, customer.erased_at) == ("Melanie", None)


def test_a_person_with_leads_at_another_dealer_is_refused(client, auth, world, history):  # noqa: F811
    factories.make_lead(world.two.consultant, customer=history.customer)
    auth.sign_in(world.one.manager)
    page = client.get(f"/customers/{history.customer.id}/erase").get_data(as_text=True)
    assert "also has leads elsewhere in the brand" in page and 'name="confirm"' not in page
    response = erase_form(client, auth, history.customer.id)
    assert response.status_code == 422 and "also has leads elsewhere in the brand" in response.get_data(as_text=True)
    assert world.two.dealer.name not in response.get_data(as_text=True)  # nor who holds them
    db.session.expire_all()
    assert history.customer.erased_at is None and set(where_found(PERSONAL)) == set(PERSONAL)


def test_the_brand_erases_the_customers_its_desk_captured(client, auth, world):
    customer = factories.make_customer(world.oem, name="Ashley Wilkes")
    factories.make_lead(world.one.consultant, customer=customer, origin=Origin.OEM)
    factories.make_lead(None, dealer=None, oem_id=world.oem.id, customer=customer, origin=Origin.OEM)
    auth.sign_in(world.oem_admin)
    assert erase_form(client, auth, customer.id).status_code == 303
    db.session.expire_all()
    assert customer.erased_at is not None and where_found(["Ashley Wilkes"]) == {}
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.erased")).all()
    assert [(e.actor_id, e.dealer_id) for e in entries] == [(world.oem_admin.id, world.one.dealer.id)]
    assert '<th scope="row">Customer erased on request</th>' in client.get("/audit").get_data(as_text=True)
    auth.sign_out()
    auth.sign_in(world.one.manager)  # the dealer working the lead sees it in its trail too
    assert '<th scope="row">Customer erased on request</th>' in client.get("/audit").get_data(as_text=True)


def test_the_brand_may_not_erase_a_person_a_dealer_captured_too(client, auth, world):
    customer = factories.make_customer(world.oem, name="Ashley Wilkes")
    factories.make_lead(world.one.consultant, customer=customer, origin=Origin.OEM)
    factories.make_lead(world.two.consultant, customer=customer, origin=Origin.DEALER)
    auth.sign_in(world.oem_admin)
    assert erase_form(client, auth, customer.id).status_code == 422
    db.session.expire_all()
    assert customer.erased_at is None
