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
from sqlalchemy.orm import contains_eager, joinedload

from app.extensions import db
from app.models import CLOSED_STAGES, Appointment, Lead, Stage, User, utcnow
from app.services import cadence, consent, visibility

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
    open_leads = visibility.visible_leads(user).where(Lead.stage.not_in(CLOSED_STAGES))
    uncontacted = and_(Lead.stage == Stage.NEW, Lead.first_contact_at.is_(None))
    due = Lead.next_follow_up_at
    overdue, due_today = and_(not_(uncontacted), due < now), and_(not_(uncontacted), due >= now, due < day_ends)
    no_next_step = and_(not_(uncontacted), due.is_(None))
    with_purpose = joinedload(Lead.open_follow_up)  # a due row names what the follow-up is for
    leads = {
        uncontacted: _rows(open_leads.where(uncontacted).order_by(Lead.arrived_at)),
        overdue: _rows(open_leads.where(overdue).order_by(due).options(with_purpose)),
        due_today: _rows(open_leads.where(due_today).order_by(due).options(with_purpose)),
        no_next_step: _rows(open_leads.where(no_next_step).order_by(Lead.arrived_at.desc())),
    }
    # The customers' consents decide which contact buttons a row offers (app.services.consent): one read for all.
    consent.load_consents({lead.customer for rows in leads.values() for lead in rows})
    counts = _counts(open_leads, [condition for condition, rows in leads.items() if len(rows) > SECTION_LIMIT])
    appointments = (
        select(Appointment).join(Appointment.lead)
        # The dealer leads the planner to the (dealer, starts_at) index; the lead scope keeps what the user may see.
        .where(Appointment.dealer_id == user.dealer_id, visibility.lead_scope(user),
               Appointment.starts_at >= day_starts, Appointment.starts_at < day_ends)
        .options(contains_eager(Appointment.lead).joinedload(Lead.customer))
        .order_by(Appointment.starts_at)
    )
    sections = {condition: Section(rows[:SECTION_LIMIT], counts.get(condition, len(rows)))
                for condition, rows in leads.items()}
    return Today(new_leads=sections[uncontacted], overdue=sections[overdue], due_today=sections[due_today],
                 appointments=_section(appointments), no_next_step=sections[no_next_step], now=now)


def _rows(statement) -> list:
    """A section's rows and one more, which tells that there are more than the section shows."""
    return list(db.session.scalars(statement.options(joinedload(Lead.customer)).limit(SECTION_LIMIT + 1)).unique())


def _counts(open_leads, conditions: list) -> dict:
    """How many open leads meet each condition, in one read over the user's open leads."""
    if not conditions:
        return {}
    counts = db.session.execute(open_leads.with_only_columns(
        *(func.count().filter(condition) for condition in conditions))).one()
    return dict(zip(conditions, counts))


def _section(statement) -> Section:
    rows = list(db.session.scalars(statement.limit(SECTION_LIMIT + 1)).unique())
    if len(rows) <= SECTION_LIMIT:
        return Section(rows, len(rows))
    count = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    return Section(rows[:SECTION_LIMIT], count)
