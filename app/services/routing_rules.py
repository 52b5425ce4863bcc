"""The brand's routing rules as its OEM admin edits them: list, add, change the dealer of, delete, and explain.

How a lead is matched lives in app.services.routing (Rules: city, then province, then the fallback of the region
whose dealers cover the province); this module keeps the rules sound:
- a value (trimmed, given by the form schema) has at most one rule per scope; a second one is refused with the
  dealer the existing rule sends leads to;
- every rule sends leads to an active dealer of the brand;
- a region fallback matches one of the brand's region codes, and its dealer is one of that region's dealers.
Only the brand's OEM admin edits its rules; another brand's rule is not there for them (None, a 404).
Every change is an audit entry ("routing_rule.created" / "changed" / "deleted", before and after: scope, match
value, dealer), committed here with the change.
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, false, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Dealer, Region, Role, RoutingRule, RuleScope, User
from app.services import FieldError, audit, routing, visibility


class RuleError(FieldError):
    """A rule that cannot be saved; `field` names the form field the message belongs to."""


@dataclass(frozen=True)
class Choices:
    """What the editor offers: the brand's active dealers (by region), its regions, where its dealers are."""

    dealers: list[Dealer]
    regions: dict[str, Region]  # by code
    places: list[str]  # the dealers' cities and provinces, for the value's suggestions


@dataclass(frozen=True)
class Explanation:
    """Which rule decides a lead from a place, and its dealer; scope None: no rule, the lead desk routes it."""

    scope: RuleScope | None = None
    match_value: str | None = None
    dealer: Dealer | None = None
    region: Region | None = None  # the region of a fallback


def editable_rules(user: User) -> Select:
    """select(RoutingRule) limited to the rules this user may edit: their brand's, for its OEM admin only."""
    if user.role is not Role.OEM_ADMIN:
        return select(RoutingRule).where(false())
    return select(RoutingRule).where(RoutingRule.oem_id == user.oem_id)


def get_rule(admin: User, rule_id: int) -> RoutingRule | None:
    """A rule the admin may edit, or None."""
    return db.session.scalar(editable_rules(admin).where(RoutingRule.id == rule_id))


def rules(admin: User) -> dict[RuleScope, list[RoutingRule]]:
    """The brand's rules by scope (city, province, region fallback), each by match value, dealers loaded."""
    grouped = {scope: [] for scope in RuleScope}
    for rule in db.session.scalars(editable_rules(admin).options(
            joinedload(RoutingRule.dealer).joinedload(Dealer.region)).order_by(RoutingRule.match_value)):
        grouped[rule.scope].append(rule)
    return grouped


def choices(admin: User) -> Choices:
    """The dealers a rule may send leads to, the brand's regions and its dealers' places."""
    dealers = list(db.session.scalars(_active_dealers(admin).options(joinedload(Dealer.region))
                                      .order_by(Region.code, Dealer.code)))
    regions = {region.code: region for region in db.session.scalars(
        select(Region).where(Region.oem_id == admin.oem_id).order_by(Region.code))}
    located = db.session.execute(visibility.visible_dealers(admin).with_only_columns(Dealer.city, Dealer.province))
    places = sorted({place for row in located for place in row if place})
    return Choices(dealers, regions, places)


def add(admin: User, scope: RuleScope, match_value: str, dealer_id: int) -> RoutingRule:
    """Add a rule for the admin's brand, audited, and commit.

    :param match_value: a city, a province or a region's code, trimmed.
    :raise RuleError: for a value that has a rule already, an unknown region, or a dealer it may not name.
    """
    try:
        return _add(admin, scope, match_value, dealer_id)
    except IntegrityError:
        # Someone added the same rule a moment ago; starting over names their dealer.
        db.session.rollback()
        return _add(admin, scope, match_value, dealer_id)


def change_dealer(admin: User, rule: RoutingRule, dealer_id: int) -> None:
    """Send the rule's leads to another dealer, audited, and commit.

    :raise RuleError: for a dealer the rule may not name.
    """
    _require_admin(admin, rule)
    dealer = _dealer_for_rule(admin, rule.scope, rule.match_value, dealer_id)
    if dealer.id == rule.dealer_id:
        return
    before = _facts(rule)
    rule.dealer_id, rule.dealer = dealer.id, dealer
    audit.record(admin, "routing_rule.changed", rule, dealer_id=dealer.id, before=before, after=_facts(rule))
    db.session.commit()


