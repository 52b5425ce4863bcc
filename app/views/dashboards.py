"""The dealer manager's dashboard (their home), the leads behind its numbers, and its tables as downloads; the
brand's dashboard for its administrators, with a dealer's figures and the lost-lead audit."""
from flask import Blueprint, abort, request
from flask_babel import gettext as _
from flask_login import current_user

from app.labels import label
from app.models import Role, Source, utcnow
from app.services import brand_dashboard, cadence, dealer_dashboard
from app.services.brand_dashboard import BrandDashboard
from app.services.dealer_dashboard import DealerDashboard
from app.services.lead_measures import Measures
from app.services.periods import Period, PeriodError, period
from app.views.access import roles_required
from app.views.exports import table_download
from app.views.rendering import render

bp = Blueprint("dashboards", __name__)
managers = roles_required(Role.MANAGER)
brand_admins = roles_required(Role.OEM_ADMIN)

# The consultants table's columns: (key, how a row is read), sortable by any of them.
CONSULTANT_SORTS = {
    "name": lambda row: row.consultant.name if row.consultant else None,  # "not assigned" last
    "leads": lambda row: row.measures.leads,
    "response": lambda row: row.measures.median_response,
    "in_time": lambda row: row.measures.in_time_rate,
    "on_time": lambda row: row.activity.on_time_rate,
    "appointments": lambda row: row.activity.appointments,
    "shows": lambda row: row.activity.shows,
    "test_drives": lambda row: row.activity.test_drives,
    "orders": lambda row: row.measures.ordered,
    "close_rate": lambda row: row.measures.close_rate,
    "lost_requests": lambda row: row.activity.lost_requests,
}


# The brand's dealers table, sortable the same way.
DEALER_SORTS = {
    "name": lambda row: row.dealer.name,
    "leads": lambda row: row.measures.leads,
    "response": lambda row: row.measures.median_response,
    "in_time": lambda row: row.measures.in_time_rate,
    "visited": lambda row: row.measures.visited,
    "orders": lambda row: row.measures.ordered,
    "close_rate": lambda row: row.measures.close_rate,
    "lost_rate": lambda row: row.measures.lost_rate,
}


@bp.get("/dashboard")
@managers
def dealer():
    """The dealer's dashboard for the period asked (today by default), against the period before."""
    chosen, errors = _period()
    board = dealer_dashboard.dashboard(current_user, chosen, utcnow())
    sort, descending = _sort(CONSULTANT_SORTS)
    rows = _sorted(board.consultants, CONSULTANT_SORTS[sort], descending)
    return render("dashboards/dealer.html", board=board, consultants=rows, errors=errors, sort=sort,
                  descending=descending, form=request.args, label_step=label_step)


@bp.get("/dashboard/leads")
@managers
def leads_behind():
    """The leads counted in one of the dashboard's numbers."""
    chosen, _errors = _period()
    measure = request.args.get("measure", "leads")
    if measure not in dealer_dashboard.MEASURES:
        abort(404)
    consultant = request.args.get("consultant", "")
    filters = {
        "consultant_id": int(consultant) if consultant.isdigit() else None,
        "unassigned": consultant == "none",
        "source": request.args.get("source") if request.args.get("source") in set(Source) else None,
        "model": request.args.get("model"),
    }
    leads = dealer_dashboard.leads_behind(current_user, chosen, measure, **filters)
    return render("dashboards/leads.html", leads=leads, period=chosen, limit=200,
                  title=label_step(measure) if measure in STEP_NAMES else {
                      "in_time": _("Contacted within the limit"), "lost": _("Lost or invalid")}[measure])


@bp.get("/dashboard/<any(funnel, consultants, sources, models):table>.<fmt>")
@managers
def download(table: str, fmt: str):
    """One of the dashboard's tables as CSV or XLSX, for the period asked."""
    chosen, _errors = _period()
    board = dealer_dashboard.dashboard(current_user, chosen, utcnow())
    columns, rows = TABLES[table](board)
    stem = f"{table}-{chosen.first.isoformat()}-{chosen.last.isoformat()}"
    return table_download(stem, columns, rows, fmt)


