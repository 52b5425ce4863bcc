"""Recording consent: the consents collected with a new lead (a walk-in form's ticks, a call to the lead desk or the
dealer, a portal's scope in a lead file: `collected`), and by hand on the lead page, a customer's word that they
give or withdraw their consent to a channel, said to the consultant on the phone or in the showroom (`record`).

Each record is a new row (the history stays: app.services.consent reads the latest), audited with the channel's
state before and after. Withdrawing consent to calls is the customer opting out of calls: the open follow-ups of
their leads stop at every dealer whose cadence stops on it (StopCondition.OPTED_OUT).
"""
from collections.abc import Iterable
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import (
    CLOSED_STAGES, Channel, ConsentMethod, ConsentRecord, ConsentState, Customer, Lead, User, utcnow,
)
from app.services import audit, consent, follow_ups

METHOD = ConsentMethod.PHONE  # the customer told the consultant
SOURCE = "lead_page"  # recorded by hand on the lead page (app.labels words it)


class ConsentError(ValueError):
    """A consent change that cannot be recorded; the message is for the consultant."""


def collected(customer: Customer, channels: Iterable, method: ConsentMethod, source: str, user: User | None,
              at: datetime | None = None) -> None:
    """A granted record per channel the customer agreed to with a new lead (never one for a channel left unticked:
    no consent is presumed), added to the session for the caller's commit."""
    at = at or utcnow()
    for channel in channels:
        db.session.add(ConsentRecord(customer=customer, channel=Channel(channel), granted=True, method=method,
                                     source=str(source), recorded_at=at, recorded_by_id=user.id if user else None))


def record(user: User, lead: Lead, channel: Channel, state: ConsentState) -> ConsentRecord:
    """Record the customer's word on a channel, given to the user working the lead, and commit.

    :param state: GRANTED or WITHDRAWN.
    :raise ConsentError: when that is already the customer's word on the channel (a second tap).
    """
    customer = lead.customer
    before = consent.by_channel(customer)[channel].state
    if state is before:
        raise ConsentError(_l("This is already recorded."))
    entry = ConsentRecord(customer=customer, channel=channel, granted=state is ConsentState.GRANTED, method=METHOD,
                          source=SOURCE, recorded_at=utcnow(), recorded_by_id=user.id)
    db.session.add(entry)
    audit.record(user, f"consent.{state.value}", customer, dealer_id=lead.dealer_id,
                 before={channel.value: before.value},
                 after={channel.value: state.value, "method": METHOD.value, "source": SOURCE})
    if state is ConsentState.WITHDRAWN:
        _stop_follow_ups(customer.id)
    db.session.commit()
    return entry


def _stop_follow_ups(customer_id: int) -> None:
    """Cancel the next step of the customer's open leads that now meet a stop condition of their dealer's
    cadence (the customer opted out of calls), whichever dealer works them: the customer's word is theirs."""
    leads = db.session.scalars(select(Lead).where(
        Lead.customer_id == customer_id, Lead.stage.not_in(CLOSED_STAGES), Lead.next_follow_up_at.is_not(None)))
    for lead in leads:
        if follow_ups.stop_condition(lead) is not None:
            follow_ups.set_next(lead, None, done=False)
