"""Cadence policies as the brand's administrator and a dealer's manager set them: what a level sets, what it
inherits and from where, saving a level, and moving open follow-ups onto a new rhythm. The levels and the
inheritance itself: app.models.cadence and app.services.cadence.

Showing a level (`resolve`): per setting, the value that applies and where it comes from ("this dealer", "South
China region", "brand default", "built-in default"), the level's own value (None: inherited), and what would
apply without it.

Saving a level (`save`), all or nothing:
1. each value the level sets is checked on its own (`WHOLE_NUMBERS`, at least one working day) and a dealer's
   time zone must be an IANA name;
2. the settings are checked together as they apply to the level and to every level below it (`AGREEING`: the
   working day ends after it starts, quiet hours start and end apart, leads return to the pool only after their
   first call is due): a brand default that would break the hours a dealer set itself is refused, naming it;
3. the level's own values are stored (a level left with none has no row), with a dealer's assignment mode and
   time zone, and one audit entry on the brand, region or dealer holds the changed settings before and after
   (null: inherited). New values apply to every follow-up, clock and reminder computed from then on.

Rescheduling (`reschedule`, on request after a save): every open follow-up of an open lead at the dealers the
level governs (the dealer; a region's or the brand's dealers, except those whose whole rhythm is set below the
level) falls due again at its lead's last contact (else its assignment, else its arrival) plus its intent
level's interval, in working time (cadence.next_follow_up). BATCH at a time, each batch its own transaction;
returns how many moved, with one audit entry.
"""
import operator
from dataclasses import dataclass
from datetime import time
from functools import cache
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import (
    CLOSED_STAGES, SETTINGS, AssignmentMode, CadencePolicy, Dealer, Digest, FollowUpTask, Lead, Oem, Region,
    StopCondition, TaskStatus, User,
)
from app.services import audit, cadence

BATCH = 500
WHOLE_NUMBERS = {**{f"{level}_days": (1, 365) for level in "habco"}, "first_contact_minutes": (1, 1440),
                 "return_after_hours": (1, 720), "recycle_days": (1, 365)}
RHYTHM = ("h_days", "a_days", "b_days", "c_days", "o_days", "working_days", "day_starts", "day_ends")
# Settings that must agree: (first, second, whether they do, the message, the message naming levels below).
AGREEING = (
    ("day_starts", "day_ends", operator.lt, _l("The working day must end after it starts."),
     lambda places: _l("The working day would end before it starts at %(places)s, which set their own hours.",
                       places=places)),
    ("quiet_starts", "quiet_ends", operator.ne, _l("Quiet hours must start and end at different times."),
     lambda places: _l("Quiet hours would start and end at the same time at %(places)s.", places=places)),
    ("first_contact_minutes", "return_after_hours", lambda minutes, hours: hours * 60 > minutes,
     _l("Leads would return before the first call is due: allow more hours than the first-contact limit."),
     lambda places: _l("Leads would return before their first call is due at %(places)s, which set their own"
                       " limits.", places=places)),
)


def number_message(low: int, high: int):
    """The message for a whole number outside its range (the form's and the rules' alike)."""
    return _l("Enter a whole number from %(low)d to %(high)d.", low=low, high=high)


