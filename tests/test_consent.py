"""Consent per customer and channel: each channel's state is its latest record; the lead page shows when, how,
from which source and by whom; whoever works the lead records a grant or a withdrawal (audited); SMS and WeChat
need a recorded grant and a call only a withdrawal stops, on the buttons and on the server; a withdrawal of calls
stops the follow-ups, and a customer who may be contacted on no channel gets no follow-up reminder."""
import html
import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Activity, AuditEntry, CadencePolicy, Channel, ConsentMethod, ConsentRecord, ConsentState, Customer, FollowUpTask,
    Lead, Origin, Stage, StopCondition, TaskStatus, utcnow,
)
from app.services import consent, reminders
from tests import factories
from tests.test_reminders import at, told

HTMX = {"HX-Request": "true"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
OPTED_OUT = "The customer opted out of calls: this lead's follow-ups have stopped."
NOWHERE = "The customer may not be contacted on any channel: no reminder is sent for this follow-up."


@pytest.fixture
def customer(world):
    return factories.make_customer(world.oem, name="陈静", wechat_id="chenjing8")


@pytest.fixture
def lead(me, customer):
    lead = factories.make_lead(me, customer=customer, stage=Stage.CONTACTED, first_contact_at=utcnow())
    factories.make_follow_up(lead, due_in=timedelta(days=2))
    return lead


def days_ago(days: float) -> datetime:
    return utcnow() - timedelta(days=days)


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def text_of(page: str) -> str:
    """What a reader sees of the markup: its words, spaced once."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def consent_row(page: str, channel: str) -> str:
    """One channel's line of the consent list, as text."""
    return text_of(page.split(f'data-channel="{channel}">', 1)[1].split("</li>", 1)[0])


def contact_card(page: str) -> str:
    """The Call / SMS / WeChat buttons, the reasons below them, and the rest of their card."""
    return page.split('<div class="contact-buttons">', 1)[1].split("</section>", 1)[0]


def record(client, auth, lead, channel, state, headers=HTMX):
    return client.post(f"/leads/{lead.id}/consent", data={
        "csrf_token": auth.csrf_token("/today"), "channel": channel, "state": state}, headers=headers)


def disable_opt_out_stop(dealer):
    """A dealer whose cadence keeps following up customers who opted out of calls."""
    db.session.add(CadencePolicy(dealer_id=dealer.id, stop_on=frozenset({StopCondition.WON, StopCondition.LOST})))
    db.session.commit()


# --- the state of each channel, from its records --------------------------------------------------------------

def test_each_channel_is_the_customers_latest_word(customer):
    factories.make_consent(customer, Channel.CALL, recorded_at=days_ago(30))
    factories.make_consent(customer, Channel.CALL, granted=False, recorded_at=days_ago(2))  # a later withdrawal wins
    factories.make_consent(customer, Channel.SMS, granted=False, recorded_at=days_ago(9))
    factories.make_consent(customer, Channel.SMS, recorded_at=days_ago(1))  # agreed again after withdrawing
    same_moment = days_ago(3)
    factories.make_consent(customer, Channel.EMAIL, recorded_at=same_moment)
    factories.make_consent(customer, Channel.EMAIL, granted=False, recorded_at=same_moment)  # the later row wins

    person = fresh(Customer, customer.id)
    states = consent.by_channel(person)

    assert {channel: states[channel].state for channel in Channel} == {
        Channel.CALL: ConsentState.WITHDRAWN, Channel.SMS: ConsentState.GRANTED,
        Channel.WECHAT: ConsentState.NOT_RECORDED, Channel.EMAIL: ConsentState.WITHDRAWN}
    assert [channel for channel in Channel if consent.may_contact(person, channel)] == [Channel.SMS]
    assert person.consented_channels == [Channel.SMS]
    assert consent.reachable(person)


def test_a_call_back_needs_no_recorded_consent_and_messages_do(world, customer):
    assert [channel for channel in Channel if consent.may_contact(customer, channel)] == [Channel.CALL]
    assert consent.reachable(customer)
    other = factories.make_customer(world.oem)
    factories.make_consent(customer, Channel.CALL, granted=False)
    assert not consent.reachable(fresh(Customer, customer.id))
    assert consent.unreachable_customers([customer.id, other.id]) == {customer.id}


# --- the lead page shows each channel ---------------------------------------------------------------------------

def test_the_lead_page_shows_each_channels_state_when_how_source_and_who(client, me, world, customer, lead):
    yesterday = days_ago(1)
    factories.make_consent(customer, Channel.CALL, recorded_at=yesterday, recorded_by_id=me.id)
    factories.make_consent(customer, Channel.SMS, method=ConsentMethod.IMPORT, source="汽车之家",
                           recorded_at=yesterday, recorded_by_id=world.two.consultant.id)
    factories.make_consent(customer, Channel.WECHAT, granted=False, method=ConsentMethod.PHONE, source="lead_page",
                           recorded_at=yesterday, recorded_by_id=world.one.manager.id)

    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)

    local_time = yesterday.astimezone(SHANGHAI).strftime("%H:%M")  # the dealer's zone
    assert consent_row(page, "call").startswith(
        f"Phone calls Agreed yesterday {local_time} · Walk-in form · Walk-in · {me.name}")
    # Who at another dealer recorded it stays with that dealer.
    assert consent_row(page, "sms").startswith(
        f"SMS Agreed yesterday {local_time} · Lead file · 汽车之家 · Staff of another dealer")
    assert world.two.consultant.name not in page
    assert consent_row(page, "wechat").startswith(
        f"WeChat Withdrawn yesterday {local_time} · By phone · Lead page · {world.one.manager.name}")
    assert consent_row(page, "email").startswith("Email Not recorded")


