"""A user's devices for Web Push and what they want pushed; the inbox always has everything.

A subscription must point at a known push service (PUSH_SERVICE_HOSTS): the worker sends requests to whatever
address is stored, so an arbitrary one would let a user aim the worker at hosts inside our network.

A browser that subscribes is stored against the signed-in user; the same browser subscribing again (a new
key after the push service rotated it) updates its row, and a shared showroom tablet that another consultant
signs in on becomes theirs: a device gets the pushes of whoever signed in on it last.
"""
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, PushPreferences, PushSubscription, User, utcnow
from app.schemas.push import KINDS
from app.services import FieldError


class DeviceError(FieldError):
    """A subscription that is not stored; `field` names the part of it that is wrong."""


def devices(user: User) -> list[PushSubscription]:
    """The user's subscribed devices, newest first."""
    return list(db.session.scalars(select(PushSubscription).where(PushSubscription.user_id == user.id)
                                   .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())))


def subscribe(user: User, data: dict, user_agent: str | None) -> PushSubscription:
    """Store this browser's subscription for the user, replacing an older one with the same endpoint.

    :param data: a loaded SubscriptionSchema.
    :raise DeviceError: for an address that is not a known push service's.
    """
    host = urlsplit(data["endpoint"]).hostname or ""
    if not any(host == known or host.endswith("." + known) for known in current_app.config["PUSH_SERVICE_HOSTS"]):
        raise DeviceError("endpoint", _l("This browser's push service is not one we send to."))
    device = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == data["endpoint"]))
    if device is None:
        device = PushSubscription(endpoint=data["endpoint"])
        db.session.add(device)
    device.user_id, device.p256dh, device.auth = user.id, data["keys"]["p256dh"], data["keys"]["auth"]
    device.user_agent = (user_agent or "")[:300] or None
    db.session.commit()
    return device


def remove(user: User, device_id: int) -> bool:
    """Forget one of the user's devices; False when it is not theirs (or gone already)."""
    device = db.session.scalar(select(PushSubscription).where(
        PushSubscription.id == device_id, PushSubscription.user_id == user.id))
    if device is None:
        return False
    db.session.delete(device)
    db.session.commit()
    return True


def preferences(user: User) -> dict[str, bool]:
    """What the user wants pushed, kind by kind (everything, until they choose)."""
    row = db.session.get(PushPreferences, user.id)
    return {kind: getattr(row, kind) if row else True for kind in KINDS}


def save_preferences(user: User, chosen: dict[str, bool]) -> None:
    row = db.session.get(PushPreferences, user.id) or PushPreferences(user_id=user.id)
    for kind in KINDS:
        setattr(row, kind, chosen[kind])
    db.session.add(row)
    db.session.commit()


def send_test(user: User) -> Notification:
    """A test notification for every device of the user, through the outbox like any other."""
    now = utcnow()
    notification = Notification(user_id=user.id, kind="test", title=user.name, url="/account/notifications",
                                dedupe_key=f"test:{user.id}:{now.isoformat()}")
    db.session.add(notification)
    db.session.commit()
    return notification
