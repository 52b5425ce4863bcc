"""The lists of leads each role lands on, and search; always through the visibility service."""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_
from sqlalchemy.orm import contains_eager, joinedload

from app.extensions import db
from app.models import CLOSED_STAGES, Customer, IntentLevel, Lead, Role, Stage, User, utcnow
from app.services import assignments, first_contact_clock, visibility
from app.services.phones import InvalidPhone, looks_like_phone, normalise_mobile


@dataclass(frozen=True)
class LeadPage:
    leads: list[Lead]
    page: int
    has_more: bool
    now: datetime | None = None
    breached: frozenset[int] = field(default_factory=frozenset)  # leads past their first-contact limit at `now`


def list_leads(user: User, *, stage: Stage | None = None, q: str = "", page: int = 1, page_size: int = 50,
               include_closed: bool = False, pool: bool = False, intent: IntentLevel | None = None) -> LeadPage:
    """One page of the leads the user may see.

    Without a stage, a consultant's and a manager's list holds open leads only (unless include_closed, as search
    does); the lead desk sees every lead it routed. A consultant's list is ordered by next follow-up (none
    last), the others newest first. The page names the leads waiting past their first-contact limit.

    :param q: a name's start, a mobile number in any format or part of one, or part of a model's name.
    :param pool: only the manager's dealer's pool, the lead waiting longest first (app.services.assignments).
    :param intent: only leads of this intent level.
    """
    if pool:
        statement = assignments.pool(user)
    elif user.role is Role.CONSULTANT:
        statement = visibility.visible_leads(user).order_by(Lead.next_follow_up_at.asc().nulls_last(), Lead.id)
    else:
        statement = visibility.visible_leads(user).order_by(Lead.arrived_at.desc(), Lead.id.desc())
    statement = statement.join(Lead.customer)
    if stage is not None:
        statement = statement.where(Lead.stage == stage)
    elif user.role.belongs_to_dealer and not include_closed:
        statement = statement.where(Lead.stage.not_in(CLOSED_STAGES))
    if intent is not None:
        statement = statement.where(Lead.intent_level == intent)
    if q.strip():
        statement = statement.where(_matches(user, q.strip()))
    statement = (
        statement.options(contains_eager(Lead.customer), joinedload(Lead.consultant), joinedload(Lead.dealer))
        .offset((page - 1) * page_size)
        .limit(page_size + 1)
    )
    leads, now = list(db.session.scalars(statement)), utcnow()
    breached = frozenset(lead.id for lead in leads if first_contact_clock.is_breached(lead, now))
    return LeadPage(leads=leads[:page_size], page=page, has_more=len(leads) > page_size, now=now, breached=breached)


def _matches(user: User, query: str):
    """Leads whose customer's name starts with the query, whose number is or contains it, or whose model of
    interest contains it. Applied within the user's scope, so its cost grows with what they see, not the brand.

    A whole mobile number (the usual search: the customer is on the phone) is found through the brand's index of
    numbers alone: no name or model holds one, and "contains" cannot use an index."""
    if looks_like_phone(query):
        try:
            number = normalise_mobile(query, user.dealer.phone_region if user.dealer else "CN")
        except InvalidPhone:
            pass
        else:
            return and_(Customer.oem_id == user.oem_id, Customer.phone_e164 == number)
    conditions = [Customer.name.like(_escape_like(query) + "%", escape="\\"),
                  Lead.model_of_interest.ilike("%" + _escape_like(query) + "%", escape="\\")]
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 3 and len(digits) >= len(query.replace(" ", "").replace("-", "").replace("+", "")) - 1:
        conditions.append(Customer.phone_e164.like(f"%{digits}%"))
    return or_(*conditions)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
