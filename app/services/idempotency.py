"""The Idempotency-Key contract of offline entries: the phone sends each write it queued with a UUID of its own,
and however often the write is replayed it is applied once, per user and key.

How a keyed write runs (app.views.idempotency wraps the view):
1. `claim` inserts the user's key with the request's fingerprint, uncommitted, in the transaction the view's
   service then commits: the claim and the view's rows are committed together or not at all. A second request
   with the key meets the unique constraint: PostgreSQL makes its insert wait for the first transaction, SQLite
   its writer lock; then it fails, and the second request reads the first one's row instead of running the view.
2. `settle` stores the answer of a view that succeeded (2xx or 3xx) in a second, short transaction. A view that
   failed is rolled back, claim included, so the client may send the entry again with the same key; a view that
   failed after committing its rows keeps its claim and its answer, so a replay never applies the entry twice.
Crash windows: a process dying between the view's commit and `settle` leaves a claim without an answer, with
the entry applied; `claim_or_find` then answers "applied, answer lost" (`LOST_AFTER`), never runs the view again.
A service that rolls back and retries on its own (walk-in registration losing a race for a new customer) drops
the uncommitted claim; `settle` claims again with the answer, and only a replay arriving in that same instant
could run the view a second time.
"""
import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, inspect, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import IdempotentRequest

log = logging.getLogger(__name__)
KEPT_HEADERS = ("Location", "HX-Trigger", "HX-Location", "Content-Type")
WAIT = 3.0  # seconds a replay waits for the answer of the request it raced
POLL = 0.05
LOST_AFTER = timedelta(seconds=30)  # a claim unanswered this long was committed by a request that died
KEEP_FOR = timedelta(days=14)  # longer than any phone keeps an entry waiting to sync


@dataclass(frozen=True)
class Fingerprint:
    """What makes two requests with one key the same entry: method, path and the form's fields (or JSON body)."""

    method: str
    path: str
    body_hash: str

    def matches(self, row: IdempotentRequest) -> bool:
        return (row.method, row.path, row.body_hash) == (self.method, self.path, self.body_hash)


def parse_key(value: str) -> str:
    """The key in canonical form.

    :raise ValueError: unless the value is a UUID written as 8-4-4-4-12 hexadecimal digits.
    """
    canonical = str(uuid.UUID(value))
    if canonical != value.strip().lower():
        raise ValueError("not a hyphenated UUID")
    return canonical


def body_hash(form) -> str:
    """SHA-256 of the form's fields, sorted, without the CSRF token (a fresh one is fetched before a replay).

    :param form: a MultiDict, as request.form.
    """
    fields = sorted((name, value) for name, values in form.lists() if name != "csrf_token" for value in values)
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


def json_hash(body) -> str:
    """SHA-256 of a JSON body in a canonical form (keys sorted), so a replay matches however it was serialised."""
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def claim_or_find(user_id: int, key: str, fingerprint: Fingerprint) -> tuple[IdempotentRequest, bool]:
    """Claim the key for this request, or find the row of the request that holds it.

    Returns (row, True) for a new claim (pending in the session's transaction), else (row, False): a row with
    another fingerprint, with an answer, or still without one after WAIT seconds.
    """
    deadline = time.monotonic() + WAIT
    while True:
        claim = IdempotentRequest(user_id=user_id, key=key, method=fingerprint.method, path=fingerprint.path,
                                  body_hash=fingerprint.body_hash)
        db.session.add(claim)
        try:
            db.session.flush()
            return claim, True
        except IntegrityError:
            db.session.rollback()
        row = db.session.scalar(select(IdempotentRequest).filter_by(user_id=user_id, key=key)
                                .execution_options(populate_existing=True))
        if row is not None and (row.status_code is not None or not fingerprint.matches(row)
                                or time.monotonic() > deadline):
            return row, False
        db.session.rollback()  # row is None: its holder failed and rolled back, so claim again
        time.sleep(POLL)


def is_lost(row: IdempotentRequest, now: datetime) -> bool:
    """True for a claim committed with its entry whose request died before its answer was stored."""
    return row.status_code is None and now - row.created_at > LOST_AFTER


def settle(claim: IdempotentRequest, status: int, body: str, headers: dict[str, str]) -> None:
    """Store the view's answer with its claim and commit, or roll back a failed view's claim (see the module)."""
    if status >= 400:
        db.session.rollback()
        if not inspect(claim).persistent:  # nothing was committed: the key is free for a retry
            return
    elif inspect(claim).transient:  # the view's service rolled back and committed without the claim
        db.session.add(claim)
    claim.status_code, claim.body = status, body
    claim.headers = {name: value for name, value in headers.items() if name in KEPT_HEADERS}
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        log.warning("idempotency key %s was claimed again while its view retried", claim.key)


def abandon() -> None:
    """Roll back after the view raised; a claim its service already committed stays (its entry is applied)."""
    db.session.rollback()


def purge(now: datetime) -> int:
    """Forget keys older than KEEP_FOR, for the worker; returns how many."""
    gone = db.session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at < now - KEEP_FOR))
    db.session.commit()
    return gone.rowcount
