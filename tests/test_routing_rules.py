"""The OEM admin's routing rules editor: rules by city, by province and region fallbacks added, changed and
deleted through the pages (with and without htmx), validated, audited, explained, and out of reach of others."""
import html
import re

import pytest
from sqlalchemy import event, insert, select

from app.extensions import db
from app.models import AuditEntry, Role, RoutingRule, RuleScope
from app.services import routing, routing_rules
from tests import factories

HTMX = {"HX-Request": "true"}


@pytest.fixture
def admin(auth, world):
    auth.sign_in(world.oem_admin)
    return world.oem_admin


@pytest.fixture
def north(world):
    """A second region of the brand with one dealer in Beijing."""
    region = factories.make_region(world.oem, name="North China")
    return factories.make_dealer(region, name="Beijing Motors", city="北京", province="北京")


def post(client, auth, path, headers=None, **data):
    return client.post(path, data={"csrf_token": auth.csrf_token("/routing-rules"), **data}, headers=headers)


def add(client, auth, scope, value, dealer, headers=None):
    field = "region" if scope == "region_fallback" else "match_value"
    return post(client, auth, "/routing-rules", headers=headers, scope=scope, dealer_id=dealer.id, **{field: value})


def rule(scope, value, dealer, oem) -> RoutingRule:
    saved = RoutingRule(oem_id=oem.id, scope=scope, match_value=value, dealer_id=dealer.id)
    db.session.add(saved)
    db.session.commit()
    return saved


def field_errors(page: str) -> dict[str, str]:
    """The messages shown next to the add form's fields, by field."""
    return {name: html.unescape(message)
            for name, message in re.findall(r'<p class="error" id="f-(\w+)-note">([^<]*)</p>', page)}


def goes_to(world, city, province):
    """Where the desk's suggestion (routing.dealer_for) sends a lead now, as the pages left the rules."""
    db.session.expire_all()
    return routing.dealer_for(world.oem.id, city, province)


def rule_count() -> int:
    return db.session.query(RoutingRule).count()


def test_the_admin_adds_rules_by_city_province_and_region_and_leads_follow_them(client, auth, admin, world):
    one, two = world.one.dealer, world.two.dealer
    region = one.region.code
    assert goes_to(world, "Foshan", "Guangdong") is None

    response = add(client, auth, "region_fallback", region, two)
    assert response.status_code == 303 and response.headers["Location"] == "/routing-rules"
    page = client.get("/routing-rules").get_data(as_text=True)
    assert f"Leads from the region {one.region.name} now go to {two.name}." in page  # its name, not its code
    assert goes_to(world, "Foshan", "Guangdong") == two

    assert add(client, auth, "province", "Guangdong", one).status_code == 303
    assert goes_to(world, "Foshan", "Guangdong") == one

    assert add(client, auth, "city", "  Foshan ", two).status_code == 303
    assert goes_to(world, "Foshan", "Guangdong") == two
    assert goes_to(world, "Guangzhou", "Guangdong") == one

    page = client.get("/routing-rules").get_data(as_text=True)
    sections = {scope: page.split(f'id="rules-{scope}"')[1].split("</section>")[0]
                for scope in ("city", "province", "region_fallback")}
    assert "Foshan" in sections["city"] and "Guangdong" not in sections["city"]
    assert "Guangdong" in sections["province"] and one.name in sections["province"]
    assert one.region.name in sections["region_fallback"] and two.name in sections["region_fallback"]
    assert db.session.scalar(select(RoutingRule.match_value).where(RoutingRule.scope == RuleScope.CITY)) == "Foshan"


def test_adding_with_htmx_rerenders_the_rules_in_place(client, auth, admin, world):
    response = add(client, auth, "city", "Foshan", world.two.dealer, headers=HTMX)
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in fragment
    assert fragment.lstrip().startswith('<div id="rules-editor">')
    assert f"Leads from the city Foshan now go to {world.two.dealer.name}." in fragment
    assert 'id="rule-' in fragment.split('id="rules-city"')[1]
    assert response.headers["Vary"].startswith("HX-Request")


def test_rules_are_listed_by_match_value(client, admin, world):
    for city in ("Zhuhai", "Dongguan", "Foshan"):
        rule(RuleScope.CITY, city, world.one.dealer, world.oem)
    page = client.get("/routing-rules").get_data(as_text=True)
    assert page.index("Dongguan") < page.index("Foshan") < page.index("Zhuhai")


