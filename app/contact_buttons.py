"""The one-tap contact buttons of a lead's row (Today, the lead page): Call, SMS and, where the customer gave a
WeChat id, WeChat; each channel the customer has not consented to (app.services.consent) as a disabled button
with the reason below. Worked out here rather than in the macro (templates/macros/contact.html): Today shows
dozens of rows, and a template computes all this several times slower."""
from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _

from app.models import Channel, Lead
from app.services import consent


@dataclass(frozen=True)
class Button:
    text: str
    kind: str  # the channel: "call", "sms", "wechat"
    classes: str
    attempt: str | None  # where a tap records the attempt; None when the channel may not be used
    reason: str | None = None  # why not
    href: str | None = None  # tel: or sms:, for the phone to dial or write
    copy: str | None = None  # the WeChat id, copied to the clipboard
    copied: str | None = None  # what the phone says once it is copied


@dataclass(frozen=True)
class ContactButtons:
    buttons: list[Button]
    sheet: str  # the whole contact logged in one go, opened without signal (static/js/offline.js)
    refused: list[str]  # the reasons of the disabled buttons


def contact_buttons(lead: Lead) -> ContactButtons | None:
    """The buttons of the lead's row; None for an erased customer (no number or WeChat id is left)."""
    customer = lead.customer
    if customer.erased_at:
        return None
    consents = consent.by_channel(customer)
    channels = [(Channel.CALL, _("Call"), "button call", {"href": f"tel:{customer.phone_e164}"}),
                (Channel.SMS, _("SMS"), "button", {"href": f"sms:{customer.phone_e164}"})]
    if customer.wechat_id:
        channels.append((Channel.WECHAT, _("WeChat"), "button", {
            "copy": customer.wechat_id, "copied": _("WeChat id %(id)s copied", id=customer.wechat_id)}))
    buttons = []
    for channel, text, classes, how in channels:
        given = consents[channel]
        if given.allowed:
            attempt = url_for("contacts.attempt", lead_id=lead.id, kind=channel.value)
            buttons.append(Button(text, channel.value, classes, attempt, **how))
        else:
            buttons.append(Button(text, channel.value, classes, None, reason=given.reason))
    return ContactButtons(buttons, url_for("contacts.log", lead_id=lead.id),
                          [button.reason for button in buttons if button.reason])
