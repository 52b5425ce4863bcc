"""Routing: the brand's rules pick the dealer, the dealer's rotation picks the consultant, fairly and safely
under concurrency."""
from collections import Counter
from functools import partial

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Activity, ActivityKind, AssignmentMode, AuditEntry, Dealer, Lead, Notification, Origin, Role, RoutingRule,
    RuleScope, User,
)
from app.services import routing
from tests import concurrency, factories


@pytest.fixture
def rules(world):
    """City Guangzhou → dealer one, province 广东 → dealer two, region fallback → dealer two."""
    one, two = world.one.dealer, world.two.dealer
    one.province = two.province = "广东"
    for scope, value, dealer in ((RuleScope.CITY, "广州", one), (RuleScope.PROVINCE, "广东", two),
                                 (RuleScope.REGION_FALLBACK, one.region.code, two)):
        db.session.add(RoutingRule(oem_id=world.oem.id, scope=scope, match_value=value, dealer_id=dealer.id))
    db.session.commit()
    return one, two


@pytest.mark.parametrize(("city", "province", "expected"), [
    ("广州", "广东", "one"), ("佛山", "广东", "two"), ("广州", None, "one"), ("成都", "四川", None), (None, None, None),
])
def test_rules_pick_the_dealer_city_first_then_province(world, rules, city, province, expected):
    dealer = routing.dealer_for(world.oem.id, city, province)
    assert dealer == {"one": rules[0], "two": rules[1], None: None}[expected]


def test_a_region_fallback_catches_the_rest_of_its_provinces(world, rules):
    db.session.execute(db.delete(RoutingRule).where(RoutingRule.scope == RuleScope.PROVINCE))
    db.session.commit()
    assert routing.dealer_for(world.oem.id, "佛山", "广东") == rules[1]


def consultants(world, count, **fields):
    return [factories.make_user(Role.CONSULTANT, oem=world.oem, dealer=world.one.dealer, **fields)
            for _ in range(count)]


def oem_leads(world, count):
    return [factories.make_lead(None, origin=Origin.OEM, oem_id=world.oem.id) for _ in range(count)]


def route_all(world, leads):
    for lead in leads:
        routing.route(world.idcc_agent, lead, world.one.dealer)
        db.session.commit()


def received(world) -> Counter:
    return Counter(db.session.scalars(select(Lead.consultant_id).where(Lead.dealer_id == world.one.dealer.id)))


def test_round_robin_stays_within_one_lead_of_even(world):
    route_all(world, oem_leads(world, 31))
    counts = received(world)
    assert sum(counts.values()) == 31 and len(counts) == 2  # the world's two consultants
    assert max(counts.values()) - min(counts.values()) <= 1


def test_only_consultants_on_shift_receive_and_weights_count(world):
    off = world.one.colleague
    off.on_shift = False
    heavy = consultants(world, 1, routing_weight=2)[0]
    db.session.commit()
    route_all(world, oem_leads(world, 30))
    counts = received(world)
    assert off.id not in counts
    assert counts[heavy.id] == 20 and counts[world.one.consultant.id] == 10


def test_coming_on_shift_takes_a_turn_not_every_lead(world):
    late = world.one.colleague
    late.on_shift = False
    db.session.commit()
    route_all(world, oem_leads(world, 10))
    routing.set_on_shift(late, True)
    db.session.commit()
    leads = oem_leads(world, 10)
    route_all(world, leads)
    since = Counter(db.session.get(Lead, lead.id).consultant_id for lead in leads)
    assert since[late.id] in (5, 6) and since[world.one.consultant.id] in (4, 5)


def test_an_assignment_is_history_a_notification_and_an_audit_entry(world):
    lead = oem_leads(world, 1)[0]
    consultant = routing.route(world.idcc_agent, lead, world.one.dealer)
    db.session.commit()
    assert db.session.scalar(select(Activity.summary).where(Activity.kind == ActivityKind.ASSIGNMENT)) \
        == consultant.name
    told = db.session.scalar(select(Notification).where(Notification.kind == "lead_assigned"))
    assert told.user_id == consultant.id and told.url == f"/leads/{lead.id}"
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"lead.routed", "lead.assigned"} <= actions
    assert lead.routed_by_id == world.idcc_agent.id and lead.assigned_at is not None


@pytest.mark.parametrize("nobody_on_shift", [False, True])
def test_managers_pick_when_the_dealer_says_so_or_nobody_is_on_shift(world, nobody_on_shift):
    if nobody_on_shift:
        world.one.consultant.on_shift = world.one.colleague.on_shift = False
    else:
        world.one.dealer.assignment_mode = AssignmentMode.MANAGER_PICK
    db.session.commit()
    lead = oem_leads(world, 1)[0]
    assert routing.route(world.idcc_agent, lead, world.one.dealer) is None
    db.session.commit()
    assert lead.consultant_id is None and lead.dealer_id == world.one.dealer.id
    told = db.session.scalar(select(Notification).where(Notification.kind == "lead_to_assign"))
    assert told.user_id == world.one.manager.id


def test_parallel_routing_gives_each_lead_one_consultant_and_keeps_the_turns_even(app, world):
    """Four workers route 60 leads to one dealer at once, each with its own connection and transactions."""
    consultants(world, 1)
    ids = [lead.id for lead in oem_leads(world, 60)]
    agent_id, dealer_id = world.idcc_agent.id, world.one.dealer.id

    def worker(chunk):
        agent, dealer = db.session.get(User, agent_id), db.session.get(Dealer, dealer_id)
        for lead_id in chunk:
            routing.route(agent, db.session.get(Lead, lead_id), dealer)
            db.session.commit()

    assert not concurrency.at_once(app, *(partial(worker, ids[n::4]) for n in range(4)))
    db.session.expire_all()
    counts = received(world)
    assert sum(counts.values()) == 60 and None not in counts
    assert max(counts.values()) - min(counts.values()) <= 1
    assignments = db.session.scalar(select(func.count()).select_from(Activity)
                                    .where(Activity.kind == ActivityKind.ASSIGNMENT))
    assert assignments == 60  # no lead was given twice
