"""Offline entry in a real Chromium with the real service worker: reading Today without signal, entries made
offline that reach the server exactly once whatever happens on the way, and refusals that wait for the consultant.

The phone runs in a persistent profile (its outbox and caches survive a restart). "No signal" is Playwright's
offline mode, which Chromium applies to the page and to the service worker alike; the server side of the
connection is a WSGI wrapper that records every request reaching the app, and can fail or lose answers."""
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import Activity, ActivityKind, Appointment, Channel, Customer, IdempotentRequest
from app.services import cadence
from app.views import service_worker
from tests import factories
from tests.browser_fixtures import CHROMIUM_ARGS, PHONE, chromium_path, serve, until, watch_registrations

pytestmark = pytest.mark.browser


@dataclass
class Network:
    """The server's end of the phone's connection: what reached the app, and trouble on request.

    down: no signal at all: every connection drops unanswered (Chromium's offline mode does not always reach a
        service worker that starts with the browser).
    fail_writes: the next keyed writes answered 500 before the app sees them.
    lose_answers: the next keyed writes run (and commit), then the connection drops before the answer leaves.
    """

    app: object
    requests: list = field(default_factory=list)
    down: bool = False
    fail_writes: int = 0
    lose_answers: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        if self.down:
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            raise ConnectionResetError("no signal")
        keyed = method == "POST" and "HTTP_IDEMPOTENCY_KEY" in environ
        with self.lock:
            self.requests.append((method, path))
            fail = keyed and self.fail_writes > 0
            lose = keyed and not fail and self.lose_answers > 0
            self.fail_writes -= fail
            self.lose_answers -= lose
        if fail:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"the server is down"]
        if lose:
            b"".join(self.app(environ, lambda *args, **kwargs: None))  # the entry is applied and committed ...
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)  # ... and its answer never arrives
            raise ConnectionResetError("answer lost")
        return self.app(environ, start_response)

    def writes(self) -> list:
        return [path for method, path in self.requests if method == "POST"]


@pytest.fixture
def network(app):
    network = Network(app.wsgi_app)
    app.wsgi_app = network
    network.url, stop = serve(app)
    yield network
    stop()
    app.wsgi_app = network.app


class Phone:
    """A consultant's phone: Chromium with a profile on disk, which can be closed and opened again."""

    def __init__(self, browser, base_url, profile, *, without_sync=False):
        self.playwright_chromium = browser.browser_type
        self.base_url, self.profile, self.without_sync = base_url, profile, without_sync
        self.errors: list[str] = []
        self.context = None
        self.open()

    def open(self, offline=False):
        self.context = self.playwright_chromium.launch_persistent_context(
            str(self.profile), executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS,
            base_url=self.base_url, locale="en-US", offline=offline, **PHONE)
        # No dialler here: a tel: or sms: link would leave Chromium waiting on an external app and deaf to the
        # next page's taps. On a phone the dialler opens while the app records the attempt; so does this.
        self.context.add_init_script("""document.addEventListener("click", (event) => {
            if (event.target.closest && event.target.closest('a[href^="tel:"], a[href^="sms:"]')) event.preventDefault();
        }, true);""")
        if self.without_sync:  # as Safari and Firefox: no Background Sync
            self.context.add_init_script("delete ServiceWorkerRegistration.prototype.sync; delete window.SyncManager;")
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        return self.page

    def close(self):
        self.context.close()

    def offline(self, offline=True):
        self.context.set_offline(offline)

    def controlled(self):
        """Wait until the service worker controls the page (reloading once if the page loaded before it)."""
        try:
            until(self.page, "navigator.serviceWorker.controller !== null", timeout=5)
        except TimeoutError:
            self.page.reload()
            until(self.page, "navigator.serviceWorker.controller !== null")

    def keeps(self, path: str, fragment: bool = False):
        """Wait until the worker holds a copy of the page (or its htmx fragment) for offline use."""
        key = path + ("&" if "?" in path else "?") + "sw-fragment=1" if fragment else path
        until(self.page, f"caches.match(new URL({key!r}, location).href, {{ignoreVary: true}}).then(Boolean)")

    def outbox(self) -> list[dict]:
        return self.page.evaluate("Outbox.entries(document.querySelector('.app').dataset.user)")


