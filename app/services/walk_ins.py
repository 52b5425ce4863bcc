"""The showroom traffic log (展厅客流登记): registering walk-ins, visits on known leads, and leave times.

How a walk-in is registered (`register_walk_in`), in one transaction:
1. Find the person by normalised mobile number within the brand (one customer per brand and number).
2. If this dealer holds an open lead of theirs, whichever colleague owns it, the walk-in is a visit on that lead:
   no new customer, no new lead (`record_visit`). A visit on the same lead within DUPLICATE_WINDOW is the same
   visit (a double tap, two people at the front desk) and is returned as it is.
3. Else a new lead at this dealer, on the brand's existing customer (their stored name is kept) or on a new
   one: at stage visited, or test drive when they drove, with the consents that were ticked, a first visit, and
   the next follow-up by the dealer's cadence for the intent level.
Two requests racing to create one customer meet the unique constraint; the loser starts over once, finding theirs.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import abort
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from app.extensions import db
from app.models import (
    CLOSED_STAGES, Activity, ActivityKind, Channel, ConsentMethod, Customer, Lead, Origin, Role, Source,
    ShowroomVisit, Stage, User, utcnow,
)
from app.services import FieldError, cadence, consent_changes, follow_ups, lead_changes, milestones, visibility
from app.services.phones import InvalidPhone, normalise_mobile

DUPLICATE_WINDOW = timedelta(minutes=10)
# A number this long is complete as typed, so a problem with it is worth a hint; shorter is still being typed.
COMPLETE_DIGITS = 11
CONSENT_FIELDS = {"consent_call": Channel.CALL, "consent_sms": Channel.SMS, "consent_wechat": Channel.WECHAT}
# Stored as a code and worded in the reader's language by app.labels.
FOLLOW_UP_PURPOSE = "after_visit"


class WalkInError(FieldError):
    """A registration that cannot be saved as asked; `field` names the form field the message belongs to."""


@dataclass(frozen=True)
class Registration:
    lead: Lead
    visit: ShowroomVisit
    recorded: bool  # False when this visit had been recorded already (a double submit)


@dataclass(frozen=True)
class Lookup:
    leads: list[Lead]  # this dealer's open leads of the person; nothing about other dealers
    phone: str | None  # the normalised number, once it is a valid mobile number
    problem: str | None  # why a complete-looking number is not a mobile number


@dataclass(frozen=True)
class TrafficLog:
    still_in: list[ShowroomVisit]  # no leave time yet, from any day: nothing may stay open overnight
    left_today: list[ShowroomVisit]
    day_starts: datetime
    openable: frozenset[int]  # ids of the leads whose page the user may open

    @property
    def arrived_today(self) -> list[ShowroomVisit]:
        return [v for v in self.still_in if v.arrived_at >= self.day_starts] + self.left_today


def look_up(user: User, raw_phone: str) -> Lookup:
    """What the front desk should know about a number as it is typed: this dealer's open leads of that person."""
    try:
        phone = normalise_mobile(raw_phone, user.dealer.phone_region)
    except InvalidPhone as error:
        complete = sum(ch.isdigit() for ch in raw_phone) >= COMPLETE_DIGITS
        return Lookup([], None, str(error) if complete else None)
    return Lookup(open_leads(user, phone), phone, None)


def open_leads(user: User, phone: str) -> list[Lead]:
    """The dealer's open leads of the brand's customer with this E.164 number, newest first, any consultant's."""
    statement = (
        visibility.dealer_leads(user).join(Lead.customer)
        .where(Customer.oem_id == user.oem_id, Customer.phone_e164 == phone, Lead.stage.not_in(CLOSED_STAGES))
        .options(contains_eager(Lead.customer), joinedload(Lead.consultant))
        .order_by(Lead.arrived_at.desc(), Lead.id.desc())
    )
    return list(db.session.scalars(statement))


def consultant_choices(user: User) -> list[User] | None:
    """The active consultants a manager picks from for a walk-in; None for a consultant, who takes their own."""
    if user.role is not Role.MANAGER:
        return None
    active = visibility.manageable_consultants(user).where(User.active.is_(True)).order_by(User.name)
    return list(db.session.scalars(active))