def test_whoever_works_the_lead_gets_a_button_per_word_and_nothing_ticked(client, me, customer, lead):
    factories.make_consent(customer, Channel.SMS)
    factories.make_consent(customer, Channel.WECHAT, granted=False)

    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)

    assert consent_row(page, "call").endswith(
        "Calling back on their inquiry is allowed. Record consent Record withdrawal")
    assert consent_row(page, "sms").endswith("Record withdrawal")
    assert consent_row(page, "wechat").endswith("Record consent")
    consent_list = page.split('class="consent-list"', 1)[1].split("</ul>", 1)[0]
    assert "checked" not in consent_list and 'type="checkbox"' not in consent_list


def test_the_customer_page_and_the_lead_desk_see_the_list_without_buttons(app, client, auth, world, customer):
    lead = factories.make_lead(world.one.consultant, customer=customer, origin=Origin.OEM)
    factories.make_consent(customer, Channel.SMS)
    auth.sign_in(world.one.consultant)
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert consent_row(page, "sms").startswith("SMS Agreed") and "Record consent" not in page
    desk = app.test_client()
    type(auth)(desk).sign_in(world.idcc_agent)
    page = desk.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert consent_row(page, "sms").startswith("SMS Agreed") and "Record withdrawal" not in page


# --- recording a grant or a withdrawal -----------------------------------------------------------------------------

def test_recording_consent_adds_a_record_and_an_audit_entry(client, auth, me, customer, lead):
    response = record(client, auth, lead, "sms", "granted")

    assert response.status_code == 200
    assert json.loads(response.headers["HX-Trigger"])["lead-changed"]["message"] == "Consent recorded: SMS."
    [saved] = db.session.scalars(select(ConsentRecord)).all()
    assert (saved.customer_id, saved.channel, saved.granted, saved.method, saved.source, saved.recorded_by_id) == (
        customer.id, Channel.SMS, True, ConsentMethod.PHONE, "lead_page", me.id)
    [entry] = db.session.scalars(select(AuditEntry)).all()
    assert (entry.action, entry.actor_id, entry.object_type, entry.object_id, entry.dealer_id) == (
        "consent.granted", me.id, "customers", customer.id, lead.dealer_id)
    assert entry.before == {"sms": "not_recorded"}
    assert entry.after == {"sms": "granted", "method": "phone", "source": "lead_page"}
    assert consent_row(client.get(f"/leads/{lead.id}").get_data(as_text=True), "sms").startswith("SMS Agreed today")


def test_withdrawing_consent_adds_a_record_and_an_audit_entry(client, auth, world, customer, lead):
    factories.make_consent(customer, Channel.WECHAT, recorded_at=days_ago(5))

    response = record(client, auth, lead, "wechat", "withdrawn")

    assert json.loads(response.headers["HX-Trigger"])["lead-changed"]["message"] == "Withdrawal recorded: WeChat."
    assert consent.by_channel(fresh(Customer, customer.id))[Channel.WECHAT].state is ConsentState.WITHDRAWN
    entry = db.session.scalar(select(AuditEntry))
    assert (entry.action, entry.before, entry.after) == (
        "consent.withdrawn", {"wechat": "granted"}, {"wechat": "withdrawn", "method": "phone", "source": "lead_page"})
    auth.sign_out()
    auth.sign_in(world.one.manager)  # the manager's audit trail names the channel and the states in words
    trail = client.get("/audit").get_data(as_text=True)
    assert "Consent withdrawn" in trail and re.search(r"WeChat.{0,120}Agreed.{0,120}Withdrawn", trail, re.S)