class PolicyError(ValueError):
    """Settings the rules refuse: `errors` maps each form field to its message."""

    def __init__(self, errors: dict):
        super().__init__(" ".join(str(message) for message in errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Setting:
    """One setting as a level's screen shows it."""

    value: object  # what applies
    source: str  # where that comes from
    own: object  # the level's own value; None: inherited
    inherited: object  # what would apply without the level's own value
    inherited_from: str


@dataclass(frozen=True)
class DealerSettings:
    """What only a dealer's level has besides its policy."""

    assignment_mode: AssignmentMode
    time_zone: str


def brand_of(admin: User) -> Oem:
    """The brand an OEM administrator sets the default policy of."""
    return db.session.get(Oem, admin.oem_id)


def region_of(admin: User, region_id: int) -> Region | None:
    """The region of the administrator's brand with this id; None for another brand's or none."""
    return db.session.scalar(select(Region).where(Region.id == region_id, Region.oem_id == admin.oem_id))


def resolve(owner: Oem | Region | Dealer) -> dict[str, Setting]:
    """Each setting of the level as the module describes: what applies, from where, and what it sets itself."""
    chain = cadence.levels(owner)
    mine = [row for row in chain if cadence.level_key(row) == cadence.owner_key(owner)]
    applies, inherited = cadence.merge(chain), cadence.merge(row for row in chain if row not in mine)
    own = mine[0].own() if mine else {}
    region = owner.region.name if isinstance(owner, Dealer) else getattr(owner, "name", None)
    return {name: Setting(applies[name][0], _source(applies[name][1], region), own.get(name),
                          inherited[name][0], _source(inherited[name][1], region)) for name in SETTINGS}


def overview(brand: Oem) -> list[tuple[Region, int, int]]:
    """Each region of the brand with how many settings it sets and how many of its dealers set their own."""
    tree = cadence.PolicyTree.of(brand)
    return [(region, len(_own(tree.rows.get(("region", region.id)))),
             sum(("dealer", dealer.id) in tree.rows for dealer in tree.dealers if dealer.region_id == region.id))
            for region in tree.regions]


def save(actor: User, owner: Oem | Region | Dealer, wanted: dict,
         dealer_settings: DealerSettings | None = None) -> list[str]:
    """Save a level's own settings as the module describes; returns the names of what changed.

    :param wanted: setting name → the level's own value; None (or left out) to inherit.
    :param dealer_settings: a dealer's assignment mode and time zone (only with a dealer).
    :raise PolicyError: with a message for every refused field.
    """
    own = {name: wanted[name] for name in SETTINGS if wanted.get(name) is not None}
    tree = cadence.PolicyTree.of(owner)
    row = tree.rows.get(cadence.owner_key(owner))
    before = _own(row)
    changed = [name for name in SETTINGS if before.get(name) != own.get(name)]
    errors = _check_each(own, dealer_settings) or _check_together(tree, owner, own, set(changed) | set(own))
    if errors:
        raise PolicyError(errors)
    before_doc, after_doc = ({name: _stored(values.get(name)) for name in changed} for values in (before, own))
    if dealer_settings is not None:
        for name in ("assignment_mode", "time_zone"):
            old, new = getattr(owner, name), getattr(dealer_settings, name)
            if old != new:
                before_doc[name], after_doc[name] = _stored(old), _stored(new)
                setattr(owner, name, new)
                changed.append(name)
    if not changed:
        return []
    if not own and row is not None:
        db.session.delete(row)
    elif own:
        if row is None:
            row = CadencePolicy(**{f"{cadence.owner_key(owner)[0]}_id": owner.id})
            db.session.add(row)
        for name in SETTINGS:
            setattr(row, name, own.get(name))
    _audit(actor, owner, "settings_changed", before=before_doc, after=after_doc)
    db.session.commit()
    return changed


def reschedule(actor: User, owner: Oem | Region | Dealer) -> int:
    """Move the open follow-ups of the dealers the level governs onto its rhythm, as the module describes;
    returns how many moved."""
    tree = cadence.PolicyTree.of(owner)
    above = cadence.LEVELS.index(cadence.owner_key(owner)[0])
    policies = {dealer.id: cadence.resolved_policy(cadence.merge(tree.chain(dealer)), dealer.time_zone)
                for dealer in tree.dealers if not _rhythm_set(tree.chain(dealer)[:above])}
    moved, last_id = 0, 0
    open_follow_ups = (
        select(FollowUpTask, Lead).join(Lead, Lead.id == FollowUpTask.lead_id)
        .where(FollowUpTask.status == TaskStatus.OPEN, Lead.dealer_id.in_(list(policies)),
               Lead.stage.not_in(CLOSED_STAGES))
        .order_by(FollowUpTask.id).limit(BATCH).with_for_update(skip_locked=True, of=FollowUpTask))
    while batch := db.session.execute(open_follow_ups.where(FollowUpTask.id > last_id)).all():
        for task, lead in batch:
            due = cadence.next_follow_up(policies[lead.dealer_id], lead.intent_level,
                                         lead.last_contact_at or lead.assigned_at or lead.arrived_at)
            if due != task.due_at:
                task.due_at, task.reminded_at, lead.next_follow_up_at = due, None, due
                moved += 1
        last_id = batch[-1][0].id
        db.session.commit()
    _audit(actor, owner, "follow_ups_rescheduled", after={"moved": moved, "dealers": len(policies)})
    db.session.commit()
    return moved


@cache
def time_zones() -> frozenset[str]:
    """Every IANA time zone name this machine knows."""
    return frozenset(available_timezones())


def _check_each(own: dict, dealer_settings: DealerSettings | None) -> dict:
    """Messages for the values that are wrong on their own."""
    errors = {name: number_message(low, high) for name, (low, high) in WHOLE_NUMBERS.items()
              if name in own and not low <= own[name] <= high}
    days = own.get("working_days")
    if days is not None and not (days and days <= frozenset(range(1, 8))):
        errors["working_days"] = _l("Choose at least one working day.")
    if dealer_settings is not None and dealer_settings.time_zone not in time_zones():
        errors["time_zone"] = _l("Choose a time zone from the list, such as Asia/Shanghai.")
    return errors


def _check_together(tree: cadence.PolicyTree, owner, own: dict, touched: set[str]) -> dict:
    """Messages for settings that disagree at the level or at a level below it once `own` is saved.

    :param touched: the settings the level sets or changes: a message goes on one of them.
    """
    level = CadencePolicy()  # the level as it would be; never added to the session
    for name, value in own.items():
        setattr(level, name, value)
    rows = {**tree.rows, cadence.owner_key(owner): level}
    below = cadence.PolicyTree(tree.brand_id, tree.regions, tree.dealers, rows)
    mine = below.chain(owner)
    others = [] if isinstance(owner, Dealer) else [
        (other.name, cadence.merge(below.chain(other)))
        for other in (*(region for region in tree.regions if region is not owner), *tree.dealers)]
    values, errors = cadence.merge(mine), {}
    for first, second, agree, message, naming in AGREEING:
        field = second if second in touched or first not in touched else first
        if not agree(values[first][0], values[second][0]):
            errors[field] = message
        elif {first, second} & touched:
            places = [name for name, merged in others if not agree(merged[first][0], merged[second][0])]
            if places:
                errors[field] = naming(_places(places))
    return errors


def _places(names: list[str]) -> str:
    """The first few names, and how many more."""
    shown = ", ".join(names[:3])
    return shown if len(names) <= 3 else str(_l("%(names)s and %(num)d more", names=shown, num=len(names) - 3))


def _rhythm_set(rows) -> bool:
    """Whether these rows together set every rhythm setting (then nothing above them reaches the dealer)."""
    return all(any(row is not None and getattr(row, name) is not None for row in rows) for name in RHYTHM)


def _own(row: CadencePolicy | None) -> dict:
    return row.own() if row is not None else {}


def _audit(actor: User, owner, what: str, **values) -> None:
    """An audit entry "oem.<what>", "region.<what>" or "dealer.<what>" on the level's brand, region or dealer."""
    audit.record(actor, f"{cadence.owner_key(owner)[0]}.{what}", owner,
                 dealer_id=owner.id if isinstance(owner, Dealer) else None, **values)


def _source(row: CadencePolicy | None, region_name: str | None):
    """Where a value comes from, as the screens name it."""
    if row is None:
        return _l("built-in default")
    kind = cadence.level_key(row)[0]
    if kind == "dealer":
        return _l("this dealer")
    if kind == "region":
        return _l("%(region)s region", region=region_name)
    return _l("brand default")


def _stored(value):
    """A value as the audit log keeps it (JSON)."""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, frozenset):
        return sorted(str(item) for item in value)
    if isinstance(value, (Digest, AssignmentMode, StopCondition)):
        return value.value
    return value
