"""A real Chromium on a phone-sized screen: each role signs in and lands on its home, in both languages,
and htmx updates the lead list in place."""
import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests import factories

pytestmark = pytest.mark.browser

HOMES = {
    Role.CONSULTANT: ("/today", "Today", "今天"),
    Role.MANAGER: ("/dashboard", "Dashboard of", "看板"),
    Role.IDCC_AGENT: ("/desk", "Lead desk", "线索中心"),
    Role.OEM_ADMIN: ("/dealers", "Dealers", "经销商"),
}


def sign_in(page, user, password=factories.PASSWORD):
    page.goto("/signin")
    page.fill("#f-identifier", user.email)
    page.fill("#f-password", password)
    page.click("button[type=submit].primary")


def people(world):
    return {Role.CONSULTANT: world.one.consultant, Role.MANAGER: world.one.manager,
            Role.IDCC_AGENT: world.idcc_agent, Role.OEM_ADMIN: world.oem_admin}


@pytest.mark.parametrize("role", list(HOMES))
def test_each_role_signs_in_on_a_phone_and_lands_on_its_home(phone, world, role):
    factories.make_lead(world.one.consultant, customer=factories.make_customer(world.oem, name="陈静"))
    path, english_heading, _chinese = HOMES[role]

    sign_in(phone, people(world)[role])

    phone.wait_for_url(re.compile(re.escape(path) + "$"))
    assert english_heading in phone.inner_text("h1")
    nav = phone.locator("nav.bottom-nav")
    assert nav.is_visible()
    box = nav.bounding_box()
    assert box["y"] + box["height"] <= 740 + 1  # within thumb reach at the bottom of the screen
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 360  # nothing wider than the phone
    if role is Role.CONSULTANT:
        assert "陈静" in phone.inner_text("#new")


@pytest.mark.parametrize("role", list(HOMES))
def test_home_pages_in_chinese_from_the_phones_language(browser, live_server, world, role):
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 360, "height": 740},
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto("/signin")
        assert page.inner_text("h1") == "登录"
        sign_in(page, people(world)[role])
        path, _english, chinese_heading = HOMES[role]
        page.wait_for_url(re.compile(re.escape(path) + "$"))
        assert chinese_heading in page.inner_text("h1")
        assert page.get_attribute("html", "lang") == "zh-Hans"
    finally:
        context.close()


def test_search_updates_the_list_in_place_with_htmx(phone, world):
    me = world.one.consultant
    for name in ("李雷", "韩梅梅", "李华"):
        factories.make_lead(me, customer=factories.make_customer(world.oem, name=name))
    sign_in(phone, me)
    phone.wait_for_url(re.compile(r"/today$"))
    phone.goto("/leads")
    phone.evaluate("window.__sameDocument = true")

    phone.fill(".filters input[name=q]", "李")
    phone.wait_for_url(re.compile(r"q=%E6%9D%8E|q=李"))
    expect(phone.locator("#lead-rows .lead-row")).to_have_count(2)

    assert phone.evaluate("window.__sameDocument") is True  # swapped in place, not a page load
    assert "韩梅梅" not in phone.inner_text("#lead-rows")


def test_after_signing_in_htmx_requests_carry_a_valid_csrf_token(phone, world):
    """Signing in starts a new session; the token htmx sends in its header must be the new one."""
    sign_in(phone, world.one.manager)
    phone.wait_for_url(re.compile(r"/dashboard$"))
    phone.click("nav.bottom-nav >> text=Team")
    phone.wait_for_url(re.compile(r"/team$"))
    status = phone.evaluate("""async () => {
        const token = JSON.parse(document.querySelector('[hx-headers]').getAttribute('hx-headers'))['X-CSRFToken'];
        const response = await fetch('/account/locale', {method: 'POST', body: new URLSearchParams({locale: 'en'}),
                                                          headers: {'X-CSRFToken': token}});
        return response.status;
    }""")
    assert status == 200
