"""The lead desk (IDCC): leads from calls, duplicate lookup across the brand, routing with one tap."""
from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from app.models import Role
from app.schemas import first_errors
from app.schemas.desk import DeskLeadSchema, RouteSchema
from app.services import lead_desk, visibility
from app.services.phones import InvalidPhone, normalise_mobile
from app.views.access import roles_required
from app.views.rendering import render, wants_fragment

bp = Blueprint("desk", __name__, url_prefix="/desk")
desk_agents = roles_required(Role.IDCC_AGENT)


@bp.get("")
@desk_agents
def index():
    """Leads waiting to be routed, with the dealer the rules suggest, and those routed today."""
    return render("desk/index.html", inbox=lead_desk.inbox(current_user), dealers=lead_desk.dealers(current_user))


@bp.route("/new", methods=["GET", "POST"])
@desk_agents
def new():
    """A lead from a call: mobile number first; a person with an open lead anywhere is not captured twice."""
    errors = {}
    if request.method == "POST":
        try:
            data = DeskLeadSchema().load(request.form)
            data["phone"] = normalise_mobile(data["phone"])
            lead = lead_desk.capture(current_user, data)
        except ValidationError as error:
            errors = first_errors(error.messages)
        except InvalidPhone as error:
            errors = {"phone": str(error)}
        except lead_desk.DeskError as error:
            errors = {error.field: str(error)}
        else:
            flash(_("Lead of %(name)s captured. Route it below.", name=lead.customer.name), "success")
            return redirect(url_for("desk.index"), 303)
    return render("desk/new.html", status=422 if errors else 200, errors=errors, form=request.form,
                  sources=lead_desk.DESK_SOURCES)


@bp.get("/lookup")
@desk_agents
def lookup():
    """As the number is typed: is this person an open lead at some dealer already?"""
    try:
        leads = lead_desk.open_leads_of(current_user.oem_id, normalise_mobile(request.args.get("phone", "")))
    except InvalidPhone:
        leads = []
    return render("desk/_lookup.html", leads=leads)


@bp.post("/leads/<int:lead_id>/route")
@desk_agents
def route(lead_id: int):
    """Route a waiting lead to a dealer with one tap; it goes on to a consultant at once."""
    lead = visibility.get_lead(current_user, lead_id)
    status = 422
    try:
        consultant = lead_desk.route(current_user, lead, RouteSchema().load(request.form)["dealer_id"])
    except ValidationError as error:
        message = " ".join(first_errors(error.messages).values())
    except lead_desk.DeskError as error:
        message = str(error)
    else:
        status = 200
        message = (_("Routed to %(dealer)s: %(consultant)s.", dealer=lead.dealer.name, consultant=consultant.name)
                   if consultant else _("Routed to %(dealer)s; its manager assigns it.", dealer=lead.dealer.name))
    if not wants_fragment():
        flash(message, "success" if status == 200 else "error")
        return redirect(url_for("desk.index"), 303)
    return render("desk/_routed.html", status=status, lead=lead, message=message)
