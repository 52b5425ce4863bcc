"""The audit trail: who changed what and when, for a dealer's manager (their dealer) and the OEM admin (the
brand's routing and approvals), filterable, and as CSV or XLSX downloads that are themselves audited."""
from flask import Blueprint, abort, request
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from app.models import Role
from app.schemas.audit import AuditQuerySchema
from app.services import audit_trail
from app.services.audit_trail import Filters
from app.views.access import roles_required
from app.views.exports import table_download
from app.views.rendering import render

bp = Blueprint("audit", __name__)
readers = roles_required(Role.MANAGER, Role.OEM_ADMIN)


def _query() -> tuple[Filters, int, dict]:
    """The filters and page asked for, and the query args that keep the filters (for links)."""
    try:
        params = AuditQuerySchema().load(request.args)
    except ValidationError:
        abort(400)
    filters = Filters(action=params.get("action"), actor_id=params.get("actor"), object_type=params.get("type"),
                      object_id=params.get("object"), first=params.get("first"), last=params.get("last"))
    args = {"action": filters.action, "actor": filters.actor_id, "type": filters.object_type,
            "object": filters.object_id, "from": filters.first and filters.first.isoformat(),
            "to": filters.last and filters.last.isoformat()}
    return filters, params["page"], {key: value for key, value in args.items() if value}


@bp.get("/audit")
@readers
def index():
    """The trail, newest first, 50 entries a page; htmx gets the list (or the next page's rows) alone."""
    filters, number, args = _query()
    trail = audit_trail.page(current_user, filters, number)
    fragment = "audit/_rows.html" if number > 1 else "audit/_list.html"
    return render("audit/index.html", fragment, trail=trail, args=args, choices=audit_trail.choices(current_user),
                  limit=audit_trail.DOWNLOAD_LIMIT)


@bp.get("/audit.<any(csv, xlsx):fmt>")
@readers
def download(fmt: str):
    """The filtered entries (at most 10,000, newest first) as CSV or XLSX; the download is audited."""
    filters, _number, _args = _query()
    lines, _cut = audit_trail.for_download(current_user, filters)
    audit_trail.record_download(current_user, filters, fmt, len(lines))
    columns = [("at", _("When")), ("who", _("Who")), ("role", _("Role")), ("what", _("What")),
               ("object", _("Object")), ("object_id", _("Object number")), ("changes", _("Before → after"))]
    rows = [{"at": line.at.replace(tzinfo=None), "who": line.who, "role": line.role, "what": line.what,
             "object": line.object_label, "object_id": line.entry.object_id, "changes": line.changes_text}
            for line in lines]
    return table_download("audit-trail", columns, rows, fmt)
