"""The outbox end to end: what happens in the app (a lead routed, a follow-up falling due) reaches the fake push
service as an encrypted, VAPID-signed push through the worker; quiet hours in the dealer's zone defer it, never
drop it; a worker killed mid-delivery loses nothing; nobody is told twice."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import DeliveryState, Notification, Origin, PushDelivery, Stage
from app.services import outbox, routing
from app.worker import Worker
from tests import concurrency, factories

SHANGHAI = timezone(timedelta(hours=8))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(timezone.utc)


def deliveries() -> list[PushDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(PushDelivery).order_by(PushDelivery.id)))


def test_a_routed_lead_reaches_the_consultants_phone(world, subscribe, push_service):
    world.one.colleague.on_shift = False
    world.one.consultant.locale = "zh_Hans"
    db.session.commit()
    phone = subscribe(world.one.consultant)
    lead = factories.make_lead(dealer=None, origin=Origin.OEM, oem_id=world.oem.id, model_of_interest="HY-X7 SUV",
                               customer=factories.make_customer(world.oem, name="林小雨"))
    routing.route(world.idcc_agent, lead, world.one.dealer)
    db.session.commit()

    done = Worker().run_once(at("2026-11-23 10:00"))
    assert (done["fanned_out"], done["delivered"]) == (1, 1)
    [push] = push_service.to(phone)
    assert push.status == 201 and push.claims["sub"].startswith("mailto:")
    assert push.payload["title"].endswith(" · 林小雨") and push.payload["body"] == "HY-X7 SUV"
    assert push.payload["url"] == f"/leads/{lead.id}" and push.payload["tag"] == f"lead-{lead.id}"
    assert push.headers["urgency"] == "high" and push.headers["topic"] == f"lead-{lead.id}"
    assert int(push.headers["ttl"]) > 0
    assert [d.state for d in deliveries()] == [DeliveryState.SENT]
    assert Worker().run_once(at("2026-11-23 10:01"))["delivered"] == 0  # told once


def test_a_follow_up_due_at_night_is_pushed_when_the_quiet_hours_end(world, subscribe, push_service):
    phone = subscribe(world.one.consultant)
    lead = factories.make_lead(world.one.consultant, stage=Stage.CONTACTED, first_contact_at=at("2026-11-20 10:00"))
    factories.make_follow_up(lead, due_in=timedelta(0), due_at=at("2026-11-23 21:30"))
    worker = Worker()

    def reminders_received():
        return [push for push in push_service.to(phone) if push.payload["url"] == f"/leads/{lead.id}"]

    assert worker.run_once(at("2026-11-23 21:30"))["follow_ups_due"] == 1  # in the inbox at once
    assert push_service.to(phone) == [] and deliveries()[0].next_attempt_at == at("2026-11-24 09:00")
    worker.run_once(at("2026-11-24 08:59"))
    assert reminders_received() == []
    assert [push.payload["url"] for push in push_service.to(phone)] == ["/today"]  # the 08:30 digest: asked for
    worker.run_once(at("2026-11-24 09:00"))
    [push] = reminders_received()
    assert push.headers["urgency"] == "normal"


def test_brand_users_have_no_dealers_quiet_hours(world, subscribe, push_service):
    phone = subscribe(world.idcc_agent)
    db.session.add(Notification(user_id=world.idcc_agent.id, kind="test", title="desk", dedupe_key="t1"))
    db.session.commit()
    Worker().run_once(at("2026-11-23 23:00"))
    assert len(push_service.to(phone)) == 1


def test_a_worker_killed_mid_delivery_loses_nothing(world, subscribe, push_service, monkeypatch):
    phone = subscribe(world.one.consultant)
    db.session.add(Notification(user_id=world.one.consultant.id, kind="test", title="x", dedupe_key="t2"))
    db.session.commit()
    now = at("2026-11-23 10:00")
    outbox.fan_out(now)

    from app.services.channels import web_push

    def killed(*args, **kwargs):
        raise SystemExit("the worker process was killed")  # after the claim was committed, before any answer

    monkeypatch.setattr(web_push.WebPushChannel, "_send", killed)
    with pytest.raises(SystemExit):
        outbox.deliver(now)
    db.session.rollback()
    monkeypatch.undo()
    assert push_service.to(phone) == [] and deliveries()[0].state is DeliveryState.PENDING
    assert outbox.deliver(now + timedelta(minutes=1)) == 0  # claimed by the dead worker for a while
    assert outbox.deliver(now + timedelta(minutes=11)) == 1  # then sent by the next one
    assert len(push_service.to(phone)) == 1 and deliveries()[0].state is DeliveryState.SENT


def test_parallel_workers_fan_out_and_deliver_each_notification_once(app, world, subscribe, push_service):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("one worker runs beside an SQLite database; parallel workers need PostgreSQL")
    phones = [subscribe(world.one.consultant), subscribe(world.one.consultant)]
    for n in range(60):
        db.session.add(Notification(user_id=world.one.consultant.id, kind="test", title=f"n{n}", dedupe_key=f"p{n}"))
    db.session.commit()
    now = at("2026-11-23 10:00")

    def work():
        for _ in range(5):
            Worker().run_once(now)

    assert not concurrency.at_once(app, work, work, work)
    assert db.session.scalar(select(func.count()).select_from(PushDelivery)) == 120
    for phone in phones:
        received = [push.payload["body"] or push.payload["title"] for push in push_service.to(phone)]
        assert len(received) == 60 and len(set(received)) == 60
