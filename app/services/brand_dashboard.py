"""The brand's dashboard for its administrators: the dealer managers' measures per region and per dealer, a
ranking of dealers by response time and conversion, and the lost-lead audit.

The brand sees counts of every lead of its dealers (visibility.sees_aggregates_of_all_leads) but never the
details of a dealer's own customers: everything here is a number per dealer, region or consultant. The audit
shows, per dealer, the lost and invalid requests made in the period with their reasons and who made them, next
to the share of the period's leads closed as lost or invalid, so that "subjective" abandonment (DOMAIN.md: 40 to
54 percent of followed leads in China) stands out.
"""
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select

from app.extensions import db
from app.models import ApprovalRequest, ApprovalStatus, Dealer, Lead, Region, User
from app.services import visibility
from app.services.dealer_dashboard import CLOSING_REQUESTS
from app.services.lead_measures import Measures, cohort
from app.services.periods import Period

DEFAULT_ZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class DealerFigures:
    dealer: Dealer
    measures: Measures


@dataclass(frozen=True)
class RegionFigures:
    region: Region
    measures: Measures  # its dealers' together
    dealers: int


@dataclass
class Audit:
    """One dealer's lost and invalid requests in the period."""

    dealer: Dealer
    requested: int = 0
    approved: int = 0
    rejected: int = 0
    pending: int = 0
    reasons: Counter = field(default_factory=Counter)  # reason code → requests
    consultants: Counter = field(default_factory=Counter)  # consultant's name → requests
    leads: int = 0  # the period's leads of the dealer
    lost: int = 0  # of them, closed lost or invalid

    @property
    def lost_share(self) -> float | None:
        return self.lost / self.leads if self.leads else None


@dataclass(frozen=True)
class BrandDashboard:
    period: Period
    previous: Period
    total: Measures
    total_before: Measures
    regions: list[RegionFigures]
    dealers: list[DealerFigures]  # every dealer, those without leads too
    audit: list[Audit]  # dealers with requests or lost leads, the highest share lost first


def brand_scope(admin: User):
    """The leads the brand's figures count: all its dealers' when it sees aggregates of every lead, else its
    own leads (visibility decides)."""
    if visibility.sees_aggregates_of_all_leads(admin):
        return and_(Lead.oem_id == admin.oem_id, Lead.dealer_id.is_not(None))
    return and_(visibility.lead_scope(admin), Lead.dealer_id.is_not(None))


def dashboard(admin: User, period: Period) -> BrandDashboard:
    scope, previous = brand_scope(admin), period.previous()
    dealers = list(db.session.scalars(visibility.visible_dealers(admin).order_by(Dealer.code)))
    by_dealer = cohort(scope, period.start, period.end, Lead.dealer_id)
    figures = [DealerFigures(dealer, by_dealer.get(dealer.id, Measures())) for dealer in dealers]
    return BrandDashboard(
        period=period, previous=previous, total=combine(by_dealer.values()),
        total_before=combine(cohort(scope, previous.start, previous.end, Lead.dealer_id).values()),
        regions=_regions(figures), dealers=figures, audit=_audit(admin, period, figures))


def dealer_figures(admin: User, dealer_id: int, period: Period) -> tuple[Dealer, Measures, Measures, dict]:
    """One dealer's numbers for the drill-down: its measures now and before, and per consultant (by name).

    :raise LookupError: for a dealer the admin does not oversee.
    """
    dealer = db.session.scalar(visibility.visible_dealers(admin).where(Dealer.id == dealer_id))
    if dealer is None:
        raise LookupError(dealer_id)
    scope, previous = and_(brand_scope(admin), Lead.dealer_id == dealer_id), period.previous()
    by_consultant = cohort(scope, period.start, period.end, Lead.consultant_id)
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(
        [key for key in by_consultant if key is not None]))).all())
    consultants = {names.get(key): measures for key, measures in by_consultant.items()}
    return (dealer, combine(by_consultant.values()),
            combine(cohort(scope, previous.start, previous.end, Lead.consultant_id).values()), consultants)


def combine(groups) -> Measures:
    """Several groups' measures as one (medians from all their response times)."""
    total = Measures()
    for measures in groups:
        for name in ("leads", "contacted", "invited", "visited", "test_drive", "ordered", "delivered", "in_time",
                     "lost"):
            setattr(total, name, getattr(total, name) + getattr(measures, name))
        total.response_seconds.extend(measures.response_seconds)
    return total


def ranking(figures: list[DealerFigures], by: str) -> list[DealerFigures]:
    """Dealers with leads, best first: by median first contact (fastest first) or by close rate (highest);
    dealers without a figure last."""
    if by == "response":
        def key(row):
            median = row.measures.median_response
            return (median is None, median or 0)
    else:
        def key(row):
            rate = row.measures.close_rate
            return (rate is None, -(rate or 0))
    return sorted((row for row in figures if row.measures.leads), key=key)


def _regions(figures: list[DealerFigures]) -> list[RegionFigures]:
    grouped: dict[int, list[DealerFigures]] = defaultdict(list)
    for row in figures:
        grouped[row.dealer.region_id].append(row)
    regions = {region.id: region for region in db.session.scalars(select(Region).where(Region.id.in_(grouped)))}
    return sorted((RegionFigures(regions[region_id], combine(row.measures for row in rows), len(rows))
                   for region_id, rows in grouped.items()), key=lambda row: row.region.code)


def _audit(admin: User, period: Period, figures: list[DealerFigures]) -> list[Audit]:
    """Lost and invalid requests made in the period, per dealer, with the share of the period's leads lost."""
    dealers = {row.dealer.id: row for row in figures}
    audits = {dealer_id: Audit(row.dealer, leads=row.measures.leads, lost=row.measures.lost)
              for dealer_id, row in dealers.items()}
    requests = select(ApprovalRequest.dealer_id, ApprovalRequest.status, ApprovalRequest.reason, User.name) \
        .join(User, ApprovalRequest.requested_by_id == User.id) \
        .where(ApprovalRequest.dealer_id.in_(list(dealers)), ApprovalRequest.kind.in_(CLOSING_REQUESTS),
               ApprovalRequest.created_at >= period.start, ApprovalRequest.created_at < period.end)
    for dealer_id, status, reason, name in db.session.execute(requests):
        audit = audits[dealer_id]
        audit.requested += 1
        audit.approved += status is ApprovalStatus.APPROVED
        audit.rejected += status is ApprovalStatus.REJECTED
        audit.pending += status is ApprovalStatus.PENDING
        audit.reasons[reason] += 1
        audit.consultants[name] += 1
    shown = [audit for audit in audits.values() if audit.requested or audit.lost]
    return sorted(shown, key=lambda audit: (-(audit.lost_share or 0), -audit.requested, audit.dealer.code))


def brand_zone(admin: User) -> ZoneInfo:
    """The time zone of the brand's days: where most of its dealers are (Asia/Shanghai without dealers)."""
    zone = db.session.scalar(select(Dealer.time_zone).join(Region).where(Region.oem_id == admin.oem_id)
                             .group_by(Dealer.time_zone).order_by(func.count().desc(), Dealer.time_zone).limit(1))
    return ZoneInfo(zone or DEFAULT_ZONE)
