"""A consultant's day in a real Chromium on a 390 × 844 phone: log a no-answer call from Today in three taps,
and book a test drive that then shows on Today."""
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import FollowUpTask, Lead, Outcome, Stage, TaskStatus, utcnow
from tests import factories
from tests.test_browser import sign_in

pytestmark = pytest.mark.browser


# A phone hands tel: and sms: links to its dialler and the page stays as it is; headless Chromium has no
# dialler and treats them as a failed navigation, so the test plays the phone's part.
HAND_OFF_TO_DIALLER = """
document.addEventListener("click", (event) => {
  if (event.target.closest('a[href^="tel:"], a[href^="sms:"]')) event.preventDefault();
}, true);
"""


def midday_zone() -> str:
    """A time zone where it is about noon now, so "later today" is today whenever the test runs."""
    offset = 12 - datetime.now(timezone.utc).hour
    offset = offset - 24 if offset > 14 else offset
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")


@pytest.fixture
def consultant(world):
    world.one.dealer.time_zone = midday_zone()
    db.session.commit()
    return world.one.consultant


def test_a_no_answer_call_is_logged_from_today_in_three_taps(large_phone, consultant, world):
    lead = factories.make_lead(consultant, customer=factories.make_customer(world.oem, name="马丽"),
                               stage=Stage.CONTACTED, first_contact_at=utcnow() - timedelta(days=3))
    factories.make_follow_up(lead, due_in=timedelta(hours=-20))
    large_phone.add_init_script(HAND_OFF_TO_DIALLER)
    sign_in(large_phone, consultant)
    large_phone.wait_for_url(re.compile(r"/today$"))
    overdue = large_phone.locator("#overdue")
    assert "马丽" in overdue.inner_text()

    overdue.get_by_role("link", name="Call").click()                      # tap 1: dial, and the sheet opens
    sheet = large_phone.locator("#sheet")
    sheet.locator("label", has_text="No answer").click()                  # tap 2: how it went
    sheet.get_by_role("button", name="Save").click()                      # tap 3: the cadence's date is chosen

    large_phone.locator("#toast").get_by_text("Saved. Next follow-up").wait_for()
    expect(large_phone.locator("#overdue")).not_to_contain_text("马丽")
    assert "Nothing overdue." in large_phone.locator("#overdue").inner_text()
    db.session.expire_all()
    saved = db.session.get(Lead, lead.id)
    assert saved.next_follow_up_at > utcnow() + timedelta(days=6)  # A-level leads: every 7 days
    assert saved.last_contact_outcome is Outcome.NO_ANSWER
    assert db.session.scalar(db.select(FollowUpTask.due_at).where(FollowUpTask.status == TaskStatus.OPEN)) \
        == saved.next_follow_up_at


def test_a_booked_test_drive_shows_on_today(large_phone, consultant, world):
    lead = factories.make_lead(consultant, customer=factories.make_customer(world.oem, name="高峰"),
                               stage=Stage.CONTACTED, first_contact_at=utcnow())
    sign_in(large_phone, consultant)
    large_phone.wait_for_url(re.compile(r"/today$"))
    assert "No appointments today." in large_phone.locator("#appointments").inner_text()

    large_phone.goto(f"/leads/{lead.id}")
    large_phone.get_by_role("link", name="Book a test drive").click()
    sheet = large_phone.locator("#sheet")
    sheet.get_by_text("Test drive").click()
    sheet.locator("input[name=date]").fill(datetime.now(ZoneInfo(midday_zone())).date().isoformat())
    sheet.locator("input[name=time]").fill("15:30")
    sheet.get_by_role("button", name="Book").click()
    large_phone.locator("#toast").get_by_text("Booked for").wait_for()

    large_phone.get_by_role("link", name="Today").click()
    large_phone.wait_for_url(re.compile(r"/today$"))
    appointments = large_phone.locator("#appointments").inner_text()
    assert "15:30 · 高峰" in appointments and "Test drive" in appointments
