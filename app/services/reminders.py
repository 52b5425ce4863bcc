"""Reminders: the worker's sweeps that turn what falls due into notifications (the outbox then delivers them).

1. Follow-ups due (`follow_ups_due`): an open follow-up whose time has come tells its consultant once
   ("follow_up_due"). One that fell due more than STALE ago (the worker was stopped a while) is marked without
   a push: Today and the morning digest show it, and a burst of old reminders would only be noise. So is one
   whose customer may be contacted on no channel (calls withdrawn, and no SMS, WeChat or email consent:
   app.services.consent): a reminder to do what is not allowed is no reminder. The lead page says why.
2. Appointments soon (`appointments_soon`): a booked visit or test drive starting within APPOINTMENT_NOTICE tells
   its consultant once; one that has begun already is marked without a message.
3. The morning digest (`digests`): in the DIGEST_WINDOW after each dealer's digest time, in its time zone, every
   active consultant with follow-ups due (or overdue) or appointments that day is told how many, once a day; a
   worker that was stopped all morning sends no digest in the evening.
Each sweep reads only rows nobody was reminded of (partial indexes on reminded_at IS NULL), writes the
notifications in bulk and marks the rows in the same transaction, BATCH at a time; rows are claimed with
FOR UPDATE SKIP LOCKED on PostgreSQL, and a notification's dedupe key makes a repeat a no-op.
"""
from datetime import datetime, timedelta

from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import func, literal_column, or_, select, update

from app.extensions import db
from app.i18n import language_of
from app.models import Appointment, Customer, Dealer, FollowUpTask, Lead, Role, User
from app.services import cadence, consent, notices

BATCH = 1000
STALE = timedelta(hours=24)
APPOINTMENT_NOTICE = timedelta(hours=1)
DIGEST_WINDOW = timedelta(hours=3)


def follow_ups_due(now: datetime) -> int:
    """Remind consultants of follow-ups that fell due; returns how many were told."""
    due = (select(FollowUpTask.id, FollowUpTask.consultant_id, FollowUpTask.due_at, FollowUpTask.purpose,
                  Lead.id.label("lead_id"), Lead.model_of_interest, Customer.id.label("customer_id"), Customer.name)
           .join(Lead, Lead.id == FollowUpTask.lead_id).join(Customer, Customer.id == Lead.customer_id)
           .where(FollowUpTask.status == literal_column("'open'"), FollowUpTask.reminded_at.is_(None),
                  FollowUpTask.due_at <= now)
           .order_by(FollowUpTask.due_at).limit(BATCH).with_for_update(skip_locked=True, of=FollowUpTask))

    def worth_telling(rows):
        unreachable = consent.unreachable_customers(row.customer_id for row in rows)
        return [row for row in rows if row.due_at > now - STALE and row.customer_id not in unreachable]

    return _sweep(due, FollowUpTask, now, worth_telling, lambda row: dict(
        kind="follow_up_due", user_id=row.consultant_id, lead_id=row.lead_id, title=row.name,
        body=row.purpose or row.model_of_interest, occasion=row.due_at))


def appointments_soon(now: datetime) -> int:
    """Remind consultants of visits and test drives starting within the hour; returns how many were told."""
    soon = (select(Appointment.id, Appointment.consultant_id, Appointment.starts_at, Appointment.kind,
                   Lead.id.label("lead_id"), Customer.name)
            .join(Lead, Lead.id == Appointment.lead_id).join(Customer, Customer.id == Lead.customer_id)
            .where(Appointment.status == literal_column("'booked'"), Appointment.reminded_at.is_(None),
                   Appointment.starts_at <= now + APPOINTMENT_NOTICE)
            .order_by(Appointment.starts_at).limit(BATCH).with_for_update(skip_locked=True, of=Appointment))
    return _sweep(soon, Appointment, now, lambda rows: [row for row in rows if row.starts_at > now],
                  lambda row: dict(kind="appointment_soon", user_id=row.consultant_id, lead_id=row.lead_id,
                                   title=row.name, body=row.kind.value, occasion=row.starts_at))


