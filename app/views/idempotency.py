"""The `idempotent` view decorator: a write sent with an `Idempotency-Key` header (an offline entry, replayed
by the phone until it hears back) is applied once; its replays get the first answer again. Requests without
the header run as ever. The contract and its crash windows are described in app.services.idempotency."""
from functools import wraps

from flask import abort, make_response, request
from flask_babel import gettext as _
from flask_login import current_user

from app.models import utcnow
from app.services import idempotency


def idempotent(view):
    """Wrap a POST view (under its roles_required, so the user is known) in the Idempotency-Key contract."""
    @wraps(view)
    def keyed(*args, **kwargs):
        header = request.headers.get("Idempotency-Key")
        if header is None or request.method != "POST":
            return view(*args, **kwargs)
        try:
            key = idempotency.parse_key(header)
        except ValueError:
            abort(400, _("The Idempotency-Key header must be a UUID such as "
                         "123e4567-e89b-42d3-a456-426614174000."))
        fingerprint = idempotency.Fingerprint(request.method, request.path, _body_hash())
        row, claimed = idempotency.claim_or_find(current_user.id, key, fingerprint)
        if not claimed:
            return _replay(row, fingerprint)
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            idempotency.abandon()
            raise
        idempotency.settle(row, response.status_code, response.get_data(as_text=True), response.headers)
        return response
    return keyed


def _body_hash() -> str:
    """The body's fingerprint: a JSON body's (the API's), else the form's fields."""
    if request.is_json:
        return idempotency.json_hash(request.get_json(silent=True))
    return idempotency.body_hash(request.form)


def _replay(row, fingerprint: idempotency.Fingerprint):
    """The stored answer of the entry this key was first sent with, marked as a replay.

    :raise UnprocessableEntity: when the key came with another request (a client bug, not a replay).
    :raise Conflict: when the first request is still running: the client retries a moment later.
    """
    if not fingerprint.matches(row):
        abort(422, _("This Idempotency-Key was already used for a different entry. Nothing was saved."))
    if row.status_code is not None:
        response = make_response(row.body, row.status_code, row.headers)
    elif idempotency.is_lost(row, utcnow()):
        response = make_response(_("This entry was saved earlier. Reload the page to see it."), 200)
    else:
        abort(409, _("This entry is still being saved. Please try again in a moment."))
    response.headers["Idempotent-Replayed"] = "true"
    return response
