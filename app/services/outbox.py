"""The outbox: notifications go out on every channel after their transaction has committed.

Whatever must tell someone writes a Notification in the transaction of its cause (app.services.notices): the
in-app inbox shows it at once. The worker then, on each pass:
1. fans out (`fan_out`): claims notifications not fanned out yet, decides when each may be pushed — at once, or at
   the end of the quiet hours of the user's dealer (in its time zone), deferred, never dropped; the morning digest
   and a test notification ignore quiet hours, as the user asked for them — and lets every channel
   (app.services.channels) write its deliveries, all in one transaction with fanned_out_at set;
2. delivers (`deliver`): every channel sends its due deliveries and retries failures with backoff.
Delivery is at least once; the dedupe keys (notifications) and the one-delivery-per-device rows keep anybody from
being told twice. On PostgreSQL rows are claimed with FOR UPDATE SKIP LOCKED, so several workers can run at once.
"""
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Notification, User
from app.services import cadence, quiet_hours
from app.services.channels import CHANNELS

BATCH = 500
ANY_HOUR = frozenset({"digest", "test"})  # asked for at a time of the user's choosing


def fan_out(now: datetime) -> int:
    """Fan out every notification not fanned out yet, BATCH at a time; returns how many."""
    done = 0
    waiting = (select(Notification).where(Notification.fanned_out_at.is_(None)).order_by(Notification.id)
               .limit(BATCH).with_for_update(skip_locked=True, of=Notification))
    while notifications := list(db.session.scalars(waiting)):
        policies = _policies({n.user_id for n in notifications})
        for notification in notifications:
            send_at = now
            policy = policies.get(notification.user_id)
            if policy is not None and notification.kind not in ANY_HOUR:
                send_at = quiet_hours.next_allowed(policy, now)
            for channel in CHANNELS:
                channel.fan_out(notification, send_at)
            notification.fanned_out_at = now
        db.session.commit()
        done += len(notifications)
    return done


def deliver(now: datetime, limit: int = BATCH) -> int:
    """Let every channel send what is due; returns how many deliveries were attempted."""
    return sum(channel.deliver_due(now, limit) for channel in CHANNELS)


def _policies(user_ids: set[int]) -> dict[int, cadence.Policy]:
    """The cadence policy of each user's dealer (brand users have none: no quiet hours of a dealer apply)."""
    users = list(db.session.scalars(select(User).where(User.id.in_(user_ids), User.dealer_id.is_not(None))
                                    .options(joinedload(User.dealer))))
    by_dealer = cadence.policies_for({user.dealer for user in users})
    return {user.id: by_dealer[user.dealer_id] for user in users}
