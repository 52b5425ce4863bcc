"""Routing: a lead goes to a dealer by the brand's rules, then to a consultant by the dealer's mode.

Tier one, OEM → dealer (`dealer_for`), rules as data (app.models.RoutingRule), the first match wins:
1. a rule for the customer's city;
2. a rule for the customer's province;
3. the fallback dealer of the region whose dealers cover that province;
4. none: the lead stays in the lead desk's inbox for a person to route.

Tier two, dealer → consultant (`assign_in_dealer`), by the dealer's assignment mode:
- round robin: among active consultants on shift, the one whose rotation count divided by their weight is
  lowest (ties: lowest id) gets the lead and their count goes up by one. With equal weights every consultant
  stays within one lead of the others. A consultant coming on shift joins at the lowest count among those on
  shift, so they take their turn rather than every lead until they catch up (`set_on_shift`).
- manager's pick: the lead waits unassigned and the dealer's managers are told.

Concurrency: choosing and counting happen under a write lock on the dealer's row (a no-op UPDATE takes the row
lock on PostgreSQL and the database's write lock on SQLite), so two imports at once serialise per dealer and
never give one lead to two consultants or skip a turn.
Every assignment is an activity, a notification for the consultant and an audit entry, and starts the
first-contact clock for a lead nobody has called yet (app.services.first_contact_clock). Callers commit.
"""
from sqlalchemy import select, update

from app.extensions import db
from app.models import (
    Activity, ActivityKind, AssignmentMode, Dealer, Lead, Region, Role, RoutingRule, RuleScope, User, utcnow,
)
from app.services import audit, first_contact_clock, notices


class Rules:
    """The brand's routing rules, read once (an import routes thousands of leads with one read)."""

    def __init__(self, oem_id: int):
        self.oem_id = oem_id
        self.rules = {(rule.scope, rule.match_value): rule.dealer for rule in db.session.scalars(
            select(RoutingRule).where(RoutingRule.oem_id == oem_id))}
        self.regions = dict(db.session.execute(select(Dealer.province, Region.code).join(Region).where(
            Region.oem_id == oem_id)).all())  # province → region code, from where the brand's dealers are

    def deciding_rule(self, city: str | None, province: str | None) -> tuple[RuleScope, str] | None:
        """The (scope, match value) of the first rule that matches this city and province, or None."""
        for scope, value in ((RuleScope.CITY, city), (RuleScope.PROVINCE, province)):
            if value and (scope, value) in self.rules:
                return scope, value
        region_code = self.regions.get(province) if province else None
        if region_code and (RuleScope.REGION_FALLBACK, region_code) in self.rules:
            return RuleScope.REGION_FALLBACK, region_code
        return None

    def dealer_for(self, city: str | None, province: str | None) -> Dealer | None:
        """The dealer these rules send a lead from this city and province to, or None."""
        rule = self.deciding_rule(city, province)
        return self.rules[rule] if rule else None


def dealer_for(oem_id: int, city: str | None, province: str | None) -> Dealer | None:
    """The dealer the brand's rules send a lead from this city and province to, or None."""
    return Rules(oem_id).dealer_for(city, province)


def route(agent: User, lead: Lead, dealer: Dealer) -> User | None:
    """Hand a lead to a dealer (the lead desk's tap, or an import) and on to a consultant by the dealer's mode."""
    before = {"dealer_id": lead.dealer_id, "consultant_id": lead.consultant_id}
    lead.dealer_id, lead.routed_at, lead.routed_by_id = dealer.id, utcnow(), agent.id
    lead.dealer = dealer
    lead.returned_at = lead.return_reason = None
    audit.record(agent, "lead.routed", lead, dealer_id=dealer.id, before=before, after={"dealer_id": dealer.id})
    return assign_in_dealer(lead, agent)


def assign_in_dealer(lead: Lead, by: User | None) -> User | None:
    """Give the lead to the next consultant in the dealer's rotation, or leave it for the manager's pick."""
    dealer = lead.dealer
    db.session.execute(update(Dealer).where(Dealer.id == dealer.id).values(id=Dealer.id))  # the dealer's lock
    if dealer.assignment_mode is AssignmentMode.MANAGER_PICK:
        _wait_for_managers(lead)
        return None
    consultant = db.session.scalar(
        select(User).where(User.dealer_id == dealer.id, User.role == Role.CONSULTANT, User.active.is_(True),
                           User.on_shift.is_(True))
        .order_by((User.rotation_count * 1.0 / User.routing_weight).asc(), User.id).limit(1))
    if consultant is None:  # nobody on shift: the managers pick, nothing is lost
        _wait_for_managers(lead)
        return None
    consultant.rotation_count += 1
    assign(lead, consultant, by)
    return consultant


def assign(lead: Lead, consultant: User, by: User | None) -> None:
    """Make `consultant` the lead's consultant: history, notifications (a consultant who had it is told it went
    to a colleague) and audit; the open follow-up follows."""
    before, former = {"consultant_id": lead.consultant_id}, lead.consultant_id
    now = utcnow()
    lead.consultant_id, lead.consultant, lead.assigned_at = consultant.id, consultant, now
    lead.returned_at = lead.return_reason = None
    first_contact_clock.start(lead, now)
    db.session.add(Activity(lead_id=lead.id, user_id=by.id if by else None, kind=ActivityKind.ASSIGNMENT,
                            summary=consultant.name, occurred_at=now))
    if lead.open_follow_up is not None:
        lead.open_follow_up.consultant_id = consultant.id
    notices.tell(consultant.id, lead, "lead_assigned", key=now.isoformat())
    if former is not None and former != consultant.id:
        notices.tell(former, lead, "lead_reassigned", key=now.isoformat(), body=consultant.name)
    audit.record(by, "lead.assigned", lead, dealer_id=lead.dealer_id, before=before,
                 after={"consultant_id": consultant.id})


def set_on_shift(consultant: User, on_shift: bool) -> None:
    """Put a consultant on or off shift; coming on, they join the rotation at the lowest count on shift."""
    if on_shift and not consultant.on_shift:
        lowest = db.session.scalar(
            select(User.rotation_count).where(User.dealer_id == consultant.dealer_id, User.role == Role.CONSULTANT,
                                              User.on_shift.is_(True), User.active.is_(True))
            .order_by(User.rotation_count).limit(1))
        consultant.rotation_count = max(consultant.rotation_count, lowest or 0)
    consultant.on_shift = on_shift


def _wait_for_managers(lead: Lead) -> None:
    """The lead waits in the dealer's pool with its clock running; the managers are told to hand it on."""
    first_contact_clock.start(lead, utcnow())
    notices.tell_managers(lead, "lead_to_assign", key=(lead.routed_at or lead.arrived_at).isoformat())
