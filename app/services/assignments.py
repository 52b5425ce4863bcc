"""Assignments: a manager's hand on who works which of the dealer's leads, and the dealer's lead-handling rules.

The dealer's pool (`pool`): the dealer's open leads with no consultant, the one waiting longest first (since it
came back, was routed or arrived). They are there because the dealer's mode is manager's pick, nobody was on
shift, or app.services.pools took them back (Lead.return_reason says why: not called in time, untouched, no-show).

Assigning (`assign_many`), one lead or many, to one consultant:
1. every chosen lead must be the manager's to see (anything else is a 404, as everywhere) and still open, and
   the consultant an active consultant of the same dealer; all of it is checked before anything changes, so a
   refused request leaves every lead as it was;
2. each lead already with that consultant is left alone; every other one goes through routing.assign: history,
   the consultant's notification, the audit entry, the open follow-up moves with it, and the first-contact
   clock starts again for a lead nobody has called yet. The rotation counts do not change: a manager's pick
   is not a turn.

Handing over (`hand_over`), all open leads of one consultant (one who leaves, or goes on leave) in one step:
- to one named colleague; or
- evenly among the others: the active consultants on shift, or every active one when nobody is on shift. The
  leads, most urgent first, are dealt in turn to the colleagues with the fewest open leads first, so each
  receives within one lead of the others and the urgent ones are spread too.
`plan_hand_over` tells who would get how many without changing anything (the confirmation step).

Shifts and weights steer the round robin (app.services.routing): only consultants on shift receive leads, in
proportion to their weight (1–5). A weight change scales the consultant's rotation count with it, keeping
their place in the turn: a heavier weight means a larger share from now on, not a burst of catch-up leads.

The dealer's lead handling (`lead_handling`): the assignment mode, and the first-contact, return and recycle
limits and the follow-up rhythm of its cadence policy (app.services.cadence); the manager changes them all on
the dealer's settings page (app.services.cadence_policies).

Every change is an audit entry; each function commits its own transaction.
"""
from dataclasses import dataclass

from flask import abort
from flask_babel import lazy_gettext as _l, lazy_ngettext
from sqlalchemy import false, func, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import CLOSED_STAGES, AssignmentMode, Dealer, Lead, Role, User
from app.services import FieldError, audit, cadence, routing, visibility

WEIGHTS = range(1, 6)


class AssignmentError(FieldError):
    """A request the rules refuse; the message is for the manager, `field` names the input it is about."""


@dataclass(frozen=True)
class LeadHandling:
    """How a dealer hands on its leads and how long they may wait."""

    assignment_mode: AssignmentMode
    first_contact_minutes: int
    return_after_hours: int
    recycle_days: int
    follow_up_days: dict[str, int]  # days between follow-ups by intent level


def pool(manager: User):
    """select(Lead): the dealer's pool as the module describes it, longest waiting first."""
    if manager.role is not Role.MANAGER:
        return select(Lead).where(false())
    waiting_since = func.coalesce(Lead.returned_at, Lead.routed_at, Lead.arrived_at)
    return (visibility.visible_leads(manager)
            .where(Lead.consultant_id.is_(None), Lead.stage.not_in(CLOSED_STAGES))
            .order_by(waiting_since, Lead.id))


def pool_size(manager: User) -> int:
    """How many leads wait in the dealer's pool."""
    return db.session.scalar(select(func.count()).select_from(pool(manager).order_by(None).subquery()))


def assignable_consultants(manager: User) -> list[User]:
    """The dealer's active consultants, by name: who a manager may give leads to."""
    return list(db.session.scalars(
        visibility.manageable_consultants(manager).where(User.active.is_(True)).order_by(User.name, User.id)))


def open_lead_counts(manager: User) -> dict[int, int]:
    """Open leads per consultant of the manager's dealer (consultant id → count)."""
    return dict(db.session.execute(
        visibility.visible_leads(manager).with_only_columns(Lead.consultant_id, func.count())
        .where(Lead.consultant_id.is_not(None), Lead.stage.not_in(CLOSED_STAGES)).group_by(Lead.consultant_id)).all())


def get_leads(manager: User, lead_ids) -> list[Lead]:
    """The manager's leads with these ids; abort with 404 if any of them is out of their sight.

    :param lead_ids: ids in any order, repeats allowed.
    """
    wanted = set(lead_ids)
    leads = list(db.session.scalars(
        visibility.visible_leads(manager).where(Lead.id.in_(wanted))
        .options(joinedload(Lead.customer), joinedload(Lead.dealer), selectinload(Lead.open_follow_up))))
    if len(leads) != len(wanted):
        abort(404)
    return leads


def assign_many(manager: User, lead_ids, consultant: User) -> int:
    """Assign or reassign the leads to the consultant as the module describes. Returns how many changed hands.

    :raise AssignmentError: a closed lead among them, or a consultant who may not receive leads.
    """
    leads = get_leads(manager, lead_ids)
    _check_receiver(manager, consultant)
    closed = sum(not lead.is_open for lead in leads)
    if closed:
        raise AssignmentError("form", lazy_ngettext(
            "%(num)d of the chosen leads is closed: nothing was assigned.",
            "%(num)d of the chosen leads are closed: nothing was assigned.", closed))
    moving = [lead for lead in leads if lead.consultant_id != consultant.id]
    for lead in sorted(moving, key=lambda lead: lead.id):
        routing.assign(lead, consultant, manager)
    db.session.commit()
    return len(moving)


