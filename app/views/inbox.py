"""The inbox (every role) and the manager's approval queue."""
from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app.models import Role
from app.schemas import first_errors
from app.schemas.lead_forms import DecisionSchema
from app.services import approvals, inbox
from app.views.access import roles_required
from app.views.rendering import render, safe_next, wants_fragment

bp = Blueprint("inbox", __name__)


@bp.get("/inbox")
@login_required
def index():
    """My notifications, newest first; unread ones stand out."""
    return render("inbox/index.html", notifications=inbox.latest(current_user))


@bp.get("/inbox/<int:notification_id>")
@login_required
def open_one(notification_id: int):
    """Open what a notification is about, marking it read."""
    notification = inbox.open_notification(current_user, notification_id)
    if notification is None:
        abort(404)
    return redirect(safe_next(notification.url) or url_for("inbox.index"))


@bp.post("/inbox/read")
@login_required
def read_all():
    """Mark every notification read."""
    inbox.mark_all_read(current_user)
    return redirect(url_for("inbox.index"), 303)


@bp.get("/approvals")
@roles_required(Role.MANAGER)
def approvals_queue():
    """Requests waiting for my decision: lost, invalid, cancel a follow-up."""
    return render("inbox/approvals.html", requests=approvals.queue(current_user), errors={})


@bp.post("/approvals/<int:request_id>/<any(approve, reject):decision>")
@roles_required(Role.MANAGER)
def decide(request_id: int, decision: str):
    """Approve or reject one request, with a comment for the consultant."""
    pending = approvals.get_request(current_user, request_id)
    if pending is None:
        abort(404)
    try:
        comment = DecisionSchema().load(request.form).get("comment")
        approvals.decide(current_user, pending, decision == "approve", comment)
    except ValidationError as error:
        return render("inbox/_approval.html", status=422, item=pending, errors=first_errors(error.messages))
    except approvals.ApprovalError as error:
        return render("inbox/_approval.html", status=409, item=pending, errors={"form": str(error)})
    message = _("Approved.") if decision == "approve" else _("Rejected.")
    if wants_fragment():
        return render("inbox/_decided.html", item=pending, message=message)
    return redirect(url_for("inbox.approvals_queue"), 303)
