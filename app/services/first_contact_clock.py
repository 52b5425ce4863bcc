"""The first-contact clock: how long a dealer has to make the first call, and what happens past it.

Starting the clock (`start`), when a lead reaches a dealer or a new consultant:
- first_contact_due_at: the dealer's limit (30 minutes by default) counted in its working time, so a lead that
  arrives at night is due shortly after the store opens;
- return_due_at: the second limit (24 hours by default), in calendar hours.
The first contact (a call, a message, a visit) stops the clock: the sweep reads only leads with none.

The sweep (`sweep`, run by the worker every minute; tests pass their own `now`):
1. Breach: an open, uncontacted lead past first_contact_due_at is flagged once (sla_breached_at) and the
   dealer's managers are told. Today and the manager's lists show it red from the deadline on.
2. Return: one still uncontacted past return_due_at goes back to a pool (app.services.pools): the brand's
   leads to the lead desk, the dealer's own to the dealer's pool for the manager to hand on.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import CLOSED_STAGES, Lead, ReturnReason
from app.services import cadence, notices, pools

BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    breached: int
    returned: int


def start(lead: Lead, now: datetime, policy: cadence.Policy | None = None) -> None:
    """Run the clock from `now` for a lead nobody has contacted yet; a contacted lead keeps no clock.

    :param policy: the dealer's policy, when the caller has it already.
    """
    lead.sla_breached_at = None
    if lead.first_contact_at is not None or lead.dealer is None:
        lead.first_contact_due_at = lead.return_due_at = None
        return
    policy = policy or cadence.policy_for(lead.dealer)
    lead.first_contact_due_at = cadence.add_working_minutes(policy, now, policy.first_contact_minutes)
    lead.return_due_at = now + timedelta(hours=policy.return_after_hours)


def is_breached(lead: Lead, now: datetime) -> bool:
    """True while the lead waits for its first contact past the dealer's limit."""
    return lead.first_contact_at is None and lead.first_contact_due_at is not None and lead.first_contact_due_at <= now


def sweep(now: datetime) -> SweepResult:
    """Flag and escalate breaches, then return leads past the second limit; commits in batches."""
    breached = returned = 0
    waiting = select(Lead).where(Lead.first_contact_at.is_(None), Lead.stage.not_in(CLOSED_STAGES))
    while leads := _batch(waiting.where(Lead.first_contact_due_at <= now, Lead.sla_breached_at.is_(None))):
        for lead in leads:
            lead.sla_breached_at = now
            notices.tell_managers(lead, "first_contact_breach", key=lead.first_contact_due_at.isoformat())
        breached += len(leads)
        db.session.commit()
    while leads := _batch(waiting.where(Lead.return_due_at <= now)):
        for lead in leads:
            pools.take_back(lead, ReturnReason.NOT_CONTACTED, now)
        returned += len(leads)
        db.session.commit()
    return SweepResult(breached, returned)


def _batch(statement) -> list[Lead]:
    """The next leads to act on, locked (another worker skips them on PostgreSQL; SQLite has one writer)."""
    return list(db.session.scalars(statement.order_by(Lead.id).limit(BATCH).with_for_update(skip_locked=True, of=Lead)
                                   .options(joinedload(Lead.customer), joinedload(Lead.dealer))))
