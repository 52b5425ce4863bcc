"""The brand's lead desk (IDCC): capture a lead from a call, never a second open lead for one person, and route.

A person is one customer of the brand, found by normalised mobile number. A new lead from a call is refused
while the person has an open lead at any dealer: the desk is told which dealer, and that dealer keeps working
the lead. Otherwise the lead waits in the desk's inbox with the dealer the rules suggest, until routed with
one tap (routing.route hands it on to a consultant at once). Leads a dealer did not work come back to the same
inbox (app.services.pools): after a no-show, when nobody called in time, or when nobody followed them up.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    CLOSED_STAGES, ApprovalRequest, ApprovalStatus, Customer, Dealer, Lead,
    Origin, Region, Stage, User, utcnow,
)
from app.services import FieldError, callers, lead_changes, routing, visibility

DESK_SOURCES = ("oem_hotline", "brand_website", "autohome", "dongchedi", "yiche")
DESK_ZONE = ZoneInfo("Asia/Shanghai")  # the brand's lead desk works on Beijing time
CLOSED_LATELY = timedelta(days=30)


class DeskError(FieldError):
    """A capture or a routing that cannot be done; `field` names the form field the message belongs to."""


@dataclass(frozen=True)
class Inbox:
    waiting: list[Lead]  # captured, never routed yet
    returned: list[Lead]  # taken back from a dealer (no-show, not called in time, untouched), with the reason
    suggestions: dict[int, Dealer | None]  # the dealer the rules suggest for each waiting or returned lead
    routed_today: list[Lead]
    closed: list[tuple[Lead, ApprovalRequest | None]]  # lost or invalid lately, with the approved request


def open_leads_of(oem_id: int, phone: str) -> list[Lead]:
    """The brand's open leads of the person with this number, at any dealer (dealer and stage shown only)."""
    return list(db.session.scalars(
        select(Lead).join(Lead.customer).where(Customer.oem_id == oem_id, Customer.phone_e164 == phone,
                                               Lead.stage.not_in(CLOSED_STAGES))
        .options(joinedload(Lead.dealer)).order_by(Lead.arrived_at.desc())))


def capture(agent: User, data: dict) -> Lead:
    """Create the lead of a call, reusing the brand's customer with this number.

    :param data: a loaded DeskLeadSchema (phone already in E.164).
    :raise DeskError: when the person already has an open lead somewhere.
    """
    existing = open_leads_of(agent.oem_id, data["phone"])
    if existing:
        where = existing[0].dealer.name if existing[0].dealer else _l("the lead desk's inbox")
        raise DeskError("phone", _l("This person already has an open lead at %(where)s; it stays there.",
                                    where=where))
    known = db.session.scalar(select(Customer).where(Customer.oem_id == agent.oem_id,
                                                     Customer.phone_e164 == data["phone"]))
    now = utcnow()
    customer = callers.customer_of_call(agent, known, data, now)
    lead = Lead(oem_id=agent.oem_id, customer=customer, origin=Origin.OEM, source=data["source"],
                model_of_interest=data.get("model_of_interest"), intent_level=data["intent_level"],
                arrived_at=now, created_by_id=agent.id)
    db.session.add(lead)
    db.session.commit()
    return lead


def inbox(agent: User) -> Inbox:
    """The desk's inbox: new and returned leads waiting to be routed (oldest first, each with the dealer the
    rules suggest), those routed today, and the brand's leads closed as lost or invalid in the last 30 days with
    the reason the dealer's manager approved (the brand audits them)."""
    scope = visibility.visible_leads(agent).options(joinedload(Lead.customer), joinedload(Lead.dealer))
    unrouted = scope.where(Lead.dealer_id.is_(None), Lead.stage.not_in(CLOSED_STAGES)).order_by(Lead.arrived_at)
    waiting = list(db.session.scalars(unrouted.where(Lead.returned_at.is_(None)).limit(100)))
    returned = list(db.session.scalars(unrouted.where(Lead.returned_at.is_not(None)).limit(100)))
    since = datetime.now(DESK_ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    routed = list(db.session.scalars(scope.where(Lead.routed_at >= since).order_by(Lead.routed_at.desc()).limit(100)))
    rules = routing.Rules(agent.oem_id)
    suggestions = {lead.id: rules.dealer_for(lead.customer.city, None) for lead in waiting + returned}
    return Inbox(waiting, returned, suggestions, routed, _closed_lately(agent))


def _closed_lately(agent: User) -> list[tuple[Lead, ApprovalRequest | None]]:
    rows = db.session.execute(
        visibility.visible_leads(agent)
        .add_columns(ApprovalRequest)
        .outerjoin(ApprovalRequest, (ApprovalRequest.lead_id == Lead.id)
                   & (ApprovalRequest.status == ApprovalStatus.APPROVED)
                   & ApprovalRequest.kind.in_(lead_changes.CLOSE_KINDS))
        .where(Lead.stage.in_((Stage.LOST, Stage.INVALID)), Lead.closed_at >= utcnow() - CLOSED_LATELY)
        .options(joinedload(Lead.customer), joinedload(Lead.dealer), joinedload(Lead.consultant))
        .order_by(Lead.closed_at.desc()).limit(100))
    return [(lead, request) for lead, request in rows]


def dealers(agent: User) -> list[Dealer]:
    """The brand's dealers to route to, by region then code."""
    return list(db.session.scalars(visibility.visible_dealers(agent).order_by(Region.code, Dealer.code)))


def route(agent: User, lead: Lead, dealer_id: int) -> User | None:
    """Route a waiting lead to a dealer of the brand with one tap; returns the consultant it went to, if any.

    :raise DeskError: for a dealer outside the brand or a lead already routed.
    """
    dealer = db.session.scalar(visibility.visible_dealers(agent).where(Dealer.id == dealer_id))
    if dealer is None:
        raise DeskError("dealer_id", _l("Choose a dealer of the brand."))
    if lead.dealer_id is not None:
        raise DeskError("dealer_id", _l("This lead was routed already."))
    consultant = routing.route(agent, lead, dealer)
    db.session.commit()
    return consultant
