"""Web Push fixtures: the fake push service, VAPID keys of the test's own, and browsers subscribed to it."""
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.benchmark.push_service import Browser, FakePushService
from app.extensions import db
from app.models import PushSubscription, User
from app.services import vapid

SUBJECT = "mailto:push-admin@dealer.test"


@pytest.fixture
def push_service():
    """A fake push service on 127.0.0.1, stopped after the test."""
    service = FakePushService()
    yield service
    service.close()


@pytest.fixture
def vapid_key(app) -> str:
    """Configure VAPID keys of this test's own, as the environment would (so no test writes the instance folder's
    key); returns the public key, the browsers' applicationServerKey."""
    key = ec.generate_private_key(ec.SECP256R1())
    app.config["VAPID_PRIVATE_KEY"] = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    app.config["VAPID_SUBJECT"] = SUBJECT
    return vapid.public_key_b64url()


@pytest.fixture
def subscribe(push_service, vapid_key):
    """`subscribe(user)`: a new browser of the user's, subscribed at the fake service with our VAPID key, its
    PushSubscription stored as the subscribe endpoint would store it; returns the Browser."""

    def subscribe(user: User) -> Browser:
        browser = push_service.browser(vapid_key)
        db.session.add(PushSubscription(user_id=user.id, endpoint=browser.endpoint, p256dh=browser.p256dh,
                                        auth=browser.auth))
        db.session.commit()
        return browser

    return subscribe
