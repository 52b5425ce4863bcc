"""The manager's approval queue: lost, invalid and cancel-follow-up requests, decided with a comment.

Deciding a request (`decide`):
1. Only a pending request of the manager's own dealer can be decided, once.
2. Approved "lost" or "invalid" closes the lead in that stage and cancels its next follow-up; approved "cancel
   follow-up" cancels the open follow-up. Rejected leaves the lead as it was (the consultant keeps working it).
3. The consultant who asked is notified, the history records the decision, and the audit log keeps who decided
   what, when, with the lead's stage before and after.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    Activity, ActivityKind, ApprovalKind, ApprovalRequest, ApprovalStatus, Lead, Notification, Role, Stage, User,
    utcnow,
)
from app.services import audit, follow_ups

CLOSING = {ApprovalKind.MARK_LOST: Stage.LOST, ApprovalKind.MARK_INVALID: Stage.INVALID}


class ApprovalError(ValueError):
    """A decision that cannot be made; the message is for the manager."""


def queue(manager: User) -> list[ApprovalRequest]:
    """The dealer's pending requests, oldest first, with their leads and customers loaded."""
    if manager.role is not Role.MANAGER:
        return []
    return list(db.session.scalars(
        select(ApprovalRequest)
        .where(ApprovalRequest.dealer_id == manager.dealer_id, ApprovalRequest.status == ApprovalStatus.PENDING)
        .options(joinedload(ApprovalRequest.lead).joinedload(Lead.customer), joinedload(ApprovalRequest.requested_by))
        .order_by(ApprovalRequest.created_at)
    ))


def get_request(manager: User, request_id: int) -> ApprovalRequest | None:
    """A request of the manager's own dealer, or None."""
    return db.session.scalar(select(ApprovalRequest).where(
        ApprovalRequest.id == request_id, ApprovalRequest.dealer_id == manager.dealer_id))


def decide(manager: User, request: ApprovalRequest, approve: bool, comment: str | None) -> None:
    """Approve or reject a request as the module describes, in one transaction.

    :raise ApprovalError: when the request was already decided, or the lead closed meanwhile.
    """
    if request.status is not ApprovalStatus.PENDING:
        raise ApprovalError(_l("This request was already decided."))
    lead = request.lead
    before = {"stage": lead.stage.value, "next_follow_up_at": _iso(lead.next_follow_up_at)}
    if approve:
        if not lead.is_open:
            raise ApprovalError(_l("This lead is closed already."))
        if request.kind in CLOSING:
            stage = CLOSING[request.kind]
            db.session.add(Activity(lead_id=lead.id, user_id=manager.id, kind=ActivityKind.STAGE_CHANGE,
                                    summary=f"{lead.stage.value} → {stage.value}", note=comment))
            lead.stage, lead.closed_at = stage, utcnow()
        follow_ups.set_next(lead, None, done=False)
    else:
        db.session.add(Activity(lead_id=lead.id, user_id=manager.id, kind=ActivityKind.NOTE,
                                summary=f"rejected: {request.reason}", note=comment))
    request.status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    request.decided_by_id, request.decided_at, request.decision_note = manager.id, utcnow(), comment
    db.session.add(Notification(
        user_id=request.requested_by_id, kind=f"approval_{request.status.value}", lead_id=lead.id,
        url=f"/leads/{lead.id}", title=lead.customer.name, body=comment, dedupe_key=f"approval:{request.id}:decided"))
    audit.record(manager, f"approval.{request.status.value}", request, dealer_id=request.dealer_id, before=before,
                 after={"stage": lead.stage.value, "next_follow_up_at": _iso(lead.next_follow_up_at),
                        "kind": request.kind.value, "reason": request.reason, "comment": comment})
    db.session.commit()


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None
