"""The audit trail viewer: a manager reads their dealer's entries, the OEM admin the brand's routing and
approvals (never a dealer's own customers), consultants and the lead desk are refused; filters, pages, the
escaped before → after, and downloads that are audited themselves."""
import csv
import re
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    ApprovalKind, AuditEntry, Oem, Origin, Role, RuleScope, Stage, utcnow,
)
from app.services import approvals, audit, audit_trail, lead_changes, routing_rules, visibility
from tests import factories

HTMX = {"HX-Request": "true"}


def note(actor, action, obj, *, dealer_id=None, at=None, **values):
    """An audit entry written through the real audit service, committed."""
    entry = audit.record(actor, action, obj, dealer_id=dealer_id, **values)
    if at is not None:
        entry.created_at = at
    db.session.commit()
    return entry


def rows(page: str) -> int:
    return page.count('class="audit-entry"')


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


@pytest.fixture
def customers_of_both(world):
    """A customer's details changed at each dealer (dealer-originated leads, names in before/after)."""
    one_lead = factories.make_lead(world.one.consultant)
    two_lead = factories.make_lead(world.two.consultant)
    note(world.one.manager, "customer.updated", one_lead.customer, dealer_id=world.one.dealer.id,
         before={"name": "王一"}, after={"name": "王一鸣"})
    note(world.two.manager, "customer.updated", two_lead.customer, dealer_id=world.two.dealer.id,
         before={"name": "李四"}, after={"name": "李四海"})
    return one_lead, two_lead


@pytest.fixture
def brand_entries(world):
    """Entries of all kinds across the brand, made through the real services where that is easy."""
    one = world.one
    rule = routing_rules.add(world.oem_admin, RuleScope.CITY, "广州", one.dealer.id)
    oem_lead = factories.make_lead(one.consultant, origin=Origin.OEM, stage=Stage.CONTACTED,
                                   customer=factories.make_customer(world.oem, name="赵品牌"))
    note(world.idcc_agent, "lead.routed", oem_lead, dealer_id=one.dealer.id,
         before={"dealer_id": None, "consultant_id": None}, after={"dealer_id": one.dealer.id})
    oem_request = lead_changes.request_approval(one.consultant, oem_lead, ApprovalKind.MARK_LOST,
                                                "bought_competitor", None)
    approvals.decide(one.manager, oem_request, True, "同意")
    own_lead = factories.make_lead(one.consultant, stage=Stage.CONTACTED,
                                   customer=factories.make_customer(world.oem, name="钱私客"))
    own_request = lead_changes.request_approval(one.consultant, own_lead, ApprovalKind.MARK_LOST, "price", None)
    approvals.decide(one.manager, own_request, False, "钱私客 还在考虑")
    note(one.manager, "lead.assigned", own_lead, dealer_id=one.dealer.id,
         before={"consultant_id": None}, after={"consultant_id": one.colleague.id})
    note(one.manager, "customer.updated", own_lead.customer, dealer_id=one.dealer.id,
         before={"phone_e164": "+8613900000001"}, after={"phone_e164": "+8613900000002"})
    note(world.oem_admin, "oem.settings_changed", db.session.get(Oem, world.oem.id),
         before={"first_contact_minutes": 30}, after={"first_contact_minutes": 15})
    return {"rule": rule, "oem_lead": oem_lead, "oem_request": oem_request, "own_lead": own_lead,
            "own_request": own_request}


def test_a_manager_reads_their_dealers_entries_only(client, auth, world, customers_of_both):
    auth.sign_in(world.one.manager)
    page = client.get("/audit").get_data(as_text=True)
    assert "王一鸣" in page and "Customer details changed" in page
    assert "李四" not in page
    assert rows(page) == 1
    by_action = client.get("/audit?action=customer.updated").get_data(as_text=True)
    assert "李四" not in by_action and "王一鸣" in by_action
    by_actor = client.get(f"/audit?actor={world.two.manager.id}").get_data(as_text=True)
    assert rows(by_actor) == 0 and "李四" not in by_actor
    by_object = client.get(f"/audit?object={customers_of_both[1].customer_id}").get_data(as_text=True)
    assert "李四" not in by_object
    download = client.get("/audit.csv")
    assert download.status_code == 200
    assert "李四" not in download.get_data(as_text=True) and "王一鸣" in download.get_data(as_text=True)


def test_the_selects_offer_only_what_is_in_scope(client, auth, world, customers_of_both):
    note(world.two.manager, "user.password_reset", world.two.consultant, dealer_id=world.two.dealer.id)
    auth.sign_in(world.one.manager)
    page = client.get("/audit").get_data(as_text=True)
    assert f'value="{world.one.manager.id}"' in page
    assert f'value="{world.two.manager.id}"' not in page
    assert 'value="user.password_reset"' not in page


