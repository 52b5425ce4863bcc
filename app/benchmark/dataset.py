"""The data set the benchmark measures on: the demo brand at a chosen scale (app.demo), built or reused, and the
people and leads the measures act as and on, picked from it."""
import sys
import time
from dataclasses import dataclass

import click
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import CLOSED_STAGES, Activity, Customer, Dealer, Lead, Role, Stage, User

SEED = 2026


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    about: str  # who they are in the table: "87 open leads"


@dataclass(frozen=True)
class People:
    """Who the measures sign in as, and what they open.

    consultant: the one with the median number of open leads (a typical day's list);
    logger: the next one in that order (as busy, give or take), who logs the outcomes of the logging measure and
        the bytes on the wire: writes that move follow-ups, kept off the consultant's day so that Today and the
        lead page read the same on every run over the same data set;
    manager: the manager of the dealer with the most leads; admin: the brand's administrator.
    lead_id: the consultant's open lead with the longest history; phone: a number of one of their customers, as
    typed (11 digits); dealer_phone: a number of another consultant's customer at the manager's dealer;
    logging_leads: the logger's open leads already contacted, to log outcomes on in turn.
    """

    consultant: Person
    logger: Person
    manager: Person
    admin: Person
    lead_id: int
    phone: str
    dealer_phone: str
    logging_leads: list[int]


def ensure(leads: int, rebuild: bool, yes: bool, echo=click.echo) -> dict:
    """Reuse the database if it holds `leads` leads (and not `rebuild`), else build the demo at that scale;
    returns its size: leads, dealers, users, and whether it was built now."""
    upgrade()
    found = _count(Lead)
    built = rebuild or found != leads
    if built:
        url = db.engine.url.render_as_string(hide_password=True)
        echo(f"Building the data set: {leads:,} leads in {url}" + (f" (it holds {found:,})" if found else "") + " …")
        if found and not yes and sys.stdin.isatty():
            click.confirm(f"This deletes everything in {url}. Continue?", abort=True)
        from app.demo import generate

        started = time.perf_counter()
        echo(generate.run(leads=leads, seed=SEED, echo=echo))
        settle()
        echo(f"Built in {time.perf_counter() - started:.0f} s.")
    else:
        echo(f"Reusing the data set: {found:,} leads.")
    return {"leads": _count(Lead), "dealers": _count(Dealer), "users": _count(User), "built now": built}


def settle() -> None:
    """Leave a PostgreSQL database as autovacuum does minutes after a bulk load, so the first run measures what
    a live database answers: planner statistics, and the visibility map that lets the covering indexes answer
    without visiting the table (a fresh COPY has none). SQLite keeps neither by itself; the app asks for nothing."""
    if db.engine.dialect.name != "postgresql":
        return
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE)"))


def people() -> People:
    """Pick the people and leads of the measures from the data set (the same ones for the same data)."""
    open_counts = db.session.execute(
        select(Lead.consultant_id, func.count()).join(User, User.id == Lead.consultant_id)
        .where(Lead.stage.not_in(CLOSED_STAGES), User.role == Role.CONSULTANT, User.active.is_(True))
        .group_by(Lead.consultant_id).order_by(func.count(), Lead.consultant_id)).all()
    if not open_counts:
        raise click.ClickException("the data set has no consultant with open leads")
    consultant_id, open_leads = open_counts[len(open_counts) // 2]
    logger_id, logger_leads = open_counts[min(len(open_counts) // 2 + 1, len(open_counts) - 1)]
    consultant, logger = db.session.get(User, consultant_id), db.session.get(User, logger_id)
    dealer_id, dealer_leads = db.session.execute(
        select(Lead.dealer_id, func.count()).where(Lead.dealer_id.is_not(None)).group_by(Lead.dealer_id)
        .order_by(func.count().desc(), Lead.dealer_id).limit(1)).one()
    manager = db.session.scalar(select(User).where(User.dealer_id == dealer_id, User.role == Role.MANAGER,
                                                   User.active.is_(True)).order_by(User.id))
    admin = db.session.scalar(select(User).where(User.role == Role.OEM_ADMIN, User.active.is_(True))
                              .order_by(User.id))
    mine = select(Lead.id).where(Lead.consultant_id == consultant_id, Lead.stage.not_in(CLOSED_STAGES))
    lead_id = db.session.scalar(
        select(Activity.lead_id).where(Activity.lead_id.in_(mine)).group_by(Activity.lead_id)
        .order_by(func.count().desc(), Activity.lead_id).limit(1)) or db.session.scalar(mine.order_by(Lead.id))
    theirs = select(Lead.id).where(Lead.consultant_id == logger_id, Lead.stage.not_in(CLOSED_STAGES))
    logging_leads = (list(db.session.scalars(theirs.where(Lead.stage != Stage.NEW).order_by(Lead.id)))
                     or list(db.session.scalars(theirs.order_by(Lead.id))))
    dealer_phone = db.session.scalar(
        select(Customer.phone_e164).join(Lead, Lead.customer_id == Customer.id)
        .where(Lead.dealer_id == dealer_id, Lead.consultant_id != manager.id).order_by(Lead.id.desc()).limit(1))
    return People(
        consultant=Person(consultant.id, consultant.email, f"{open_leads} open leads"),
        logger=Person(logger.id, logger.email, f"{logger_leads} open leads"),
        manager=Person(manager.id, manager.email, f"dealer of {dealer_leads:,} leads"),
        admin=Person(admin.id, admin.email, "the brand"),
        lead_id=lead_id, phone=_as_typed(_phone_of(db.session.scalar(mine.order_by(Lead.id.desc()).limit(1)))),
        dealer_phone=_as_typed(dealer_phone), logging_leads=logging_leads)


def _phone_of(lead_id: int) -> str:
    return db.session.scalar(select(Customer.phone_e164).join(Lead, Lead.customer_id == Customer.id)
                             .where(Lead.id == lead_id))


def _as_typed(phone_e164: str) -> str:
    """A Chinese mobile number as a consultant types it: the 11 digits without +86."""
    return phone_e164.removeprefix("+86")


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))