def register_walk_in(user: User, data: dict) -> Registration:
    """Register a walk-in as the module describes, and commit.

    :param data: a loaded WalkInSchema: phone (E.164), name, model_of_interest, intent_level, source, the visit's
        party_size, test_drive and wechat_added, the consent_* flags, and a manager's consultant_id.
    :raise WalkInError: when a manager has not picked an active consultant of the dealer.
    """
    try:
        return _register(user, data)
    except IntegrityError:
        # Another request created this customer a moment ago; starting over finds theirs.
        db.session.rollback()
        return _register(user, data)


def _register(user: User, data: dict) -> Registration:
    now = utcnow()
    customer = locked_customer(user.oem_id, data["phone"])
    known = open_leads(user, data["phone"]) if customer else []
    if known:
        registration = _visit(user, known[0], data, now, first=False)
    else:
        consultant = _receiving_consultant(user, data.get("consultant_id"))
        if customer is None:
            customer = Customer(oem_id=user.oem_id, name=data["name"], phone_e164=data["phone"])
            db.session.add(customer)
            db.session.flush()
        elif not customer.name:
            customer.name = data["name"]
        lead = Lead(
            oem_id=user.oem_id, customer=customer, dealer_id=user.dealer_id, consultant_id=consultant.id,
            origin=Origin.DEALER, source=data["source"], model_of_interest=data["model_of_interest"],
            intent_level=data["intent_level"], stage=Stage.TEST_DRIVE if data["test_drive"] else Stage.VISITED,
            arrived_at=now, assigned_at=now, created_by_id=user.id,
        )
        db.session.add(lead)
        db.session.flush()
        registration = _visit(user, lead, data, now, first=True)
    if registration.recorded:  # only a tick is a consent; an unticked box records nothing (nor a withdrawal)
        ticked = [channel for field, channel in CONSENT_FIELDS.items() if data.get(field)]
        consent_changes.collected(customer, ticked, ConsentMethod.WALK_IN_FORM, Source.WALK_IN, user, now)
    db.session.commit()
    return registration


def get_dealer_lead(user: User, lead_id: int) -> Lead:
    """A lead of the user's dealer, whoever works it (the front desk registers for everyone); 404 otherwise."""
    lead = db.session.scalar(visibility.dealer_leads(user).where(Lead.id == lead_id))
    if lead is None:
        abort(404)
    return lead


def record_visit(user: User, lead: Lead, details: dict) -> Registration:
    """Record that the customer of a lead of this dealer came in again, and commit.

    :param details: a loaded VisitSchema: party_size, test_drive, wechat_added.
    :raise WalkInError: when the lead is closed (the customer is then registered as a new walk-in).
    """
    locked_customer(lead.oem_id, lead.customer.phone_e164)
    if not lead.is_open:
        raise WalkInError("form", _l("This lead is closed: register the customer as a new walk-in."))
    registration = _visit(user, lead, details, utcnow(), first=False)
    db.session.commit()
    return registration


def locked_customer(oem_id: int, phone: str) -> Customer | None:
    """The brand's customer with this number, if any, locked until the commit (new leads of one person, from here
    or app.services.own_leads, are made one at a time)."""
    # A write that changes nothing, to take the lock: the row's on PostgreSQL, the database's on SQLite (which has
    # no FOR UPDATE and reads outside transactions). Registrations of one person then run one after the other and
    # the second of a double submit sees the first one's visit.
    person = (Customer.oem_id == oem_id, Customer.phone_e164 == phone)
    db.session.execute(update(Customer).where(*person).values(updated_at=Customer.updated_at))
    return db.session.scalar(select(Customer).where(*person))


def _receiving_consultant(user: User, consultant_id: int | None) -> User:
    choices = consultant_choices(user)
    if choices is None:
        return user
    for consultant in choices:
        if consultant.id == consultant_id:
            return consultant
    raise WalkInError("consultant_id", _l("Choose the consultant who receives them."))