def test_the_brand_reads_routing_and_approvals_not_dealers_customers(client, auth, world, brand_entries):
    auth.sign_in(world.oem_admin)
    page = client.get("/audit").get_data(as_text=True)
    assert "Routing rule added" in page and "广州" in page
    assert "Lead routed to a dealer" in page
    assert "Request approved" in page
    assert "Brand cadence changed" in page
    assert "Request rejected" not in page and "还在考虑" not in page  # an approval on the dealer's own lead
    assert "Lead assigned" not in page  # the dealer's own lead
    assert "Customer details changed" not in page and "+8613900000002" not in page
    assert "钱私客" not in page
    assert f'href="/leads/{brand_entries["oem_lead"].id}"' in page  # the brand may open its own leads
    download = client.get("/audit.csv").get_data(as_text=True)
    assert "钱私客" not in download and "+8613900000002" not in download and "Request rejected" not in download


def test_the_scope_is_the_visibility_services(world, brand_entries):
    """The same rule read straight from the database, per role."""
    def actions(user):
        return sorted(db.session.scalars(select(AuditEntry.action).where(visibility.audit_scope(user))))

    assert actions(world.oem_admin) == ["approval.approved", "lead.routed", "oem.settings_changed",
                                        "routing_rule.created"]
    assert "customer.updated" in actions(world.one.manager)
    assert actions(world.two.manager) == []
    assert actions(world.one.consultant) == actions(world.idcc_agent) == []


def test_another_brands_routing_stays_out(client, auth, world):
    other_oem = factories.make_oem()
    other_dealer = factories.make_dealer(factories.make_region(other_oem))
    other_admin = factories.make_user(Role.OEM_ADMIN, oem=other_oem)
    routing_rules.add(other_admin, RuleScope.CITY, "成都", other_dealer.id)
    auth.sign_in(world.oem_admin)
    page = client.get("/audit").get_data(as_text=True)
    assert "成都" not in page and rows(page) == 0


@pytest.mark.parametrize("who", ["consultant", "idcc_agent"])
def test_consultants_and_the_lead_desk_are_refused(client, auth, world, customers_of_both, who):
    user = world.one.consultant if who == "consultant" else world.idcc_agent
    auth.sign_in(user)
    assert client.get("/audit").status_code == 403
    assert client.get("/audit.csv").status_code == 403
    assert client.get("/audit.xlsx").status_code == 403
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "audit.exported")) is None


def test_each_filter_narrows_the_list(client, auth, world):
    one = world.one
    lead = factories.make_lead(one.consultant)
    day = datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc)  # 1 December, 01:00 in Shanghai
    note(one.manager, "user.password_reset", one.consultant, dealer_id=one.dealer.id, at=day - timedelta(days=2))
    note(one.consultant, "lead.stage_changed", lead, dealer_id=one.dealer.id, at=day,
         before={"stage": "new"}, after={"stage": "contacted"})
    note(one.manager, "user.shift_changed", one.colleague, dealer_id=one.dealer.id, at=day + timedelta(days=3),
         before={"on_shift": True}, after={"on_shift": False})
    auth.sign_in(one.manager)

    def listed(query):
        return rows(client.get(f"/audit?{query}").get_data(as_text=True))

    assert listed("") == 3
    assert listed("action=lead.stage_changed") == 1
    assert listed(f"actor={one.consultant.id}") == 1
    assert listed("type=users") == 2
    assert listed(f"object={lead.id}&type=leads") == 1
    assert listed("object=not-a-number") == 0
    assert listed("from=2026-12-01&to=2026-12-01") == 1  # the dealer's day, not the UTC day
    assert listed("to=2026-11-30") == 1
    assert listed("from=2026-12-02") == 1
    stage_page = client.get("/audit?action=lead.stage_changed").get_data(as_text=True)
    assert "2026-12-01 01:00" in stage_page
    assert "New" in stage_page and "Contacted" in stage_page
    assert f'href="/leads/{lead.id}"' in stage_page
    assert client.get("/audit?from=someday").status_code == 400


def test_filter_changes_answer_htmx_with_the_list_alone(client, auth, world, customers_of_both):
    auth.sign_in(world.one.manager)
    response = client.get("/audit?action=customer.updated", headers=HTMX)
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in fragment
    assert 'class="audit-entry"' in fragment and 'href="/audit.csv?action=customer.updated"' in fragment