@pytest.fixture
def phone_factory(browser, network, tmp_path):
    phones = []

    def make(**options):
        phones.append(Phone(browser, network.url, tmp_path / f"profile-{len(phones)}", **options))
        return phones[-1]

    yield make
    for phone in phones:
        try:
            phone.close()
        except Exception:
            pass
    for phone in phones:
        assert not phone.errors, phone.errors


def signed_in(phone, user):
    """Signed in (kept signed in on this device, as a consultant's phone is), the worker in control, and Today
    kept (loaded once through the worker)."""
    page = phone.page
    page.goto("/signin")
    page.fill("#f-identifier", user.email)
    page.fill("#f-password", factories.PASSWORD)
    page.check("input[name=remember]")
    page.click("button[type=submit].primary")
    phone.page.wait_for_url(re.compile(r"/today$"))
    phone.controlled()
    phone.page.goto("/today")
    return phone.page


def test_today_reads_offline_from_the_kept_copy_without_reaching_the_server(phone_factory, network, world):
    me = world.one.consultant
    factories.make_lead(me, customer=factories.make_customer(world.oem, name="王芳"))
    phone = phone_factory()
    page = signed_in(phone, me)
    expect(page.locator("[data-offline-note]")).to_be_hidden()
    phone.keeps("/walk-ins/new")  # the bottom bar's pages are kept ahead, while there is signal

    network.requests.clear()
    phone.offline()
    page.reload()

    assert "王芳" in page.inner_text("#new")
    expect(page.locator("[data-offline-note]")).to_have_text(re.compile(r"^Offline — as of \d\d:\d\d$"))
    page.goto("/walk-ins/new")
    expect(page.locator("h1")).to_have_text("Register a walk-in")
    page.goto("/visits")  # never opened: the offline page
    expect(page.locator("h1")).to_have_text("No signal")
    assert network.requests == []


# --- entering things on the phone, through its screens ---------------------------------------------------------

def expect_waiting(page, count: int):
    expect(page.locator("[data-outbox-badge]")).to_have_text(f"To sync: {count}")


def register_walk_in(page, number: str, name: str):
    page.goto("/walk-ins/new")
    page.fill("#f-phone", number)
    page.fill("#f-name", name)
    page.fill("#f-model_of_interest", "HY-X7 SUV")
    page.locator("input[name=intent_level][value=A]").check(force=True)
    page.get_by_role("button", name="Save").click()


def log_contact(page, name: str, channel: str = "Call"):
    page.goto("/today")
    page.locator(".today-row", has_text=name).get_by_role("link", name=channel).click()
    sheet = page.locator("#sheet")
    if channel == "Call":
        sheet.locator("label", has_text="No answer").click()
    else:  # the sheet opens on the channel tapped; a message has no outcome to choose
        expect(sheet.locator("input[name=kind][value=sms]")).to_be_checked()
        expect(sheet.get_by_text("How did the call go?")).to_be_hidden()
    sheet.get_by_role("button", name="Save").click()
    expect(sheet).to_be_hidden()


def move_follow_up(page, lead):
    page.goto(f"/leads/{lead.id}")
    page.locator("label", has_text="Next week").first.click()
    page.get_by_role("button", name="Move the follow-up").click()


def book_visit(page, lead, day: str, time: str):
    page.goto(f"/leads/{lead.id}")
    page.get_by_role("link", name="Book a visit").click()
    sheet = page.locator("#sheet")
    sheet.locator("#f-date").fill(day)
    sheet.locator("#f-time").fill(time)
    sheet.get_by_role("button", name="Book").click()
    expect(sheet).to_be_hidden()


