"""The lists of leads each role lands on, with search and paging; always through the visibility service."""
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import CLOSED_STAGES, Customer, Lead, Role, Stage, User
from app.services import visibility
from app.services.phones import InvalidPhone, looks_like_phone, normalise_mobile


@dataclass(frozen=True)
class LeadPage:
    leads: list[Lead]
    page: int
    has_more: bool


def list_leads(user: User, *, stage: Stage | None = None, q: str = "", page: int = 1,
               page_size: int = 50) -> LeadPage:
    """One page of the leads the user may see.

    Without a stage, a consultant's and a manager's list holds open leads only; the lead desk sees every
    lead it routed. A consultant's list is ordered by next follow-up (none last), the others newest first.

    :param q: the search text: a mobile number (matched exactly after normalising) or the start of a customer's name.
    """
    statement = visibility.visible_leads(user)
    if stage is not None:
        statement = statement.where(Lead.stage == stage)
    elif user.role.belongs_to_dealer:
        statement = statement.where(Lead.stage.not_in(CLOSED_STAGES))
    if q.strip():
        statement = statement.where(Lead.customer_id.in_(_matching_customers(user, q.strip())))
    if user.role is Role.CONSULTANT:
        statement = statement.order_by(Lead.next_follow_up_at.asc().nulls_last(), Lead.id)
    else:
        statement = statement.order_by(Lead.arrived_at.desc(), Lead.id.desc())
    statement = (
        statement.options(joinedload(Lead.customer), joinedload(Lead.consultant), joinedload(Lead.dealer))
        .offset((page - 1) * page_size)
        .limit(page_size + 1)
    )
    leads = list(db.session.scalars(statement))
    return LeadPage(leads=leads[:page_size], page=page, has_more=len(leads) > page_size)


def _matching_customers(user: User, query: str):
    """Ids of the brand's customers whose number is the query, or whose name starts with it."""
    conditions = [Customer.name.like(_escape_like(query) + "%", escape="\\")]
    if looks_like_phone(query):
        region = user.dealer.phone_region if user.dealer else "CN"
        try:
            conditions.append(Customer.phone_e164 == normalise_mobile(query, region))
        except InvalidPhone:
            pass
    return select(Customer.id).where(Customer.oem_id == user.oem_id, or_(*conditions))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
