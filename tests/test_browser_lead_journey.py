"""A lead's way through the app in a real Chromium on phones: the lead desk takes a call and routes the lead,
the consultant finds it on Today with the first-contact clock running and asks to close it as lost, and the
manager approves; the desk then sees the loss for its audit."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApprovalRequest, ApprovalStatus, Lead, RoutingRule, RuleScope, Stage
from tests.browser_fixtures import PHONE
from tests.test_browser import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def phones(browser, live_server):
    """A phone per person, each with its own cookies; a console error on any of them fails the test."""
    contexts, errors = [], []

    def open_phone():
        context = browser.new_context(base_url=live_server, locale="en-US", **PHONE)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield open_phone
    for context in contexts:
        context.close()
    assert not errors, f"browser console errors: {errors}"


def test_a_call_to_the_desk_reaches_todays_list_and_its_loss_is_approved(phones, world):
    db.session.add(RoutingRule(oem_id=world.oem.id, scope=RuleScope.CITY, match_value="广州",
                               dealer_id=world.one.dealer.id))
    world.one.colleague.on_shift = False  # the rotation has one consultant on shift: the test knows who
    db.session.commit()

    desk = phones()
    sign_in(desk, world.idcc_agent)
    desk.wait_for_url(re.compile(r"/desk$"))
    desk.get_by_role("link", name="New lead from a call").click()
    desk.fill("#f-phone", "139 0000 1234")
    desk.fill("#f-name", "林小雨")
    desk.fill("#f-city", "广州")
    desk.fill("#f-model_of_interest", "HY-X7")
    desk.locator("label", has_text="H · within 7 days").click()
    desk.get_by_role("button", name="Save").click()
    desk.wait_for_url(re.compile(r"/desk$"))
    row = desk.locator("#waiting li", has_text="林小雨")
    assert row.locator("select option:checked").inner_text().startswith(world.one.dealer.name)  # the rule's pick
    row.get_by_role("button", name="Route").click()
    desk.locator("#waiting").get_by_text(f"Routed to {world.one.dealer.name}: {world.one.consultant.name}.").wait_for()

    consultant = phones()
    sign_in(consultant, world.one.consultant)
    consultant.wait_for_url(re.compile(r"/today$"))
    new = consultant.locator("#new li", has_text="林小雨")
    assert re.search(r"Waiting \d+ min · call by ", new.locator(".due").inner_text())  # the clock runs
    assert "overdue" not in new.locator(".due").get_attribute("class")
    new.locator("a.row-main").click()
    consultant.get_by_role("link", name="Lost or invalid…").click()
    sheet = consultant.locator("#sheet")
    sheet.locator("select[name=reason]").select_option("bought_competitor")
    sheet.locator("label", has_text="Lost").first.click()
    sheet.locator("textarea[name=note]").fill("已经买了别的品牌")
    sheet.get_by_role("button", name="Send for approval").click()
    consultant.locator("#toast").get_by_text("Sent to your manager for approval.").wait_for()

    manager = phones()
    sign_in(manager, world.one.manager)
    manager.goto("/approvals")
    card = manager.locator(".approval", has_text="林小雨")
    assert "Lost requested · Bought another brand" in card.inner_text() and "已经买了别的品牌" in card.inner_text()
    card.locator("textarea[name=comment]").fill("同意")
    card.get_by_role("button", name="Approve").click()
    manager.get_by_text("Approved.").wait_for()

    db.session.expire_all()
    lead = db.session.scalar(select(Lead))
    assert lead.stage is Stage.LOST and lead.consultant_id == world.one.consultant.id
    assert db.session.scalar(select(ApprovalRequest.status)) is ApprovalStatus.APPROVED
    desk.goto("/desk")
    assert "林小雨" in desk.locator("#closed").inner_text()
