"""Web Push: a notification reaches the browser decrypted, in its user's language, through the fake push service
on 127.0.0.1; each answer of a push service does what it should to the delivery and the device; workers that
run at once send every push exactly once; the VAPID keys are made once."""
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from sqlalchemy import func, select

from app.benchmark.push_service import Answer
from app.extensions import db
from app.models import DeliveryState, Notification, PushDelivery, PushPreferences, PushSubscription
from app.services import notices, outbox, routing
from app.services.channels import CHANNELS
from app.services.channels.web_push import MAX_ATTEMPTS, RECORD_EVERY, WebPushChannel
from tests import concurrency, factories
from tests.push_fixtures import SUBJECT

SHANGHAI = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI).astimezone(timezone.utc)  # a Monday morning, no quiet hours
[WEB_PUSH] = [channel for channel in CHANNELS if isinstance(channel, WebPushChannel)]


def notify(user, kind: str = "approval_requested", lead=None, body: str | None = "mark_lost") -> Notification:
    """A notification as the services write one (about a lead through app.services.notices)."""
    if lead is not None:
        notices.tell(user.id, lead, kind, key=str(time.monotonic_ns()), body=body)
    else:
        db.session.add(Notification(user_id=user.id, kind=kind, title="", body=body, url="/inbox",
                                    dedupe_key=f"{kind}:{time.monotonic_ns()}"))
    db.session.commit()
    return db.session.scalars(select(Notification).order_by(Notification.id.desc())).first()


def fan_out(notification: Notification, send_at: datetime = NOW) -> None:
    WEB_PUSH.fan_out(notification, send_at)
    db.session.commit()


def deliveries() -> list[PushDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(PushDelivery).order_by(PushDelivery.id)))


def pushed(user, **notification) -> PushDelivery:
    """One notification fanned out and delivered once to the user's one device; its delivery afterwards."""
    fan_out(notify(user, **notification))
    assert WEB_PUSH.deliver_due(NOW, 10) == 1
    [delivery] = deliveries()
    return delivery


def subscriptions() -> int:
    return db.session.scalar(select(func.count()).select_from(PushSubscription))


@pytest.mark.parametrize(("locale", "words"), [
    (None, "New lead for you"), ("en", "New lead for you"), ("zh_Hans", "你有新线索"),
])
def test_an_assigned_lead_reaches_the_browser_decrypted_in_the_users_language(
        world, subscribe, push_service, locale, words):
    consultant = world.one.consultant
    consultant.locale = locale
    browser = subscribe(consultant)
    lead = factories.make_lead(None, dealer=world.one.dealer, model_of_interest="HY-S7")
    routing.assign(lead, consultant, world.one.manager)
    db.session.commit()

    assert outbox.fan_out(NOW) == 1 and outbox.deliver(NOW) == 1

    [request] = push_service.to(browser)
    assert request.problem is None and request.status == 201
    assert request.payload == {"title": f"{words} · {lead.customer.name}", "body": "HY-S7",
                               "url": f"/leads/{lead.id}", "tag": f"lead-{lead.id}"}
    assert (request.headers["ttl"], request.headers["urgency"], request.headers["topic"]) == (
        str(4 * 3600), "high", f"lead-{lead.id}")
    # The JWT the service verified: webpush 1.0.6 leaves the port out of `aud` (real services listen on 443).
    assert request.claims["aud"] == "http://127.0.0.1" and request.claims["sub"] == SUBJECT
    assert time.time() < request.claims["exp"] <= time.time() + 24 * 3600
    [delivery] = deliveries()
    assert (delivery.state, delivery.attempts, delivery.last_status, delivery.sent_at) == (
        DeliveryState.SENT, 1, 201, NOW)
    assert delivery.subscription.last_used_at == NOW
    assert outbox.deliver(NOW + timedelta(days=1)) == 0  # sent once, never again


@pytest.mark.parametrize(("locale", "words", "body"), [
    ("en", "Follow-up due", "Follow up after the showroom visit"),
    ("zh_Hans", "跟进到期", "到店后跟进"),
])
def test_a_follow_up_due_reminder_says_its_purpose_in_the_users_language(world, me, subscribe, push_service,
                                                                         locale, words, body):
    me.locale = locale
    browser = subscribe(me)
    lead = factories.make_lead(me)
    delivery = pushed(me, kind="follow_up_due", lead=lead, body="after_visit")

    [request] = push_service.to(browser)
    assert request.payload["title"] == f"{words} · {lead.customer.name}" and request.payload["body"] == body
    assert request.payload["tag"] == f"lead-{lead.id}" and request.payload["url"] == f"/leads/{lead.id}"
    assert (request.headers["ttl"], request.headers["urgency"], request.headers["topic"]) == (
        str(12 * 3600), "normal", f"lead-{lead.id}")
    assert delivery.state is DeliveryState.SENT


