"""What a notification says on a device, in its user's language: the words every channel sends.

The inbox renders a notification itself; a device gets a finished text, so the words are chosen here, in the
user's language (their setting, else the app's default), from the same labels the inbox uses.
"""
from dataclasses import dataclass

from flask_babel import force_locale

from app.i18n import language_of
from app.labels import label
from app.models import Notification


@dataclass(frozen=True)
class Message:
    """A notification as a device shows it."""

    title: str  # what happened, then whom it is about: "New lead for you · 王先生"
    body: str
    url: str | None  # where a tap leads
    tag: str  # a device shows one notification per tag: the newest about a lead replaces the older


def compose(notification: Notification, locale: str | None) -> Message:
    """The message for `notification` in `locale`.

    :param locale: the user's language setting; None or an unknown one means the app's default.
    """
    with force_locale(language_of(locale)):
        title = str(label(notification.kind))
        body = str(label(notification.body)) if notification.body else ""
    if notification.title:
        title = f"{title} · {notification.title}"
    return Message(title=title, body=body, url=notification.url, tag=tag_of(notification))


def tag_of(notification: Notification) -> str:
    """One tag per lead (so its newest news shows), else one per notification."""
    if notification.lead_id is not None:
        return f"lead-{notification.lead_id}"
    return f"{notification.kind}-{notification.id}"
