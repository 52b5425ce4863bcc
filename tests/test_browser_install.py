"""Installable: in a real Chromium, a signed-in consultant's page has the manifest and a controlling service
worker, and Chrome's own check (DevTools protocol, Page.getInstallabilityErrors) finds nothing missing.

The check needs a persistent profile (an incognito-like context is never installable). The live server is
http://127.0.0.1, which browsers treat as a secure origin."""
import re

import pytest

from tests.browser_fixtures import CHROMIUM_ARGS, PHONE, chromium_path, until
from tests.test_browser import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def installable_page(browser, live_server, tmp_path):
    """A phone-sized page in a persistent Chromium profile, launched by the session's Playwright (one per
    thread); script errors fail the test."""
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS,
        base_url=live_server, locale="en-US", **PHONE)
    page = context.pages[0] if context.pages else context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors


def test_a_signed_in_page_is_installable(installable_page, world):
    page = installable_page
    sign_in(page, world.one.consultant)
    page.wait_for_url(re.compile(r"/today$"))

    # The worker claims the page once it is active; a page that loaded before that is controlled after a reload.
    try:
        until(page, "navigator.serviceWorker.controller !== null")
    except TimeoutError:
        page.reload()
        until(page, "navigator.serviceWorker.controller !== null")
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")
    assert page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.scope)") == page.url.split(
        "/today")[0] + "/"

    cdp = page.context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    reply = cdp.send("Page.getInstallabilityErrors")

    assert not manifest.get("errors"), manifest
    assert reply["installabilityErrors"] == [], f"Page.getInstallabilityErrors: {reply}"
