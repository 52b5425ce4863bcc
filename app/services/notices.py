"""Notifications about leads, written in the transaction of their cause; the dedupe key makes a repeat a no-op.

Every kind here has its words in app.labels (title: the customer's name, body: what happened).
"""
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import Lead, Notification, Role, User


def tell(user_id: int, lead: Lead, kind: str, *, key: str, body: str | None = None, url: str | None = None) -> None:
    """One notification about a lead for one user; `key` (with the kind and user) must name the occasion."""
    db.session.add(Notification(
        user_id=user_id, kind=kind, lead_id=lead.id, url=url or f"/leads/{lead.id}", title=lead.customer.name,
        body=body if body is not None else lead.model_of_interest, dedupe_key=f"lead:{lead.id}:{kind}:{user_id}:{key}"))


def tell_managers(lead: Lead, kind: str, *, key: str, body: str | None = None, url: str | None = None) -> None:
    """Tell each active manager of the lead's dealer, once per (lead, kind, key)."""
    for manager_id in db.session.scalars(select(User.id).where(
            User.dealer_id == lead.dealer_id, User.role == Role.MANAGER, User.active.is_(True))):
        tell(manager_id, lead, kind, key=key, body=body, url=url)


def add_many(rows: list[dict]) -> None:
    """Write many notifications in one statement (the reminder sweeps); a row whose dedupe key exists is skipped.

    :param rows: Notification columns, each with its dedupe_key.
    """
    if not rows:
        return
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(Notification).on_conflict_do_nothing(index_elements=["dedupe_key"]), rows)
