"""Lead file imports as a page: upload, a progress bar, then the report."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models import Role
from app.services import import_jobs, lead_files
from app.services.lead_files.csv_file import COLUMNS
from app.views.access import roles_required
from app.views.exports import table_download
from app.views.rendering import render

bp = Blueprint("imports", __name__, url_prefix="/imports")
importers = roles_required(Role.IDCC_AGENT, Role.MANAGER)


@bp.get("")
@importers
def index():
    """The upload form, with the accepted formats, and the user's recent imports."""
    return _index()


@bp.post("")
@importers
def create():
    """Store an uploaded lead file as an import, start it and show its progress."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _index(error=_("Choose a CSV or XML lead file."))
    try:
        job = import_jobs.upload(current_user, upload.filename, upload.read())
    except import_jobs.UploadRefused as error:
        return _index(error=str(error))
    import_jobs.start(job.id)
    return redirect(url_for("imports.show", import_id=job.id), 303)


@bp.get("/<int:import_id>")
@importers
def show(import_id: int):
    """An import's progress while it runs (the fragment polls itself), then its report."""
    job = _get(import_id)
    return render("imports/show.html", "imports/_progress.html", job=job,
                  interrupted=import_jobs.is_interrupted(job),
                  issues=import_jobs.issues(job, import_jobs.ISSUES_SHOWN) if job.finished_at else [])


@bp.post("/<int:import_id>/resume")
@importers
def resume(import_id: int):
    """Restart an interrupted import where it stopped."""
    if not import_jobs.resume(_get(import_id)):
        flash(_("This import is not interrupted: it is running or has ended."), "error")
    return redirect(url_for("imports.show", import_id=import_id), 303)


@bp.get("/<int:import_id>/report.csv")
@importers
def report(import_id: int):
    """Every skipped row of an import with its reason, as CSV."""
    job = _get(import_id)
    rows = ({"line": issue.line, "reason": issue.reason} for issue in import_jobs.issues(job))
    # Named by id: file names are often Chinese. The shared writer guards cells that Excel would run as formulas
    # (a reason quotes the row's cell, and a cell of a lead file is anybody's text).
    return table_download(f"import-{job.id}-report", [("line", _("Line")), ("reason", _("Reason"))], rows, "csv")


def _get(import_id: int):
    """The user's own import; 404 for anyone else's."""
    job = import_jobs.get_import(current_user, import_id)
    if job is None:
        abort(404)
    return job


def _index(error: str | None = None):
    """The upload page; with an error, as the answer to a refused upload (nothing was stored)."""
    imports = import_jobs.recent(current_user)
    return render("imports/index.html", status=422 if error else 200, error=error, imports=imports,
                  interrupted={job.id for job in imports if import_jobs.is_interrupted(job)}, columns=_csv_columns(),
                  max_mib=lead_files.MAX_BYTES // (1024 * 1024))


def _csv_columns() -> list[tuple[list[str], list[str]]]:
    """The CSV column table of the parser, each column's header names split into English and Chinese."""
    return [([name for name in names if name.isascii()], [name for name in names if not name.isascii()])
            for names in COLUMNS.values()]
