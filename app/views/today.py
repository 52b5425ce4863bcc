"""Today: the consultant's home, one screen for the day."""
from flask import Blueprint
from flask_login import current_user

from app.models import Role
from app.services.today import today_for
from app.views.access import roles_required
from app.views.rendering import render

bp = Blueprint("today", __name__)


@bp.get("/today")
@roles_required(Role.CONSULTANT, Role.MANAGER)
def index():
    """New leads, overdue and due follow-ups, today's appointments, and leads with no next step."""
    return render("today/index.html", "today/_sections.html", today=today_for(current_user))