@pytest.mark.parametrize("headers", [None, HTMX])
def test_changing_a_rules_dealer_changes_where_leads_go(client, auth, admin, world, headers):
    city = rule(RuleScope.CITY, "Foshan", world.one.dealer, world.oem)
    response = post(client, auth, f"/routing-rules/{city.id}", headers=headers, dealer_id=world.two.dealer.id)
    assert response.status_code == (200 if headers else 303)
    if headers:
        assert f"Leads from the city Foshan now go to {world.two.dealer.name}." in response.get_data(as_text=True)
    assert goes_to(world, "Foshan", "Guangdong") == world.two.dealer


def test_deleting_a_rule_falls_back_to_the_next_rule(client, auth, admin, world):
    one, two = world.one.dealer, world.two.dealer
    city = rule(RuleScope.CITY, "Foshan", one, world.oem)
    province = rule(RuleScope.PROVINCE, "Guangdong", two, world.oem)
    rule(RuleScope.REGION_FALLBACK, one.region.code, one, world.oem)
    page = client.get("/routing-rules").get_data(as_text=True)
    assert 'hx-confirm="Delete the rule for Foshan?' in page

    assert post(client, auth, f"/routing-rules/{city.id}/delete").status_code == 303
    assert goes_to(world, "Foshan", "Guangdong") == two
    response = post(client, auth, f"/routing-rules/{province.id}/delete", headers=HTMX)
    assert response.status_code == 200
    assert ("The rule for the province Guangdong is deleted: its leads go by the next rule that matches."
            in response.get_data(as_text=True))
    assert goes_to(world, "Foshan", "Guangdong") == one
    assert rule_count() == 1


def _other_brands_dealer(world):
    return factories.make_dealer(factories.make_region(factories.make_oem()), name="Elsewhere Motors").id


