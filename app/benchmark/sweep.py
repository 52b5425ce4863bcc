"""The reminder sweep: one pass of the worker's follow-up reminders (app.services.reminders.follow_ups_due) over
the scratch set's open follow-ups, `due` of them fallen due within the last 12 hours and nobody reminded yet."""
import time
from datetime import timedelta

import click
from sqlalchemy import func, select, update

from app.benchmark import scratch
from app.benchmark.report import Row, Target
from app.extensions import db
from app.models import FollowUpTask, utcnow
from app.services import reminders

TARGET = Target(2)
HOURS = 12  # the due ones fell due over this many past hours, an hour apart


def measure(size: int, due: int, echo=click.echo) -> list[Row]:
    echo(f"  one pass over {size:,} open follow-ups, {due:,} due …")
    scratch.reset(size)
    now = utcnow()
    _make_due(due, now)
    started = time.perf_counter()
    told = reminders.follow_ups_due(now)
    seconds = time.perf_counter() - started
    marked = db.session.scalar(select(func.count()).select_from(FollowUpTask).where(FollowUpTask.reminded_at == now))
    scratch.reset(size)
    return [Row("sweep", f"Reminder sweep ({size:,} open follow-ups, {due:,} due)", "s", TARGET,
                value=round(seconds, 3), detail={"open": size, "due": due, "marked": marked, "told": told})]


def _make_due(due: int, now) -> None:
    """The first `due` follow-ups fall due over the last HOURS hours, unreminded; all others are due later
    (undoing a previous run with more due ones)."""
    for hour in range(HOURS):
        db.session.execute(update(FollowUpTask).where(FollowUpTask.id <= due, FollowUpTask.id % HOURS == hour)
                           .values(due_at=now - timedelta(hours=hour, minutes=1), reminded_at=None))
    db.session.execute(update(FollowUpTask)
                       .where(FollowUpTask.id > due, FollowUpTask.due_at <= now + timedelta(hours=1))
                       .values(due_at=now + timedelta(days=30), reminded_at=None))
    db.session.commit()
    scratch.analyse()
