"""Changing a lead's stage or intent level, adding a note to its history, and asking the manager to close it as
lost or invalid or to cancel its next follow-up (consultants give leads up to escape follow-up work, so each needs
a reason and a yes).

Every change is also an activity, so the lead's history tells what happened and who did it; a stage change is
an audit entry too, and sets the funnel milestones the new stage implies (app.services.milestones).
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Activity, ActivityKind, ApprovalKind, ApprovalRequest, ApprovalStatus, IntentLevel, Lead,
    Stage, User, utcnow,
)
from app.services import audit, follow_ups, milestones, notices

FUNNEL = (Stage.NEW, Stage.CONTACTED, Stage.INVITED, Stage.VISITED, Stage.TEST_DRIVE, Stage.NEGOTIATING,
          Stage.ORDERED, Stage.DELIVERED)
# Reasons a consultant picks from (the manager and the OEM audit them); the words live in app.labels.
REASONS = {
    ApprovalKind.MARK_LOST: ("bought_competitor", "bought_elsewhere", "price", "postponed",
                             "no_longer_interested", "unreachable"),
    ApprovalKind.MARK_INVALID: ("wrong_number", "duplicate", "not_a_buyer", "test_or_spam"),
    ApprovalKind.CANCEL_FOLLOW_UP: ("asked_not_to_call", "away_for_now", "waiting_for_customer", "duplicate_task"),
}
CLOSE_KINDS = (ApprovalKind.MARK_LOST, ApprovalKind.MARK_INVALID)


class LeadChangeError(ValueError):
    """A change that cannot be made; the message is for the consultant."""


def change_stage(user: User, lead: Lead, stage: Stage, *, commit: bool = True) -> None:
    """Move the lead to a stage of the funnel and record its milestones (never moved back, even when the stage
    is). Ordered sets intent O; delivered closes the lead and its follow-up.

    :raise LeadChangeError: for lost or invalid (they need the manager: request_approval) or a closed lead.
    """
    if stage not in FUNNEL:
        raise LeadChangeError(_l("Lost and invalid need your manager's approval: request it instead."))
    if not lead.is_open:
        raise LeadChangeError(_l("This lead is closed."))
    if stage is lead.stage:
        return
    now = utcnow()
    _record(user, lead, ActivityKind.STAGE_CHANGE, f"{lead.stage.value} → {stage.value}")
    audit.record(user, "lead.stage_changed", lead, dealer_id=lead.dealer_id, before={"stage": lead.stage.value},
                 after={"stage": stage.value})
    lead.stage = stage
    milestones.reach(lead, stage, now)
    if stage is Stage.ORDERED and lead.intent_level is not IntentLevel.O:
        change_intent(user, lead, IntentLevel.O, commit=False)
    if stage is Stage.DELIVERED:
        lead.closed_at = now
        follow_ups.set_next(lead, None, done=False)
    if commit:
        db.session.commit()


def advance_to(user: User, lead: Lead, stage: Stage) -> None:
    """Move the lead forward to `stage` if it is still earlier in the funnel; never backwards. The caller commits."""
    if lead.is_open and FUNNEL.index(lead.stage) < FUNNEL.index(stage):
        change_stage(user, lead, stage, commit=False)


def change_intent(user: User, lead: Lead, level: IntentLevel, *, commit: bool = True) -> None:
    """Set how soon the customer will buy; the next follow-up set after this uses the new level's cadence."""
    if not lead.is_open:
        raise LeadChangeError(_l("This lead is closed."))
    if level is lead.intent_level:
        return
    _record(user, lead, ActivityKind.INTENT_CHANGE, f"{lead.intent_level.value} → {level.value}")
    lead.intent_level = level
    if commit:
        db.session.commit()


def add_note(user: User, lead: Lead, text: str) -> Activity:
    """Add a note to the lead's history (something learned or agreed, without a call or message to log); it
    changes nothing else on the lead. A note may reach a lead closed since it was written on a phone without
    signal: it is kept all the same, history is never refused."""
    note = _record(user, lead, ActivityKind.NOTE, None, text)
    db.session.commit()
    return note


def pending_request(lead: Lead) -> ApprovalRequest | None:
    """The lead's undecided request, if any: the lead shows "lost requested" (or the like) meanwhile."""
    return db.session.scalar(select(ApprovalRequest).where(
        ApprovalRequest.lead_id == lead.id, ApprovalRequest.status == ApprovalStatus.PENDING))


def request_approval(user: User, lead: Lead, kind: ApprovalKind, reason: str,
                     note: str | None) -> ApprovalRequest:
    """Ask the dealer's manager to close the lead as lost or invalid, or to cancel its next follow-up; the lead
    and its follow-up stay as they are until the manager decides (app.services.approvals).

    :raise LeadChangeError: for an unknown reason, a closed lead, no follow-up to cancel, or a request already
        waiting.
    """
    if reason not in REASONS.get(kind, ()):
        raise LeadChangeError(_l("Choose a reason from the list."))
    if not lead.is_open:
        raise LeadChangeError(_l("This lead is closed."))
    if kind is ApprovalKind.CANCEL_FOLLOW_UP and lead.next_follow_up_at is None:
        raise LeadChangeError(_l("This lead has no follow-up to cancel."))
    if pending_request(lead) is not None:
        raise LeadChangeError(_l("A request for this lead is already waiting for your manager."))
    request = ApprovalRequest(lead_id=lead.id, dealer_id=lead.dealer_id, requested_by_id=user.id, kind=kind,
                              reason=reason, note=note)
    db.session.add(request)
    db.session.flush()
    _record(user, lead, ActivityKind.NOTE, f"{kind.value}: {reason}", note)
    notices.tell_managers(lead, "approval_requested", key=f"approval:{request.id}", body=note, url="/approvals")
    db.session.commit()
    return request


def _record(user: User, lead: Lead, kind: ActivityKind, summary: str | None, note: str | None = None) -> Activity:
    activity = Activity(lead_id=lead.id, user_id=user.id, kind=kind, summary=summary, note=note)
    db.session.add(activity)
    return activity
