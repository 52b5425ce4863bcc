"""The dealer manager's dashboard: what needs doing now, and how the dealer's leads did in a period against the
period before (app.services.periods): the funnel and the store's ratios, each consultant, each source and model,
and daily trends. Every count is over the leads the manager may see (app.services.visibility).

Two kinds of measure, named so on the page:
- of the leads that arrived in the period (a cohort): leads, response time, contacted in time, the funnel,
  orders and close rate, lost (app.services.lead_measures);
- of what happened in the period: follow-ups that fell due and were done on time, appointments and shows, test
  drives, lost or invalid requests, showroom visitors, and the store ratios of DOMAIN.md: reception rate
  (visitors whose details were captured ÷ visitors), invitation success rate (invited customers who came ÷
  invitations whose time has come) and close rate (orders ÷ (captured visitors + invitations)).
"""
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select

from app.extensions import db
from app.models import (
    CLOSED_STAGES, ApprovalKind, ApprovalRequest, ApprovalStatus, Appointment, AppointmentKind, AppointmentStatus,
    Customer, FollowUpTask, Lead, ShowroomVisit, TaskStatus, User,
)
from app.services import visibility
from app.services.lead_measures import REACHED, Measures, cohort, cohorts, ratio
from app.services.periods import Period

INVITATIONS = (AppointmentKind.VISIT, AppointmentKind.TEST_DRIVE)
CLOSING_REQUESTS = (ApprovalKind.MARK_LOST, ApprovalKind.MARK_INVALID)
TREND_DAYS = 14  # a trend shows at least this many days, ending with the period's last


@dataclass(frozen=True)
class Now:
    """What needs doing at this moment."""

    waiting: int  # open leads nobody has contacted yet
    waiting_since: datetime | None  # when the longest-waiting of them arrived
    breached: int  # of those, past their first-contact deadline
    overdue_follow_ups: int
    no_next_step: int  # open leads without a next follow-up
    appointments_today: int
    open_visits: int  # showroom visitors not yet left
    approvals_waiting: int


@dataclass(frozen=True)
class StoreRatios:
    visitors: int
    captured: int
    invitations: int
    came: int
    orders: int

    @property
    def reception_rate(self) -> float | None:
        return ratio(self.captured, self.visitors)

    @property
    def invitation_success_rate(self) -> float | None:
        return ratio(self.came, self.invitations)

    @property
    def close_rate(self) -> float | None:
        return ratio(self.orders, self.captured + self.invitations)


@dataclass
class Activity:
    """A consultant's work in the period (not tied to when their leads arrived)."""

    follow_ups_due: int = 0
    follow_ups_on_time: int = 0
    appointments: int = 0
    shows: int = 0
    test_drives: int = 0
    lost_requests: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return ratio(self.follow_ups_on_time, self.follow_ups_due)


@dataclass(frozen=True)
class ConsultantRow:
    consultant: User | None  # None: leads not assigned to anybody
    measures: Measures
    activity: Activity


@dataclass(frozen=True)
class Trend:
    days: list[date]
    leads: list[int]
    orders: list[int]
    median_response_minutes: list[float | None]


@dataclass(frozen=True)
class DealerDashboard:
    period: Period
    previous: Period
    now: Now
    total: Measures
    total_before: Measures
    ratios: StoreRatios
    ratios_before: StoreRatios
    consultants: list[ConsultantRow]
    sources: list[tuple[str, Measures]]
    models: list[tuple[str | None, Measures]]
    trend: Trend
    activity: Activity = field(default_factory=Activity)  # the dealer's, all consultants together


def dashboard(manager: User, period: Period, now: datetime) -> DealerDashboard:
    """The manager's dealer's dashboard for the period, as of `now`."""
    scope = visibility.lead_scope(manager)
    previous = period.previous()
    groups = cohorts(scope, period.start, period.end, {"total": None, "consultant": Lead.consultant_id,
                                                       "source": Lead.source, "model": Lead.model_of_interest})
    total, by_consultant = groups["total"].get(None, Measures()), groups["consultant"]
    activity = _activity(manager, period, now)
    consultants = _consultants(manager, set(by_consultant) | set(activity))
    rows = [ConsultantRow(person, by_consultant.get(person.id if person else None, Measures()),
                          activity.get(person.id if person else None, Activity()))
            for person in consultants]
    by_source, by_model = groups["source"], groups["model"]
    overall = Activity()
    for one in activity.values():
        for name in vars(overall):
            setattr(overall, name, getattr(overall, name) + getattr(one, name))
    return DealerDashboard(
        period=period, previous=previous, now=_now(manager, period, now), total=total,
        total_before=cohort(scope, previous.start, previous.end).get(None, Measures()),
        ratios=_store_ratios(manager, period, now), ratios_before=_store_ratios(manager, previous, now),
        consultants=rows,
        sources=sorted(by_source.items(), key=lambda item: (-item[1].leads, str(item[0]))),
        models=sorted(by_model.items(), key=lambda item: (-item[1].leads, item[0] or "")),
        trend=_trend(scope, period), activity=overall)


