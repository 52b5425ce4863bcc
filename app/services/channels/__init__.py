"""Delivery channels: how a notification reaches a person beyond the in-app inbox (which always has it).

The outbox (app.services.outbox) calls every channel in CHANNELS:
- `fan_out(notification, send_at)` while it fans a notification out, inside its transaction: the channel writes
  its delivery rows (one per device, per phone number, ...) due at `send_at` (quiet hours already applied),
  only where the user wants this kind by this channel; it never commits;
- `deliver_due(now, limit)` on every worker pass: the channel claims its due deliveries (FOR UPDATE SKIP LOCKED
  on PostgreSQL, so workers run side by side; SQLite has one writer), sends them, records each outcome and
  commits; it returns how many it tried.

Adding a channel, e.g. WeCom (企业微信) or SMS:
1. its delivery table, a model beside PushDelivery in app/models/notifications.py with the same shape
   (notification, recipient, state, attempts, next_attempt_at, last_status, last_error, sent_at; unique per
   notification and recipient; an index on next_attempt_at of the pending rows) and a migration; plus where
   its recipients live (a WeCom user id, a verified mobile number) and the users' preference for it;
2. a module here with a class that has the two methods: the words from `messages.compose` (the user's language),
   its own client, limits and retry rules (app.services.channels.web_push is the example);
3. an instance of it in CHANNELS. Nothing that writes notifications changes, and neither does the outbox.
"""
from datetime import datetime
from typing import Protocol

from app.models import Notification
from app.services.channels.web_push import WebPushChannel


class Channel(Protocol):
    """What the outbox needs of a channel."""

    def fan_out(self, notification: Notification, send_at: datetime) -> None:
        """Write this channel's deliveries of `notification`, due at `send_at`, in the caller's transaction."""

    def deliver_due(self, now: datetime, limit: int) -> int:
        """Claim and send up to `limit` deliveries due at `now`, record the outcomes, commit; return how many."""


CHANNELS: tuple[Channel, ...] = (WebPushChannel(),)
