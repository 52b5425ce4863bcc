"""Routing rules: which dealer receives a lead from the brand's lead desk, as data the OEM admin edits."""
import enum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.org import Dealer
from app.models.types import enum_column


class RuleScope(enum.StrEnum):
    CITY = "city"  # the customer's city → a dealer
    PROVINCE = "province"  # the customer's province → a dealer
    REGION_FALLBACK = "region_fallback"  # anything else in a region's provinces → its fallback dealer


class RoutingRule(db.Model):
    """One rule: leads whose city (or province, or region) matches go to this dealer."""

    __tablename__ = "routing_rules"
    __table_args__ = (UniqueConstraint("oem_id", "scope", "match_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    oem_id: Mapped[int] = mapped_column(ForeignKey("oems.id"))
    scope: Mapped[RuleScope] = mapped_column(enum_column(RuleScope))
    match_value: Mapped[str] = mapped_column(String(60))  # a city, a province, or a region's code
    dealer_id: Mapped[int] = mapped_column(ForeignKey("dealers.id"))

    dealer: Mapped[Dealer] = relationship()