@pytest.mark.parametrize(("kind", "ttl", "urgency", "topic"), [
    ("digest", 12 * 3600, "low", "digest"),
    ("test", 60, "normal", None),
    ("approval_requested", 24 * 3600, "normal", None),
])
def test_every_push_has_an_explicit_ttl_urgency_and_a_topic_where_a_newer_one_replaces_it(
        world, me, subscribe, push_service, kind, ttl, urgency, topic):
    browser = subscribe(me)
    notification = notify(me, kind=kind, body="text written by a person")
    fan_out(notification)
    assert WEB_PUSH.deliver_due(NOW, 10) == 1

    [request] = push_service.to(browser)
    assert (request.headers["ttl"], request.headers["urgency"], request.headers.get("topic")) == (
        str(ttl), urgency, topic)
    assert request.payload["body"] == "text written by a person"
    assert request.payload["tag"] == f"{kind}-{notification.id}"


KINDS = [
    ("lead_assigned", "new_lead"), ("lead_to_assign", "new_lead"), ("lead_reassigned", "new_lead"),
    ("lead_taken_back", "new_lead"), ("first_contact_breach", "new_lead"), ("follow_up_due", "follow_up_due"),
    ("appointment_soon", "appointment"), ("approval_requested", "approval"), ("approval_approved", "approval"),
    ("approval_rejected", "approval"), ("digest", "digest"),
]
PREFERENCES = ["new_lead", "follow_up_due", "appointment", "approval", "digest"]


@pytest.mark.parametrize(("kind", "preference"), KINDS)
def test_each_kind_reaches_every_device_unless_its_preference_is_off(world, me, subscribe, kind, preference):
    phone, tablet = subscribe(me), subscribe(me)
    subscribe(world.one.colleague)
    later = NOW + timedelta(hours=11)  # after quiet hours, say

    fan_out(notify(me, kind=kind), later)  # no preferences chosen: everything
    assert sorted((d.subscription.endpoint, d.next_attempt_at, d.state) for d in deliveries()) == sorted(
        [(phone.endpoint, later, DeliveryState.PENDING), (tablet.endpoint, later, DeliveryState.PENDING)])

    db.session.add(PushPreferences(user_id=me.id, **{p: p != preference for p in PREFERENCES}))
    db.session.commit()
    fan_out(notify(me, kind=kind))
    assert len(deliveries()) == 2  # turned off: no more

    preferences = db.session.get(PushPreferences, me.id)
    for column in PREFERENCES:
        setattr(preferences, column, column == preference)
    db.session.commit()
    fan_out(notify(me, kind=kind))
    assert len(deliveries()) == 4  # the only one on


def test_a_test_push_ignores_the_preferences(world, me, subscribe):
    subscribe(me)
    db.session.add(PushPreferences(user_id=me.id, **{p: False for p in PREFERENCES}))
    db.session.commit()
    fan_out(notify(me, kind="test"))
    assert len(deliveries()) == 1


def test_a_user_without_devices_gets_no_deliveries(world, me, subscribe):
    subscribe(world.one.colleague)
    fan_out(notify(me))
    assert deliveries() == []


@pytest.mark.parametrize("status", [404, 410])
def test_a_device_gone_loses_its_subscription_and_its_deliveries(world, me, subscribe, push_service, status):
    gone, kept = subscribe(me), subscribe(me)
    push_service.script(gone, Answer(status))
    fan_out(notify(me))
    fan_out(notify(me), NOW + timedelta(hours=1))  # another, still waiting for the same device

    assert WEB_PUSH.deliver_due(NOW, 10) == 2

    assert [d.subscription.endpoint for d in deliveries()] == [kept.endpoint, kept.endpoint]
    assert [d.state for d in deliveries()] == [DeliveryState.SENT, DeliveryState.PENDING]
    assert subscriptions() == 1 and len(push_service.to(gone)) == 1
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2  # the inbox keeps them


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_a_refusal_for_our_configuration_or_payload_fails_the_delivery_and_keeps_the_device(
        world, me, subscribe, push_service, status):
    browser = subscribe(me)
    push_service.script(browser, Answer(status))

    delivery = pushed(me)

    assert (delivery.state, delivery.attempts, delivery.last_status) == (DeliveryState.FAILED, 1, status)
    assert subscriptions() == 1
    assert WEB_PUSH.deliver_due(NOW + timedelta(days=1), 10) == 0  # not tried again