@bp.get("/brand-dashboard")
@brand_admins
def brand():
    """The brand's dealers and regions for the period, the rankings and the lost-lead audit."""
    chosen, errors = _period(brand_dashboard.brand_zone(current_user))
    board = brand_dashboard.dashboard(current_user, chosen)
    sort, descending = _sort(DEALER_SORTS)
    return render("dashboards/brand.html", board=board, errors=errors, form=request.args, label_step=label_step,
                  dealers=_sorted(board.dealers, DEALER_SORTS[sort], descending), sort=sort, descending=descending,
                  by_response=brand_dashboard.ranking(board.dealers, "response")[:10],
                  by_conversion=brand_dashboard.ranking(board.dealers, "conversion")[:10])


@bp.get("/brand-dashboard/dealers/<int:dealer_id>")
@brand_admins
def brand_dealer(dealer_id: int):
    """One dealer's numbers, per consultant: counts only, never the dealer's customers."""
    chosen, errors = _period(brand_dashboard.brand_zone(current_user))
    try:
        dealer, total, before, consultants = brand_dashboard.dealer_figures(current_user, dealer_id, chosen)
    except LookupError:
        abort(404)
    return render("dashboards/brand_dealer.html", dealer=dealer, period=chosen, total=total, before=before,
                  consultants=sorted(consultants.items(), key=lambda item: (item[0] is None, item[0] or "")),
                  errors=errors, label_step=label_step)


@bp.get("/brand-dashboard/<any(regions, dealers, audit):table>.<fmt>")
@brand_admins
def brand_download(table: str, fmt: str):
    chosen, _errors = _period(brand_dashboard.brand_zone(current_user))
    board = brand_dashboard.dashboard(current_user, chosen)
    columns, rows = BRAND_TABLES[table](board)
    return table_download(f"{table}-{chosen.first.isoformat()}-{chosen.last.isoformat()}", columns, rows, fmt)


def _period(zone=None) -> tuple[Period, dict]:
    """The period in the query, in the dealer's (or the given) time zone; today, with the message, when it
    cannot be used."""
    zone, now = zone or cadence.policy_for(current_user.dealer).zone, utcnow()
    args = request.args
    try:
        return period(args.get("period"), zone, now, args.get("from"), args.get("to")), {}
    except PeriodError as error:
        return period(None, zone, now), {error.field: str(error)}


def _sort(columns: dict) -> tuple[str, bool]:
    """The column asked to sort by (the name by default) and whether downwards (numbers are, by default)."""
    sort = request.args.get("sort", "name")
    sort = sort if sort in columns else "name"
    return sort, request.args.get("dir", "asc" if sort == "name" else "desc") == "desc"


def _sorted(rows, value, descending: bool) -> list:
    """Rows by a column's value, rows without one last either way."""
    known = sorted((row for row in rows if value(row) is not None), key=value, reverse=descending)
    return known + [row for row in rows if value(row) is None]


# The tables as downloads: raw numbers (rates in percent, times in minutes), the labels the page shows.
def _measure_columns() -> list[tuple[str, str]]:
    return [("leads", _("Leads")), ("contacted", _("Contacted")), ("in_time", _("Contacted in time")),
            ("median_response_minutes", _("Median first contact (min)")), ("invited", _("Invited")),
            ("visited", _("Visited")), ("test_drive", _("Test drive")), ("ordered", _("Ordered")),
            ("delivered", _("Delivered")), ("close_rate", _("Close rate (%)")), ("lost", _("Lost or invalid"))]


def _measure_row(measures: Measures) -> dict:
    median = measures.median_response
    return {"leads": measures.leads, "contacted": measures.contacted, "in_time": measures.in_time,
            "median_response_minutes": round(median / 60, 1) if median is not None else None,
            "invited": measures.invited, "visited": measures.visited, "test_drive": measures.test_drive,
            "ordered": measures.ordered, "delivered": measures.delivered,
            "close_rate": _percent(measures.close_rate), "lost": measures.lost}


