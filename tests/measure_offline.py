"""Figures for offline entry, printed, never asserted (speed is measured, not tested):

- how long 100 entries queued on a phone without signal take to reach the server once the signal is back;
- the bytes the server sends for a first visit (sign-in page and everything it loads, then Today and the app
  shell the service worker keeps) and for a repeat visit of Today with the worker in control, as sent: compressed
  for Chromium's Accept-Encoding (app/compression.py). `flask --app app bench` measures the same through gunicorn.

Run it by name (pytest collects only test_*.py by itself), on SQLite or on PostgreSQL with TEST_DATABASE_URL:
    .venv/bin/python -m pytest tests/measure_offline.py -s -q
"""
import json
import time
import uuid

from sqlalchemy import func, select

from app.extensions import db
from app.models import IdempotentRequest
from tests import factories
from tests.test_browser_offline import leads_on_today, network, phone_factory, signed_in  # noqa: F401 (fixtures)

ENTRIES = 100


class Meter:
    """Counts the body bytes of the app's answers as the app sends them (compressed where the browser accepts it),
    headers aside."""

    def __init__(self, app):
        self.app, self.bytes, self.requests = app, 0, 0

    def __call__(self, environ, start_response):
        self.requests += 1
        answer = self.app(environ, start_response)
        try:
            for chunk in answer:
                self.bytes += len(chunk)
                yield chunk
        finally:
            if hasattr(answer, "close"):
                answer.close()

    def take(self) -> dict:
        taken = {"requests": self.requests, "bytes": self.bytes}
        self.requests = self.bytes = 0
        return taken


def queue(page, lead, user_id: int, n: int) -> str:
    """One entry made offline, through the service worker as a form would send it: a note, a walk-in or a
    next follow-up, in turn."""
    key = str(uuid.uuid4())
    if n % 3 == 0:
        url, body, title = f"/leads/{lead.id}/notes", {"note": f"第{n}条"}, lead.customer.name
    elif n % 3 == 1:
        url, title = "/walk-ins/new", f"到店{n}"
        body = {"phone": f"1371234{n:04d}", "name": title, "model_of_interest": "HY-X7",
                "intent_level": "A", "party_size": "1", "source": "walk_in"}
    else:
        url, body, title = f"/leads/{lead.id}/next-follow-up", {"next_at": "custom", "custom_date": "2099-01-01"}, ""
        body["custom_date"] = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400 * (2 + n % 20)))
    about = {"user": str(user_id), "title": title, "lead": lead.id if "leads" in url else None}
    status = page.evaluate("""([url, body, key, about]) => fetch(url, {method: "POST", body: new URLSearchParams(body),
        headers: {"Idempotency-Key": key, "X-Offline-Entry": encodeURIComponent(JSON.stringify(about)),
                  "X-CSRFToken": JSON.parse(document.querySelector("[hx-headers]").getAttribute("hx-headers"))["X-CSRFToken"]}
      }).then((response) => response.status)""", [url, body, key, about])
    assert status == 202, status
    return key


def test_measure_offline_sync_and_transfer_sizes(app, phone_factory, network, world):  # noqa: F811 (the fixtures)
    meter = Meter(network.app)
    network.app = meter
    me = world.one.consultant
    lead = leads_on_today(world, me, 1)[0]
    for _ in range(20):  # a realistic Today
        factories.make_lead(me)
    phone = phone_factory()
    page = phone.page

    meter.take()
    page.goto("/signin")
    page.wait_for_load_state("networkidle")
    first_signin = meter.take()
    page_ = signed_in(phone, me)
    page_.wait_for_load_state("networkidle")
    time.sleep(2)  # the worker's install and the pages it keeps ahead
    first_today = meter.take()
    page.reload()
    page.wait_for_load_state("networkidle")
    repeat_today = meter.take()

    phone.offline()
    for n in range(ENTRIES):
        queue(page, lead, me.id, n)
    assert len(phone.outbox()) == ENTRIES
    started = time.perf_counter()
    phone.offline(False)
    while db.session.scalar(select(func.count()).select_from(IdempotentRequest)) < ENTRIES:
        time.sleep(0.02)
        db.session.expire_all()
    synced = time.perf_counter() - started

    print("\n" + json.dumps({
        "database": db.engine.dialect.name,
        "first visit, sign-in page": first_signin,
        "first visit, Today and the kept app shell": first_today,
        "repeat visit, Today": repeat_today,
        f"back online to the last of {ENTRIES} entries stored (s)": round(synced, 2),
    }, ensure_ascii=False, indent=2))