def _visit(user: User, lead: Lead, details: dict, now: datetime, *, first: bool) -> Registration:
    """Add a visit to the lead with its history, milestones, stage, last contact and next follow-up; the caller
    commits. The visit reaches visited (test drive when they drove) whatever stage the lead is at."""
    if not first:
        earlier = db.session.scalar(select(ShowroomVisit).where(
            ShowroomVisit.lead_id == lead.id, ShowroomVisit.arrived_at >= now - DUPLICATE_WINDOW).limit(1))
        if earlier is not None:
            return Registration(lead, earlier, recorded=False)
    visit = ShowroomVisit(
        dealer_id=lead.dealer_id, lead_id=lead.id, consultant_id=lead.consultant_id or user.id,
        registered_by_id=user.id, first_visit=first, party_size=details["party_size"],
        test_drive=details["test_drive"], wechat_added=details["wechat_added"], arrived_at=now,
    )
    db.session.add(visit)
    summary = (_("Walk-in, party of %(count)d", count=visit.party_size) if first
               else _("Repeat visit, party of %(count)d", count=visit.party_size))
    db.session.add(Activity(lead_id=lead.id, user_id=user.id, kind=ActivityKind.VISIT, summary=summary,
                            occurred_at=now))
    if visit.test_drive:
        db.session.add(Activity(lead_id=lead.id, user_id=user.id, kind=ActivityKind.TEST_DRIVE,
                                summary=lead.model_of_interest, occurred_at=now))
    lead.last_contact_at, lead.last_contact_kind, lead.last_contact_outcome = now, ActivityKind.VISIT, None
    if lead.first_contact_at is None:
        lead.first_contact_at = now
    step = Stage.TEST_DRIVE if visit.test_drive else Stage.VISITED
    milestones.reach(lead, step, now)
    lead_changes.advance_to(user, lead, step)
    # The visit was a contact: the open next step is done and the dealer's rhythm restarts from today.
    due = cadence.next_follow_up(cadence.policy_for(lead.dealer), lead.intent_level, now)
    follow_ups.set_next(lead, due, purpose=FOLLOW_UP_PURPOSE)
    db.session.flush()
    return Registration(lead, visit, recorded=True)


def openable_leads(user: User, visits: list[ShowroomVisit]) -> frozenset[int]:
    """Which of these visits' leads the user may open: a consultant their own, a manager the dealer's."""
    ids = {visit.lead_id for visit in visits}
    if not ids:
        return frozenset()
    return frozenset(db.session.scalars(visibility.visible_leads(user).where(Lead.id.in_(ids))
                                        .with_only_columns(Lead.id)))


def traffic_log(user: User) -> TrafficLog:
    """The dealer's showroom today (in the dealer's time zone), newest first, for everyone at the dealer."""
    day_starts, day_ends = cadence.local_day(cadence.policy_for(user.dealer), utcnow())
    visits = (
        select(ShowroomVisit).where(ShowroomVisit.dealer_id == user.dealer_id)
        .options(joinedload(ShowroomVisit.lead).joinedload(Lead.customer), joinedload(ShowroomVisit.consultant))
        .order_by(ShowroomVisit.arrived_at.desc(), ShowroomVisit.id.desc())
    )
    still_in = list(db.session.scalars(visits.where(ShowroomVisit.left_at.is_(None))))
    left_today = list(db.session.scalars(visits.where(
        ShowroomVisit.left_at.is_not(None), ShowroomVisit.arrived_at >= day_starts,
        ShowroomVisit.arrived_at < day_ends)))
    return TrafficLog(still_in, left_today, day_starts, openable_leads(user, still_in + left_today))


def get_visit(user: User, visit_id: int) -> ShowroomVisit:
    """A visit to the user's dealer; 404 for any other."""
    visit = db.session.scalar(select(ShowroomVisit).where(ShowroomVisit.id == visit_id,
                                                          ShowroomVisit.dealer_id == user.dealer_id))
    if visit is None:
        abort(404)
    return visit


def record_leave(visit: ShowroomVisit) -> None:
    """Close the visit now (never before it began); a visit already closed keeps its leave time."""
    if visit.left_at is None:
        visit.left_at = max(utcnow(), visit.arrived_at)
        db.session.commit()
