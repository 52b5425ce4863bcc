"""A manager on a phone: the dashboard fits the screen, the period changes, and a consultant's number opens the
leads behind it."""
import re

import pytest
from playwright.sync_api import expect

from tests.test_browser import sign_in
from tests.test_dealer_dashboard import crafted  # noqa: F401 (the crafted dealer)

pytestmark = pytest.mark.browser


def test_a_manager_changes_the_period_and_opens_a_consultants_leads(phone, world, crafted):  # noqa: F811
    sign_in(phone, world.one.manager)
    phone.wait_for_url(re.compile(r"/dashboard$"))
    expect(phone.locator("h1")).to_contain_text("Dashboard of")
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 360  # wide tables scroll inside their box

    phone.get_by_role("link", name="This week").click()
    phone.wait_for_url(re.compile(r"period=week"))
    expect(phone.get_by_role("link", name="This week")).to_have_attribute("aria-current", "true")

    phone.fill("input[name=from]", "2026-11-02")
    phone.fill("input[name=to]", "2026-11-08")
    phone.get_by_role("button", name="Show").click()
    phone.wait_for_url(re.compile(r"from=2026-11-02&to=2026-11-08"))
    ann = crafted["ann"].name
    row = phone.locator("#consultants tbody tr", has_text=ann)
    expect(row.locator("td").first).to_have_text("3")
    expect(phone.locator("figure.chart svg").first).to_be_visible()

    row.locator("td").first.get_by_role("link", name="3").click()
    phone.wait_for_url(re.compile(r"/dashboard/leads\?measure=leads.*consultant="))
    expect(phone.locator(".lead-row")).to_have_count(3)
    for name in ("l1", "l2", "l3"):
        expect(phone.locator(f'a[href="/leads/{crafted[name].id}"]')).to_be_visible()
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 360
