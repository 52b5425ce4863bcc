"""Lead lists and pages, and the customer behind a lead."""
from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app.extensions import db
from app.models import IntentLevel, Lead, Stage, utcnow
from app.schemas.leads import LeadListQuerySchema
from app.services import cadence, follow_ups, lead_changes, lead_lists, lead_timeline, visibility
from app.views.rendering import render, wants_fragment

bp = Blueprint("leads", __name__)


def _list_for_current_user():
    try:
        params = LeadListQuerySchema().load(request.args)
    except ValidationError:
        abort(400)
    page = lead_lists.list_leads(current_user, page_size=current_app.config["PAGE_SIZE"], **params)
    return page, params


@bp.get("/leads")
@login_required
def index():
    """The leads I may see: my open leads, my dealer's, or the lead desk's, with search and stage filter."""
    page, params = _list_for_current_user()
    return render("leads/index.html", "leads/_rows.html", page=page, params=params, stages=list(Stage))


@bp.get("/search")
@login_required
def search():
    """Active search from the box on every page: the first few matches, as the user types."""
    try:
        params = LeadListQuerySchema().load(request.args)
    except ValidationError:
        abort(400)
    if not wants_fragment():
        return redirect(url_for("leads.index", q=params["q"]))
    page = lead_lists.list_leads(current_user, q=params["q"], page_size=8, include_closed=True)
    return render("leads/_search_results.html", q=params["q"], page=page)


@bp.get("/leads/<int:lead_id>")
@login_required
def show(lead_id: int):
    """One lead: the customer, the interest, stage and level, what happened and what is next."""
    lead = visibility.get_lead(current_user, lead_id)
    can_work = current_user.role.belongs_to_dealer
    policy = cadence.policy_for(lead.dealer) if lead.dealer is not None else None
    picks = cadence.quick_picks(policy, lead.intent_level, utcnow()) if can_work else []
    list_pane = {} if wants_fragment() else dict(zip(("page", "params"), _list_for_current_user()))
    return render("leads/show.html", "leads/_detail.html", lead=lead, timeline=lead_timeline.timeline(lead),
                  pending=lead_changes.pending_request(lead), can_work=can_work, picks=picks, stages=list(Stage),
                  funnel=lead_changes.FUNNEL, levels=list(IntentLevel), silenced=follow_ups.silenced(lead, policy),
                  **list_pane)


@bp.get("/customers/<int:customer_id>")
@login_required
def customer(customer_id: int):
    """A customer and the leads of theirs I may see."""
    person = visibility.get_customer(current_user, customer_id)
    leads = db.session.scalars(
        visibility.visible_leads(current_user).where(Lead.customer_id == person.id).order_by(Lead.arrived_at.desc())
    )
    return render("leads/customer.html", customer=person, leads=list(leads),
                  answers_data_requests=visibility.answers_data_requests(current_user))