@pytest.mark.parametrize(("retry_after", "wait"), [
    ("120", timedelta(seconds=120)),
    (format_datetime(NOW + timedelta(minutes=5), usegmt=True), timedelta(minutes=5)),
])
def test_too_many_requests_waits_for_retry_after_then_sends(world, me, subscribe, push_service, retry_after, wait):
    browser = subscribe(me)
    push_service.script(browser, Answer(429, {"Retry-After": retry_after}))

    delivery = pushed(me)

    assert (delivery.state, delivery.last_status, delivery.next_attempt_at) == (
        DeliveryState.PENDING, 429, NOW + wait)
    assert WEB_PUSH.deliver_due(NOW + wait - timedelta(seconds=1), 10) == 0
    assert WEB_PUSH.deliver_due(NOW + wait, 10) == 1
    [delivery] = deliveries()
    assert (delivery.state, delivery.attempts, delivery.last_status) == (DeliveryState.SENT, 2, 201)
    assert len(push_service.to(browser)) == 2


def test_a_retry_after_shorter_than_the_backoff_waits_for_the_backoff(world, me, subscribe, push_service):
    push_service.script(subscribe(me), Answer(429, {"Retry-After": "1"}))
    delivery = pushed(me)
    assert delivery.state is DeliveryState.PENDING and delivery.next_attempt_at >= NOW + timedelta(seconds=30)


def test_a_server_error_is_retried_after_a_backoff(world, me, subscribe, push_service):
    browser = subscribe(me)
    push_service.script(browser, Answer(500))

    delivery = pushed(me)

    assert (delivery.state, delivery.attempts, delivery.last_status) == (DeliveryState.PENDING, 1, 500)
    assert NOW + timedelta(seconds=30) <= delivery.next_attempt_at <= NOW + timedelta(seconds=37.5)
    assert WEB_PUSH.deliver_due(NOW + timedelta(seconds=29), 10) == 0
    assert WEB_PUSH.deliver_due(NOW + timedelta(seconds=40), 10) == 1
    [delivery] = deliveries()
    assert (delivery.state, delivery.attempts, delivery.last_status, delivery.last_error) == (
        DeliveryState.SENT, 2, 201, None)
    assert push_service.to(browser)[1].payload == push_service.to(browser)[0].payload


def test_retries_back_off_exponentially_and_stop_after_max_attempts(world, me, subscribe, push_service):
    browser = subscribe(me)
    push_service.script(browser, *[Answer(503)] * MAX_ATTEMPTS)
    fan_out(notify(me))
    moment, waits = NOW, []
    for _ in range(MAX_ATTEMPTS):
        assert WEB_PUSH.deliver_due(moment, 10) == 1
        [delivery] = deliveries()
        if delivery.state is DeliveryState.PENDING:
            waits.append((delivery.next_attempt_at - moment).total_seconds())
            moment = delivery.next_attempt_at

    assert (delivery.state, delivery.attempts, delivery.last_status) == (DeliveryState.FAILED, MAX_ATTEMPTS, 503)
    assert len(waits) == MAX_ATTEMPTS - 1 and all(later > earlier for earlier, later in zip(waits, waits[1:]))
    assert waits[0] >= 30 and waits[-1] <= 3600 * 1.25
    assert WEB_PUSH.deliver_due(moment + timedelta(days=1), 10) == 0
    assert len(push_service.to(browser)) == MAX_ATTEMPTS and subscriptions() == 1


def test_a_push_service_that_is_down_leaves_the_delivery_pending(world, me, subscribe, push_service):
    subscribe(me)
    push_service.close()

    delivery = pushed(me)

    assert (delivery.state, delivery.attempts, delivery.last_status) == (DeliveryState.PENDING, 1, None)
    assert "ConnectError" in delivery.last_error and delivery.next_attempt_at >= NOW + timedelta(seconds=30)
    assert subscriptions() == 1


