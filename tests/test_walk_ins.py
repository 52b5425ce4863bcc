"""The showroom traffic log: a walk-in is registered mobile number first and never becomes a second customer; a
customer the dealer already has gets a visit on their lead; the day's log closes every visit; only the dealer's
own staff use it, and nothing in it opens a lead page the user may not see."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Activity, ActivityKind, CadencePolicy, Channel, ConsentMethod, ConsentRecord, Customer, FollowUpTask, IntentLevel,
    Lead, Origin, ShowroomVisit, Source, Stage, TaskStatus, utcnow,
)
from app.services import cadence, walk_ins
from tests import factories

PHONE = "+8613912345678"
WALK_IN = {"phone": "13912345678", "name": "王芳", "model_of_interest": "HY-S7", "intent_level": "H"}


def post(client, auth, path, **data):
    return client.post(path, data={"csrf_token": auth.csrf_token("/account"), **data})


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def customer(world, name="李雷"):
    return factories.make_customer(world.oem, name=name, phone_e164=PHONE)


def make_visit(lead, **fields) -> ShowroomVisit:
    visit = ShowroomVisit(dealer_id=lead.dealer_id, lead_id=lead.id, consultant_id=lead.consultant_id,
                          registered_by_id=lead.consultant_id, **fields)
    db.session.add(visit)
    db.session.commit()
    return visit


def lookup(client, typed: str) -> str:
    response = client.get("/walk-ins/lookup", query_string={"phone": typed}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    return response.get_data(as_text=True)


@pytest.fixture
def consultant(auth, world):
    auth.sign_in(world.one.consultant)
    return world.one.consultant


@pytest.mark.parametrize("level", ["H", "B"])
def test_a_new_walk_in_makes_customer_lead_visit_history_consents_and_follow_up(client, auth, consultant, world,
                                                                                level):
    dealer = world.one.dealer
    db.session.add(CadencePolicy(dealer_id=dealer.id, h_days=3, b_days=21))  # this dealer's own rhythm
    db.session.commit()
    response = post(client, auth, "/walk-ins/new", **{**WALK_IN, "intent_level": level}, source="referral",
                    party_size="3", test_drive="y", wechat_added="y", consent_call="y", consent_wechat="y")

    lead = db.session.scalar(select(Lead))
    assert (response.status_code, response.headers["Location"]) == (303, f"/leads/{lead.id}")
    assert (lead.customer.name, lead.customer.phone_e164, lead.customer.oem_id) == ("王芳", PHONE, world.oem.id)
    assert (lead.origin, lead.source, lead.stage, lead.intent_level, lead.model_of_interest) == (
        Origin.DEALER, Source.REFERRAL, Stage.TEST_DRIVE, IntentLevel(level), "HY-S7")
    assert (lead.dealer_id, lead.consultant_id, lead.last_contact_kind) == (
        dealer.id, consultant.id, ActivityKind.VISIT)
    visit = db.session.scalar(select(ShowroomVisit))
    assert (visit.lead_id, visit.first_visit, visit.party_size, visit.test_drive, visit.wechat_added) == (
        lead.id, True, 3, True, True)
    assert (visit.consultant_id, visit.registered_by_id, visit.left_at) == (consultant.id, consultant.id, None)
    assert lead.arrived_at == lead.assigned_at == lead.first_contact_at == lead.last_contact_at == visit.arrived_at
    assert {a.kind: a.summary for a in db.session.scalars(select(Activity))} == {
        ActivityKind.VISIT: "Walk-in, party of 3", ActivityKind.TEST_DRIVE: "HY-S7"}
    consents = db.session.scalars(select(ConsentRecord)).all()
    assert sorted(c.channel for c in consents) == [Channel.CALL, Channel.WECHAT]
    assert {(c.customer_id, c.granted, c.method, c.source, c.recorded_by_id) for c in consents} == {
        (lead.customer_id, True, ConsentMethod.WALK_IN_FORM, "walk_in", consultant.id)}
    task = db.session.scalar(select(FollowUpTask))
    due = cadence.next_follow_up(cadence.policy_for(dealer), IntentLevel(level), visit.arrived_at)
    assert (task.status, task.due_at, task.consultant_id, lead.next_follow_up_at) == (
        TaskStatus.OPEN, due, consultant.id, due)
    assert due - visit.arrived_at >= timedelta(days={"H": 3, "B": 21}[level])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Visit recorded for 王芳 ({consultant.name})." in page and "Walk-in, party of 3" in page


def test_the_same_number_typed_three_ways_is_one_customer_with_one_lead(client, auth, consultant):
    for typed in ("13912345678", "139 1234 5678", "+86 139-1234-5678"):
        assert post(client, auth, "/walk-ins/new", **{**WALK_IN, "phone": typed}).status_code == 303
        for visit in db.session.scalars(select(ShowroomVisit)):  # each a later visit, not a double submit
            visit.arrived_at -= timedelta(minutes=11)
        db.session.commit()
    assert (count(Customer), count(Lead), count(ShowroomVisit)) == (1, 1, 3)
    assert db.session.scalar(select(Customer.phone_e164)) == PHONE
    assert [v.first_visit for v in db.session.scalars(select(ShowroomVisit).order_by(ShowroomVisit.id))] == [
        True, False, False]


@pytest.mark.parametrize(("stage", "test_drive", "expected"), [
    (Stage.NEW, "", Stage.VISITED), (Stage.INVITED, "", Stage.VISITED), (Stage.VISITED, "y", Stage.TEST_DRIVE),
    (Stage.NEGOTIATING, "y", Stage.NEGOTIATING),
])
def test_a_colleagues_open_lead_gets_the_visit_and_stays_out_of_sight(client, auth, consultant, world, stage,
                                                                       test_drive, expected):
    colleague = world.one.colleague
    lead = factories.make_lead(colleague, customer=customer(world), stage=stage)
    earlier_task = factories.make_follow_up(lead, due_in=timedelta(days=5))

    response = post(client, auth, "/walk-ins/new", **{**WALK_IN, "name": "Somebody"}, party_size="2",
                    test_drive=test_drive)

    assert (response.status_code, response.headers["Location"]) == (303, "/visits")
    db.session.expire_all()
    assert (count(Customer), count(Lead), lead.customer.name, lead.consultant_id) == (1, 1, "李雷", colleague.id)
    visit = db.session.scalar(select(ShowroomVisit))
    assert (visit.lead_id, visit.first_visit, visit.consultant_id, visit.registered_by_id, visit.party_size) == (
        lead.id, False, colleague.id, consultant.id, 2)
    assert lead.stage is expected and lead.last_contact_kind is ActivityKind.VISIT
    assert lead.first_contact_at == lead.last_contact_at == visit.arrived_at
    assert db.session.get(FollowUpTask, earlier_task.id).status is TaskStatus.DONE
    assert lead.next_follow_up_at == cadence.next_follow_up(cadence.policy_for(world.one.dealer), lead.intent_level,
                                                            visit.arrived_at)
    log = client.get("/visits").get_data(as_text=True)
    assert f"Visit recorded for 李雷 ({colleague.name})." in log and "李雷" in log
    assert f'href="/leads/{lead.id}"' not in log
    assert client.get(f"/leads/{lead.id}").status_code == 404


@pytest.mark.parametrize("elsewhere", ["another dealer's lead", "a lost lead here"])
def test_a_brand_customer_without_an_open_lead_here_gets_a_new_lead_on_the_same_customer(client, auth, consultant,
                                                                                         world, elsewhere):
    person = customer(world, name="韩梅梅")
    if elsewhere == "a lost lead here":
        old = factories.make_lead(world.one.colleague, customer=person, stage=Stage.LOST)
    else:
        old = factories.make_lead(world.two.consultant, customer=person, stage=Stage.VISITED)
    response = post(client, auth, "/walk-ins/new", **WALK_IN)

    lead = db.session.scalar(select(Lead).where(Lead.id != old.id))
    assert response.headers["Location"] == f"/leads/{lead.id}"
    assert (count(Customer), lead.customer_id, lead.dealer_id, lead.consultant_id) == (
        1, person.id, world.one.dealer.id, consultant.id)
    db.session.expire_all()
    assert person.name == "韩梅梅"  # the brand's record of the person is not overwritten by what was typed
    assert db.session.scalar(select(ShowroomVisit.first_visit)) is True


@pytest.mark.parametrize("typed", ["13912345678", "139 1234 5678", "+86 139-1234-5678"])
def test_lookup_offers_the_dealers_customer_whichever_colleague_has_them(client, consultant, world, typed):
    lead = factories.make_lead(world.one.colleague, customer=customer(world), stage=Stage.INVITED,
                               model_of_interest="HY-X9")
    fragment = lookup(client, typed)
    assert "<html" not in fragment
    for shown in ("李雷", "HY-X9", "Invited", world.one.colleague.name, "Record a visit",
                  f'formaction="/leads/{lead.id}/visits"'):
        assert shown in fragment


def test_lookup_says_nothing_about_another_dealers_customer(client, consultant, world):
    factories.make_lead(world.two.consultant, customer=customer(world, name="韩梅梅"))
    known_elsewhere = lookup(client, "13912345678")
    assert "韩梅梅" not in known_elsewhere and "Record a visit" not in known_elsewhere
    assert known_elsewhere == lookup(client, "13987654321")  # exactly what a number nobody knows gets


@pytest.mark.parametrize(("typed", "hint"), [
    ("", None), ("139", None), ("139 1234 567", None), ("13912345678", "New to this showroom"),
    ("12345678901", "This number does not exist: check the digits."),
    ("020 8888 8888", "Enter a mobile number, not a landline."), ("1" * 40, None),
])
def test_lookup_of_a_partial_or_wrong_number_stays_quiet_or_hints(client, consultant, typed, hint):
    fragment = lookup(client, typed).strip()
    assert (hint in fragment and fragment.startswith('<p class="hint">')) if hint else fragment == ""


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"phone": ""}, "phone", "Enter a mobile number."),
    ({"phone": "12345"}, "phone", "This number does not exist: check the digits."),
    ({"phone": "020 8888 8888"}, "phone", "Enter a mobile number, not a landline."),
    ({"name": ""}, "name", "This field is required."),
    ({"name": "很长" * 41}, "name", "Use at most 80 characters."),
    ({"model_of_interest": ""}, "model_of_interest", "This field is required."),
    ({"intent_level": ""}, "intent_level", "Choose an intent level."),
    ({"intent_level": "O"}, "intent_level", "Choose an intent level."),
    ({"source": "autohome"}, "source", "Choose a source from the list."),
    ({"party_size": "0"}, "party_size", "Enter the number of people, from 1 to 20."),
    ({"party_size": "21"}, "party_size", "Enter the number of people, from 1 to 20."),
    ({"party_size": "a few"}, "party_size", "Enter the number of people, from 1 to 20."),
])
def test_bad_input_is_refused_beside_the_field_and_nothing_typed_is_lost(client, auth, consultant, changes, field,
                                                                          message):
    data = {**WALK_IN, "party_size": "3", "test_drive": "y", "consent_sms": "y", **changes}
    response = post(client, auth, "/walk-ins/new", **data)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="f-{field}-note">{message}</p>' in page
    for name in ("phone", "name", "model_of_interest", "party_size"):
        assert f'name="{name}" type=' in page and f'value="{data[name]}"' in page
    assert 'name="test_drive" value="y" checked' in page and 'name="consent_sms" value="y" checked' in page
    assert ('value="H" required checked' in page) == (data["intent_level"] == "H")
    assert [count(m) for m in (Customer, Lead, ShowroomVisit, Activity, ConsentRecord, FollowUpTask)] == [0] * 6


def test_a_refused_walk_in_sent_by_htmx_gets_back_only_the_form_with_what_to_fix(client, auth, consultant):
    data = {**WALK_IN, "name": "", "party_size": "4", "consent_call": "y"}
    response = client.post("/walk-ins/new", data={"csrf_token": auth.csrf_token("/account"), **data},
                           headers={"HX-Request": "true"})

    form = response.get_data(as_text=True)
    assert response.status_code == 422 and "HX-Request" in response.headers["Vary"]
    assert "<html" not in form and "Showroom today" not in form
    assert form.strip().endswith("</form>") and '<form class="card walk-in"' in form
    assert 'id="f-name-note">This field is required.</p>' in form
    assert 'value="13912345678"' in form and 'value="4"' in form and 'name="consent_call" value="y" checked' in form
    assert """data-offline-entry='{"title": ""}'""" in form and 'name="csrf_token"' in form
    assert count(Customer) == count(ShowroomVisit) == 0


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true", "HX-Boosted": "true"}])
def test_the_walk_in_page_stays_a_whole_page_for_navigation_and_boosted_forms(client, auth, consultant, headers):
    page = client.get("/walk-ins/new", headers=headers).get_data(as_text=True)
    assert "<html" in page and "Showroom today" in page and '<form class="card walk-in"' in page
    assert """data-offline-entry='{"title": ""}'""" in page
    refused = client.post("/walk-ins/new", data={"csrf_token": auth.csrf_token("/account"), **WALK_IN, "name": ""},
                          headers=headers)
    assert refused.status_code == 422 and "<html" in refused.get_data(as_text=True)
    assert 'id="f-name-note">This field is required.</p>' in refused.get_data(as_text=True)


@pytest.mark.parametrize("who", ["consultant", "manager"])
def test_nothing_is_ticked_for_the_customer_on_a_fresh_form(client, auth, world, who):
    auth.sign_in(getattr(world.one, who))
    page = client.get("/walk-ins/new").get_data(as_text=True)
    consents = re.findall(r'<input type="checkbox" name="consent_\w+"[^>]*>', page)
    assert len(consents) == 3 and not any("checked" in box for box in consents)
    assert "checked" not in page  # no intent level, no test drive picked for them either


def test_a_double_submit_records_one_visit(client, auth, consultant):
    data = {**WALK_IN, "consent_sms": "y"}
    first, second = post(client, auth, "/walk-ins/new", **data), post(client, auth, "/walk-ins/new", **data)
    assert first.status_code == second.status_code == 303
    assert [count(m) for m in (Customer, Lead, ShowroomVisit, ConsentRecord, FollowUpTask)] == [1] * 5
    assert db.session.scalar(select(func.count()).where(Activity.kind == ActivityKind.VISIT)) == 1
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert f"This visit was already recorded for 王芳 ({consultant.name})." in page


def test_recording_a_visit_twice_within_ten_minutes_is_one_visit(client, auth, consultant):
    lead = factories.make_lead(consultant, customer=factories.make_customer(consultant.oem))
    for _ in range(2):
        response = post(client, auth, f"/leads/{lead.id}/visits", party_size="2", wechat_added="y")
        assert response.headers["Location"] == f"/leads/{lead.id}"
    assert count(ShowroomVisit) == 1
    db.session.scalar(select(ShowroomVisit)).arrived_at -= timedelta(minutes=11)
    db.session.commit()
    post(client, auth, f"/leads/{lead.id}/visits")
    visits = db.session.scalars(select(ShowroomVisit).order_by(ShowroomVisit.id))
    assert [(v.first_visit, v.party_size, v.wechat_added) for v in visits] == [(False, 2, True), (False, 1, False)]


def test_a_visit_on_a_closed_lead_is_refused(client, auth, consultant):
    lead = factories.make_lead(consultant, stage=Stage.LOST)
    response = post(client, auth, f"/leads/{lead.id}/visits")
    assert response.status_code == 422
    assert "This lead is closed: register the customer as a new walk-in." in response.get_data(as_text=True)
    assert count(ShowroomVisit) == 0


def test_a_manager_registers_for_the_consultant_they_pick_and_opens_the_lead(client, auth, world):
    auth.sign_in(world.one.manager)
    gone = factories.make_user(world.one.consultant.role, oem=world.oem, dealer=world.one.dealer, active=False)
    form = client.get("/walk-ins/new").get_data(as_text=True)
    picks = re.findall(r'<option value="(\d+)"', form)
    assert sorted(picks) == sorted([str(world.one.consultant.id), str(world.one.colleague.id)])
    for wrong in ("", world.two.consultant.id, gone.id, "someone"):
        response = post(client, auth, "/walk-ins/new", **WALK_IN, consultant_id=wrong)
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and count(Lead) == 0
        assert 'id="f-consultant_id-note">Choose the consultant who receives them.</p>' in page
    response = post(client, auth, "/walk-ins/new", **WALK_IN, consultant_id=world.one.colleague.id)
    lead = db.session.scalar(select(Lead))
    assert (response.headers["Location"], lead.consultant_id) == (f"/leads/{lead.id}", world.one.colleague.id)
    assert db.session.scalar(select(ShowroomVisit.registered_by_id)) == world.one.manager.id


def test_a_consultant_registers_for_themself_whatever_the_form_says(client, auth, consultant, world):
    assert "consultant_id" not in client.get("/walk-ins/new").get_data(as_text=True)
    post(client, auth, "/walk-ins/new", **WALK_IN, consultant_id=world.one.colleague.id)
    assert db.session.scalar(select(Lead.consultant_id)) == consultant.id


def test_a_customer_created_by_a_simultaneous_registration_is_reused(client, auth, consultant, world, monkeypatch):
    person = customer(world)
    real, looks = walk_ins.locked_customer, []

    def racing(oem_id, phone):  # the first look misses the customer another request is committing
        looks.append(phone)
        return None if len(looks) == 1 else real(oem_id, phone)

    monkeypatch.setattr(walk_ins, "locked_customer", racing)
    assert post(client, auth, "/walk-ins/new", **WALK_IN).status_code == 303
    assert (count(Customer), db.session.scalar(select(Lead.customer_id)), len(looks)) == (1, person.id, 2)


def test_leaving_closes_the_visit_in_place_and_never_before_it_began(client, auth, consultant, world):
    visit = make_visit(factories.make_lead(world.one.colleague), arrived_at=utcnow() + timedelta(minutes=2))
    response = client.post(f"/visits/{visit.id}/leave", data={"csrf_token": auth.csrf_token("/account")},
                           headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True).strip()
    assert response.status_code == 200 and fragment.startswith(f'<li class="visit has-left" id="visit-{visit.id}"')
    assert "Left " in fragment and "<form" not in fragment
    db.session.expire_all()
    left_at = visit.left_at
    assert left_at == visit.arrived_at  # arrival clocked slightly ahead: the leave time is not earlier
    response = post(client, auth, f"/visits/{visit.id}/leave")
    assert (response.status_code, response.headers["Location"]) == (303, "/visits")
    db.session.expire_all()
    assert visit.left_at == left_at


def test_the_log_shows_today_and_everyone_still_in_the_showroom_from_any_day(client, consultant, world):
    day_starts, _ = cadence.local_day(cadence.policy_for(world.one.dealer), utcnow())
    yesterday, today = day_starts - timedelta(hours=3), day_starts + timedelta(seconds=1)

    def visit(name, who, arrived_at, left_at=None):
        lead = factories.make_lead(who, customer=factories.make_customer(world.oem, name=name))
        return make_visit(lead, arrived_at=arrived_at, left_at=left_at, party_size=2)

    visit("昨天未走", world.one.colleague, yesterday)
    visit("昨天已走", world.one.colleague, yesterday, yesterday + timedelta(hours=1))
    mine = visit("今天在店", consultant, today)
    visit("今天已走", world.one.colleague, today, today + timedelta(seconds=1))
    visit("别家客户", world.two.consultant, today)

    page = client.get("/visits").get_data(as_text=True)
    still_in, left_today = page.split('id="still-in"')[1].split('id="left-today"')
    assert "昨天未走" in still_in and "今天在店" in still_in and "今天已走" not in still_in
    assert "今天已走" in left_today and "昨天已走" not in page and "别家客户" not in page
    assert len(re.findall(r'action="/visits/\d+/leave"', still_in)) == 2
    assert re.findall(r'href="/leads/(\d+)"', page) == [str(mine.lead_id)]  # only the lead I may open
    assert "Today: 2 visits, 4 people." in page


@pytest.mark.parametrize("role", ["idcc_agent", "oem_admin"])
def test_the_brand_cannot_use_the_traffic_log(client, auth, world, role):
    lead = factories.make_lead(world.one.consultant, customer=customer(world))
    visit = make_visit(lead)
    auth.sign_in(getattr(world, role))
    for path in ("/walk-ins/new", "/walk-ins/lookup?phone=13912345678", "/visits"):
        assert client.get(path).status_code == 403
    for path in ("/walk-ins/new", f"/leads/{lead.id}/visits", f"/visits/{visit.id}/leave"):
        assert post(client, auth, path, **WALK_IN).status_code == 403
    db.session.expire_all()
    assert (count(Lead), count(ShowroomVisit), visit.left_at) == (1, 1, None)


@pytest.mark.parametrize("who", ["consultant", "manager"])
def test_another_dealers_leads_and_visits_are_not_found(client, auth, world, who):
    theirs = factories.make_lead(world.two.consultant)
    visit = make_visit(theirs)
    auth.sign_in(getattr(world.one, who))
    assert post(client, auth, f"/leads/{theirs.id}/visits").status_code == 404
    assert post(client, auth, f"/visits/{visit.id}/leave").status_code == 404
    db.session.expire_all()
    assert (count(ShowroomVisit), visit.left_at) == (1, None)


@pytest.mark.browser
def test_a_consultant_records_a_returning_customers_visit_on_a_phone(browser, live_server, world):
    me = world.one.consultant
    lead = factories.make_lead(me, customer=customer(world, name="陈静"), stage=Stage.INVITED)
    context = browser.new_context(base_url=live_server, locale="en-US", viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto("/signin")
        page.fill("#f-identifier", me.email)
        page.fill("#f-password", factories.PASSWORD)
        page.click("button[type=submit].primary")
        page.wait_for_selector("nav.bottom-nav")  # signed in, on whichever home the role has
        page.goto("/walk-ins/new")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390

        page.fill("#f-phone", "139 1234 5678")
        offer = page.locator(".lookup-match")
        offer.wait_for()
        assert "陈静" in offer.inner_text() and not page.locator("#f-name").is_visible()
        button = offer.get_by_role("button", name="Record a visit")
        assert button.bounding_box()["height"] >= 48
        button.tap()

        page.wait_for_url(re.compile(rf"/leads/{lead.id}$"))
        history = page.locator(".timeline").inner_text()
        assert "Showroom visit" in history and "Repeat visit, party of 1" in history
    finally:
        context.close()
    assert not errors, f"browser console errors: {errors}"