def _sweep(statement, model, now: datetime, worth_telling, notice) -> int:
    """Mark the rows `statement` finds, telling those that `worth_telling` keeps of each batch; BATCH rows a
    transaction."""
    told = 0
    while rows := db.session.execute(statement).all():
        messages = [notice(row) for row in worth_telling(rows)]
        notices.add_many([dict(
            user_id=m["user_id"], kind=m["kind"], lead_id=m["lead_id"], url=f"/leads/{m['lead_id']}",
            title=m["title"], body=m["body"], created_at=now,
            dedupe_key=f"lead:{m['lead_id']}:{m['kind']}:{m['user_id']}:{m['occasion'].isoformat()}")
            for m in messages])
        db.session.execute(update(model).where(model.id.in_([row.id for row in rows])).values(reminded_at=now)
                           .execution_options(synchronize_session=False))
        db.session.commit()
        told += len(messages)
    return told


def digests(now: datetime) -> int:
    """Send the morning digest to every consultant whose dealer's digest time has come today; returns how many."""
    told = 0
    waiting = select(User.dealer_id).where(
        User.role == Role.CONSULTANT, User.active.is_(True),
        or_(User.last_digest_on.is_(None), User.last_digest_on <= now.date())).distinct()
    dealers = list(db.session.scalars(select(Dealer).where(Dealer.id.in_(waiting), Dealer.active.is_(True))))
    policies = cadence.policies_for(dealers)
    for dealer in dealers:
        told += _digest(dealer, policies[dealer.id], now)
    return told


def _digest(dealer: Dealer, policy: cadence.Policy, now: datetime) -> int:
    local = now.astimezone(policy.zone)
    if policy.digest_at is None:
        return 0
    due = datetime.combine(local.date(), policy.digest_at, tzinfo=policy.zone)
    if not due <= local < due + DIGEST_WINDOW:
        return 0
    today, (_starts, day_ends) = local.date(), cadence.local_day(policy, now)
    consultants = list(db.session.scalars(select(User).where(
        User.dealer_id == dealer.id, User.role == Role.CONSULTANT, User.active.is_(True),
        or_(User.last_digest_on.is_(None), User.last_digest_on < today)).with_for_update(skip_locked=True)))
    if not consultants:
        return 0
    ids = [user.id for user in consultants]
    follow_ups = dict(db.session.execute(
        select(FollowUpTask.consultant_id, func.count()).where(
            FollowUpTask.consultant_id.in_(ids), FollowUpTask.status == literal_column("'open'"),
            FollowUpTask.due_at < day_ends).group_by(FollowUpTask.consultant_id)).all())
    appointments = dict(db.session.execute(
        select(Appointment.consultant_id, func.count()).where(
            Appointment.consultant_id.in_(ids), Appointment.status == literal_column("'booked'"),
            Appointment.starts_at >= now, Appointment.starts_at < day_ends).group_by(Appointment.consultant_id)).all())
    messages = []
    for user in consultants:
        calls, visits = follow_ups.get(user.id, 0), appointments.get(user.id, 0)
        if calls or visits:
            messages.append(dict(user_id=user.id, kind="digest", lead_id=None, url="/today", body=None,
                                 title=_day_in_words(user, calls, visits), created_at=now,
                                 dedupe_key=f"digest:{user.id}:{today.isoformat()}"))
    notices.add_many(messages)
    db.session.execute(update(User).where(User.id.in_(ids)).values(last_digest_on=today)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    return len(messages)


def _day_in_words(user: User, calls: int, visits: int) -> str:
    """"7 follow-ups and 2 appointments today", in the consultant's own language."""
    with force_locale(language_of(user.locale)):
        follow_ups = ngettext("%(num)d follow-up", "%(num)d follow-ups", calls)
        if not visits:
            return ngettext("%(num)d follow-up today", "%(num)d follow-ups today", calls)
        appointments = ngettext("%(num)d appointment", "%(num)d appointments", visits)
        if not calls:
            return ngettext("%(num)d appointment today", "%(num)d appointments today", visits)
        return gettext("%(follow_ups)s and %(appointments)s today", follow_ups=follow_ups, appointments=appointments)
