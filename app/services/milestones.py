"""Funnel milestones: when a lead first reached each step of the funnel, kept whatever happens to it later.

A lead's stage says where it is now: moved back a stage, or closed as lost or invalid, it no longer tells how far
it got. The milestones remember, so the managers' funnel (leads → contacted → invited → visited → test drive →
ordered → delivered, see DOMAIN.md) counts "leads of this cohort that ever reached the step" with plain
aggregates over a dealer's leads by arrival (ix_leads_dealer_arrived): count(Lead.visited_at), or `reached`.

The steps, in order (STEPS): contacted < invited < visited < test drive < negotiating < ordered < delivered.
Each has a milestone column on the lead (MILESTONES) except two: negotiating has none, yet it implies the steps
before it; contacted is the lead's first_contact_at, which this module reads but never writes.

The rules of `reach(lead, step, at)`:
1. Reaching a step sets its milestone, and every earlier milestone still unset, to `at`: a later step implies the
   earlier ones. A lead that orders online without a visit counts as invited, visited and test driven too, at
   the time of the order, so each step of the funnel holds every lead of the steps after it.
2. A milestone once set never moves and is never cleared: going back a stage, or closing as lost or invalid,
   keeps every one. A step reached again later keeps the first time.
3. Reaching a milestone changes nothing else on the lead. Not the stage (the callers move it as they always
   did), and not first_contact_at: that one stops the first-contact clock (app.services.first_contact_clock),
   which only a logged call, message or visit may do. A lead moved past "new" with no contact logged so has
   later milestones and no first contact; `reached(Stage.CONTACTED)` counts it as contacted all the same.
4. New, lost and invalid are no steps: reaching them sets nothing.

Where leads progress, each calling `reach`: every stage move (app.services.lead_changes.change_stage: the
consultant's one-tap stage row, a reached call or sent message, a booking, a visit); a visit registered in the
showroom (app.services.walk_ins: a new walk-in lead at visited or test drive, or a visit on a known lead, which
reaches visited, and test drive when they drove, whatever the lead's stage); a visit or test drive booked
(invited) and an appointment marked showed (visited, or test drive) in app.services.appointments. Migration
0009 filled the milestones of the leads that existed before from their history.
"""
from datetime import datetime

from sqlalchemy import ColumnElement, or_

from app.models import Lead, Stage

STEPS = (Stage.CONTACTED, Stage.INVITED, Stage.VISITED, Stage.TEST_DRIVE, Stage.NEGOTIATING, Stage.ORDERED,
         Stage.DELIVERED)
MILESTONES = {Stage.INVITED: "invited_at", Stage.VISITED: "visited_at", Stage.TEST_DRIVE: "test_drive_at",
              Stage.ORDERED: "ordered_at", Stage.DELIVERED: "delivered_at"}


def implied(step: Stage) -> tuple[str, ...]:
    """The milestone columns that reaching `step` sets when unset: its own and every earlier step's, earliest
    first; none for new, lost and invalid."""
    if step not in STEPS:
        return ()
    return tuple(MILESTONES[s] for s in STEPS[:STEPS.index(step) + 1] if s in MILESTONES)


def reach(lead: Lead, step: Stage, at: datetime) -> None:
    """Record that the lead reached `step` at `at`, as the module describes; the caller commits."""
    for column in implied(step):
        if getattr(lead, column) is None:
            setattr(lead, column, at)


def reach_row(row: dict, step: Stage, at) -> None:
    """`reach` for a lead held as a dict of column values (the demo writes leads as rows, not objects)."""
    for column in implied(step):
        if row.get(column) is None:
            row[column] = at


def reached(step: Stage) -> ColumnElement[bool]:
    """SQL: the lead ever reached `step`; contacted when it has a first contact or was invited (rule 3).

    :raise ValueError: for negotiating (no milestone of its own) and for stages that are no steps.
    """
    if step is Stage.CONTACTED:
        return or_(Lead.first_contact_at.is_not(None), Lead.invited_at.is_not(None))
    if step not in MILESTONES:
        raise ValueError(f"{step.value} has no milestone")
    return getattr(Lead, MILESTONES[step]).is_not(None)