def _now(manager: User, period: Period, now: datetime) -> Now:
    scope = visibility.lead_scope(manager)
    open_lead = and_(scope, Lead.stage.not_in(CLOSED_STAGES))
    waiting = and_(open_lead, Lead.first_contact_at.is_(None), Lead.dealer_id.is_not(None))
    count, since, breached = db.session.execute(select(
        func.count(), func.min(Lead.arrived_at),
        func.count(Lead.id).filter(Lead.first_contact_due_at < now)).where(waiting)).one()
    today = datetime.combine(now.astimezone(period.zone).date(), time.min, tzinfo=period.zone)
    dealer = manager.dealer_id
    return Now(
        waiting=count, waiting_since=since, breached=breached,
        overdue_follow_ups=db.session.scalar(select(func.count()).select_from(FollowUpTask).join(Lead).where(
            scope, FollowUpTask.status == TaskStatus.OPEN, FollowUpTask.due_at < now)),
        no_next_step=db.session.scalar(select(func.count()).select_from(Lead).where(
            open_lead, Lead.dealer_id.is_not(None), Lead.next_follow_up_at.is_(None))),
        appointments_today=db.session.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.dealer_id == dealer, Appointment.starts_at >= today,
            Appointment.starts_at < today + timedelta(days=1), Appointment.status != AppointmentStatus.CANCELLED)),
        open_visits=db.session.scalar(select(func.count()).select_from(ShowroomVisit).where(
            ShowroomVisit.dealer_id == dealer, ShowroomVisit.left_at.is_(None))),
        approvals_waiting=db.session.scalar(select(func.count()).select_from(ApprovalRequest).where(
            ApprovalRequest.dealer_id == dealer, ApprovalRequest.status == ApprovalStatus.PENDING)))


def _store_ratios(manager: User, period: Period, now: datetime) -> StoreRatios:
    dealer, start, end = manager.dealer_id, period.start, period.end
    visitors, captured = db.session.execute(
        select(func.count(), func.count(Customer.phone_e164)).select_from(ShowroomVisit)
        .join(Lead, ShowroomVisit.lead_id == Lead.id).join(Customer, Lead.customer_id == Customer.id)
        .where(ShowroomVisit.dealer_id == dealer, ShowroomVisit.arrived_at >= start,
               ShowroomVisit.arrived_at < end)).one()
    invitations, came = db.session.execute(
        select(func.count(), func.count(Appointment.id).filter(Appointment.status == AppointmentStatus.ATTENDED))
        .where(Appointment.dealer_id == dealer, Appointment.kind.in_(INVITATIONS),
               Appointment.status != AppointmentStatus.CANCELLED, Appointment.starts_at >= start,
               Appointment.starts_at < min(end, now))).one()
    orders = db.session.scalar(select(func.count()).select_from(Lead).where(
        visibility.lead_scope(manager), Lead.ordered_at >= start, Lead.ordered_at < end))
    return StoreRatios(visitors, captured, invitations, came, orders)


def _activity(manager: User, period: Period, now: datetime) -> dict[int | None, Activity]:
    """Each consultant's follow-ups, appointments, test drives and lost requests in the period."""
    dealer, start, end = manager.dealer_id, period.start, period.end
    activity: dict[int | None, Activity] = defaultdict(Activity)
    tasks = select(FollowUpTask.consultant_id, FollowUpTask.due_at, FollowUpTask.done_at, FollowUpTask.status) \
        .join(Lead).where(visibility.lead_scope(manager), FollowUpTask.due_at >= start,
                          FollowUpTask.due_at < min(end, now), FollowUpTask.status != TaskStatus.CANCELLED)
    for consultant, due_at, done_at, status in db.session.execute(tasks):
        mine = activity[consultant]
        mine.follow_ups_due += 1
        # On time: done by the end of the day it fell due, in the dealer's zone.
        end_of_day = datetime.combine(period.day_of(due_at) + timedelta(days=1), time.min, tzinfo=period.zone)
        mine.follow_ups_on_time += status is TaskStatus.DONE and done_at is not None and done_at < end_of_day
    appointments = select(Appointment.consultant_id, Appointment.kind, Appointment.status).where(
        Appointment.dealer_id == dealer, Appointment.kind.in_(INVITATIONS),
        Appointment.status != AppointmentStatus.CANCELLED, Appointment.starts_at >= start,
        Appointment.starts_at < end)
    for consultant, kind, status in db.session.execute(appointments):
        mine = activity[consultant]
        mine.appointments += 1
        mine.shows += status is AppointmentStatus.ATTENDED
        mine.test_drives += status is AppointmentStatus.ATTENDED and kind is AppointmentKind.TEST_DRIVE
    walk_in_drives = select(ShowroomVisit.consultant_id, func.count()).where(
        ShowroomVisit.dealer_id == dealer, ShowroomVisit.test_drive.is_(True), ShowroomVisit.arrived_at >= start,
        ShowroomVisit.arrived_at < end).group_by(ShowroomVisit.consultant_id)
    for consultant, count in db.session.execute(walk_in_drives):
        activity[consultant].test_drives += count
    requests = select(ApprovalRequest.requested_by_id, func.count()).where(
        ApprovalRequest.dealer_id == dealer, ApprovalRequest.kind.in_(CLOSING_REQUESTS),
        ApprovalRequest.created_at >= start, ApprovalRequest.created_at < end
    ).group_by(ApprovalRequest.requested_by_id)
    for consultant, count in db.session.execute(requests):
        activity[consultant].lost_requests += count
    return dict(activity)


