"""Pools: where leads wait for a person, and taking leads back from consultants who do not work them.

- The lead desk's pool holds the brand's leads (origin OEM) with no dealer; the desk routes them again.
- A dealer's pool holds its leads with no consultant; the manager hands them on (app.services.assignments).

`take_back` moves a lead into its pool: the brand's leads go back to the lead desk (its dealer and consultant
are cleared), a dealer's own stay with the dealer without a consultant. The open follow-up is cancelled (nobody
owns it now), the reason is kept on the lead until it is assigned again, the former consultant and the managers
(or, for the desk, its inbox) are told, and the history and the audit log record it.

Recycling (`recycle`, run by the worker): an open lead nobody has touched for the dealer's recycle period (its
cadence policy's, 14 days by default) goes back the same way. Untouched means no contact in that period (never
contacted: no assignment in it) and no follow-up due in it or ahead: a C-level lead waiting for its monthly call
stays, and so does one whose follow-up fell due a few days ago; one whose follow-up has been overdue for the whole
period goes.
"""
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    CLOSED_STAGES, Activity, ActivityKind, Lead, Origin, ReturnReason, User,
)
from app.services import audit, cadence, follow_ups, notices

BATCH = 500


def take_back(lead: Lead, reason: ReturnReason, now: datetime, by: User | None = None) -> None:
    """Put the lead into its pool as the module describes. The caller commits."""
    before = {"dealer_id": lead.dealer_id, "consultant_id": lead.consultant_id}
    former, dealer_id = lead.consultant_id, lead.dealer_id
    follow_ups.set_next(lead, None, done=False)
    lead.consultant_id = None
    to_desk = lead.origin is Origin.OEM
    if to_desk:
        lead.dealer_id, lead.dealer = None, None
    lead.returned_at, lead.return_reason = now, reason
    lead.first_contact_due_at = lead.return_due_at = lead.sla_breached_at = None
    db.session.add(Activity(lead_id=lead.id, user_id=by.id if by else None, kind=ActivityKind.ASSIGNMENT,
                            summary=f"returned_to_{'desk' if to_desk else 'pool'}", occurred_at=now))
    if former is not None and (by is None or by.id != former):
        notices.tell(former, lead, "lead_taken_back", key=now.isoformat(), body=reason.value)
    if not to_desk:
        notices.tell_managers(lead, "lead_to_assign", key=now.isoformat(), body=reason.value)
    audit.record(by, "lead.returned", lead, dealer_id=dealer_id, before=before,
                 after={"dealer_id": lead.dealer_id, "consultant_id": None, "reason": reason.value})


def recycle(now: datetime) -> int:
    """Take back every untouched lead as the module describes; commits in batches. Returns how many."""
    dealers_by_days = defaultdict(list)
    for dealer_id, days in db.session.execute(cadence.setting_by_dealer("recycle_days")):
        dealers_by_days[days].append(dealer_id)
    recycled = 0
    last_touch = func.coalesce(Lead.last_contact_at, Lead.assigned_at)
    for days, dealer_ids in dealers_by_days.items():
        cutoff = now - timedelta(days=days)
        untouched = select(Lead).where(
            Lead.dealer_id.in_(dealer_ids), Lead.consultant_id.is_not(None), Lead.stage.not_in(CLOSED_STAGES),
            Lead.first_contact_at.is_not(None), last_touch < cutoff,
            or_(Lead.next_follow_up_at.is_(None), Lead.next_follow_up_at < cutoff),
        ).options(joinedload(Lead.customer)).order_by(Lead.id).limit(BATCH).with_for_update(skip_locked=True, of=Lead)
        while leads := list(db.session.scalars(untouched)):
            for lead in leads:
                take_back(lead, ReturnReason.UNTOUCHED, now)
            recycled += len(leads)
            db.session.commit()
    return recycled
