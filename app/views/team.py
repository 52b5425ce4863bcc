"""A manager's page for the consultants of their dealer: add, deactivate, reactivate, reset password, sign out
on all devices; their
open leads, shifts and weights, and the dealer's lead handling (changed through app.views.assignments)."""
from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from app.extensions import db
from app.models import Role, User
from app.schemas import first_errors
from app.schemas.accounts import NewConsultantSchema
from app.services import accounts, assignments, visibility
from app.services.phones import InvalidPhone
from app.views.access import roles_required
from app.views.rendering import render

bp = Blueprint("team", __name__, url_prefix="/team")
manager_only = roles_required(Role.MANAGER)


@bp.get("")
@manager_only
def index():
    """The dealer's consultants, active first, with their open leads and shifts; the dealer's lead handling."""
    consultants = db.session.scalars(
        visibility.manageable_consultants(current_user).order_by(User.active.desc(), User.name)
    )
    return render("team/index.html", consultants=list(consultants),
                  open_leads=assignments.open_lead_counts(current_user), weights=assignments.WEIGHTS,
                  lead_handling=assignments.lead_handling(current_user.dealer))


@bp.route("/new", methods=["GET", "POST"])
@manager_only
def new():
    """Add a consultant; the temporary password is shown once, to hand over in person."""
    errors = {}
    if request.method == "POST":
        try:
            data = NewConsultantSchema().load(request.form)
            consultant, password = accounts.add_consultant(
                current_user, name=data["name"], email=data.get("email"), phone=data.get("phone"))
        except ValidationError as error:
            errors = first_errors(error.messages)
        except InvalidPhone as error:
            errors = {"phone": str(error)}
        except accounts.AccountError as error:
            errors = {"form": str(error)}
        else:
            return render("team/password_issued.html", consultant=consultant, password=password, created=True)
    return render("team/new.html", status=422 if errors else 200, errors=errors, form=request.form)


@bp.post("/<int:user_id>/<any(deactivate, reactivate):action>")
@manager_only
def set_active(user_id: int, action: str):
    """Deactivate a consultant who left (signed out everywhere at once; their open leads are offered for hand-over),
    or let them sign in again."""
    consultant = visibility.get_consultant(current_user, user_id)
    active = action == "reactivate"
    accounts.set_active(current_user, consultant, active)
    if active:
        flash(_("%(name)s can sign in again.", name=consultant.name), "success")
        return redirect(url_for("team.index"), 303)
    flash(_("%(name)s can no longer sign in.", name=consultant.name), "success")
    if assignments.open_lead_counts(current_user).get(consultant.id):
        return redirect(url_for("assignments.hand_over", user_id=consultant.id), 303)
    return redirect(url_for("team.index"), 303)


@bp.post("/<int:user_id>/reset-password")
@manager_only
def reset_password(user_id: int):
    """Give a consultant a new temporary password, shown once; their sessions end."""
    consultant = visibility.get_consultant(current_user, user_id)
    password = accounts.reset_password(current_user, consultant)
    return render("team/password_issued.html", consultant=consultant, password=password, created=False)


@bp.post("/<int:user_id>/sign-out-everywhere")
@manager_only
def sign_out_everywhere(user_id: int):
    """End every session of a consultant (a lost phone); they can sign in again with their password."""
    consultant = visibility.get_consultant(current_user, user_id)
    accounts.end_sessions(current_user, consultant)
    flash(_("%(name)s is signed out on all devices.", name=consultant.name), "success")
    return redirect(url_for("team.index"), 303)
