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

Concurrency: choosing and counting happen under a write lock on the dealer's row (`Turns`: a no-op UPDATE takes
the row lock on PostgreSQL and the database's write lock on SQLite), so two imports at once serialise per dealer
and never give one lead to two consultants or skip a turn.
Every assignment is an activity, a notification for the consultant and an audit entry, and starts the
first-contact clock for a lead nobody has called yet (app.services.first_contact_clock). Callers commit.
"""
from sqlalchemy import select, update

from app.extensions import db
from app.models import (
    Activity, ActivityKind, AssignmentMode, Dealer, Lead, Region, Role, RoutingRule, RuleScope, User, utcnow,
)
from app.services import audit, cadence, first_contact_clock, notices


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


def route(agent: User, lead: Lead, dealer: Dealer, turns: "Turns | None" = None) -> User | None:
    """Hand a lead to a dealer (the lead desk's tap, or an import) and on to a consultant by the dealer's mode.

    :param turns: the transaction's turn keeping, when it routes many leads (an import's batch).
    """
    before = {"dealer_id": lead.dealer_id, "consultant_id": lead.consultant_id}
    lead.dealer_id, lead.routed_at, lead.routed_by_id = dealer.id, utcnow(), agent.id
    lead.dealer = dealer
    lead.returned_at = lead.return_reason = None
    audit.record(agent, "lead.routed", lead, dealer_id=dealer.id, before=before, after={"dealer_id": dealer.id})
    return assign_in_dealer(lead, agent, turns)


class Turns:
    """The dealers' rotations within one transaction: on first use a dealer's row is locked (a no-op UPDATE takes
    the row lock on PostgreSQL and the write lock on SQLite, both held to the commit), its consultants on shift
    and its cadence policy are read; from then on turns are counted in memory. Routing a batch of leads thus
    costs a few queries per dealer instead of several per lead, and no query in between flushes the batch's
    rows one by one. Use one Turns per transaction only: after the commit the lock is gone."""

    def __init__(self):
        self._dealers: dict[int, tuple[list[User], cadence.Policy]] = {}

    def _of(self, dealer: Dealer) -> tuple[list[User], cadence.Policy]:
        if dealer.id not in self._dealers:
            db.session.execute(update(Dealer).where(Dealer.id == dealer.id).values(id=Dealer.id))
            on_shift = list(db.session.scalars(select(User).where(
                User.dealer_id == dealer.id, User.role == Role.CONSULTANT, User.active.is_(True),
                User.on_shift.is_(True))))
            self._dealers[dealer.id] = on_shift, cadence.policy_for(dealer)
        return self._dealers[dealer.id]

    def policy(self, dealer: Dealer) -> cadence.Policy:
        return self._of(dealer)[1]

    def next_consultant(self, dealer: Dealer) -> User | None:
        """The consultant whose turn it is (lowest count per weight, then lowest id), counted; None if nobody
        is on shift."""
        on_shift = self._of(dealer)[0]
        if not on_shift:
            return None
        consultant = min(on_shift, key=lambda user: (user.rotation_count / user.routing_weight, user.id))
        consultant.rotation_count += 1
        return consultant


def assign_in_dealer(lead: Lead, by: User | None, turns: Turns | None = None) -> User | None:
    """Give the lead to the next consultant in the dealer's rotation, or leave it for the manager's pick."""
    turns = turns or Turns()
    dealer = lead.dealer
    policy = turns.policy(dealer)  # takes the dealer's lock before any choice
    consultant = None if dealer.assignment_mode is AssignmentMode.MANAGER_PICK else turns.next_consultant(dealer)
    if consultant is None:  # the manager's pick, or nobody on shift: the managers hand it on, nothing is lost
        first_contact_clock.start(lead, utcnow(), policy)
        notices.tell_managers(lead, "lead_to_assign", key=(lead.routed_at or lead.arrived_at).isoformat())
        return None
    assign(lead, consultant, by, policy)
    return consultant


def assign(lead: Lead, consultant: User, by: User | None, policy: cadence.Policy | None = None) -> None:
    """Make `consultant` the lead's consultant: history, notifications (a consultant who had it is told it went
    to a colleague) and audit; the open follow-up follows."""
    before, former = {"consultant_id": lead.consultant_id}, lead.consultant_id
    now = utcnow()
    lead.consultant_id, lead.consultant, lead.assigned_at = consultant.id, consultant, now
    lead.returned_at = lead.return_reason = None
    first_contact_clock.start(lead, now, policy)
    db.session.add(Activity(lead_id=lead.id, user_id=by.id if by else None, kind=ActivityKind.ASSIGNMENT,
                            summary=consultant.name, occurred_at=now))
    if lead.next_follow_up_at is not None:  # it mirrors the open follow-up: without one there is none to move
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
