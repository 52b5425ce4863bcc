"""Today: a consultant's day on one screen, in the order they work it.

1. New leads not yet contacted, oldest first, with the first-contact clock (red past the dealer's deadline,
   app.services.first_contact_clock).
2. Overdue follow-ups (due before now), most overdue first.
3. Follow-ups due later today (today in the dealer's time zone).
4. Today's appointments.
5. Open leads with no next step: nobody will be reminded of them.
Each section holds at most SECTION_LIMIT rows; its count is exact.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, not_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from app.extensions import db
from app.models import CLOSED_STAGES, Appointment, Customer, Lead, Stage, User, utcnow
from app.services import cadence, visibility

SECTION_LIMIT = 15  # the next hour or two of work; the lead list holds the rest


@dataclass(frozen=True)
class Section:
    rows: list
    count: int


@dataclass(frozen=True)
class Today:
    new_leads: Section
    overdue: Section
    due_today: Section
    appointments: Section
    no_next_step: Section
    now: datetime

    @property
    def is_empty(self) -> bool:
        return not any(s.count for s in (self.new_leads, self.overdue, self.due_today, self.appointments,
                                          self.no_next_step))


def today_for(user: User, now: datetime | None = None) -> Today:
    """The five sections of the user's day (a manager's covers the whole dealer)."""
    now = now or utcnow()
    policy = cadence.policy_for(user.dealer)
    day_starts, day_ends = cadence.local_day(policy, now)
    uncontacted = and_(Lead.stage == Stage.NEW, Lead.first_contact_at.is_(None))
    open_leads = visibility.visible_leads(user).where(Lead.stage.not_in(CLOSED_STAGES))
    contacted = open_leads.where(not_(uncontacted))
    due = Lead.next_follow_up_at
    appointments = (
        select(Appointment).join(Appointment.lead)
        # The dealer leads the planner to the (dealer, starts_at) index; the lead scope keeps what the user may see.
        .where(Appointment.dealer_id == user.dealer_id, visibility.lead_scope(user),
               Appointment.starts_at >= day_starts, Appointment.starts_at < day_ends)
        .options(contains_eager(Appointment.lead).joinedload(Lead.customer))
        .order_by(Appointment.starts_at)
    )
    return Today(
        new_leads=_leads(open_leads.where(uncontacted).order_by(Lead.arrived_at)),
        overdue=_leads(contacted.where(due < now).order_by(due)),
        due_today=_leads(contacted.where(due >= now, due < day_ends).order_by(due)),
        appointments=_section(appointments),
        no_next_step=_leads(contacted.where(due.is_(None)).order_by(Lead.arrived_at.desc())),
        now=now,
    )


def _leads(statement) -> Section:
    # The customer's consents decide which contact buttons a row offers (app.services.consent).
    return _section(statement.options(joinedload(Lead.customer).selectinload(Customer.consents),
                                      selectinload(Lead.open_follow_up)))


def _section(statement) -> Section:
    rows = list(db.session.scalars(statement.limit(SECTION_LIMIT + 1)).unique())
    if len(rows) <= SECTION_LIMIT:
        return Section(rows, len(rows))
    count = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    return Section(rows[:SECTION_LIMIT], count)