def plan_hand_over(manager: User, leaver: User, to: User | None = None) -> list[tuple[User, list[Lead]]]:
    """Who would receive which of the leaver's open leads, as the module describes; nothing changes.

    :param to: the one colleague to receive them all; None shares them evenly.
    :raise AssignmentError: no open leads to hand over, or nobody who may receive them.
    """
    _check_consultant(manager, leaver)
    leads = list(db.session.scalars(
        visibility.visible_leads(manager).where(Lead.consultant_id == leaver.id, Lead.stage.not_in(CLOSED_STAGES))
        .order_by(Lead.next_follow_up_at.asc().nulls_last(), Lead.arrived_at, Lead.id)
        .options(joinedload(Lead.customer), joinedload(Lead.dealer), selectinload(Lead.open_follow_up))))
    if not leads:
        raise AssignmentError("form", _l("%(name)s has no open leads to hand over.", name=leaver.name))
    if to is not None:
        if to.id == leaver.id:
            raise AssignmentError("to_id", _l("Choose someone other than %(name)s.", name=leaver.name))
        _check_receiver(manager, to, "to_id")
        return [(to, leads)]
    colleagues = [c for c in assignable_consultants(manager) if c.id != leaver.id]
    if not colleagues:
        raise AssignmentError("to_id", _l("Nobody else is active at the dealer to take the leads."))
    colleagues = [c for c in colleagues if c.on_shift] or colleagues
    load = open_lead_counts(manager)
    colleagues.sort(key=lambda c: (load.get(c.id, 0), c.id))
    return [(colleague, leads[turn::len(colleagues)]) for turn, colleague in enumerate(colleagues)
            if leads[turn::len(colleagues)]]


def hand_over(manager: User, leaver: User, to: User | None = None) -> list[tuple[User, int]]:
    """Hand all of the leaver's open leads over as planned; returns each receiver with how many they got.

    :raise AssignmentError: as plan_hand_over.
    """
    shares = plan_hand_over(manager, leaver, to)
    for receiver, leads in shares:
        for lead in leads:
            routing.assign(lead, receiver, manager)
    received = [(receiver, len(leads)) for receiver, leads in shares]
    audit.record(manager, "user.leads_handed_over", leaver, dealer_id=manager.dealer_id,
                 after={"to": {str(receiver.id): count for receiver, count in received}})
    db.session.commit()
    return received


def set_on_shift(manager: User, consultant: User, on_shift: bool) -> None:
    """Put a consultant on or off shift (routing.set_on_shift keeps the turns fair).

    :raise AssignmentError: when putting a deactivated consultant on shift.
    """
    _check_consultant(manager, consultant)
    if on_shift and not consultant.active:
        raise AssignmentError("form", _l("Reactivate %(name)s first.", name=consultant.name))
    if consultant.on_shift == on_shift:
        return
    routing.set_on_shift(consultant, on_shift)
    audit.record(manager, "user.shift_changed", consultant, dealer_id=manager.dealer_id,
                 before={"on_shift": not on_shift}, after={"on_shift": on_shift})
    db.session.commit()


def set_weight(manager: User, consultant: User, weight: int) -> None:
    """Change a consultant's share of the round robin, keeping their place in the turn (see the module).

    :raise AssignmentError: for a weight outside WEIGHTS.
    """
    _check_consultant(manager, consultant)
    if weight not in WEIGHTS:
        raise AssignmentError("routing_weight", _l("Choose a weight from 1 to 5."))
    old = consultant.routing_weight
    if old == weight:
        return
    consultant.rotation_count = round(consultant.rotation_count * weight / old)
    consultant.routing_weight = weight
    audit.record(manager, "user.weight_changed", consultant, dealer_id=manager.dealer_id,
                 before={"routing_weight": old}, after={"routing_weight": weight})
    db.session.commit()


def lead_handling(dealer: Dealer) -> LeadHandling:
    """The dealer's lead handling as it applies: its assignment mode, the limits and rhythm of its policy."""
    policy = cadence.policy_for(dealer)
    return LeadHandling(dealer.assignment_mode, policy.first_contact_minutes, policy.return_after_hours,
                        policy.recycle_days, policy.days)


def _check_consultant(manager: User, consultant: User) -> None:
    if consultant.role is not Role.CONSULTANT or consultant.dealer_id != manager.dealer_id:
        raise AssignmentError("form", _l("%(name)s is not a consultant of your dealer.", name=consultant.name))


def _check_receiver(manager: User, consultant: User, field: str = "consultant_id") -> None:
    _check_consultant(manager, consultant)
    if not consultant.active:
        raise AssignmentError(field, _l("%(name)s is deactivated and cannot receive leads.", name=consultant.name))