def add_note(page, lead, text: str):
    page.goto(f"/leads/{lead.id}")
    page.fill("textarea[name=note]", text)
    page.get_by_role("button", name="Add note").click()


def leads_on_today(world, me, count: int) -> list:
    leads = []
    for n in range(count):
        lead = factories.make_lead(me, customer=factories.make_customer(world.oem, name=f"离线客户{n}"))
        factories.make_follow_up(lead, due_in=timedelta(hours=-1))
        leads.append(lead)
    return leads


def kept_for_offline(phone, leads):
    """Open each lead while there is signal (kept, with its booking form), and wait for Today's forms."""
    for lead in leads:
        phone.page.goto(f"/leads/{lead.id}")
        phone.keeps(f"/leads/{lead.id}/appointments?kind=visit", fragment=True)
    phone.page.goto("/today")
    for lead in leads:
        phone.keeps(f"/leads/{lead.id}/contacts/log", fragment=True)
    phone.keeps("/walk-ins/new")


def eventually(condition, timeout: float = 15.0):
    """Wait until the condition (on the server's side) holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the server never got there"
        time.sleep(0.1)


def ready_phone(phone_factory, world, **options):
    """A consultant's phone signed in, with one lead on Today kept for offline use: (phone, page, lead)."""
    me = world.one.consultant
    lead = leads_on_today(world, me, 1)[0]
    phone = phone_factory(**options)
    page = signed_in(phone, me)
    kept_for_offline(phone, [lead])
    return phone, page, lead


def visit_day(world) -> str:
    zone = cadence.policy_for(world.one.dealer).zone
    return (datetime.now(zone) + timedelta(days=2)).date().isoformat()


def rows_made(me) -> dict:
    """What the server holds from this consultant's entries, by kind."""
    db.session.expire_all()
    activities = db.session.scalars(select(Activity).where(Activity.user_id == me.id)).all()
    return {
        "keys": db.session.scalar(select(func.count()).select_from(IdempotentRequest)
                                  .where(IdempotentRequest.user_id == me.id)),
        "calls": sum(a.kind is ActivityKind.CALL and a.outcome is not None for a in activities),
        "messages": sum(a.kind is ActivityKind.SMS for a in activities),
        "notes": sum(a.kind is ActivityKind.NOTE for a in activities),
        "visits": sum(a.kind is ActivityKind.VISIT for a in activities),
        "appointments": db.session.scalar(select(func.count()).select_from(Appointment)
                                          .where(Appointment.consultant_id == me.id)),
        "customers": db.session.scalar(select(func.count()).select_from(Customer)
                                       .where(Customer.name.like("到店%"))),
        "follow_up_moves": db.session.scalar(select(func.count()).select_from(IdempotentRequest).where(
            IdempotentRequest.user_id == me.id, IdempotentRequest.path.like("%/next-follow-up"))),
    }


def test_thirty_entries_made_offline_survive_reloads_and_a_restart_and_reach_the_server_once(
        phone_factory, network, world):
    me = world.one.consultant
    leads = leads_on_today(world, me, 6)
    factories.make_consent(leads[5].customer, Channel.SMS)  # the one messaged agreed to SMS
    phone = phone_factory()
    page = signed_in(phone, me)
    kept_for_offline(phone, leads)

    network.requests.clear()
    phone.offline()
    made = 0
    for n, lead in enumerate(leads):
        register_walk_in(page, f"1381234{n:04d}", f"到店{n}")
        log_contact(page, lead.customer.name, "SMS" if n == 5 else "Call")
        move_follow_up(page, lead)
        book_visit(page, lead, visit_day(world), f"{10 + n}:00")
        add_note(page, lead, f"想要白色 {n}")
        made += 5
        expect_waiting(page, made)
    assert made == 30
    expect(page.locator("#lead-detail > .waiting-mark")).to_have_text("Waiting to sync")

    page.reload()
    page.reload()
    expect_waiting(page, 30)
    phone.close()
    network.down = True
    page = phone.open(offline=True)  # the phone restarts where there is still no signal
    page.goto("/today")
    expect_waiting(page, 30)
    assert [entry["kind"] for entry in phone.outbox()[:5]] == ["walk_in", "contact", "follow_up", "booking", "note"]
    assert rows_made(me)["keys"] == 0 and not network.writes()

    network.down = False
    phone.offline(False)  # the signal is back: the page sends on "online"

    expect(page.locator("[data-outbox-badge]")).to_be_hidden(timeout=30_000)
    assert phone.outbox() == []
    assert rows_made(me) == {"keys": 30, "calls": 5, "messages": 1, "notes": 6, "visits": 6, "appointments": 6, "customers": 6,
                             "follow_up_moves": 6}
    assert len(network.writes()) == 30


