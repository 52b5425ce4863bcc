"""Lead file imports as jobs, for the import page: an upload is stored as a queued LeadImport, and `run`
imports it batch by batch, so the progress shown is real and an interrupted import resumes where it stopped.

Running a job (`run`):
1. Claim it by compare-and-set on its row: queued → running, or running again when its heartbeat is older
   than STALE (the thread or process running it died). Of two callers racing for one job, one claim wins and
   the other returns at once.
2. Parse the stored bytes (phone region of the user's dealer, else "CN"). An unreadable file ends the job as
   failed, with the parser's message.
3. Record the parse once: total rows (every row of the file), warnings, and the rows skipped while reading,
   which count as done. This happens only while done_rows is still 0, so a resume does not record it again.
4. Import from done_rows on, batch by batch (lead_imports.import_batch). Each batch's transaction starts with a
   compare-and-set on done_rows, which takes the job's row lock (PostgreSQL) or the write lock (SQLite), and
   commits the batch's leads, the job's counters, done_rows, heartbeat and the batch's LeadImportIssue rows
   together: a crash loses at most the batch in flight, a resume neither repeats nor skips a row, and a runner
   that finds done_rows moved on (another runner took over a job it thought dead) stops.
5. At the end: done, finished_at, and the file's bytes are dropped (a failed job's too: they cannot be read,
   and the customers' data in them is kept no longer than needed).

Where it runs: the upload's web request starts `run` in a daemon thread with its own app context (`start`), so
the page answers at once and then polls the job's row. A thread dies with its process (a deploy, a crash): the
job's heartbeat goes stale and the page offers to resume it (`resume` claims the job in the request, so the page
shows it running at once, and carries it on in a thread), and the worker process (app.worker) carries on every
such job by itself (`interrupted_ids`, then `run`).

Its language: the report is stored as text (warnings, error, the skipped rows' reasons), so a job runs in the
language of the person who imported, who reads it. `start` and `resume` pass on the language of their request,
which the thread cannot look up itself; a run without one (the worker) takes the user's saved language, else the
app's default.
"""
import threading
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update

from app.extensions import db
from app.i18n import language_of
from app.models import ImportState, LeadImport, LeadImportIssue, Role, User, utcnow
from app.services import lead_files, lead_imports, routing

IMPORTERS = (Role.IDCC_AGENT, Role.MANAGER)
STALE = timedelta(minutes=2)  # a batch takes about a second: a heartbeat this old means nobody runs the job
RECENT = 20
ISSUES_SHOWN = 200


class UploadRefused(ValueError):
    """An upload that is not stored; the message is for the person uploading."""


def upload(user: User, filename: str, content: bytes) -> LeadImport:
    """Store a lead file as a queued import of `user`; `start` or a worker runs it.

    :raise UploadRefused: when the user may not import, or the file is empty or over the size limit.
    """
    if user.role not in IMPORTERS:
        raise UploadRefused(_l("Only the lead desk and sales managers import lead files."))
    name = filename.replace("\\", "/").rsplit("/", 1)[-1][:200]  # some browsers send the whole local path
    if not content:
        raise UploadRefused(_l("%(name)s is empty.", name=name))
    try:
        lead_files.check_size(content, name)
    except lead_files.FileTooLarge as error:
        raise UploadRefused(str(error)) from None
    job = LeadImport(oem_id=user.oem_id, user_id=user.id, dealer_id=user.dealer_id if user.role is Role.MANAGER
                     else None, filename=name, size=len(content), content=content, state=ImportState.QUEUED)
    db.session.add(job)
    db.session.commit()
    return job


def start(import_id: int) -> None:
    """Run the import in a background thread of this process, with an app context and session of its own, in
    this request's language."""
    _in_thread(run, import_id)


def resume(job: LeadImport) -> bool:
    """Claim an interrupted job here, so the page it returns to shows it running, and carry it on in the
    background, in this request's language; False when it is not interrupted (it runs, or has ended)."""
    if not _claim(job.id):
        return False
    _in_thread(_carry_on, job.id)
    return True


def _in_thread(work, import_id: int) -> None:
    app = current_app._get_current_object()
    locale = str(get_locale())

    def target() -> None:
        with app.app_context():
            try:
                work(import_id, locale)
            except Exception:  # the job stays running; its heartbeat goes stale and it can be resumed
                db.session.rollback()
                app.logger.exception("lead import %s stopped", import_id)

    threading.Thread(target=target, name=f"lead-import-{import_id}", daemon=True).start()


def run(import_id: int, locale: str | None = None) -> None:
    """Run a queued or interrupted import to its end, as the module describes; return at once when another
    runner has it or it has ended.

    :param locale: the language of its messages; None for the importer's own (see `_carry_on`).
    """
    if _claim(import_id):
        _carry_on(import_id, locale)


def _carry_on(import_id: int, locale: str | None = None) -> None:
    """Import a job this runner has claimed, from where it stands, in `locale`, else in the language the
    importer chose in their profile, else in the app's default."""
    job = db.session.get(LeadImport, import_id)
    with force_locale(locale or language_of(job.user.locale)):
        _import(job)


