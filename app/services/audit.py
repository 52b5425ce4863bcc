"""Writing the audit log, in the same transaction as the change it describes."""
from flask import has_request_context, request

from app.extensions import db
from app.models import AuditEntry, User


def record(actor: User | None, action: str, obj, *, dealer_id: int | None = None,
           before: dict | None = None, after: dict | None = None) -> AuditEntry:
    """Add an audit entry for obj to the session; the caller's commit makes it permanent with the change.

    :param action: what happened, as a dotted verb: "user.created", "user.password_reset".
    :param obj: the changed model instance (its table name and id are kept).
    """
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        dealer_id=dealer_id,
        action=action,
        object_type=obj.__tablename__,
        object_id=obj.id,
        before=before,
        after=after,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