def delete(admin: User, rule: RoutingRule) -> None:
    """Delete a rule, audited, and commit; its leads go by the next rule that matches."""
    _require_admin(admin, rule)
    audit.record(admin, "routing_rule.deleted", rule, dealer_id=rule.dealer_id, before=_facts(rule))
    db.session.delete(rule)
    db.session.commit()


def explain(oem_id: int, city: str | None, province: str | None) -> Explanation:
    """Which of the brand's rules would decide a lead from this city and province, by routing's own logic."""
    rules_now = routing.Rules(oem_id)
    deciding = rules_now.deciding_rule(city, province)
    if deciding is None:
        return Explanation()
    scope, value = deciding
    region = None
    if scope is RuleScope.REGION_FALLBACK:
        region = db.session.scalar(select(Region).where(Region.oem_id == oem_id, Region.code == value))
    return Explanation(scope, value, rules_now.rules[deciding], region)


def what_it_matches(rule: RoutingRule):
    """How a message names what a rule matches: "the city 广州", "the region South China" (translated when shown)."""
    if rule.scope is RuleScope.CITY:
        return _l("the city %(value)s", value=rule.match_value)
    if rule.scope is RuleScope.PROVINCE:
        return _l("the province %(value)s", value=rule.match_value)
    region = rule.dealer.region  # a fallback's dealer is one of its region's
    return _l("the region %(value)s", value=region.name if region.code == rule.match_value else rule.match_value)


def _add(admin: User, scope: RuleScope, match_value: str, dealer_id: int) -> RoutingRule:
    _require_admin(admin)
    existing = db.session.scalar(editable_rules(admin).where(RoutingRule.scope == scope,
                                                             RoutingRule.match_value == match_value))
    if existing is not None:
        raise RuleError("match_value", _l(
            "There is a rule for %(match)s already: it sends leads to %(dealer)s. Change its dealer instead.",
            match=what_it_matches(existing), dealer=existing.dealer.name))
    dealer = _dealer_for_rule(admin, scope, match_value, dealer_id)
    rule = RoutingRule(oem_id=admin.oem_id, scope=scope, match_value=match_value, dealer_id=dealer.id, dealer=dealer)
    db.session.add(rule)
    db.session.flush()
    audit.record(admin, "routing_rule.created", rule, dealer_id=dealer.id, after=_facts(rule))
    db.session.commit()
    return rule


def _dealer_for_rule(admin: User, scope: RuleScope, match_value: str, dealer_id: int) -> Dealer:
    """The dealer a rule of this scope and value may send leads to.

    :raise RuleError: for a region code that is not the brand's, a dealer that is not an active dealer of the
        brand, or a fallback dealer outside its region.
    """
    region = None
    if scope is RuleScope.REGION_FALLBACK:
        region = db.session.scalar(select(Region).where(Region.oem_id == admin.oem_id, Region.code == match_value))
        if region is None:
            raise RuleError("match_value", _l("Choose one of the brand's regions."))
    dealer = db.session.scalar(_active_dealers(admin).where(Dealer.id == dealer_id))
    if dealer is None:
        raise RuleError("dealer_id", _l("Choose an active dealer of the brand."))
    if region is not None and dealer.region_id != region.id:
        raise RuleError("dealer_id", _l(
            "%(dealer)s is not in %(region)s: a region's fallback dealer must be one of its dealers.",
            dealer=dealer.name, region=region.name))
    return dealer


def _active_dealers(admin: User) -> Select:
    return visibility.visible_dealers(admin).where(Dealer.active.is_(True))


def _require_admin(user: User, rule: RoutingRule | None = None) -> None:
    """:raise PermissionError: unless the user is the OEM admin of the brand (and of the rule's brand)."""
    if user.role is not Role.OEM_ADMIN or (rule is not None and rule.oem_id != user.oem_id):
        raise PermissionError("only the brand's OEM admin edits its routing rules")


def _facts(rule: RoutingRule) -> dict:
    """What the audit log keeps of a rule, before and after a change."""
    return {"scope": rule.scope.value, "match_value": rule.match_value, "dealer_id": rule.dealer_id}