def _import(job: LeadImport) -> None:
    """Parse the job's file and import its rows from done_rows on, batch by batch (steps 2 to 5)."""
    import_id, user = job.id, job.user
    try:
        parsed = lead_files.parse(job.content, job.filename, user.dealer.phone_region if user.dealer else "CN")
    except (lead_files.FileTooLarge, lead_files.UnreadableFile) as error:
        _set(import_id, LeadImport.state == ImportState.RUNNING,
             state=ImportState.FAILED, error=str(error), content=None, finished_at=utcnow())
        db.session.commit()
        return
    _record_parse(import_id, parsed)
    done = db.session.scalar(select(LeadImport.done_rows).where(LeadImport.id == import_id))
    rules = routing.Rules(user.oem_id)
    read_skipped = len(parsed.skipped)
    while (first := done - read_skipped) < len(parsed.rows):
        if not _set(import_id, LeadImport.state == ImportState.RUNNING, LeadImport.done_rows == done,
                    heartbeat_at=utcnow()):
            db.session.rollback()  # another runner has moved the job on
            return
        rows = parsed.rows[first:first + lead_imports.BATCH]
        report = lead_imports.import_batch(user, rows, rules)
        _count(import_id, done + len(rows), report)
        db.session.commit()
        done += len(rows)
    _set(import_id, LeadImport.state == ImportState.RUNNING, LeadImport.done_rows == done,
         state=ImportState.DONE, content=None, finished_at=utcnow())
    db.session.commit()


def _claim(import_id: int) -> bool:
    """Take a queued job, or a running one nobody has advanced for STALE, for this runner."""
    now = utcnow()
    claimed = _set(import_id, or_(LeadImport.state == ImportState.QUEUED,
                                  and_(LeadImport.state == ImportState.RUNNING, LeadImport.heartbeat_at < now - STALE)),
                   state=ImportState.RUNNING, started_at=func.coalesce(LeadImport.started_at, now), heartbeat_at=now)
    db.session.commit()
    return claimed


def _record_parse(import_id: int, parsed: lead_files.ParsedFile) -> None:
    """Total rows, warnings and the rows skipped while reading, once (while nothing is done yet)."""
    read_skipped = len(parsed.skipped)
    if _set(import_id, LeadImport.state == ImportState.RUNNING, LeadImport.done_rows == 0,
            total_rows=len(parsed.rows) + read_skipped, warnings=list(parsed.warnings), skipped=read_skipped,
            done_rows=read_skipped, heartbeat_at=utcnow()):
        db.session.add_all(LeadImportIssue(import_id=import_id, line=row.line, reason=row.reason)
                           for row in parsed.skipped)
    db.session.commit()


def _count(import_id: int, done: int, report: lead_imports.ImportReport) -> None:
    """Add a batch's outcome to the job, in the batch's transaction."""
    _set(import_id, done_rows=done, created=LeadImport.created + report.created,
         merged=LeadImport.merged + report.merged, skipped=LeadImport.skipped + len(report.skipped),
         heartbeat_at=utcnow())
    db.session.add_all(LeadImportIssue(import_id=import_id, line=line, reason=reason)
                       for line, reason in report.skipped)


def _set(import_id: int, *conditions, **values) -> bool:
    """UPDATE the job's row where the conditions hold; True when they held (compare-and-set)."""
    result = db.session.execute(
        update(LeadImport).where(LeadImport.id == import_id, *conditions).values(**values)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def is_interrupted(job: LeadImport) -> bool:
    """Not finished, and nobody has advanced it for STALE: its runner died (or a queued job never started)."""
    if job.state not in (ImportState.QUEUED, ImportState.RUNNING):
        return False
    return (job.heartbeat_at or job.created_at) < utcnow() - STALE


def interrupted_ids(now: datetime) -> list[int]:
    """Jobs nobody has advanced for STALE, oldest first: for the worker to carry on with `run`."""
    return list(db.session.scalars(select(LeadImport.id).where(
        LeadImport.state.in_((ImportState.QUEUED, ImportState.RUNNING)),
        func.coalesce(LeadImport.heartbeat_at, LeadImport.created_at) < now - STALE).order_by(LeadImport.id)))


def get_import(user: User, import_id: int) -> LeadImport | None:
    """One of the user's own imports, or None (anyone else's is out of sight)."""
    return db.session.scalar(select(LeadImport).where(LeadImport.id == import_id, LeadImport.user_id == user.id))


def recent(user: User) -> list[LeadImport]:
    """The user's last RECENT imports, newest first."""
    return list(db.session.scalars(select(LeadImport).where(LeadImport.user_id == user.id)
                                   .order_by(LeadImport.created_at.desc(), LeadImport.id.desc()).limit(RECENT)))


def issues(job: LeadImport, limit: int | None = None) -> list[LeadImportIssue]:
    """The job's skipped rows in file order; all of them, or the first `limit`."""
    return list(db.session.scalars(select(LeadImportIssue).where(LeadImportIssue.import_id == job.id)
                                   .order_by(LeadImportIssue.line, LeadImportIssue.id).limit(limit)))