def test_a_push_service_that_does_not_answer_in_time_leaves_the_delivery_pending(world, me, subscribe, push_service):
    browser = subscribe(me)
    push_service.script(browser, Answer(201, stall=1.0))
    fan_out(notify(me))

    assert WebPushChannel(timeout=0.2).deliver_due(NOW, 10) == 1

    [delivery] = deliveries()
    assert (delivery.state, delivery.last_status) == (DeliveryState.PENDING, None)
    assert "Timeout" in delivery.last_error


def test_a_subscription_with_keys_no_browser_makes_fails_its_delivery_only(world, me, subscribe, push_service):
    good = subscribe(me)
    subscribe(me)
    db.session.execute(db.update(PushSubscription).where(PushSubscription.endpoint != good.endpoint)
                       .values(p256dh="bm90IGEga2V5"))
    db.session.commit()
    fan_out(notify(me))

    assert WEB_PUSH.deliver_due(NOW, 10) == 2

    assert sorted(d.state for d in deliveries()) == [DeliveryState.FAILED, DeliveryState.SENT]
    assert len(push_service.received) == 1


def test_the_payload_stays_small_with_a_very_long_text(world, me, subscribe, push_service):
    browser = subscribe(me)
    lead = factories.make_lead(me)
    db.session.add(Notification(user_id=me.id, kind="lead_assigned", lead_id=lead.id, title="欧阳" * 100,
                                body="很长的备注" * 2000, url=f"/leads/{lead.id}", dedupe_key="long"))
    db.session.commit()
    fan_out(db.session.scalar(select(Notification)))
    assert WEB_PUSH.deliver_due(NOW, 10) == 1

    [request] = push_service.to(browser)
    assert request.size < 2048
    assert request.payload["body"].startswith("很长的备注很长的备注") and request.payload["body"].endswith("…")
    assert request.payload["title"].startswith("New lead for you · 欧阳欧阳") and request.payload["title"].endswith("…")


def test_a_pass_larger_than_one_commit_records_every_outcome_of_pushes_sent_at_once(world, me, subscribe,
                                                                                    push_service):
    """Pushes go out SENDERS at a time and their outcomes are written RECORD_EVERY at a time: a mix of answers
    across several commits still lands on the right deliveries and devices."""
    working, failing, gone = subscribe(me), subscribe(me), subscribe(me)
    push_service.script(failing, *[Answer(503)] * 30)
    push_service.script(gone, Answer(201), Answer(201), Answer(410))
    for _ in range(30):
        fan_out(notify(me))
    assert len(deliveries()) == 90 > RECORD_EVERY

    assert WEB_PUSH.deliver_due(NOW, 100) == 90

    by_device = {browser.endpoint: Counter() for browser in (working, failing)}
    for delivery in deliveries():
        by_device[delivery.subscription.endpoint][delivery.state, delivery.attempts, delivery.last_status] += 1
    assert by_device == {working.endpoint: {(DeliveryState.SENT, 1, 201): 30},
                         failing.endpoint: {(DeliveryState.PENDING, 1, 503): 30}}
    assert subscriptions() == 2  # the device that answered 410 went, with every delivery it still had
    assert len(push_service.to(working)) == 30 and len(push_service.to(failing)) == 30
    used = dict(db.session.execute(select(PushSubscription.endpoint, PushSubscription.last_used_at)).all())
    assert used == {working.endpoint: NOW, failing.endpoint: None}


def test_two_workers_at_once_send_every_push_exactly_once(app, world, me, subscribe, push_service):
    """On PostgreSQL deliveries are claimed with FOR UPDATE SKIP LOCKED; SQLite has one writer."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("one worker runs beside an SQLite database; parallel workers need PostgreSQL")
    browsers = [subscribe(me) for _ in range(3)]
    for _ in range(20):
        fan_out(notify(me))
    attempted = []

    def work():
        while done := WEB_PUSH.deliver_due(NOW, 4):
            attempted.append(done)

    assert not concurrency.at_once(app, work, work)

    assert sum(attempted) == 60
    assert all(d.state is DeliveryState.SENT and d.attempts == 1 for d in deliveries())
    sent = Counter((request.path, request.payload["tag"]) for request in push_service.received)
    assert len(sent) == 60 and set(sent.values()) == {1}
    assert {path for path, _ in sent} == {browser.endpoint.removeprefix(push_service.origin) for browser in browsers}