def test_the_managers_record_without_javascript_goes_back_to_the_lead(app, auth, world, customer, lead):
    manager = app.test_client()
    type(auth)(manager).sign_in(world.one.manager)
    response = record(manager, type(auth)(manager), lead, "call", "withdrawn", headers={})
    assert response.status_code == 303 and response.headers["Location"] == f"/leads/{lead.id}"
    page = manager.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "Withdrawal recorded: Phone calls." in page and consent_row(page, "call").startswith("Phone calls Withdrawn")


@pytest.mark.parametrize(("data", "message"), [
    ({"channel": "sms", "state": "granted"}, "This is already recorded."),  # a second tap
    ({"channel": "fax", "state": "granted"}, "Choose one of the options."),
    ({"channel": "sms", "state": "not_recorded"}, "Choose one of the options."),
    ({"channel": "sms"}, "Choose one of the options."),
])
def test_a_refused_record_says_why_and_writes_nothing(client, auth, customer, lead, data, message):
    factories.make_consent(customer, Channel.SMS)
    response = client.post(f"/leads/{lead.id}/consent", data={"csrf_token": auth.csrf_token("/today"), **data},
                           headers=HTMX)
    assert response.status_code == 422
    assert json.loads(response.headers["HX-Trigger"])["lead-refused"]["message"] == message
    assert (count(ConsentRecord), count(AuditEntry)) == (1, 0)


def test_nobody_records_consent_on_a_lead_they_do_not_work(app, client, auth, me, world, customer, lead):
    theirs = factories.make_lead(world.two.consultant)
    colleagues = factories.make_lead(world.one.colleague)
    assert record(client, auth, theirs, "sms", "granted").status_code == 404
    assert record(client, auth, colleagues, "sms", "granted").status_code == 404
    other_dealer = app.test_client()
    type(auth)(other_dealer).sign_in(world.two.consultant)
    assert record(other_dealer, type(auth)(other_dealer), lead, "sms", "granted").status_code == 404
    brand_lead = factories.make_lead(me, origin=Origin.OEM)
    desk = app.test_client()
    type(auth)(desk).sign_in(world.idcc_agent)
    token = type(auth)(desk).csrf_token("/leads")
    response = desk.post(f"/leads/{brand_lead.id}/consent", data={"csrf_token": token, "channel": "sms",
                                                                   "state": "granted"})
    assert response.status_code == 403
    assert (count(ConsentRecord), count(AuditEntry)) == (0, 0)


# --- gating: the buttons ------------------------------------------------------------------------------------------

def test_messages_without_consent_are_disabled_buttons_with_the_reason(client, customer, lead):
    card = contact_card(client.get(f"/leads/{lead.id}").get_data(as_text=True))

    assert f'href="tel:{customer.phone_e164}" data-attempt="/leads/{lead.id}/contacts/call"' in card
    assert 'href="sms:' not in card and "contacts/sms" not in card and "contacts/wechat" not in card
    assert re.search(r'<button type="button" class="button" disabled[^>]*>SMS</button>', card)
    assert re.search(r'<button type="button" class="button" disabled[^>]*>WeChat</button>', card)
    assert "No SMS consent recorded · No WeChat consent recorded" in text_of(card)
    assert "Log a call made from another phone" in card


def test_with_consent_the_message_buttons_work(client, customer, lead):
    factories.make_consent(customer, Channel.SMS)
    factories.make_consent(customer, Channel.WECHAT)
    card = contact_card(client.get(f"/leads/{lead.id}").get_data(as_text=True))
    assert f'href="sms:{customer.phone_e164}" data-attempt="/leads/{lead.id}/contacts/sms"' in card
    assert f'data-attempt="/leads/{lead.id}/contacts/wechat"' in card
    assert "disabled" not in card and "consent recorded" not in card


