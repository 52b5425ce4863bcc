"""The lead desk: a lead from a call, never a second open lead for one person, routing with one tap."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ConsentRecord, Customer, Lead, Notification, Origin, RoutingRule, RuleScope, Stage
from tests import factories

HTMX = {"HX-Request": "true"}


@pytest.fixture
def agent(auth, world):
    auth.sign_in(world.idcc_agent)
    return world.idcc_agent


def capture(client, auth, **data):
    form = {"phone": "138 0013 8000", "name": "何静", "city": "广州", "model_of_interest": "HY-X7",
            "intent_level": "H", "source": "oem_hotline", "csrf_token": auth.csrf_token("/desk/new"), **data}
    return client.post("/desk/new", data=form)


def test_the_desk_is_the_agents_home_and_only_theirs(client, auth, agent, world):
    assert client.get("/").headers["Location"] == "/desk"
    auth.sign_out()
    auth.sign_in(world.one.manager)
    assert client.get("/desk").status_code == 403


def test_a_lead_from_a_call_waits_with_the_suggested_dealer(client, auth, agent, world):
    db.session.add(RoutingRule(oem_id=world.oem.id, scope=RuleScope.CITY, match_value="广州",
                               dealer_id=world.two.dealer.id))
    db.session.commit()
    response = capture(client, auth, consent=["call", "sms"])
    assert response.status_code == 303
    lead = db.session.scalar(select(Lead))
    assert (lead.origin, lead.dealer_id, lead.consultant_id, lead.created_by_id) == (
        Origin.OEM, None, None, agent.id)
    assert lead.customer.phone_e164 == "+8613800138000"
    assert sorted(db.session.scalars(select(ConsentRecord.channel))) == ["call", "sms"]
    page = client.get("/desk").get_data(as_text=True)
    waiting = page.split('id="waiting"')[1].split("</section>")[0]
    assert "何静" in waiting and f'<option value="{world.two.dealer.id}" selected>' in waiting


def test_a_person_with_an_open_lead_anywhere_is_not_captured_twice(client, auth, agent, world):
    person = factories.make_customer(world.oem, name="何静", phone_e164="+8613800138000")
    factories.make_lead(world.two.consultant, customer=person)
    lookup = client.get("/desk/lookup?phone=13800138000", headers=HTMX).get_data(as_text=True)
    assert world.two.dealer.name in lookup
    response = capture(client, auth, phone="+86 138-0013-8000")
    assert response.status_code == 422 and world.two.dealer.name in response.get_data(as_text=True)
    assert db.session.query(Lead).count() == 1


def test_a_past_customer_gets_a_new_lead_on_the_same_customer(client, auth, agent, world):
    person = factories.make_customer(world.oem, name="何静", phone_e164="+8613800138000")
    factories.make_lead(world.two.consultant, customer=person, stage=Stage.DELIVERED)
    capture(client, auth)
    assert db.session.query(Customer).count() == 1 + 0 and db.session.query(Lead).count() == 2


@pytest.mark.parametrize(("data", "message"), [
    ({"phone": "12345"}, "This number does not exist"),
    ({"name": ""}, "This field is required."),
    ({"intent_level": ""}, "Choose an intent level."),
    ({"source": "walk_in"}, "Choose a source."),
])
def test_bad_input_is_named_and_nothing_is_written(client, auth, agent, data, message):
    response = capture(client, auth, **data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.query(Lead).count() == 0


def test_routing_with_one_tap_reaches_a_consultant(client, auth, agent, world):
    capture(client, auth)
    lead = db.session.scalar(select(Lead))
    response = client.post(f"/desk/leads/{lead.id}/route",
                           data={"dealer_id": world.one.dealer.id, "csrf_token": auth.csrf_token("/desk")},
                           headers=HTMX)
    assert response.status_code == 200 and "Routed to" in response.get_data(as_text=True)
    db.session.expire_all()
    routed = db.session.get(Lead, lead.id)
    assert routed.dealer_id == world.one.dealer.id and routed.consultant_id in (
        world.one.consultant.id, world.one.colleague.id)
    assert db.session.scalar(select(Notification.user_id).where(Notification.kind == "lead_assigned")) \
        == routed.consultant_id
    again = client.post(f"/desk/leads/{lead.id}/route",
                        data={"dealer_id": world.two.dealer.id, "csrf_token": auth.csrf_token("/desk")},
                        headers=HTMX)
    assert again.status_code == 422 and "routed already" in again.get_data(as_text=True)


def test_routing_to_another_brands_dealer_is_refused(client, auth, agent, world):
    capture(client, auth)
    lead = db.session.scalar(select(Lead))
    rival = factories.make_dealer(factories.make_region(factories.make_oem()))
    response = client.post(f"/desk/leads/{lead.id}/route",
                           data={"dealer_id": rival.id, "csrf_token": auth.csrf_token("/desk")}, headers=HTMX)
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).dealer_id is None


def test_the_brands_leads_closed_as_lost_stay_visible_to_the_desk_for_audit(client, auth, agent, world):
    from app.models import ApprovalKind
    from app.services import approvals, lead_changes

    lead = factories.make_lead(world.one.consultant, origin=Origin.OEM, stage=Stage.CONTACTED,
                               customer=factories.make_customer(world.oem, name="冯硕"))
    own = factories.make_lead(world.one.consultant, stage=Stage.CONTACTED,
                              customer=factories.make_customer(world.oem, name="店里的"))
    for each in (lead, own):
        request = lead_changes.request_approval(world.one.consultant, each, ApprovalKind.MARK_LOST, "price", "嫌贵")
        approvals.decide(world.one.manager, request, True, "同意")
    closed = client.get("/desk").get_data(as_text=True).split('id="closed"', 1)[1].split("</section>", 1)[0]
    assert "冯硕" in closed and "Lost · Price or financing" in closed and "嫌贵" in closed
    assert world.one.consultant.name in closed
    assert "店里的" not in closed  # the dealer's own customers stay with the dealer
    assert client.get(f"/leads/{lead.id}").status_code == 200
