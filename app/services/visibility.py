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
from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select

from app.extensions import db
from app.models import ApiToken, ApprovalRequest, AuditEntry, Customer, Dealer, Lead, Origin, Region, Role, User


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


def answers_data_requests(user: User) -> bool:
    """Who answers a customer's request to see or erase their data: a dealer's manager (for the dealer) and the
    OEM admin (for the brand's lead desk); consultants and lead desk agents pass such requests on."""
    return user.role in (Role.MANAGER, Role.OEM_ADMIN)


def data_request_scope(user: User) -> ColumnElement[bool]:
    """The leads whose records this user answers for in a data request: a manager their dealer's, the OEM admin
    every lead the brand's desk captured (routed or still in the desk's inbox). Nothing for other roles."""
    if user.role is Role.MANAGER:
        return Lead.dealer_id == user.dealer_id
    if user.role is Role.OEM_ADMIN:
        return and_(Lead.oem_id == user.oem_id, Lead.origin == Origin.OEM)
    return false()


def get_customer_for_data_request(user: User, customer_id: int) -> Customer:
    """A visible customer whose data request this user may answer: 404 when out of sight, 403 when visible but
    not theirs to answer (a consultant, the lead desk)."""
    customer = get_customer(user, customer_id)
    if not answers_data_requests(user):
        abort(403)
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



def token_holders(user: User) -> Select:
    """The people whose API tokens this user may issue and revoke: a manager anyone at their dealer (themselves
    included), an OEM admin the brand's own people (lead desk agents and administrators, no dealer's staff)."""
    if user.role is Role.MANAGER:
        return select(User).where(User.dealer_id == user.dealer_id)
    if user.role is Role.OEM_ADMIN:
        return select(User).where(User.oem_id == user.oem_id, User.dealer_id.is_(None))
    return select(User).where(false())


def get_token_holder(user: User, user_id: int) -> User:
    """Someone this user may issue an API token for; abort with 404 for anyone else."""
    holder = db.session.scalar(token_holders(user).where(User.id == user_id))
    if holder is None:
        abort(404)
    return holder


def visible_api_tokens(user: User) -> Select:
    """select(ApiToken) of the people whose tokens this user looks after (token_holders)."""
    return select(ApiToken).where(ApiToken.user_id.in_(token_holders(user).with_only_columns(User.id)))


def get_api_token(user: User, token_id: int) -> ApiToken:
    """A token this user looks after; abort with 404 for any other."""
    token = db.session.scalar(visible_api_tokens(user).where(ApiToken.id == token_id))
    if token is None:
        abort(404)
    return token

# Audit actions on a lead that are about where it goes (the brand's routing), not about the customer.
LEAD_ROUTING_ACTIONS = ("lead.routed", "lead.assigned", "lead.returned")
# A customer's data shown or downloaded, and erased (app.services.customer_data, app.services.erasure).
DATA_REQUEST_ACTIONS = ("customer.exported", "customer.erased")


def audit_scope(user: User) -> ColumnElement[bool]:
    """The condition on AuditEntry rows that this user may read in the audit trail.

    - A manager reads every entry of their dealer (dealer_id is theirs): the team, its leads and customers,
      approvals, the dealer's cadence, the brand's routing to them, and the trail's own downloads.
    - An OEM admin reads the brand's routing and approvals: entries whose dealer or actor belongs to the brand
      and that are one of
        * a routing rule created, changed or deleted ("routing_rule.*");
        * an OEM-originated lead of the brand routed, assigned or returned (LEAD_ROUTING_ACTIONS);
        * an approval decision ("approval.*") on an OEM-originated lead of the brand;
        * a cadence policy of the brand, one of its regions or dealers ("oem.*", "region.*", "dealer.*");
        * a download of the audit trail, or an API token issued or revoked, by one of the brand's own users
          ("audit.exported", "api_token.*", without a dealer);
        * a customer's data exported or erased by one of the brand's users (DATA_REQUEST_ACTIONS: they hold
          no personal data).
      Everything else stays with the dealer: customers' details ("customer.*"), stage changes, the team
      ("user.*"), and anything about a dealer's own (dealer-originated) leads, even approvals, whose comments
      may speak of the customer.
    - Consultants and IDCC agents read nothing (the views answer 403).
    """
    if user.role is Role.MANAGER:
        return AuditEntry.dealer_id == user.dealer_id
    if user.role is not Role.OEM_ADMIN:
        return false()
    brand_dealers = select(Dealer.id).join(Region).where(Region.oem_id == user.oem_id)
    brand_regions = select(Region.id).where(Region.oem_id == user.oem_id)
    brand_users = select(User.id).where(User.oem_id == user.oem_id)
    brand_users_off_dealers = brand_users.where(User.dealer_id.is_(None))
    oem_leads = select(Lead.id).where(Lead.oem_id == user.oem_id, Lead.origin == Origin.OEM)
    oem_lead_requests = select(ApprovalRequest.id).where(ApprovalRequest.lead_id.in_(oem_leads))
    action = AuditEntry.action
    concerns_routing = or_(
        action.startswith("routing_rule.", autoescape=True),
        and_(action.in_(LEAD_ROUTING_ACTIONS), AuditEntry.object_type == Lead.__tablename__,
             AuditEntry.object_id.in_(oem_leads)),
        and_(action.startswith("approval.", autoescape=True),
             AuditEntry.object_type == ApprovalRequest.__tablename__, AuditEntry.object_id.in_(oem_lead_requests)),
        and_(action.startswith("oem.", autoescape=True), AuditEntry.object_type == "oems",
             AuditEntry.object_id == user.oem_id),
        and_(action.startswith("region.", autoescape=True), AuditEntry.object_type == Region.__tablename__,
             AuditEntry.object_id.in_(brand_regions)),
        and_(action.startswith("dealer.", autoescape=True), AuditEntry.object_type == Dealer.__tablename__,
             AuditEntry.object_id.in_(brand_dealers)),
        and_(or_(action == "audit.exported", action.startswith("api_token.", autoescape=True)),
             AuditEntry.dealer_id.is_(None), AuditEntry.actor_id.in_(brand_users_off_dealers)),
        and_(action.in_(DATA_REQUEST_ACTIONS), AuditEntry.actor_id.in_(brand_users_off_dealers)),
    )
    belongs_to_brand = or_(AuditEntry.dealer_id.in_(brand_dealers), AuditEntry.actor_id.in_(brand_users))
    return and_(belongs_to_brand, concerns_routing)


def may_read_audit_trail(user: User) -> bool:
    """Managers (their dealer's trail) and OEM admins (the brand's routing and approvals)."""
    return user.role in (Role.MANAGER, Role.OEM_ADMIN)
