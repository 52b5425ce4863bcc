"""Leads: one sales opportunity of one customer at one dealer, from arrival to delivery or loss."""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.activities import ActivityKind, Outcome
from app.models.customers import Customer
from app.models.org import Dealer
from app.models.types import UTCDateTime, enum_column, utcnow
from app.models.users import User


class Stage(enum.StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    INVITED = "invited"
    VISITED = "visited"
    TEST_DRIVE = "test_drive"
    NEGOTIATING = "negotiating"
    ORDERED = "ordered"
    DELIVERED = "delivered"
    LOST = "lost"
    INVALID = "invalid"

    @property
    def is_open(self) -> bool:
        return self not in CLOSED_STAGES


CLOSED_STAGES = frozenset({Stage.DELIVERED, Stage.LOST, Stage.INVALID})
OPEN_STAGES = tuple(s for s in Stage if s not in CLOSED_STAGES)


class IntentLevel(enum.StrEnum):
    """How soon the customer will buy; it sets the follow-up cadence (see DOMAIN.md)."""

    H = "H"  # within 7 days
    A = "A"  # 7 days to a month
    B = "B"  # 1 to 3 months
    C = "C"  # more than 3 months
    O = "O"  # order placed, until delivery  # noqa: E741


class Source(enum.StrEnum):
    OEM_HOTLINE = "oem_hotline"
    BRAND_WEBSITE = "brand_website"
    AUTOHOME = "autohome"
    DONGCHEDI = "dongchedi"
    YICHE = "yiche"
    PHONE_IN = "phone_in"
    WALK_IN = "walk_in"
    AUTO_SHOW = "auto_show"
    REFERRAL = "referral"
    WECHAT = "wechat"
    REPEAT_CUSTOMER = "repeat_customer"


class Origin(enum.StrEnum):
    """Who captured the lead: the OEM's lead desk (shared with the OEM) or the dealer itself (kept private)."""

    OEM = "oem"
    DEALER = "dealer"


class ReturnReason(enum.StrEnum):
    """Why a lead went back to a pool (the dealer's, or the lead desk's for the brand's leads)."""

    NOT_CONTACTED = "not_contacted"  # nobody called within the dealer's second limit (24 hours by default)
    UNTOUCHED = "untouched"  # nobody touched it for the dealer's recycle period
    NO_SHOW = "no_show"  # a booked visit did not happen (the brand's leads go back to the lead desk)


_AWAITING_FIRST_CONTACT = text("first_contact_at IS NULL")


# The brand's cohorts by arrival, then what a cohort's measures read: the dealer, the origin (the brand's own
# leads), the stage and the milestones.
COHORT_COLUMNS = ("oem_id", "arrived_at", "dealer_id", "origin", "stage", "first_contact_at", "first_contact_due_at",
                  "invited_at", "visited_at", "test_drive_at", "ordered_at", "delivered_at")


class Lead(db.Model):
    """A customer's interest in a car, owned by a dealer and worked by one consultant."""

    __tablename__ = "leads"
    __table_args__ = (
        # A consultant's leads by next follow-up: Today and their list. Not partial: a query's "stage NOT IN"
        # with bound values cannot prove it matches a partial index, and closed leads are few per consultant.
        Index("ix_leads_consultant_follow_up", "consultant_id", "next_follow_up_at"),
        # A dealer's leads by stage, newest first: the manager's list and funnels.
        Index("ix_leads_dealer_stage_arrived", "dealer_id", "stage", "arrived_at"),
        # A dealer's leads by arrival: also the funnel's cohorts, counted by milestone (app.services.milestones).
        Index("ix_leads_dealer_arrived", "dealer_id", "arrived_at"),
        # The lead desk's leads, newest first.
        Index("ix_leads_oem_origin_arrived", "oem_id", "origin", "arrived_at"),
        # The dashboards: the brand's cohorts across its dealers, covering every column a cohort's measures read
        # (app.services.lead_measures), so a hundred thousand leads are read from the index alone; a dealer's
        # orders in a period.
        Index("ix_leads_oem_cohort", *COHORT_COLUMNS),
        Index("ix_leads_dealer_ordered", "dealer_id", "ordered_at"),
        Index("ix_leads_customer", "customer_id"),
        # The first-contact clock's sweep: leads nobody has called yet, by deadline.
        Index("ix_leads_first_contact_due", "first_contact_due_at",
              postgresql_where=_AWAITING_FIRST_CONTACT, sqlite_where=_AWAITING_FIRST_CONTACT),
        Index("ix_leads_return_due", "return_due_at",
              postgresql_where=_AWAITING_FIRST_CONTACT, sqlite_where=_AWAITING_FIRST_CONTACT),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    oem_id: Mapped[int] = mapped_column(ForeignKey("oems.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id"))
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    origin: Mapped[Origin] = mapped_column(enum_column(Origin))
    source: Mapped[Source] = mapped_column(enum_column(Source))
    provider: Mapped[str | None] = mapped_column(String(80))
    model_of_interest: Mapped[str | None] = mapped_column(String(80))
    intent_level: Mapped[IntentLevel] = mapped_column(enum_column(IntentLevel), default=IntentLevel.A)
    stage: Mapped[Stage] = mapped_column(enum_column(Stage), default=Stage.NEW)
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    routed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The first-contact clock (app.services.first_contact_clock), set when the lead reaches a dealer or a new
    # consultant: the dealer's limit in working time, then the later limit that returns the lead to a pool.
    first_contact_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the manager was told
    # Set while the lead waits in a pool after being taken back; cleared when it is routed or assigned again.
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_reason: Mapped[ReturnReason | None] = mapped_column(enum_column(ReturnReason))
    next_follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The latest contact, kept on the lead so lists show "last contact" without reading the history.
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_contact_kind: Mapped[ActivityKind | None] = mapped_column(enum_column(ActivityKind))
    last_contact_outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Funnel milestones: when the lead first reached each step, kept when it goes back a stage or is lost, so a
    # funnel counts "ever reached" with plain aggregates. "Contacted" is first_contact_at. Written only by
    # app.services.milestones, whose docstring has the rules (a later step implies the earlier ones).
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    test_drive_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ordered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship()
    dealer: Mapped[Dealer | None] = relationship()
    consultant: Mapped[User | None] = relationship(foreign_keys=[consultant_id])
    open_follow_up = relationship(
        "FollowUpTask", uselist=False, viewonly=True,
        primaryjoin="and_(FollowUpTask.lead_id == Lead.id, FollowUpTask.status == 'open')",
    )

    @property
    def is_open(self) -> bool:
        return self.stage.is_open
