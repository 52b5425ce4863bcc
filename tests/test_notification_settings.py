"""The notification settings: a browser's push subscription stored against the signed-in user (validated, CSRF
protected), devices listed and removed, what to push chosen, a test notification sent; the service worker served
from the root, never cached."""
import base64
import json
import os

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, PushPreferences, PushSubscription
from tests import factories

ANDROID_CHROME = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def subscription(endpoint="https://fcm.googleapis.com/fcm/send/abc123", p256dh=None, auth=None) -> dict:
    return {"endpoint": endpoint, "expirationTime": None,
            "keys": {"p256dh": p256dh or b64url(b"\x04" + os.urandom(64)), "auth": auth or b64url(os.urandom(16))}}


def post_json(client, auth, body, token=True):
    headers = {"X-CSRFToken": auth.csrf_token("/account/notifications")} if token else {}
    return client.post("/account/notifications/devices", data=json.dumps(body), content_type="application/json",
                       headers={**headers, "User-Agent": ANDROID_CHROME})


def test_the_page_offers_this_device_with_the_servers_public_key(client, me):
    page = client.get("/account/notifications").get_data(as_text=True)
    key = page.split('data-key="', 1)[1].split('"', 1)[0]
    assert len(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))) == 65  # an uncompressed P-256 point
    assert "add this app to your Home Screen" in page and "No device gets notifications yet." in page


def test_a_subscription_is_stored_listed_and_removed(client, auth, me, world):
    response = post_json(client, auth, subscription())
    assert response.status_code == 201
    device = db.session.scalar(select(PushSubscription))
    assert (device.user_id, device.endpoint) == (me.id, "https://fcm.googleapis.com/fcm/send/abc123")
    assert "Chrome on Android" in client.get("/account/notifications").get_data(as_text=True)

    again = subscription()  # the same browser with new keys: one row, updated
    assert post_json(client, auth, again).status_code == 201
    assert db.session.scalar(select(PushSubscription.p256dh)) == again["keys"]["p256dh"]

    token = auth.csrf_token("/account/notifications")
    assert client.post(f"/account/notifications/devices/{device.id}/delete",
                       data={"csrf_token": token}).status_code == 303
    assert db.session.scalar(select(PushSubscription)) is None


def test_a_shared_tablet_gets_the_pushes_of_whoever_signed_in_last(client, auth, me, world):
    post_json(client, auth, subscription())
    auth.sign_out()
    auth.sign_in(world.one.colleague)
    post_json(client, auth, subscription())
    assert db.session.scalars(select(PushSubscription.user_id)).all() == [world.one.colleague.id]


@pytest.mark.parametrize(("body", "field"), [
    (subscription(endpoint="http://fcm.googleapis.com/fcm/send/x"), "endpoint"),
    (subscription(endpoint="https://intranet.dealer.local/admin"), "endpoint"),  # not a push service
    (subscription(endpoint="https://fcm.googleapis.com.evil.example/x"), "endpoint"),
    (subscription(endpoint="javascript:alert(1)"), "endpoint"),
    (subscription(p256dh=b64url(b"short")), "keys"),
    (subscription(auth="!!!"), "keys"),
    ({"endpoint": "https://fcm.googleapis.com/fcm/send/x"}, "keys"),
])
def test_an_unusable_subscription_is_refused_and_nothing_stored(client, auth, me, body, field):
    response = post_json(client, auth, body)
    assert response.status_code == 422 and field in response.get_json()["errors"]
    assert db.session.scalar(select(PushSubscription)) is None


def test_storing_a_subscription_needs_the_csrf_token(client, auth, me):
    assert post_json(client, auth, subscription(), token=False).status_code == 400
    assert db.session.scalar(select(PushSubscription)) is None


def test_another_users_device_cannot_be_removed(client, auth, me, world):
    theirs = factories._save(PushSubscription(user_id=world.one.colleague.id, endpoint="https://push.example.com/t",
                                              p256dh="x", auth="y"))
    token = auth.csrf_token("/account/notifications")
    assert client.post(f"/account/notifications/devices/{theirs.id}/delete",
                       data={"csrf_token": token}).status_code == 404
    assert db.session.get(PushSubscription, theirs.id) is not None


def test_choosing_what_to_push(client, auth, me):
    token = auth.csrf_token("/account/notifications")
    client.post("/account/notifications/preferences", data={"csrf_token": token, "new_lead": "true",
                                                           "approval": "true"})
    row = db.session.get(PushPreferences, me.id)
    assert (row.new_lead, row.follow_up_due, row.appointment, row.approval, row.digest) == (
        True, False, False, True, False)
    page = client.get("/account/notifications").get_data(as_text=True)
    assert 'name="new_lead" value="true"\n            checked' in page or 'name="new_lead" value="true" checked' in \
        " ".join(page.split())


def test_a_test_notification_goes_through_the_inbox(client, auth, me):
    token = auth.csrf_token("/account/notifications")
    page = client.post("/account/notifications/test", data={"csrf_token": token}, follow_redirects=True)
    assert "Turn notifications on for this device first" in page.get_data(as_text=True)
    note = db.session.scalar(select(Notification))
    assert (note.user_id, note.kind, note.fanned_out_at) == (me.id, "test", None)
    assert "Test notification" in client.get("/inbox").get_data(as_text=True)


def test_the_service_worker_is_served_from_the_root_and_never_cached(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert 'addEventListener("push"' in response.get_data(as_text=True)


def test_the_settings_need_sign_in(client):
    assert client.get("/account/notifications").status_code == 302
