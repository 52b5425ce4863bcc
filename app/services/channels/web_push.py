"""The Web Push channel: a notification to each of its user's devices, through the browsers' push services.

`fan_out` writes one PushDelivery per PushSubscription of the user, due at `send_at`, unless the user's push
preferences turn the kind off (app.services.channels.push_rules says which preference, TTL, Urgency and Topic).

`deliver_due`, on each worker pass:
1. claims the due pending deliveries (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one writer), counts the
   attempt, leases them for CLAIM_LEASE and commits: no lock is held while push services answer, and the
   deliveries of a worker that dies mid-send are sent again after the lease (at least once; the device shows one
   notification per tag);
2. sends them, up to SENDERS at once on threads that touch no database (push services answer in tens to hundreds
   of milliseconds; one at a time the worker would mostly wait): the `webpush` package encrypts the payload
   (aes128gcm) and signs the VAPID Authorization; httpx posts it over pooled keep-alive connections, with timeouts;
3. records the outcomes in the worker's thread, in the order claimed, committing every RECORD_EVERY (a worker killed
   between a push and its commit sends those again after the lease: at least once, collapsed by the tag):
   - 2xx: sent; the subscription's last_used_at is set;
   - 404/410: the device unsubscribed or expired: its subscription is deleted, its deliveries with it (ON DELETE
     CASCADE);
   - 429: tried again after the push service's Retry-After, and no sooner than the backoff;
   - 5xx, a network error, a timeout: tried again with exponential backoff, until MAX_ATTEMPTS, then failed;
   - 400/401/403/413 and any other refusal: failed at once and logged: our keys, configuration or payload are
     wrong, not the device, so the subscription stays.
"""
import logging
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import cached_property

import httpx
from sqlalchemy import bindparam, delete, literal_column, select, update
from sqlalchemy.orm import joinedload
from webpush import WebPush, WebPushException
from webpush.types import WebPushKeys, WebPushSubscription

from app.extensions import db
from app.models import DeliveryState, Notification, PushDelivery, PushPreferences, PushSubscription, User
from app.services import vapid
from app.services.channels import messages, push_rules

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=10)
BACKOFF, BACKOFF_CAP = timedelta(seconds=30), timedelta(hours=1)
MAX_ATTEMPTS = 8  # 30 s, 1, 2, 4, 8, 16, 32 minutes apart: about an hour of trying
GONE = frozenset({404, 410})
SENDERS = 16  # pushes in flight at once
RECORD_EVERY = 50  # outcomes per commit
ERROR_CHARS = 300  # the size of PushDelivery.last_error


@dataclass(frozen=True)
class Outcome:
    """What became of one push: the delivery's new values, or its device gone."""

    values: dict
    gone: bool = False


@dataclass(frozen=True)
class Push:
    """A claimed delivery with all it takes to send it, read before the claim committed."""

    delivery_id: int
    subscription_id: int
    endpoint: str
    keys: WebPushKeys  # the browser's: what the payload is encrypted for
    payload: bytes
    headers: dict[str, str]
    attempts: int  # this one included


class WebPushChannel:
    """Web Push deliveries: written by `fan_out`, sent by `deliver_due`."""

    def __init__(self, timeout: float = 10.0):
        """:param timeout: seconds to wait for a push service (to connect: at most 5)."""
        self.timeout = timeout

    @cached_property
    def client(self) -> httpx.Client:
        """One connection pool for every push, shared by the worker's threads."""
        return httpx.Client(timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0)))

    def fan_out(self, notification: Notification, send_at: datetime) -> None:
        """A delivery per device of the notification's user, in the caller's transaction, if they want it."""
        preference = push_rules.rule_for(notification.kind).preference
        if preference is not None:
            preferences = db.session.get(PushPreferences, notification.user_id)
            if preferences is not None and not getattr(preferences, preference):
                return
        for subscription_id in db.session.scalars(
                select(PushSubscription.id).where(PushSubscription.user_id == notification.user_id)):
            db.session.add(PushDelivery(notification_id=notification.id, subscription_id=subscription_id,
                                        next_attempt_at=send_at))

    def deliver_due(self, now: datetime, limit: int) -> int:
        """Send up to `limit` deliveries due at `now` and record their outcomes; returns how many were tried."""
        pushes = self._claim(now, limit)
        if not pushes:
            return 0
        sender = vapid.sender()
        with ThreadPoolExecutor(min(SENDERS, len(pushes)), thread_name_prefix="web-push") as pool:
            outcomes = pool.map(lambda push: self._send(sender, push, now), pushes)
            record = Record(now)
            for count, (push, outcome) in enumerate(zip(pushes, outcomes), 1):
                record.add(push, outcome)
                if count % RECORD_EVERY == 0:
                    record.commit()
            record.commit()
        return len(pushes)

    def _claim(self, now: datetime, limit: int) -> list[Push]:
        """Take the due deliveries out of other workers' reach for CLAIM_LEASE, counting the attempt."""
        deliveries = list(db.session.scalars(
            select(PushDelivery)
            # the literal matches the partial index's predicate (a bound value would not, on SQLite)
            .where(PushDelivery.state == literal_column("'pending'"), PushDelivery.next_attempt_at <= now)
            .order_by(PushDelivery.next_attempt_at, PushDelivery.id).limit(limit)
            .with_for_update(skip_locked=True, of=PushDelivery)
            .options(joinedload(PushDelivery.notification), joinedload(PushDelivery.subscription))))
        if not deliveries:
            db.session.commit()  # ends the transaction the locking read began
            return []
        vapid.sender()  # keys that cannot sign fail the pass here, before anything is claimed
        locales = dict(db.session.execute(select(User.id, User.locale).where(
            User.id.in_({delivery.notification.user_id for delivery in deliveries}))).all())
        pushes = []
        for delivery in deliveries:
            delivery.attempts += 1
            delivery.next_attempt_at = now + CLAIM_LEASE
            pushes.append(_push(delivery, locales.get(delivery.notification.user_id)))
        db.session.commit()
        return pushes

    def _send(self, sender: WebPush, push: Push, now: datetime) -> Outcome:
        """Encrypt, sign and post one push (on a sender thread: no database here); what became of it."""
        try:
            message = sender.get(push.payload, WebPushSubscription(endpoint=push.endpoint, keys=push.keys))
            response = self.client.post(push.endpoint, content=message.encrypted,
                                        headers={**message.headers, **push.headers})
        except (ValueError, WebPushException) as error:  # keys or a URL no browser makes: a bad row
            log.warning("push delivery %s not encrypted: %s", push.delivery_id, error)
            return Outcome({"state": DeliveryState.FAILED, "last_status": None, "last_error": _text(error)})
        except httpx.TransportError as error:  # unreachable, refused, timed out: the push service's trouble
            return Outcome({"last_status": None, "last_error": _text(error), **_retry(push.attempts, now)})
        if response.status_code in GONE:
            log.info("push subscription %s gone (%s): deleted", push.subscription_id, response.status_code)
            return Outcome({}, gone=True)
        return Outcome(_outcome(push, response, now))


