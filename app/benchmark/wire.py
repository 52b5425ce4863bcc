"""Bytes on the wire: what a new phone downloads on its first visit, and what logging an outcome costs, through
the real server (gunicorn) with the phone's Accept-Encoding (gzip, br).

The first visit, as Chrome on a phone makes it: the sign-in page and what its head loads (stylesheet, scripts,
icon, manifest, and the manifest's 192 px icon, fetched for installing); signing in and Today; then the service
worker and the app shell it keeps at install, asked again of the server (`cache: "no-cache"` in
service_worker/sw.js: a 304 for what the page loaded, with the ETag the browser's HTTP cache holds), with the
offline and outbox pages. The pages the worker keeps ahead for offline use come
later, in the background, and are not counted.

The rows count the bodies (as sent: compressed when they were); the headers are in the detail, per request.
"""
import json
import re
from urllib.parse import urljoin

import click

from app.benchmark.report import KB, Row, Target
from app.benchmark.server import Phone, body_bytes, header_bytes, token
from app.benchmark.server_times import HTMX
from app.demo.generate import PASSWORD

FIRST_VISIT, FRAGMENT = Target(60 * KB), Target(4 * KB)
HEAD_FILES = re.compile(r'<link rel="(?:stylesheet|icon|manifest)" href="([^"]+)"|<script src="([^"]+)"')


class Tally:
    """The requests of one part of a visit and their bytes."""

    def __init__(self):
        self.requests: list[dict] = []

    def add(self, method: str, path: str, answer) -> None:
        self.requests.append({"request": f"{method} {path}", "status": answer.status_code,
                              "encoding": answer.headers.get("content-encoding"), "body": body_bytes(answer),
                              "headers": header_bytes(answer)})

    @property
    def body(self) -> int:
        return sum(request["body"] for request in self.requests)

    @property
    def headers(self) -> int:
        return sum(request["headers"] for request in self.requests)

    def as_detail(self) -> dict:
        return {"body": self.body, "headers": self.headers, "requests": self.requests}


def measure(url: str, email: str, lead_id: int, echo=click.echo) -> list[Row]:
    echo("  a first visit …")
    phone = Phone(url)
    try:
        parts = {name: Tally() for name in ("sign-in page and its files", "signing in and Today",
                                            "service worker and its shell")}
        first_visit = _first_visit(phone, email, *parts.values())
        echo("  logging an outcome …")
        fragment, answer, refresh = _logging(phone, first_visit, lead_id)
    finally:
        phone.close()
    total = sum(part.body for part in parts.values())
    return [
        Row("bytes_first_visit", "Bytes: first visit (sign-in, Today, worker's shell)", "bytes", FIRST_VISIT,
            value=total, detail={"headers": sum(part.headers for part in parts.values()),
                                 **{name: part.as_detail() for name, part in parts.items()}}),
        Row("bytes_log_fragment", "Bytes: htmx fragment, the outcome sheet", "bytes", FRAGMENT, value=fragment.body,
            detail={"sheet": fragment.as_detail(), "answer to logging": answer.as_detail()}),
        Row("bytes_today_refresh", "Bytes: htmx fragment, Today's sections after logging", "bytes",
            value=refresh.body, detail=refresh.as_detail()),
    ]


def _first_visit(phone: Phone, email: str, page: Tally, today: Tally, worker: Tally) -> str:
    """Make the first visit, counting each part; returns Today's HTML."""
    etags = {}  # what the browser's HTTP cache holds once the page has loaded

    def get(tally: Tally, path: str, headers: dict | None = None, ok=(200,)):
        answer = phone.fetch("GET", path, headers)
        tally.add("GET", path, answer)
        if answer.status_code not in ok:
            raise click.ClickException(f"GET {path} answered {answer.status_code}")
        if answer.headers.get("etag"):
            etags[path] = answer.headers["etag"]
        return answer

    signin = phone.fetch("GET", "/signin")
    page.add("GET", "/signin", signin)
    for stylesheet_icon_or_manifest, script in HEAD_FILES.findall(signin.text):
        path = stylesheet_icon_or_manifest or script
        answer = get(page, path)
        if path.endswith(".webmanifest"):
            icon = next(i for i in json.loads(answer.text)["icons"] if i["sizes"] == "192x192")
            get(page, urljoin(path, icon["src"]))
    answer = phone.fetch("POST", "/signin", data={"identifier": email, "password": PASSWORD,
                                                  "csrf_token": token(signin.text)})
    today.add("POST", "/signin", answer)
    while answer.is_redirect:
        location = answer.headers["location"]
        answer = phone.fetch("GET", location)
        today.add("GET", location, answer)
    if answer.status_code != 200:
        raise click.ClickException(f"signing in on gunicorn ended in {answer.status_code}")
    home = answer.text
    worker_script = get(worker, "/sw.js")
    shell = json.loads(re.search(r"const SHELL = (\[[^\]]*\]);", worker_script.text).group(1))
    for path in shell:
        kept = {"If-None-Match": etags[path]} if path in etags else {}
        get(worker, path, {"Cache-Control": "no-cache", **kept}, ok=(200, 304))
    return home


def _logging(phone: Phone, home: str, lead_id: int) -> tuple[Tally, Tally, Tally]:
    """Tap Call on a lead (the sheet comes as an htmx fragment), log "reached", and refresh Today's sections as the
    lead-changed event makes the page do."""
    headers = {**HTMX, "X-CSRFToken": token(home)}
    sheet, answer, refresh = Tally(), Tally(), Tally()
    path = f"/leads/{lead_id}/contacts/call"
    opened = phone.fetch("POST", path, headers)
    sheet.add("POST", path, opened)
    found = re.search(r'action="/contacts/(\d+)"', opened.text)
    if opened.status_code != 200 or not found:
        raise click.ClickException(f"POST {path} answered {opened.status_code} without the sheet")
    next_at = re.search(r'name="next_at" value="([^"]+)"', opened.text).group(1)
    path = f"/contacts/{found.group(1)}"
    logged = phone.fetch("POST", path, headers, data={"outcome": "reached", "note": "", "next_at": next_at,
                                                      "csrf_token": token(opened.text)})
    answer.add("POST", path, logged)
    if logged.status_code != 200:
        raise click.ClickException(f"POST {path} answered {logged.status_code}")
    sections = phone.fetch("GET", "/today", {**HTMX, "HX-Target": "today-sections"})
    refresh.add("GET", "/today", sections)
    return sheet, answer, refresh
