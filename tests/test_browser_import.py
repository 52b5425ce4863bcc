"""A manager imports a lead file on a 360-px phone: upload, the progress page, then the report."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Lead
from tests.test_browser import sign_in

pytestmark = pytest.mark.browser

LEADS_CSV = (
    "姓名,手机号码,意向车型,来源\n"
    "陈静,13800138000,HY-S5,autohome\n"
    "周强,13900139000,HY-S7,dongchedi\n"
    "无号码,,HY-S5,yiche\n"
).encode()


def test_a_manager_uploads_a_csv_and_sees_the_report(phone, world):
    manager = world.one.manager
    sign_in(phone, manager)
    phone.wait_for_url(re.compile(r"/dashboard"))
    phone.goto("/imports")
    assert "No imports yet." in phone.locator("#recent-imports").inner_text()

    phone.set_input_files("#f-file", files=[{"name": "portal.csv", "mimeType": "text/csv", "buffer": LEADS_CSV}])
    phone.get_by_role("button", name="Upload and import").click()

    phone.wait_for_url(re.compile(r"/imports/\d+$"))
    phone.locator("#import-created").wait_for(timeout=15000)  # the progress fragment turns into the report
    assert phone.locator("#import-created").inner_text() == "2"
    assert phone.locator("#import-skipped").inner_text() == "1"
    assert "row 4:" in phone.locator("#import-progress").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # nothing runs off a phone's screen
    db.session.expire_all()
    leads = db.session.scalars(select(Lead)).all()
    assert sorted(lead.customer.name for lead in leads) == ["周强", "陈静"]
    assert all(lead.dealer_id == manager.dealer_id for lead in leads)