def _consultants(manager: User, seen: set[int | None]) -> list[User | None]:
    """The dealer's active consultants (those with nothing in the period too), anyone else who had leads or work
    in it (a consultant who left), by name; then "not assigned" when some leads had nobody."""
    people = {user.id: user for user in db.session.scalars(visibility.manageable_consultants(manager))
              if user.active or user.id in seen}
    others = {user_id for user_id in seen if user_id is not None and user_id not in people}
    if others:
        people.update({user.id: user for user in db.session.scalars(select(User).where(User.id.in_(others)))})
    rows: list[User | None] = sorted(people.values(), key=lambda user: user.name)
    return rows + [None] if None in seen else rows


def _trend(scope, period: Period) -> Trend:
    """Leads, orders and median response per day, over the period or at least its last TREND_DAYS days."""
    first = min(period.first, period.last - timedelta(days=TREND_DAYS - 1))
    days = [first + timedelta(days=n) for n in range((period.last - first).days + 1)]
    start = datetime.combine(first, time.min, tzinfo=period.zone)
    leads, orders, seconds = Counter(), Counter(), defaultdict(list)
    for arrived, contacted in db.session.execute(select(Lead.arrived_at, Lead.first_contact_at).where(
            scope, Lead.arrived_at >= start, Lead.arrived_at < period.end)):
        day = period.day_of(arrived)
        leads[day] += 1
        if contacted is not None:
            seconds[day].append(max(0.0, (contacted - arrived).total_seconds()))
    for (ordered,) in db.session.execute(select(Lead.ordered_at).where(
            scope, Lead.ordered_at >= start, Lead.ordered_at < period.end)):
        orders[period.day_of(ordered)] += 1
    return Trend(days, [leads[day] for day in days], [orders[day] for day in days],
                 [round(statistics.median(seconds[day]) / 60, 1) if seconds[day] else None for day in days])


# Drill-down: the leads behind a number of the dashboard.
MEASURES = ("leads", *REACHED, "in_time", "lost")


def leads_behind(manager: User, period: Period, measure: str, *, consultant_id: int | None = None,
                 unassigned: bool = False, source: str | None = None, model: str | None = None,
                 limit: int = 200) -> list[Lead]:
    """The leads of the period's cohort counted in one of the dashboard's numbers, newest first.

    :raise ValueError: for a measure that is not one of MEASURES.
    """
    if measure not in MEASURES:
        raise ValueError(measure)
    conditions = [visibility.lead_scope(manager), Lead.arrived_at >= period.start, Lead.arrived_at < period.end]
    if measure in REACHED:
        conditions.append(REACHED[measure])
    elif measure == "in_time":
        conditions.append(and_(Lead.first_contact_at.is_not(None), or_(
            Lead.first_contact_due_at.is_(None), Lead.first_contact_at <= Lead.first_contact_due_at)))
    elif measure == "lost":
        conditions.append(Lead.stage.in_(("lost", "invalid")))
    if unassigned:
        conditions.append(Lead.consultant_id.is_(None))
    elif consultant_id is not None:
        conditions.append(Lead.consultant_id == consultant_id)
    if source is not None:
        conditions.append(Lead.source == source)
    if model is not None:
        conditions.append(Lead.model_of_interest == model if model else Lead.model_of_interest.is_(None))
    return list(db.session.scalars(visibility.visible_leads(manager).where(*conditions)
                                   .order_by(Lead.arrived_at.desc(), Lead.id.desc()).limit(limit)))
