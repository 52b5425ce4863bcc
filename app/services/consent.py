"""Consent: the one place that says whether a customer may be contacted on a channel, and why not.

A channel's state is the customer's latest consent record for it (Customer.latest_consents): granted, withdrawn,
or not recorded. The rule (DOMAIN.md, "Consent and personal data": no marketing call or SMS without consent):

- SMS, WeChat and email can carry marketing, so they need a recorded grant;
- a phone call back on the customer's own inquiry needs none (their inquiry asked for it), unless the customer
  withdrew their consent to calls.

A customer who may be contacted on no channel at all is not `reachable`: their follow-ups send no reminder
(app.services.reminders). Recording a grant or a withdrawal by hand is app.services.consent_changes.
"""
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from datetime import datetime

from babel.dates import format_skeleton
from flask_babel import get_locale, lazy_gettext as _l, to_user_timezone
from sqlalchemy import inspect, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.labels import label
from app.models import Channel, ConsentRecord, ConsentState, Customer, Source, User, utcnow

MARKETING_CHANNELS = frozenset({Channel.SMS, Channel.WECHAT, Channel.EMAIL})
NOT_RECORDED = {
    Channel.SMS: _l("No SMS consent recorded"),
    Channel.WECHAT: _l("No WeChat consent recorded"),
    Channel.EMAIL: _l("No email consent recorded"),
}
WITHDRAWN_ON = {
    Channel.CALL: _l("Withdrew call consent on %(day)s"),
    Channel.SMS: _l("Withdrew SMS consent on %(day)s"),
    Channel.WECHAT: _l("Withdrew WeChat consent on %(day)s"),
    Channel.EMAIL: _l("Withdrew email consent on %(day)s"),
}


@dataclass(frozen=True)
class ChannelConsent:
    """One channel's consent for a customer: the latest record behind it, its state, and whether we may use it."""

    channel: Channel
    record: ConsentRecord | None

    @cached_property  # asked several times per row on Today: the buttons, their reasons
    def state(self) -> ConsentState:
        if self.record is None:
            return ConsentState.NOT_RECORDED
        return ConsentState.GRANTED if self.record.granted else ConsentState.WITHDRAWN

    @cached_property
    def allowed(self) -> bool:
        """May we contact the customer on this channel now (the module's rule)."""
        if self.state is ConsentState.WITHDRAWN:
            return False
        # A call back on the customer's own inquiry is allowed without a recorded grant; the channels that can
        # carry marketing are not.
        return self.state is ConsentState.GRANTED or self.channel not in MARKETING_CHANNELS

    @cached_property
    def reason(self) -> str | None:
        """Why the channel may not be used, in the consultant's words and days ("Withdrew SMS consent on 3 Dec");
        None when it may."""
        if self.allowed:
            return None
        if self.state is ConsentState.WITHDRAWN:
            return str(WITHDRAWN_ON[self.channel]) % {"day": _day(self.record.recorded_at)}
        return str(NOT_RECORDED[self.channel])

    @property
    def source(self) -> str:
        """Where the record came from, in words: a lead source, one of our own screens, or as a file named it."""
        code = self.record.source if self.record else ""
        return str(label(Source(code))) if code in set(Source) else str(label(code))

    def recorded_by(self, viewer: User) -> str | None:
        """Who recorded it, as far as the viewer may know: a colleague's or the brand's person's name. Someone at
        another dealer stays unnamed: that the customer deals with them is that dealer's business."""
        person = self.record.recorded_by if self.record else None
        if person is None:
            return None
        if person.dealer_id is None or person.dealer_id == viewer.dealer_id:
            return person.name
        return str(_l("Staff of another dealer"))


def by_channel(customer: Customer) -> dict[Channel, ChannelConsent]:
    """Every channel's consent for the customer, in the order of Channel (calls first)."""
    latest = customer.latest_consents
    return {channel: ChannelConsent(channel, latest.get(channel)) for channel in Channel}


def may_contact(customer: Customer, channel: Channel) -> bool:
    """Whether the customer may be contacted on the channel now."""
    return by_channel(customer)[channel].allowed


def refusal(customer: Customer, channel: Channel) -> str | None:
    """Why the customer may not be contacted on the channel, or None when they may."""
    return by_channel(customer)[channel].reason


def reachable(customer: Customer) -> bool:
    """Whether some channel may still be used: not every one withdrawn or never granted."""
    return any(consent.allowed for consent in by_channel(customer).values())


def load_consents(customers: Iterable[Customer]) -> None:
    """Load the consent records of many customers in one read (a page of rows with contact buttons), for those
    whose records are not loaded yet."""
    waiting = {customer.id: customer for customer in customers if "consents" in inspect(customer).unloaded}
    if not waiting:
        return
    records: dict[int, list[ConsentRecord]] = {customer_id: [] for customer_id in waiting}
    for record in db.session.scalars(select(ConsentRecord).where(ConsentRecord.customer_id.in_(waiting))
                                     .order_by(ConsentRecord.recorded_at.desc())):
        records[record.customer_id].append(record)
    for customer_id, customer in waiting.items():
        set_committed_value(customer, "consents", records[customer_id])


def unreachable_customers(customer_ids: Iterable[int]) -> set[int]:
    """Of these customers, those who may be contacted on no channel; in one read, for a reminder sweep's batch."""
    ids = set(customer_ids)
    if not ids:
        return set()
    customers = db.session.scalars(select(Customer).where(Customer.id.in_(ids))
                                   .options(selectinload(Customer.consents)))
    return {customer.id for customer in customers if not reachable(customer)}


def _day(moment: datetime) -> str:
    """A day in the reader's time zone (the dealer's), short: "3 Dec", "12月3日"; with its year if not this one."""
    local = to_user_timezone(moment)
    skeleton = "MMMd" if local.year == to_user_timezone(utcnow()).year else "yMMMd"
    return format_skeleton(skeleton, local, locale=get_locale())
