"""The brand's list of dealers with their lead counts (the OEM admin's home)."""
from flask import Blueprint
from flask_login import current_user

from app.models import Role
from app.services.dealer_overview import dealer_rows
from app.views.access import roles_required
from app.views.rendering import render

bp = Blueprint("dealers", __name__)


@bp.get("/dealers")
@roles_required(Role.OEM_ADMIN)
def index():
    """Every dealer of the brand, by region, with how many leads it holds and how many wait."""
    return render("dealers/index.html", rows=dealer_rows(current_user))
