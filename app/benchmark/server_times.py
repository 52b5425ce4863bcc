"""Server time of what people do most: real requests to the app in this process, signed in through the sign-in
form, each timed from the moment the app is called to its last byte (routing, queries, rendering, compression,
the session cookie); the network and the browser aside.

Each request runs in an app context of its own, as in production (a fresh database session). The phone's headers
come along: Accept-Encoding (so compression is in the time), Accept-Language (Chinese), and HX-Request for what
htmx asks for.
"""
import contextvars
import re
import time
from collections.abc import Callable
from datetime import UTC

import click
from flask import Flask
from flask.testing import FlaskClient

from app.benchmark.dataset import People, Person
from app.benchmark.report import Row, Target
from app.benchmark.server import PHONE_HEADERS, token
from app.benchmark.stats import percentiles
from app.demo.generate import PASSWORD
from app.extensions import db
from app.models import Lead, utcnow
from app.services import cadence

HTMX = {"HX-Request": "true"}
WARM_UP = 3  # requests before timing: the database's and the templates' caches
BUDGET = 60.0  # seconds a measure may take; a slow one stops early, with at least MIN_SAMPLES
MIN_SAMPLES = 5
QUICK, DASHBOARD, BRAND_DASHBOARD = Target(15), Target(150), Target(1000)


class Stopwatch:
    """WSGI middleware: the time of the last call, from the app being called to its answer's last byte."""

    def __init__(self, app):
        self.app, self.last = app, 0.0

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        answer = self.app(environ, start_response)
        try:
            body = b"".join(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()
        self.last = time.perf_counter() - started
        return [body]


class Visitor:
    """A signed-in phone talking to the app in this process, each request in a context of its own."""

    def __init__(self, app: Flask, person: Person):
        self.client: FlaskClient = app.test_client()
        self.client.environ_base.update({"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": PHONE_HEADERS["User-Agent"]})
        self.csrf = token(_text(self.get("/signin")))
        home = self.post("/signin", data={"identifier": person.email, "password": PASSWORD,
                                          "csrf_token": self.csrf}, follow_redirects=True)
        if home.status_code != 200 or home.request.path == "/signin":
            raise click.ClickException(f"{person.email} could not sign in with the demo password "
                                       f"({home.status_code}): is this a demo data set?")
        self.csrf = token(_text(home))  # the signed-in session's token, as the home page carries it

    def open(self, method: str, url: str, headers: dict | None = None, **kwargs):
        headers = {**PHONE_HEADERS, **(headers or {})}
        if method == "POST":
            headers["X-CSRFToken"] = self.csrf
        return contextvars.Context().run(self.client.open, url, method=method, headers=headers, **kwargs)

    def get(self, url: str, headers: dict | None = None):
        return self.open("GET", url, headers)

    def post(self, url: str, headers: dict | None = None, **kwargs):
        return self.open("POST", url, headers, **kwargs)


def measure(app: Flask, people: People, requests: int, echo=click.echo) -> list[Row]:
    """Time Today, the lead page, search by phone, logging an outcome and both dashboards."""
    watch = Stopwatch(app.wsgi_app)
    app.wsgi_app = watch
    try:
        consultant, logger, manager, admin = (Visitor(app, person) for person in (
            people.consultant, people.logger, people.manager, people.admin))
        rows = [
            _timed(watch, echo, requests, "today", f"Today (consultant, {people.consultant.about})", QUICK,
                   lambda: consultant.get("/today")),
            _timed(watch, echo, requests, "lead_page", "Lead page (its history and the list beside it)", QUICK,
                   lambda: consultant.get(f"/leads/{people.lead_id}")),
            _timed(watch, echo, requests, "search_phone", "Search by phone (consultant)", QUICK,
                   lambda: consultant.get(f"/search?q={people.phone}", HTMX), expect=people.phone[-4:]),
            _timed(watch, echo, requests, "search_phone_dealer", "Search by phone (manager, whole dealer)", QUICK,
                   lambda: manager.get(f"/search?q={people.dealer_phone}", HTMX), expect=people.dealer_phone[-4:]),
            _logging(watch, echo, requests, logger, people.logging_leads),
            _timed(watch, echo, requests, "dealer_dashboard",
                   f"Manager dashboard, this month ({people.manager.about})", DASHBOARD,
                   lambda: manager.get("/dashboard?period=month")),
            _timed(watch, echo, requests, "brand_dashboard", "OEM dashboard, this month", BRAND_DASHBOARD,
                   lambda: admin.get("/brand-dashboard?period=month")),
        ]
    finally:
        app.wsgi_app = watch.app
    return rows


def _timed(watch: Stopwatch, echo, requests: int, key: str, words: str, target: Target, request: Callable,
           before: Callable | None = None, expect: str | None = None, status: int = 200) -> Row:
    """Warm up, then time up to `requests` requests (fewer past BUDGET seconds) and take p50 and p95.

    :param before: prepares each request, untimed; its result is passed to `request`.
    :param expect: text the answer must contain (so a broken page is not timed as a fast one).
    """
    echo(f"  {words} …")
    samples, started = [], time.perf_counter()
    for n in range(WARM_UP + requests):
        if n > WARM_UP + MIN_SAMPLES and time.perf_counter() - started > BUDGET:
            break
        answer = request(before()) if before else request()
        if answer.status_code != status or (expect and expect not in _text(answer)):
            raise click.ClickException(f"{words}: answered {answer.status_code}, not the page expected")
        if n >= WARM_UP:
            samples.append(watch.last * 1000)
    p50, p95 = percentiles(samples)
    return Row(key, words, "ms", target, p50=round(p50, 1), p95=round(p95, 1),
               detail={"samples": len(samples), "max_ms": round(max(samples), 1)})


def _logging(watch: Stopwatch, echo, requests: int, consultant: Visitor, leads: list[int]) -> Row:
    """Logging an outcome as a phone does: the tap on Call records the attempt (untimed) and opens the outcome
    sheet; sending the sheet ("reached", the cadence's next follow-up) is timed. It writes for real."""
    turn = iter(range(10 ** 9))

    def attempt():
        lead_id = leads[next(turn) % len(leads)]
        sheet = consultant.post(f"/leads/{lead_id}/contacts/call", HTMX)
        found = re.search(r'action="/contacts/(\d+)"', _text(sheet))
        if sheet.status_code != 200 or not found:
            raise click.ClickException(f"Call on lead {lead_id} answered {sheet.status_code} without its sheet")
        return int(found.group(1)), _next_follow_up(lead_id)

    def outcome(prepared):
        activity_id, next_at = prepared
        return consultant.post(f"/contacts/{activity_id}", HTMX, data={
            "outcome": "reached", "note": "", "next_at": next_at})

    return _timed(watch, echo, requests, "log_outcome", "Logging an outcome (and the next follow-up)", QUICK,
                  outcome, before=attempt)


def _next_follow_up(lead_id: int) -> str:
    """The cadence's date for the lead, the first quick pick the sheet offers."""
    lead = db.session.get(Lead, lead_id)
    pick = cadence.quick_picks(cadence.policy_for(lead.dealer), lead.intent_level, utcnow())[0][1]
    db.session.rollback()
    return pick.astimezone(UTC).isoformat()


def _text(answer) -> str:
    """The answer's text, decompressed as the browser would."""
    import brotli

    data = answer.get_data()
    encoding = answer.headers.get("Content-Encoding")
    if encoding == "br":
        data = brotli.decompress(data)
    elif encoding == "gzip":
        import gzip

        data = gzip.decompress(data)
    return data.decode("utf-8", "replace")
