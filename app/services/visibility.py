"""The one place that decides who may see which leads, customers, dealers and colleagues.

Every query for leads or customers starts here, so a view can never forget a filter:

- a consultant sees the leads assigned to them;
- a manager sees every lead of their dealer;
- an IDCC agent sees the leads the brand's lead desk captured and routed (origin OEM), and their status;
- an OEM admin sees the OEM-originated leads at the brand's dealers, plus aggregates (counts) of all leads.

A dealer's own leads (origin dealer) and the customers behind them never reach the brand's users.
A customer is visible when at least one of their leads is. Anything out of scope is a 404, not a 403,
so nobody learns that an id exists.
"""
from flask import abort
from sqlalchemy import ColumnElement, Select, and_, exists, false, select

from app.extensions import db
from app.models import Customer, Dealer, Lead, Origin, Region, Role, User


def lead_scope(user: User) -> ColumnElement[bool]:
    """The condition on Lead rows that this user may see."""
    if user.role is Role.CONSULTANT:
        return Lead.consultant_id == user.id
    if user.role is Role.MANAGER:
        return Lead.dealer_id == user.dealer_id
    if user.role is Role.IDCC_AGENT:
        return and_(Lead.oem_id == user.oem_id, Lead.origin == Origin.OEM)
    if user.role is Role.OEM_ADMIN:
        return and_(Lead.oem_id == user.oem_id, Lead.origin == Origin.OEM, Lead.dealer_id.is_not(None))
    return false()


def visible_leads(user: User) -> Select:
    """select(Lead) limited to what the user may see; callers add their own filters and order."""
    return select(Lead).where(lead_scope(user))


def visible_customers(user: User) -> Select:
    """select(Customer) limited to customers with at least one lead the user may see."""
    return select(Customer).where(exists().where(Lead.customer_id == Customer.id, lead_scope(user)))


def get_lead(user: User, lead_id: int) -> Lead:
    """The lead if the user may see it; abort with 404 otherwise."""
    lead = db.session.scalar(visible_leads(user).where(Lead.id == lead_id))
    if lead is None:
        abort(404)
    return lead


def get_lead_to_work(user: User, lead_id: int) -> Lead:
    """A lead the user may change: its consultant or the dealer's manager. 404 when out of sight, 403 when
    visible but not theirs to work (the lead desk and the brand follow leads, dealers work them)."""
    lead = get_lead(user, lead_id)
    if not user.role.belongs_to_dealer:
        abort(403)
    return lead


def dealer_leads(user: User) -> Select:
    """Every lead of the user's dealer, for front-desk acts that any colleague may do (recording a visit):
    finding a walk-in's open lead must not depend on which consultant owns it. Opening the lead page still
    goes through get_lead()."""
    if not user.role.belongs_to_dealer:
        return select(Lead).where(false())
    return select(Lead).where(Lead.dealer_id == user.dealer_id)


def get_customer(user: User, customer_id: int) -> Customer:
    """The customer if the user may see one of their leads; abort with 404 otherwise."""
    customer = db.session.scalar(visible_customers(user).where(Customer.id == customer_id))
    if customer is None:
        abort(404)
    return customer


def visible_dealers(user: User) -> Select:
    """Dealers the user works at (dealer roles) or oversees (brand roles)."""
    statement = select(Dealer).join(Region)
    if user.role.belongs_to_dealer:
        return statement.where(Dealer.id == user.dealer_id)
    return statement.where(Region.oem_id == user.oem_id)


def sees_aggregates_of_all_leads(user: User) -> bool:
    """Brand users may count every lead of their dealers, though they may open only OEM-originated ones."""
    return user.role is Role.OEM_ADMIN


def manageable_consultants(manager: User) -> Select:
    """The consultants a manager may add, deactivate and reset: those of their own dealer."""
    if manager.role is not Role.MANAGER:
        return select(User).where(false())
    return select(User).where(User.dealer_id == manager.dealer_id, User.role == Role.CONSULTANT)


def get_consultant(manager: User, user_id: int) -> User:
    """A consultant of the manager's dealer; abort with 404 for anyone else."""
    consultant = db.session.scalar(manageable_consultants(manager).where(User.id == user_id))
    if consultant is None:
        abort(404)
    return consultant
