"""The measures of lead work that dashboards show, counted by the database over a cohort: the leads that arrived
in a period, grouped by consultant, source, model, dealer or region.

A lead's progress is its milestones (app.services.milestones): the first time it was contacted, invited,
visited, test-driven, ordered, delivered. So the funnel of a cohort counts the leads that reached each step,
however far they went afterwards (a lead lost after a test drive still counts as test-driven). Response time is
arrival to first contact; "in time" means by the first-contact deadline the dealer's clock set for the lead
(app.services.first_contact_clock), or at all when the lead had none.
"""
import operator
import statistics
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce

from sqlalchemy import ColumnElement, Float, String, and_, case, cast, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.extensions import db
from app.models import Lead, Stage
from app.services import milestones

# The funnel's steps after "leads", each with the condition that a lead reached it (its milestone; contacted
# also when it was invited without a logged contact, so the funnel never widens).
STEPS = ("contacted", "invited", "visited", "test_drive", "ordered", "delivered")
REACHED = {step: milestones.reached(Stage(step)) for step in STEPS}


@dataclass
class Measures:
    """One group's counts over a cohort; rates are None where there is nothing to divide by."""

    leads: int = 0
    contacted: int = 0
    invited: int = 0
    visited: int = 0
    test_drive: int = 0
    ordered: int = 0
    delivered: int = 0
    in_time: int = 0  # first contacted by the deadline
    lost: int = 0  # closed as lost or invalid
    response_seconds: list[float] = field(default_factory=list, repr=False)

    @property
    def median_response(self) -> float | None:
        """Median seconds from arrival to first contact, of the leads contacted."""
        return statistics.median(self.response_seconds) if self.response_seconds else None

    @property
    def in_time_rate(self) -> float | None:
        return ratio(self.in_time, self.leads)

    @property
    def close_rate(self) -> float | None:
        """Orders per lead of the cohort."""
        return ratio(self.ordered, self.leads)

    @property
    def lost_rate(self) -> float | None:
        return ratio(self.lost, self.leads)

    def funnel(self) -> list[tuple[str, int, float | None]]:
        """(step, leads that reached it, conversion from the step before), from "leads" to "delivered"."""
        counts = [("leads", self.leads)] + [(step, getattr(self, step)) for step in STEPS]
        return [(step, count, None if n == 0 else ratio(count, counts[n - 1][1]))
                for n, (step, count) in enumerate(counts)]


class seconds_between(FunctionElement):
    """SQL: the seconds from `earlier` to `later`, as a plain number (no datetimes to read back row by row)."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between)
def _seconds_between_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_between_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def cohort(scope: ColumnElement[bool], start: datetime, end: datetime, key=None) -> dict:
    """Measures of the leads within `scope` that arrived in [start, end), per value of `key` (a column or SQL
    expression; None for one group, under the key None). Groups without leads are absent."""
    return cohorts(scope, start, end, {"only": key})["only"]


def cohorts(scope: ColumnElement[bool], start: datetime, end: datetime, keys: dict) -> dict[str, dict]:
    """The cohort's measures for several groupings at once ({name: key}, as `cohort` takes a key), from one read
    of the cohort, which the brand's covering index (ix_leads_oem_cohort) answers without visiting the table.

    The database groups the leads by their keys and the counted conditions each meets (the bits of one number):
    a few thousand groups however many leads, each with its count and its leads' response times as one text
    (the medians need every one of them, and 100,000s of rows would cost more to carry than the numbers)."""
    in_time = and_(Lead.first_contact_at.is_not(None),
                   or_(Lead.first_contact_due_at.is_(None), Lead.first_contact_at <= Lead.first_contact_due_at))
    conditions = {**REACHED, "in_time": in_time, "lost": Lead.stage.in_((Stage.LOST, Stage.INVALID))}
    bits = reduce(operator.add, (case((condition, 1 << bit), else_=0)
                                 for bit, condition in enumerate(conditions.values())))
    response = case((Lead.first_contact_at.is_not(None), seconds_between(Lead.first_contact_at, Lead.arrived_at)))
    grouped = {name: key for name, key in keys.items() if key is not None}
    rows = db.session.connection().execute(  # plain rows: no ORM result processing needed
        select(*grouped.values(), bits, func.count(), func.aggregate_strings(cast(response, String), ","))
        .where(scope, Lead.arrived_at >= start, Lead.arrived_at < end).group_by(*grouped.values(), bits)).all()
    measures: dict[str, dict] = {name: {} for name in keys}
    for *key_values, met, count, responses in rows:
        # julianday() carries float noise in the microseconds: milliseconds are precise enough for a median
        seconds = [max(0.0, round(float(value), 3)) for value in responses.split(",")] if responses else []
        named = dict(zip(grouped, key_values))
        for name in keys:
            group = measures[name].setdefault(named.get(name), Measures())
            group.leads += count
            for bit, condition in enumerate(conditions):
                if met >> bit & 1:
                    setattr(group, condition, getattr(group, condition) + count)
            group.response_seconds.extend(seconds)
    return measures
