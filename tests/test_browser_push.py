"""Web Push in a real Chromium: the settings page's subscribe flow stores a subscription, and a push delivered
through the DevTools protocol shows the expected notification (title, body, deep link) from the service worker.

No real push service is reachable here, and pushManager.subscribe() needs one, so the page's
PushManager.prototype.subscribe is replaced by one that returns a browser-made key pair (see DESIGN.md).
"""
import base64
import json
import os
import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, PushSubscription
from app.services import notices
from app.services.channels import messages, push_rules
from tests import factories
from tests.browser_fixtures import PHONE, watch_registrations
from tests.test_browser import sign_in

pytestmark = pytest.mark.browser
ANDROID_CHROME = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/156.0 Mobile Safari/537.36")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fake_subscription() -> dict:
    """What a browser's PushSubscription.toJSON() gives: a push service address and the browser's keys."""
    key = ec.generate_private_key(ec.SECP256R1())
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"endpoint": "https://fcm.googleapis.com/fcm/send/" + b64url(os.urandom(8)), "expirationTime": None,
            "keys": {"p256dh": b64url(point), "auth": b64url(os.urandom(16))}}


STUB_SUBSCRIBE = """
(() => {
  const made = %s;
  let current = null;
  PushManager.prototype.subscribe = async function (options) {
    window.__applicationServerKey = new Uint8Array(options.applicationServerKey).length;
    current = {endpoint: made.endpoint, expirationTime: null, options, toJSON: () => made,
               unsubscribe: async () => { current = null; return true; }};
    return current;
  };
  PushManager.prototype.getSubscription = async function () { return current; };
})();
"""


@pytest.fixture
def device(browser, live_server):
    """A phone whose browser allows notifications and whose push service is the stub above."""
    context = browser.new_context(base_url=live_server, locale="en-US", user_agent=ANDROID_CHROME, **PHONE)
    context.grant_permissions(["notifications"], origin=live_server)
    made = fake_subscription()
    context.add_init_script(STUB_SUBSCRIBE % json.dumps(made))
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, made
    context.close()
    assert not errors, errors


def test_turning_on_notifications_stores_the_device_and_a_push_shows_its_notification(device, live_server, world):
    page, made = device
    consultant = world.one.consultant
    sign_in(page, consultant)
    page.wait_for_url(re.compile(r"/today$"))
    page.goto("/account/notifications")
    page.get_by_role("button", name="Turn on notifications on this device").click()
    page.locator("[data-push-status]").get_by_text("Notifications are on for this device.").wait_for()
    page.locator("#devices").get_by_text("Chrome on Android").wait_for()
    assert page.evaluate("window.__applicationServerKey") == 65  # the server's VAPID public key was used

    db.session.expire_all()
    stored = db.session.scalar(select(PushSubscription))
    assert (stored.user_id, stored.endpoint, stored.p256dh, stored.auth) == (
        consultant.id, made["endpoint"], made["keys"]["p256dh"], made["keys"]["auth"])

    cdp = page.context.new_cdp_session(page)
    ids, activated = watch_registrations(cdp)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    assert activated.wait(10), "the service worker did not activate"
    # What the Web Push channel sends for a lead assigned to this consultant (encryption aside: CDP hands the
    # service worker the plaintext a push service would have decrypted for it).
    lead = factories.make_lead(consultant, customer=factories.make_customer(world.oem, name="林小雨"),
                               model_of_interest="HY-X7 SUV")
    notices.tell(consultant.id, lead, "lead_assigned", key="browser-test")
    db.session.commit()
    notification = db.session.scalar(select(Notification).where(Notification.kind == "lead_assigned"))
    data = push_rules.payload(messages.compose(notification, None)).decode()
    payload = json.loads(data)
    cdp.send("ServiceWorker.deliverPushMessage", {"origin": live_server, "registrationId": ids[-1], "data": data})
    shown = None
    for _attempt in range(50):  # the reply to deliverPushMessage is {} even when nothing arrived: look
        shown = page.evaluate("""async () => {
            const registration = await navigator.serviceWorker.ready;
            const [note] = await registration.getNotifications();
            return note ? {title: note.title, body: note.body, tag: note.tag, url: note.data.url} : null;
        }""")
        if shown:
            break
        page.wait_for_timeout(100)
    assert shown == {"title": "New lead for you · 林小雨", "body": "HY-X7 SUV", "tag": f"lead-{lead.id}",
                     "url": f"{live_server}/leads/{lead.id}"} == {**payload, "url": live_server + payload["url"]}