def test_server_errors_and_a_lost_answer_on_the_way_still_apply_each_entry_once(phone_factory, network, world):
    me = world.one.consultant
    phone, page, lead = ready_phone(phone_factory, world)
    phone.offline()
    for n in range(2):
        register_walk_in(page, f"1381234{n:04d}", f"到店{n}")
    for n in range(3):
        add_note(page, lead, f"第{n}条")
    expect_waiting(page, 5)
    network.requests.clear()

    network.fail_writes = 2  # the first two replays meet a failing server ...
    network.lose_answers = 1  # ... the third is saved, but its answer is lost on the way back
    phone.offline(False)

    expect(page.locator("[data-outbox-badge]")).to_be_hidden(timeout=30_000)
    made = rows_made(me)
    assert (made["keys"], made["customers"], made["visits"], made["notes"]) == (5, 2, 2, 3)
    assert len(network.writes()) == 5 + 2 + 1  # every entry once, two refused by the server, one sent again
    notes = db.session.scalars(select(Activity.note).where(Activity.kind == ActivityKind.NOTE)
                               .order_by(Activity.id)).all()
    assert notes == ["第0条", "第1条", "第2条"]  # in the order they were made


def test_without_background_sync_entries_go_when_the_signal_returns_and_on_the_next_start(
        phone_factory, network, world):
    me = world.one.consultant
    phone, page, lead = ready_phone(phone_factory, world, without_sync=True)
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => 'sync' in r)") is False

    phone.offline()
    add_note(page, lead, "在地下车库")
    expect_waiting(page, 1)
    phone.offline(False)  # "online"
    expect(page.locator("[data-outbox-badge]")).to_be_hidden(timeout=15_000)
    assert rows_made(me)["notes"] == 1

    phone.offline()
    add_note(page, lead, "关机前")
    expect_waiting(page, 1)
    phone.close()  # the phone is switched off without signal, and on again where there is some
    page = phone.open()
    page.goto("/today")  # loading the app sends
    eventually(lambda: rows_made(me)["notes"] == 2)
    expect(page.locator("[data-outbox-badge]")).to_be_hidden()
    assert phone.outbox() == []


def test_the_worker_sends_on_the_sync_event_with_no_page_open(phone_factory, network, world):
    me = world.one.consultant
    phone, page, lead = ready_phone(phone_factory, world)
    cdp = phone.context.new_cdp_session(page)
    registrations, activated = watch_registrations(cdp, running=False)
    page.reload()  # the worker wakes up for the page, and the DevTools protocol names its registration
    assert activated.wait(10)

    phone.offline()
    add_note(page, lead, "同步事件")
    expect_waiting(page, 1)
    page.goto("about:blank")  # no page of the app is open
    phone.offline(False)
    cdp.send("ServiceWorker.dispatchSyncEvent", {"origin": network.url, "registrationId": registrations[-1],
                                                 "tag": "outbox", "lastChance": False})
    eventually(lambda: rows_made(me)["notes"] == 1)
    page.goto("/today")
    expect(page.locator("[data-outbox-badge]")).to_be_hidden()