def _percent(rate: float | None) -> float | None:
    return round(rate * 100, 1) if rate is not None else None


def _funnel_table(board: DealerDashboard):
    columns = [("step", _("Step")), ("leads", _("Leads")), ("conversion", _("From the step before (%)")),
               ("before", _("Period before"))]
    before = {step: count for step, count, _rate in board.total_before.funnel()}
    rows = [{"step": label_step(step), "leads": count, "conversion": _percent(rate), "before": before[step]}
            for step, count, rate in board.total.funnel()]
    return columns, rows


def _consultants_table(board: DealerDashboard):
    columns = [("name", _("Consultant")), *_measure_columns(), ("follow_ups_due", _("Follow-ups due")),
               ("follow_ups_on_time", _("Follow-ups on time")), ("appointments", _("Appointments")),
               ("shows", _("Shows")), ("test_drives", _("Test drives")), ("lost_requests", _("Lost requests"))]
    rows = [{"name": row.consultant.name if row.consultant else _("Not assigned"), **_measure_row(row.measures),
             "follow_ups_due": row.activity.follow_ups_due, "follow_ups_on_time": row.activity.follow_ups_on_time,
             "appointments": row.activity.appointments, "shows": row.activity.shows,
             "test_drives": row.activity.test_drives, "lost_requests": row.activity.lost_requests}
            for row in board.consultants]
    return columns, rows


def _sources_table(board: DealerDashboard):
    return ([("source", _("Source")), *_measure_columns()],
            [{"source": label(source), **_measure_row(measures)} for source, measures in board.sources])


def _models_table(board: DealerDashboard):
    return ([("model", _("Model")), *_measure_columns()],
            [{"model": model or _("Model not known"), **_measure_row(measures)} for model, measures in board.models])


STEP_NAMES = ("leads", "contacted", "invited", "visited", "test_drive", "ordered", "delivered")


def label_step(step: str) -> str:
    """A funnel step's name, as on the page."""
    return dict(zip(STEP_NAMES, (_("Leads"), _("Contacted"), _("Invited"), _("Visited"), _("Test drive"),
                                 _("Ordered"), _("Delivered"))))[step]


def _regions_table(board: BrandDashboard):
    return ([("region", _("Region")), ("dealers", _("Dealers")), *_measure_columns()],
            [{"region": row.region.name, "dealers": row.dealers, **_measure_row(row.measures)}
             for row in board.regions])


def _dealers_table(board: BrandDashboard):
    return ([("code", _("Code")), ("dealer", _("Dealer")), ("city", _("City")), *_measure_columns()],
            [{"code": row.dealer.code, "dealer": row.dealer.name, "city": row.dealer.city,
              **_measure_row(row.measures)} for row in board.dealers])


def _audit_table(board: BrandDashboard):
    columns = [("dealer", _("Dealer")), ("leads", _("Leads")), ("lost", _("Lost or invalid")),
               ("lost_share", _("Share lost (%)")), ("requested", _("Requests")), ("approved", _("Approved")),
               ("rejected", _("Rejected")), ("pending", _("Waiting")), ("reasons", _("Reasons")),
               ("consultants", _("Requested by"))]
    rows = [{"dealer": audit.dealer.name, "leads": audit.leads, "lost": audit.lost,
             "lost_share": _percent(audit.lost_share), "requested": audit.requested, "approved": audit.approved,
             "rejected": audit.rejected, "pending": audit.pending,
             "reasons": "; ".join(f"{label(reason)} {count}" for reason, count in audit.reasons.most_common()),
             "consultants": "; ".join(f"{name} {count}" for name, count in audit.consultants.most_common())}
            for audit in board.audit]
    return columns, rows


BRAND_TABLES = {"regions": _regions_table, "dealers": _dealers_table, "audit": _audit_table}

TABLES = {"funnel": _funnel_table, "consultants": _consultants_table, "sources": _sources_table,
          "models": _models_table}
