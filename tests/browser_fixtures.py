"""Browser fixtures: the app on a real HTTP server in a thread, driven by Debian's Chromium via Playwright.

Chromium comes from the system (CHROMIUM_PATH, default /usr/bin/chromium); Playwright cannot download
browsers here. Without it browser tests skip with the reason, unless REQUIRE_BROWSER=1 (CI) makes that an error.
"""
import os
import shutil
import threading
import time

import pytest
from werkzeug.serving import make_server

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
LARGE_PHONE = {**PHONE, "viewport": {"width": 390, "height": 844}, "device_scale_factor": 3}
# Chromium has no app for tel: and sms: links here; on a phone they open the dialler, which is the point.
IGNORED_CONSOLE = ("scheme does not have a registered handler",)


def chromium_path() -> str | None:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    return path if os.path.exists(path) or shutil.which(path) else None


def until(page, expression: str, timeout: float = 10.0):
    """Wait until a script expression is truthy and return its value.

    Playwright's wait_for_function evaluates its predicate with eval() inside the page, which the app's CSP
    (no 'unsafe-eval') refuses now and then; page.evaluate goes through the DevTools protocol and is not
    subject to the page's CSP."""
    deadline = time.monotonic() + timeout
    while not (value := page.evaluate(expression)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout} s: {expression}")
        time.sleep(0.05)
    return value


def watch_registrations(cdp, *, running: bool = True) -> tuple[list[str], threading.Event]:
    """Listen for the page's service worker versions (CDP): the ids of activated registrations (only running ones
    unless running=False: an idle worker is stopped), and an event set when one is activated."""
    activated, ids = threading.Event(), []

    def seen(event):
        for version in event["versions"]:
            if version["status"] == "activated" and (
                    not running or version["runningStatus"] in ("running", "starting")):
                ids.append(version["registrationId"])
                activated.set()

    cdp.on("ServiceWorker.workerVersionUpdated", seen)
    cdp.send("ServiceWorker.enable")
    return ids, activated


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run."""
    path = chromium_path()
    if path is None:
        reason = "Chromium not found: install Debian's chromium or set CHROMIUM_PATH"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def buffered(app):
    """The app with each answer read whole and its iterator closed before the server writes it.

    Werkzeug's development server closes an answer's iterator only if the browser's connection is still open
    when it has written it; a browser context closed in the middle of a static file would leave the file open
    (a ResourceWarning, an error in these tests). The test server's answers are small."""
    def whole(environ, start_response):
        answer = app(environ, start_response)
        try:
            return [b"".join(answer)]
        finally:
            if hasattr(answer, "close"):
                answer.close()
    return whole


def serve(app) -> tuple[str, callable]:
    """Serve a WSGI app over real HTTP on a free loopback port, in a thread; returns its URL and a stop()."""
    server = make_server("127.0.0.1", 0, buffered(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(timeout=5)
    return f"http://127.0.0.1:{server.server_port}", stop


@pytest.fixture
def live_server(app):
    """The test app served over real HTTP on a free loopback port."""
    url, stop = serve(app)
    yield url
    stop()


def _open(browser, live_server, device: dict):
    """A fresh browser context; console errors (a CSP violation, a script error) fail the test."""
    context = browser.new_context(base_url=live_server, locale="en-US", **device)
    page = context.new_page()
    errors: list[str] = []

    def on_console(message):
        if message.type == "error" and not any(text in message.text for text in IGNORED_CONSOLE):
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"browser console errors: {errors}"


@pytest.fixture
def phone(browser, live_server):
    """A 360 × 740 phone, the smallest the app is built for."""
    yield from _open(browser, live_server, PHONE)


@pytest.fixture
def large_phone(browser, live_server):
    """A 390 × 844 phone, as most consultants carry."""
    yield from _open(browser, live_server, LARGE_PHONE)
