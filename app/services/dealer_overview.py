"""The brand's view of its dealers: how many leads each holds and how many wait for first contact."""
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import CLOSED_STAGES, Dealer, Lead, Origin, Region, Stage, User
from app.services import visibility


@dataclass(frozen=True)
class DealerRow:
    dealer: Dealer
    leads: int
    open_leads: int
    waiting_first_contact: int
    oem_leads: int


def dealer_rows(user: User) -> list[DealerRow]:
    """Lead counts per dealer the user oversees, dealers with no leads included, by region then code.

    Counts are aggregates of all leads; opening a lead still goes through the visibility service.
    """
    counts = (
        select(
            Lead.dealer_id,
            func.count().label("leads"),
            func.count(case((Lead.stage.not_in(CLOSED_STAGES), 1))).label("open_leads"),
            func.count(case((Lead.stage == Stage.NEW, 1))).label("waiting"),
            func.count(case((Lead.origin == Origin.OEM, 1))).label("oem_leads"),
        )
        .where(Lead.dealer_id.in_(visibility.visible_dealers(user).with_only_columns(Dealer.id)))
        .group_by(Lead.dealer_id)
    )
    if not visibility.sees_aggregates_of_all_leads(user):
        counts = counts.where(visibility.lead_scope(user))
    by_dealer = {row.dealer_id: row for row in db.session.execute(counts)}
    dealers = db.session.scalars(
        visibility.visible_dealers(user).options(joinedload(Dealer.region)).order_by(Region.code, Dealer.code)
    )
    rows = []
    for dealer in dealers:
        row = by_dealer.get(dealer.id)
        rows.append(DealerRow(dealer, *(row[1:] if row else (0, 0, 0, 0))))
    return rows
