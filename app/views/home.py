"""The landing page after sign-in, which depends on the user's role."""
from flask import Blueprint, redirect, url_for
from flask_login import current_user, login_required

from app.models import Role

bp = Blueprint("home", __name__)

HOME_ENDPOINT = {
    Role.CONSULTANT: "today.index",
    Role.MANAGER: "dashboards.dealer",
    Role.IDCC_AGENT: "desk.index",
    Role.OEM_ADMIN: "dealers.index",
}


@bp.get("/")
@login_required
def index():
    """Send each role to its home: Today for consultants, the dashboard for managers, the lead desk, or the
    dealer list for the brand."""
    return redirect(url_for(HOME_ENDPOINT[current_user.role]))