def test_fifty_entries_a_page(client, auth, world):
    one = world.one
    start = utcnow() - timedelta(hours=2)
    for n in range(51):
        note(one.manager, "user.weight_changed", one.consultant, dealer_id=one.dealer.id,
             at=start + timedelta(minutes=n), before={"routing_weight": n}, after={"routing_weight": n + 1})
    auth.sign_in(one.manager)
    first = client.get("/audit").get_data(as_text=True)
    assert rows(first) == 50 and "51 entries" in first
    assert "Rotation weight:</span> <span class=\"old\">50</span>" in first  # newest first
    assert "/audit?page=2" in first
    second = client.get("/audit?page=2", headers=HTMX).get_data(as_text=True)
    assert rows(second) == 1 and '<span class="old">0</span>' in second and "page=3" not in second


def test_before_and_after_are_shown_escaped(client, auth, world):
    lead = factories.make_lead(world.one.consultant)
    note(world.one.manager, "customer.updated", lead.customer, dealer_id=world.one.dealer.id,
         before={"name": "<script>alert(1)</script>"}, after={"name": "<b>王</b>"})
    auth.sign_in(world.one.manager)
    page = client.get("/audit").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "<b>王</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;王&lt;/b&gt;" in page


def test_the_csv_download_is_itself_audited(client, auth, world, customers_of_both):
    auth.sign_in(world.one.manager)
    response = client.get("/audit.csv?action=customer.updated&from=2020-01-01")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Cache-Control"] == "no-store"
    table = read_csv(response)
    assert table[0][:4] == ["When", "Who", "Role", "What"]
    assert len(table) == 2 and table[1][1] == world.one.manager.name and "王一 → 王一鸣" in table[1][6]
    exported = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "audit.exported"))
    assert exported.actor_id == world.one.manager.id and exported.dealer_id == world.one.dealer.id
    assert exported.after == {"format": "csv", "rows": 1, "action": "customer.updated", "first": "2020-01-01"}
    page = client.get("/audit").get_data(as_text=True)
    assert "Audit trail downloaded" in page
    assert client.get("/audit.xlsx").headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client.get("/audit.pdf").status_code == 404
    # dealer two's manager does not see dealer one's download, the brand sees only its own people's
    auth.sign_out()
    auth.sign_in(world.two.manager)
    assert "Audit trail downloaded" not in client.get("/audit").get_data(as_text=True)
    auth.sign_out()
    auth.sign_in(world.oem_admin)
    assert "Audit trail downloaded" not in client.get("/audit").get_data(as_text=True)
    client.get("/audit.csv")
    assert "Audit trail downloaded" in client.get("/audit").get_data(as_text=True)


def test_the_page_says_when_a_download_would_be_cut(client, auth, world, monkeypatch):
    monkeypatch.setattr(audit_trail, "DOWNLOAD_LIMIT", 2)
    for _n in range(3):
        note(world.one.manager, "user.password_reset", world.one.consultant, dealer_id=world.one.dealer.id)
    auth.sign_in(world.one.manager)
    page = client.get("/audit").get_data(as_text=True)
    assert "Downloads hold the newest 2 entries only" in page
    assert len(read_csv(client.get("/audit.csv"))) == 3  # the header and two entries


def test_links_from_the_team_and_dealers_pages(client, auth, world):
    auth.sign_in(world.one.manager)
    assert 'href="/audit"' in client.get("/team").get_data(as_text=True)
    auth.sign_out()
    auth.sign_in(world.oem_admin)
    assert 'href="/audit"' in client.get("/dealers").get_data(as_text=True)


def test_ids_in_before_and_after_read_as_names(client, auth, world):
    lead = factories.make_lead(world.one.consultant)
    note(world.one.manager, "lead.assigned", lead, dealer_id=world.one.dealer.id,
         before={"consultant_id": world.one.consultant.id}, after={"consultant_id": world.one.colleague.id})
    auth.sign_in(world.one.manager)
    page = client.get("/audit").get_data(as_text=True)
    assert f'<span class="old">{world.one.consultant.name}</span> → <span class="new">{world.one.colleague.name}</span>' in page


def test_a_manager_filters_the_trail_on_a_phone(phone, world, customers_of_both):
    """360 px wide: the entries are cards that fit the screen, and choosing an action reloads the list (htmx)."""
    from playwright.sync_api import expect

    from tests.test_browser import sign_in

    note(world.one.manager, "user.password_reset", world.one.consultant, dealer_id=world.one.dealer.id)
    sign_in(phone, world.one.manager)
    phone.wait_for_url(re.compile(r"/dashboard$"))
    phone.goto("/audit")
    expect(phone.locator(".audit-entry")).to_have_count(2)
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 360
    phone.select_option("select[name=action]", "customer.updated")
    phone.wait_for_url(re.compile(r"action=customer\.updated"))
    expect(phone.locator(".audit-entry")).to_have_count(1)
    expect(phone.locator(".audit-diff")).to_contain_text("王一 → 王一鸣")
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 360
