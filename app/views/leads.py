"""Lead lists and pages, and the customer behind a lead."""
from flask import Blueprint, abort, current_app, request
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import select

from app.extensions import db
from app.models import Activity, Appointment, FollowUpTask, Lead, Stage
from app.schemas.leads import LeadListQuerySchema
from app.services import lead_lists, visibility
from app.views.rendering import render

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


@bp.get("/leads/<int:lead_id>")
@login_required
def show(lead_id: int):
    """One lead: the customer, the interest, what happened and what is next."""
    lead = visibility.get_lead(current_user, lead_id)
    activities = db.session.scalars(
        select(Activity).where(Activity.lead_id == lead.id).order_by(Activity.occurred_at.desc()).limit(100)
    )
    follow_ups = db.session.scalars(
        select(FollowUpTask).where(FollowUpTask.lead_id == lead.id).order_by(FollowUpTask.due_at.desc())
    )
    appointments = db.session.scalars(
        select(Appointment).where(Appointment.lead_id == lead.id).order_by(Appointment.starts_at.desc())
    )
    page, params = _list_for_current_user()
    return render("leads/show.html", lead=lead, activities=list(activities), follow_ups=list(follow_ups),
                  appointments=list(appointments), page=page, params=params, stages=list(Stage))


@bp.get("/customers/<int:customer_id>")
@login_required
def customer(customer_id: int):
    """A customer and the leads of theirs I may see."""
    person = visibility.get_customer(current_user, customer_id)
    leads = db.session.scalars(
        visibility.visible_leads(current_user).where(Lead.customer_id == person.id).order_by(Lead.arrived_at.desc())
    )
    return render("leads/customer.html", customer=person, leads=list(leads))
