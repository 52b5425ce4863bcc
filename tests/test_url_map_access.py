"""Every URL of the app that names an object, for every role, with an object that is not theirs: the answer is
403 or 404, never the object and never a change.

The URLs come from the app's URL map, so a new endpoint is covered the day it is added; one whose parameter has
no owner-less object here fails with the parameter's name, asking for one in FOREIGN_PARAMETERS. The objects:
- for dealer staff (consultant, manager): another dealer's of the same brand;
- for the brand's people (lead desk, administrator): another brand's, and for leads a lead the dealer captured
  itself (the brand may count it, never open it);
- for a consultant, also a colleague's lead at the same dealer.
"""
import pytest
from flask import url_for

from app.extensions import db
from app.models import (
    ActivityKind, ApiToken, ApprovalKind, ApprovalRequest, Appointment, AppointmentKind, LeadImport, Notification, Origin,
    PushSubscription, Role, RoutingRule, RuleScope, ShowroomVisit, utcnow,
)
from tests import factories

SKIPPED_ENDPOINTS = {"static"}
# Within one dealer some work is shared on purpose: whoever is at the front desk records the visit of a customer
# a colleague works (app/services/walk_ins.py).
SHARED_WITH_COLLEAGUES = {"walk_ins.record_visit"}


def objects_of(consultant, manager, dealer, region, lead) -> dict:
    """One of each kind of object, owned by these people."""
    attempt = factories.make_activity(lead, ActivityKind.CALL)
    appointment = Appointment(lead_id=lead.id, dealer_id=dealer.id, consultant_id=consultant.id,
                              kind=AppointmentKind.VISIT, starts_at=utcnow())
    visit = ShowroomVisit(dealer_id=dealer.id, lead_id=lead.id, consultant_id=consultant.id,
                          registered_by_id=consultant.id)
    request = ApprovalRequest(lead_id=lead.id, dealer_id=dealer.id, requested_by_id=consultant.id,
                              kind=ApprovalKind.MARK_LOST, reason="no_response")
    notification = Notification(user_id=consultant.id, kind="lead_assigned", title="x",
                                dedupe_key=f"access-{consultant.id}")
    device = PushSubscription(user_id=consultant.id, endpoint=f"https://push.example/{consultant.id}",
                              p256dh="x", auth="y")
    upload = LeadImport(oem_id=manager.oem_id, user_id=manager.id, dealer_id=dealer.id, filename="a.csv", size=1)
    rule = RoutingRule(oem_id=manager.oem_id, scope=RuleScope.CITY, match_value=f"城市{dealer.id}",
                       dealer_id=dealer.id)
    token = ApiToken(user_id=consultant.id, name="DMS", token_hash=f"{consultant.id:064d}", prefix="dlk_test",
                     created_by_id=manager.id)
    db.session.add_all([appointment, visit, request, notification, device, upload, rule, token])
    db.session.commit()
    return {"lead_id": lead.id, "customer_id": lead.customer_id, "activity_id": attempt.id,
            "appointment_id": appointment.id, "visit_id": visit.id, "request_id": request.id,
            "notification_id": notification.id, "device_id": device.id, "import_id": upload.id,
            "rule_id": rule.id, "user_id": consultant.id, "region_id": region.id, "dealer_id": dealer.id,
            "token_id": token.id}


@pytest.fixture
def foreign(world):
    """The objects each role must not reach."""
    other_oem = factories.make_oem()
    other_region = factories.make_region(other_oem)
    other_dealer = factories.make_dealer(other_region)
    other_manager = factories.make_user(Role.MANAGER, oem=other_oem, dealer=other_dealer)
    other_consultant = factories.make_user(Role.CONSULTANT, oem=other_oem, dealer=other_dealer)
    other_brand = objects_of(other_consultant, other_manager, other_dealer, other_region,
                             factories.make_lead(other_consultant, origin=Origin.OEM))
    two = world.two
    dealer_two = objects_of(two.consultant, two.manager, two.dealer, two.dealer.region,
                            factories.make_lead(two.consultant, origin=Origin.DEALER))
    private_lead = dealer_two["lead_id"]  # captured by dealer two itself
    colleague = factories.make_lead(world.one.colleague)
    colleagues = {**dealer_two, "lead_id": colleague.id, "customer_id": colleague.customer_id}
    private = {**other_brand, "lead_id": private_lead}
    return {
        Role.CONSULTANT: {"another dealer": dealer_two, "a colleague": colleagues},
        Role.MANAGER: {"another dealer": dealer_two},
        Role.IDCC_AGENT: {"another brand": other_brand, "a dealer's own lead": private},
        Role.OEM_ADMIN: {"another brand": other_brand, "a dealer's own lead": private},
    }


def people(world):
    return {Role.CONSULTANT: world.one.consultant, Role.MANAGER: world.one.manager,
            Role.IDCC_AGENT: world.idcc_agent, Role.OEM_ADMIN: world.oem_admin}


def urls(app, objects: dict) -> list[tuple[str, str, str]]:
    """(method, url, endpoint) of every rule that names an object, filled with the given objects."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS or not rule.arguments:
            continue
        values = {}
        for name, converter in rule._converters.items():
            if type(converter).__name__ == "IntegerConverter":
                assert name in objects, f"{rule.rule}: add a foreign object for <{name}> to this test"
                values[name] = objects[name]
            elif type(converter).__name__ == "AnyConverter":
                values[name] = sorted(converter.items)[0]
            else:
                values[name] = "csv"
        if not any(isinstance(value, int) for value in values.values()):
            continue  # names no object (a download by format): the role checks of its own tests cover it
        with app.test_request_context():
            url = url_for(rule.endpoint, **values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, url, rule.endpoint))
    return found


@pytest.mark.parametrize("role", [Role.CONSULTANT, Role.MANAGER, Role.IDCC_AGENT, Role.OEM_ADMIN])
def test_no_role_reaches_an_object_that_is_not_theirs(app, client, auth, world, foreign, role):
    user = people(world)[role]
    auth.sign_in(user.email)
    token = auth.csrf_token("/account")
    checked = []
    for whose, objects in foreign[role].items():
        for method, url, endpoint in urls(app, objects):
            if whose == "a colleague" and endpoint in SHARED_WITH_COLLEAGUES:
                continue
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"csrf_token": token}, headers={"X-CSRFToken": token})
            assert response.status_code in (403, 404), (
                f"{role.value} {method} {url} ({endpoint}, {whose}'s) answered {response.status_code}")
            checked.append(endpoint)
    assert len(set(checked)) >= 30  # every object-naming endpoint of the app, not a handful


def test_the_same_urls_with_ones_own_objects_open(app, client, auth, world):
    """The control: filled with the manager's own dealer's objects, the pages open, so the 404s above are
    refusals and not malformed URLs."""
    one = world.one
    own = objects_of(one.consultant, one.manager, one.dealer, one.dealer.region, factories.make_lead(one.consultant))
    auth.sign_in(one.manager.email)
    opened = {endpoint for method, url, endpoint in urls(app, own)
              if method == "GET" and client.get(url).status_code == 200}
    assert {"leads.show", "leads.customer", "appointments.book", "lead_actions.edit", "imports.show",
            "assignments.hand_over", "api.show"} <= opened