def test_call_is_disabled_only_after_a_withdrawal_with_its_day_in_the_dealers_zone(client, customer, lead):
    withdrawn_at = datetime(utcnow().year, 3, 2, 17, 30, tzinfo=UTC)  # 3 March, 01:30 in Guangzhou
    factories.make_consent(customer, Channel.CALL, granted=False, recorded_at=withdrawn_at)

    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    card = contact_card(page)

    assert re.search(r'<button type="button" class="button call" disabled[^>]*>Call</button>', card)
    assert "tel:" not in card and "Log a call made from another phone" not in card
    assert "Withdrew call consent on Mar 3 · No SMS consent recorded" in text_of(card)
    assert f'href="tel:{customer.phone_e164}"' not in page  # nor the number on the customer card


def test_todays_rows_gate_the_same_way(client, me, world):
    lead = factories.make_lead(me, customer=factories.make_customer(world.oem, name="今天的"),
                               stage=Stage.CONTACTED, first_contact_at=utcnow())
    factories.make_follow_up(lead, due_in=timedelta(hours=-1))
    row = client.get("/today").get_data(as_text=True).split('id="overdue"', 1)[1].split("</li>", 1)[0]
    assert 'href="sms:' not in row and "No SMS consent recorded" in row
    assert f'data-attempt="/leads/{lead.id}/contacts/call"' in row


def test_the_log_sheet_offers_only_the_channels_consented_to(client, customer, lead):
    sheet = client.get(f"/leads/{lead.id}/contacts/log?kind=sms", headers=HTMX).get_data(as_text=True)
    assert re.search(r'value="sms" required\s+disabled', sheet) and re.search(r'value="wechat" required\s+disabled',
                                                                               sheet)
    assert re.findall(r'name="kind" value="(\w+)"[^>]*\bchecked', sheet) == ["call"]
    assert "No SMS consent recorded" in sheet and "No WeChat consent recorded" in sheet


# --- gating: the server ---------------------------------------------------------------------------------------------

def log(client, auth, lead, kind, **headers):
    return client.post(f"/leads/{lead.id}/contacts/log", data={
        "csrf_token": auth.csrf_token("/today"), "kind": kind, "made_at": days_ago(0.01).isoformat(),
        "outcome": "reached", "next_at": "custom", "custom_date": (utcnow() + timedelta(days=3)).date().isoformat(),
        "custom_time": "10:00"}, headers={**HTMX, **headers})


def tap(client, auth, lead, kind):
    return client.post(f"/leads/{lead.id}/contacts/{kind}", data={"csrf_token": auth.csrf_token("/today")},
                       headers=HTMX)


def untouched(lead, due_at) -> bool:
    saved = fresh(Lead, lead.id)
    return count(Activity) == 0 and saved.last_contact_at is None and saved.next_follow_up_at == due_at


@pytest.mark.parametrize("kind", ["sms", "wechat"])
def test_a_message_without_consent_is_refused_and_nothing_is_written(client, auth, lead, kind):
    due_at = lead.next_follow_up_at
    words = {"sms": "No SMS consent recorded", "wechat": "No WeChat consent recorded"}[kind]

    tapped = tap(client, auth, lead, kind)
    assert tapped.status_code == 422 and words in tapped.get_data(as_text=True)
    # An entry a phone kept offline is refused for good (422, not "try again"): it waits under "Needs attention".
    logged = log(client, auth, lead, kind, **{"Idempotency-Key": "8c1f0b5e-4f7d-4c1e-9d61-3b7e2f0a9c11",
                                              "X-Outbox-Replay": "1"})
    assert logged.status_code == 422 and words in logged.get_data(as_text=True)
    assert untouched(lead, due_at)


def test_a_withdrawn_message_channel_says_when(client, auth, customer, lead):
    year = utcnow().year
    factories.make_consent(customer, Channel.SMS, recorded_at=datetime(year, 1, 5, tzinfo=UTC))
    factories.make_consent(customer, Channel.SMS, granted=False, recorded_at=datetime(year, 3, 2, 17, 30, tzinfo=UTC))
    due_at = lead.next_follow_up_at
    response = log(client, auth, lead, "sms")
    assert response.status_code == 422 and "Withdrew SMS consent on Mar 3" in response.get_data(as_text=True)
    assert untouched(lead, due_at)


def test_a_call_after_its_withdrawal_is_refused(client, auth, customer, lead):
    factories.make_consent(customer, Channel.CALL, granted=False)
    assert tap(client, auth, lead, "call").status_code == 422
    assert log(client, auth, lead, "call").status_code == 422
    assert count(Activity) == 0