def test_a_refused_entry_waits_in_needs_attention_until_fixed_or_discarded(phone_factory, network, world):
    me = world.one.consultant
    phone, page, lead = ready_phone(phone_factory, world)
    phone.offline()
    register_walk_in(page, "12345", "号码错了")  # a number that is no mobile number
    move_follow_up(page, lead)
    expect_waiting(page, 2)
    lead.consultant_id = world.one.colleague.id  # meanwhile the manager gives the lead to a colleague
    db.session.commit()

    phone.offline(False)
    page.goto("/outbox")
    attention = page.locator("[data-outbox-list=attention]")
    expect(attention.locator(".outbox-entry")).to_have_count(2, timeout=15_000)
    walk_in, follow_up = attention.locator(".outbox-entry").all()
    expect(walk_in).to_contain_text("Walk-in")
    expect(walk_in).to_contain_text("号码错了")
    expect(walk_in.locator(".error")).to_contain_text("check the digits")
    expect(follow_up).to_contain_text("This lead is no longer yours, or it is gone.")
    expect(follow_up.get_by_role("button", name="Fix and resend")).to_be_hidden()  # nothing to fix: discard
    page.reload()  # nothing is dropped
    expect(attention.locator(".outbox-entry")).to_have_count(2)
    expect(page.locator("[data-outbox-badge]")).to_have_class(re.compile("attention"))

    attention.locator(".outbox-entry").first.get_by_role("button", name="Fix and resend").click()
    sheet = page.locator("#sheet")
    expect(sheet.locator("#f-phone")).to_have_value("12345")
    sheet.locator("#f-phone").fill("13812349999")
    sheet.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/leads/\d+$"))
    expect_waiting(page, 1)  # the refused copy is gone once the fixed entry is saved
    assert db.session.scalar(select(Customer.name).where(Customer.phone_e164 == "+8613812349999")) == "号码错了"

    page.goto("/outbox")
    expect(attention.locator(".outbox-entry")).to_have_count(1)
    page.once("dialog", lambda dialog: dialog.accept())
    attention.locator(".outbox-entry").get_by_role("button", name="Discard").click()
    expect(attention).to_be_hidden()
    expect(page.locator("[data-outbox-badge]")).to_be_hidden()
    assert phone.outbox() == []
    assert rows_made(me)["follow_up_moves"] == 0


def test_a_new_release_is_offered_and_taken_on_a_tap_never_in_the_middle_of_an_entry(
        phone_factory, network, world, monkeypatch):
    me = world.one.consultant
    lead = leads_on_today(world, me, 1)[0]
    phone = phone_factory()
    page = signed_in(phone, me)
    page.goto(f"/leads/{lead.id}")
    prompt = page.locator("[data-update-prompt]")
    expect(prompt).to_be_hidden()

    old_release = service_worker.release()
    monkeypatch.setattr(service_worker, "release", lambda: "0123456789ab")  # a deploy
    page.evaluate("navigator.serviceWorker.getRegistration().then((registration) => registration.update())")
    expect(prompt).to_be_visible()
    expect(prompt).to_contain_text("A new version of the app is ready.")

    page.fill("textarea[name=note]", "客户说下周再来")  # the consultant is typing
    prompt.get_by_role("button", name="Reload").click()
    expect(page.locator("#toast")).to_have_text("Save or close what you are entering first, then reload.")
    assert page.input_value("textarea[name=note]") == "客户说下周再来"
    assert f"shell-{old_release}" in page.evaluate("caches.keys()")  # the running release still serves

    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#toast")).to_have_text("Note added.")
    with page.expect_navigation():
        prompt.get_by_role("button", name="Reload").click()
    until(page, "caches.keys().then((names) => names.every((name) => name.endsWith('-0123456789ab')))")
    expect(prompt).to_be_hidden()
    assert rows_made(me)["notes"] == 1
