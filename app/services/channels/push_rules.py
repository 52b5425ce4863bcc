"""How each kind of notification is pushed: which preference turns it off, how long a push service keeps it
for a phone that is off (TTL), how urgently it wakes one that saves power (Urgency), and what a newer push
replaces while both still wait (Topic). Plus the payload, small by construction.
"""
import json
from dataclasses import dataclass
from datetime import timedelta

from app.models import Notification
from app.services.channels.messages import Message, tag_of

TITLE_CHARS, BODY_CHARS = 100, 300  # with the URL (≤ 300) the JSON stays under 2 KB even in Chinese


@dataclass(frozen=True)
class PushRule:
    preference: str | None  # the PushPreferences column that turns the kind off; None: always pushed
    ttl: timedelta  # never 0, the webpush default, which a sleeping phone never receives
    urgency: str  # RFC 8030: very-low, low, normal, high


NEW_LEAD = PushRule("new_lead", timedelta(hours=4), "high")  # the first-contact clock is running
LEAD_NEWS = PushRule("new_lead", timedelta(hours=4), "normal")
APPROVAL = PushRule("approval", timedelta(hours=24), "normal")
RULES = {
    "lead_assigned": NEW_LEAD, "lead_to_assign": NEW_LEAD, "first_contact_breach": NEW_LEAD,
    "lead_reassigned": LEAD_NEWS, "lead_taken_back": LEAD_NEWS,
    "follow_up_due": PushRule("follow_up_due", timedelta(hours=12), "normal"),
    "appointment_soon": PushRule("appointment", timedelta(hours=4), "normal"),
    "approval_requested": APPROVAL, "approval_approved": APPROVAL, "approval_rejected": APPROVAL,
    "digest": PushRule("digest", timedelta(hours=12), "low"),
    "test": PushRule(None, timedelta(seconds=60), "normal"),  # the settings page's test: now or never
}
OTHER = PushRule(None, timedelta(hours=12), "normal")  # a kind added without a rule still reaches the phone


def rule_for(kind: str) -> PushRule:
    """The push rule of a notification kind."""
    return RULES.get(kind, OTHER)


def topic_of(notification: Notification) -> str | None:
    """The Topic header: one per lead, and one for the digest, so a push waiting at the push service (a phone
    that is off) is replaced by a newer one on the same subject. At most 32 URL-safe base64 characters."""
    if notification.lead_id is not None:
        return tag_of(notification)
    return "digest" if notification.kind == "digest" else None


def payload(message: Message) -> bytes:
    """The JSON the service worker shows: {title, body, url, tag}, shortened to stay well under 3 KB (push
    services refuse 4 KB; the encryption adds about 100 bytes)."""
    return json.dumps({"title": _shorten(message.title, TITLE_CHARS), "body": _shorten(message.body, BODY_CHARS),
                       "url": message.url, "tag": message.tag}, ensure_ascii=False).encode()


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def headers_for(notification: Notification) -> dict[str, str]:
    """The push-service headers of a notification (besides the webpush package's encoding and Authorization)."""
    rule = rule_for(notification.kind)
    headers = {"ttl": str(int(rule.ttl.total_seconds())), "urgency": rule.urgency,
               "content-type": "application/octet-stream"}
    if topic := topic_of(notification):
        headers["topic"] = topic
    return headers