def test_with_consent_the_message_is_saved(client, auth, customer, lead):
    factories.make_consent(customer, Channel.SMS)
    assert log(client, auth, lead, "sms").status_code == 200
    assert tap(client, auth, lead, "sms").status_code == 200
    assert [activity.kind.value for activity in db.session.scalars(select(Activity))] == ["sms", "sms"]


# --- withdrawal and follow-ups ----------------------------------------------------------------------------------

def test_withdrawing_calls_stops_the_customers_follow_ups(client, auth, me, customer, lead):
    task = db.session.scalar(select(FollowUpTask).where(FollowUpTask.lead_id == lead.id))

    record(client, auth, lead, "call", "withdrawn")

    assert fresh(FollowUpTask, task.id).status is TaskStatus.CANCELLED
    assert fresh(Lead, lead.id).next_follow_up_at is None
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert OPTED_OUT in text_of(page) and "Move the follow-up" not in page


def test_a_dealer_that_does_not_stop_on_an_opt_out_keeps_the_follow_up_and_the_page_says_no_reminder(
        client, auth, world, customer, lead):
    disable_opt_out_stop(world.one.dealer)
    record(client, auth, lead, "call", "withdrawn")
    assert fresh(Lead, lead.id).next_follow_up_at is not None
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert NOWHERE in text_of(page) and OPTED_OUT not in text_of(page)
    record(client, auth, lead, "sms", "granted")  # reachable by SMS again
    assert NOWHERE not in text_of(client.get(f"/leads/{lead.id}").get_data(as_text=True))


@pytest.mark.parametrize(("consents", "reminded"), [
    ((), True),  # a call back on their inquiry
    (((Channel.CALL, True),), True),
    (((Channel.CALL, False),), False),  # every channel withdrawn or never granted
    (((Channel.CALL, False), (Channel.SMS, True)), True),  # still reachable by SMS
    (((Channel.CALL, False), (Channel.SMS, True), (Channel.SMS, False)), False),
])
def test_the_follow_up_reminder_goes_out_only_while_some_channel_is_allowed(world, customer, consents, reminded):
    disable_opt_out_stop(world.one.dealer)  # else a withdrawal of calls has no follow-up left to remind of
    lead = factories.make_lead(world.one.consultant, customer=customer, stage=Stage.CONTACTED,
                               first_contact_at=at("2026-11-20 10:00"))
    task = factories.make_follow_up(lead, due_in=timedelta(0), due_at=at("2026-11-23 10:00"))
    for n, (channel, granted) in enumerate(consents):
        factories.make_consent(customer, channel, granted=granted, recorded_at=at("2026-11-01 10:00") + timedelta(n))

    assert reminders.follow_ups_due(at("2026-11-23 10:00")) == int(reminded)

    assert [note.lead_id for note in told("follow_up_due")] == ([lead.id] if reminded else [])
    assert fresh(FollowUpTask, task.id).reminded_at == at("2026-11-23 10:00")  # marked either way: asked once


# --- on a phone ---------------------------------------------------------------------------------------------------

@pytest.mark.browser
def test_on_a_phone_recording_sms_consent_turns_the_sms_button_on(phone, world):
    from playwright.sync_api import expect

    from tests.test_browser import sign_in

    me = world.one.consultant
    lead = factories.make_lead(me, customer=factories.make_customer(world.oem, name="陈静"), stage=Stage.CONTACTED,
                               first_contact_at=utcnow())
    sign_in(phone, me)
    phone.wait_for_url(re.compile(r"/today$"))
    phone.goto(f"/leads/{lead.id}")
    expect(phone.locator(".contact-buttons").get_by_role("button", name="SMS")).to_be_disabled()
    expect(phone.locator(".consent-reasons")).to_have_text("No SMS consent recorded")

    phone.locator("details.consent summary").click()
    phone.locator("li[data-channel=sms]").get_by_role("button", name="Record consent").click()

    phone.locator("#toast").get_by_text("Consent recorded: SMS.").wait_for()
    expect(phone.locator(".contact-buttons").get_by_role("link", name="SMS")).to_have_attribute(
        "href", f"sms:{lead.customer.phone_e164}")
    expect(phone.locator(".consent-reasons")).to_have_count(0)
    expect(phone.locator("details.consent summary")).to_contain_text("SMS · Agreed")
    assert db.session.scalar(select(ConsentRecord.channel)) == Channel.SMS