class Record:
    """The outcomes of a pass's pushes, written in bulk (an UPDATE per kind of outcome, executemany) each commit."""

    def __init__(self, now: datetime):
        self.now = now
        self.gone: set[int] = set()  # subscriptions deleted in this pass: their other deliveries went with them
        self.outcomes: list[tuple[Push, Outcome]] = []

    def add(self, push: Push, outcome: Outcome) -> None:
        if push.subscription_id in self.gone:
            return
        if outcome.gone:  # the device unsubscribed: its subscription goes, with its deliveries (ON DELETE CASCADE)
            db.session.execute(delete(PushSubscription).where(PushSubscription.id == push.subscription_id))
            self.gone.add(push.subscription_id)
            return
        self.outcomes.append((push, outcome))

    def commit(self) -> None:
        """Write the outcomes added since the last commit, and commit."""
        by_columns: dict[tuple[str, ...], list[dict]] = {}
        used = set()
        for push, outcome in self.outcomes:
            if push.subscription_id in self.gone:
                continue
            by_columns.setdefault(tuple(sorted(outcome.values)), []).append(
                {"delivery_id": push.delivery_id, **{f"new_{key}": value for key, value in outcome.values.items()}})
            if outcome.values.get("state") is DeliveryState.SENT:
                used.add(push.subscription_id)
        deliveries = PushDelivery.__table__
        for columns, rows in by_columns.items():
            db.session.execute(update(deliveries).where(deliveries.c.id == bindparam("delivery_id"))
                               .values({column: bindparam(f"new_{column}") for column in columns}), rows)
        if used:
            db.session.execute(update(PushSubscription).where(PushSubscription.id.in_(used))
                               .values(last_used_at=self.now).execution_options(synchronize_session=False))
        db.session.commit()
        self.outcomes = []


def _push(delivery: PushDelivery, locale: str | None) -> Push:
    """The push of a delivery being claimed, in its user's language."""
    notification, subscription = delivery.notification, delivery.subscription
    return Push(
        delivery_id=delivery.id, subscription_id=subscription.id, endpoint=subscription.endpoint,
        keys=WebPushKeys(auth=subscription.auth, p256dh=subscription.p256dh),
        payload=push_rules.payload(messages.compose(notification, locale)),
        headers=push_rules.headers_for(notification), attempts=delivery.attempts)


def _outcome(push: Push, response: httpx.Response, now: datetime) -> dict:
    """What a push service's answer (other than 404/410) makes of the delivery."""
    status = response.status_code
    if response.is_success:
        return {"state": DeliveryState.SENT, "sent_at": now, "last_status": status, "last_error": None}
    error = _text(response.text.strip() or response.reason_phrase)
    if status == 429:
        wait = _retry_after(response.headers.get("retry-after"), now)
        return {"last_status": status, "last_error": error, **_retry(push.attempts, now, wait)}
    if status >= 500:
        return {"last_status": status, "last_error": error, **_retry(push.attempts, now)}
    log.warning("push delivery %s refused with %s: %s", push.delivery_id, status, error)
    return {"state": DeliveryState.FAILED, "last_status": status, "last_error": error}


def _retry(attempts: int, now: datetime, wait: timedelta | None = None) -> dict:
    """Pending again after an exponential backoff with jitter (so retries of many devices spread out), or at
    least `wait`; failed once MAX_ATTEMPTS were made."""
    if attempts >= MAX_ATTEMPTS:
        return {"state": DeliveryState.FAILED}
    backoff = min(BACKOFF * 2 ** (attempts - 1), BACKOFF_CAP) * random.uniform(1, 1.25)
    return {"next_attempt_at": now + max(backoff, wait or timedelta(0))}


def _retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A Retry-After header, in seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    if value.strip().isdigit():
        return timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)) - now


def _text(error: object) -> str:
    """An error as last_error holds it."""
    text = f"{type(error).__name__}: {error}" if isinstance(error, Exception) else str(error)
    return text[:ERROR_CHARS]