def _inactive_dealer(world):
    return factories.make_dealer(world.one.dealer.region, name="Closed Motors", active=False).id


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"scope": "city", "match_value": "Guangzhou"}, "match_value",
     "There is a rule for the city Guangzhou already: it sends leads to {one}. Change its dealer instead."),
    ({"scope": "city", "match_value": "   "}, "match_value", "Enter a city."),
    ({"scope": "province", "match_value": ""}, "match_value", "Enter a province."),
    ({"scope": "region_fallback", "region": ""}, "match_value", "Choose a region."),
    ({"scope": "region_fallback", "region": "NOPE"}, "match_value", "Choose one of the brand's regions."),
    ({"scope": "city", "match_value": "x" * 61}, "match_value", "Use at most 60 characters."),
    ({"scope": "", "match_value": "Foshan"}, "scope", None),
    ({"scope": "city", "match_value": "Foshan", "dealer_id": ""}, "dealer_id", "Choose a dealer."),
    ({"scope": "city", "match_value": "Foshan", "dealer_id": 999999}, "dealer_id",
     "Choose an active dealer of the brand."),
    ({"scope": "city", "match_value": "Foshan", "dealer_id": _other_brands_dealer}, "dealer_id",
     "Choose an active dealer of the brand."),
    ({"scope": "city", "match_value": "Foshan", "dealer_id": _inactive_dealer}, "dealer_id",
     "Choose an active dealer of the brand."),
    ({"scope": "region_fallback", "region": "north", "dealer_id": "one"}, "dealer_id",
     "{one} is not in North China: a region's fallback dealer must be one of its dealers."),
])
@pytest.mark.parametrize("headers", [None, HTMX])
def test_a_bad_rule_is_refused_with_the_message_next_to_the_field(client, auth, admin, world, north, data, field,
                                                                  message, headers):
    rule(RuleScope.CITY, "Guangzhou", world.one.dealer, world.oem)
    data = {"dealer_id": world.two.dealer.id, **data}
    if callable(data["dealer_id"]):
        data["dealer_id"] = data["dealer_id"](world)
    elif data["dealer_id"] == "one":
        data["dealer_id"] = world.one.dealer.id
    if data.get("region") == "north":
        data["region"] = north.region.code
    response = post(client, auth, "/routing-rules", headers=headers, **data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    if field == "scope":
        assert "Choose what the rule matches." in html.unescape(page)
    else:
        assert field_errors(page)[field] == message.format(one=world.one.dealer.name)
    assert rule_count() == 1 and db.session.query(AuditEntry).count() == 0
    if data.get("match_value", "").strip() and field != "match_value":
        assert f'value="{data["match_value"]}"' in page  # what was typed is kept


def test_a_rule_added_by_someone_else_a_moment_earlier_is_named(app, world):
    """The same rule saved by another request between the check and the insert: the unique constraint catches
    it and the admin is told which dealer it sends leads to."""
    def someone_else_first(session, _context, _instances):
        with db.engine.begin() as connection:
            connection.execute(insert(RoutingRule).values(oem_id=world.oem.id, scope=RuleScope.CITY,
                                                          match_value="Foshan", dealer_id=world.two.dealer.id))

    event.listen(db.session(), "before_flush", someone_else_first, once=True)
    with app.test_request_context(), pytest.raises(routing_rules.RuleError,
                                                   match=f"it sends leads to {world.two.dealer.name}"):
        routing_rules.add(world.oem_admin, RuleScope.CITY, "Foshan", world.one.dealer.id)
    assert db.session.scalars(select(RoutingRule.dealer_id)).all() == [world.two.dealer.id]


def test_a_rules_dealer_is_checked_when_changed(client, auth, admin, world, north):
    city = rule(RuleScope.CITY, "Foshan", world.one.dealer, world.oem)
    fallback = rule(RuleScope.REGION_FALLBACK, north.region.code, north, world.oem)
    for changed, dealer_id, message in (
            (city, _other_brands_dealer(world), "Choose an active dealer of the brand."),
            (fallback, world.one.dealer.id,
             f"{world.one.dealer.name} is not in North China: a region's fallback dealer must be one of its dealers."),
            (city, "", "Choose a dealer.")):
        response = post(client, auth, f"/routing-rules/{changed.id}", dealer_id=dealer_id)
        assert response.status_code == 422
        shown = re.search(rf'<p class="error" id="rule-{changed.id}-dealer-note">([^<]*)</p>',
                          response.get_data(as_text=True))
        assert shown and html.unescape(shown.group(1)) == message
    db.session.expire_all()
    assert (city.dealer_id, fallback.dealer_id) == (world.one.dealer.id, north.id)
    assert db.session.query(AuditEntry).count() == 0


def test_a_fallback_offers_only_its_regions_dealers(client, admin, world, north):
    fallback = rule(RuleScope.REGION_FALLBACK, north.region.code, north, world.oem)
    page = client.get("/routing-rules").get_data(as_text=True)
    card = page.split(f'id="rule-{fallback.id}"')[1].split("</li>")[0]
    assert north.name in card and world.one.dealer.name not in card


def test_every_change_is_audited_with_before_and_after(client, auth, admin, world):
    one, two = world.one.dealer, world.two.dealer
    add(client, auth, "city", "Foshan", one)
    saved = db.session.scalar(select(RoutingRule))
    post(client, auth, f"/routing-rules/{saved.id}", dealer_id=two.id)
    post(client, auth, f"/routing-rules/{saved.id}/delete")
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    facts = {"scope": "city", "match_value": "Foshan"}
    assert [(e.action, e.object_type, e.object_id, e.actor_id, e.before, e.after) for e in entries] == [
        ("routing_rule.created", "routing_rules", saved.id, admin.id, None, {**facts, "dealer_id": one.id}),
        ("routing_rule.changed", "routing_rules", saved.id, admin.id, {**facts, "dealer_id": one.id},
         {**facts, "dealer_id": two.id}),
        ("routing_rule.deleted", "routing_rules", saved.id, admin.id, {**facts, "dealer_id": two.id}, None),
    ]


@pytest.fixture
def rules(world, north):
    """City Foshan → two, province Guangdong → one, fallback of the first region → two; North has no rule."""
    one, two = world.one.dealer, world.two.dealer
    rule(RuleScope.CITY, "Foshan", two, world.oem)
    rule(RuleScope.PROVINCE, "Guangdong", one, world.oem)
    rule(RuleScope.REGION_FALLBACK, one.region.code, two, world.oem)
    return one, two


@pytest.mark.parametrize(("city", "province", "scope", "value", "dealer"), [
    ("Foshan", "Guangdong", RuleScope.CITY, "Foshan", "two"),
    ("Foshan", None, RuleScope.CITY, "Foshan", "two"),
    ("Zhuhai", "Guangdong", RuleScope.PROVINCE, "Guangdong", "one"),
    (None, "Guangdong", RuleScope.PROVINCE, "Guangdong", "one"),
    ("Chengdu", "Sichuan", None, None, None),
    ("天津", "北京", None, None, None),  # North China has dealers in 北京 but no fallback
])
def test_explain_names_the_deciding_rule_and_its_dealer(world, rules, city, province, scope, value, dealer):
    answer = routing_rules.explain(world.oem.id, city, province)
    expected = {"one": rules[0], "two": rules[1], None: None}[dealer]
    assert (answer.scope, answer.match_value, answer.dealer) == (scope, value, expected)
    assert answer.dealer == routing.dealer_for(world.oem.id, city, province)


def test_explain_names_a_region_fallback_with_its_region(world, rules):
    db.session.execute(db.delete(RoutingRule).where(RoutingRule.scope == RuleScope.PROVINCE))
    db.session.commit()
    answer = routing_rules.explain(world.oem.id, "Zhuhai", "Guangdong")
    assert (answer.scope, answer.dealer, answer.region) == (RuleScope.REGION_FALLBACK, rules[1],
                                                           world.one.dealer.region)


@pytest.mark.parametrize(("query", "says"), [
    ("city=Foshan&province=Guangdong", "The rule for the city Foshan decides."),
    ("city=Zhuhai&province=Guangdong", "No city rule matches; the rule for the province Guangdong decides."),
    ("city=Chengdu&province=Sichuan", "No rule matches."),
    ("city=+&province=", "Type a customer's city, their province, or both."),
    ("city=" + "x" * 61, "Use at most 60 characters."),
])
def test_the_where_box_answers_in_place(client, admin, rules, query, says):
    response = client.get(f"/routing-rules/explain?{query}", headers=HTMX)
    fragment = html.unescape(response.get_data(as_text=True))
    assert response.status_code == (422 if "at most" in says else 200)
    assert fragment.lstrip().startswith('<div id="lead-answer"') and says in fragment
    if "Foshan" in query:
        assert rules[1].name in fragment


def test_the_where_box_works_without_javascript(client, admin, world, rules):
    page = html.unescape(client.get("/routing-rules/explain?city=Zhuhai&province=Guangdong").get_data(as_text=True))
    assert "<html" in page and 'value="Zhuhai"' in page and world.one.dealer.name in page
    assert "the rule for the province Guangdong decides." in page


@pytest.mark.parametrize("role", ["consultant", "manager", "idcc_agent"])
def test_only_the_oem_admin_edits_rules(client, auth, world, role):
    user = {"consultant": world.one.consultant, "manager": world.one.manager, "idcc_agent": world.idcc_agent}[role]
    saved = rule(RuleScope.CITY, "Foshan", world.one.dealer, world.oem)
    auth.sign_in(user)
    token = auth.csrf_token("/account")
    assert client.get("/routing-rules").status_code == 403
    assert client.get("/routing-rules/explain?city=Foshan").status_code == 403
    for path, data in (("/routing-rules", {"scope": "city", "match_value": "Zhuhai", "dealer_id": world.one.dealer.id}),
                       (f"/routing-rules/{saved.id}", {"dealer_id": world.two.dealer.id}),
                       (f"/routing-rules/{saved.id}/delete", {})):
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 403
    db.session.expire_all()
    assert rule_count() == 1 and saved.dealer_id == world.one.dealer.id


def test_the_service_refuses_anyone_but_the_oem_admin(world):
    with pytest.raises(PermissionError):
        routing_rules.add(world.idcc_agent, RuleScope.CITY, "Foshan", world.one.dealer.id)
    saved = rule(RuleScope.CITY, "Foshan", world.one.dealer, world.oem)
    assert routing_rules.get_rule(world.idcc_agent, saved.id) is None
    other_admin = factories.make_user(Role.OEM_ADMIN, oem=factories.make_oem())
    assert routing_rules.get_rule(other_admin, saved.id) is None
    with pytest.raises(PermissionError):
        routing_rules.delete(other_admin, saved)
    assert rule_count() == 1


def test_another_brands_rule_is_not_found(client, auth, admin, world):
    other = factories.make_oem()
    elsewhere = factories.make_dealer(factories.make_region(other))
    theirs = rule(RuleScope.CITY, "Foshan", elsewhere, other)
    assert post(client, auth, f"/routing-rules/{theirs.id}", dealer_id=elsewhere.id).status_code == 404
    assert post(client, auth, f"/routing-rules/{theirs.id}/delete").status_code == 404
    assert "Foshan" not in client.get("/routing-rules").get_data(as_text=True)
    assert rule_count() == 1


def test_a_value_with_markup_is_shown_escaped(client, auth, admin, world):
    assert add(client, auth, "city", "<script>alert(1)</script>", world.one.dealer).status_code == 303
    page = client.get("/routing-rules").get_data(as_text=True)
    again = add(client, auth, "city", "<script>alert(1)</script>", world.one.dealer).get_data(as_text=True)
    answer = client.get("/routing-rules/explain?city=%3Cscript%3Ealert(1)%3C/script%3E", headers=HTMX)
    for shown in (page, again, answer.get_data(as_text=True)):
        assert "<script>alert(1)" not in shown and "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
