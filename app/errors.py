"""Error pages for people and problem JSON for API clients; a failed request never leaves a dirty session."""
from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db

MESSAGES = {
    400: _l("The request could not be understood. Please go back and try again."),
    403: _l("You do not have access to this page."),
    404: _l("This page does not exist, or it is not yours to see."),
    405: _l("That action is not possible here."),
    413: _l("The upload is too large."),
    429: _l("Too many attempts. Please wait a minute and try again."),
    500: _l("Something went wrong on our side. Your last change was not saved; please try again."),
}
CSRF_MESSAGE = _l("Your page had expired, so nothing was saved. Please reload the page and enter it again.")


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _csrf_error(error: CSRFError):
    return _respond(400, error.name, CSRF_MESSAGE)


def _http_error(error: HTTPException):
    """Our own wording for the usual codes; an explicit abort(code, description) keeps its description,
    except for limits, whose technical description ("10 per 1 minute") means nothing to a consultant."""
    if error.code is None or error.code < 400:
        return error
    ours = type(error).description == error.description or error.code in (413, 429)
    message = MESSAGES.get(error.code, error.description) if ours else error.description
    original = getattr(error, "original_exception", None)
    if original is not None:
        current_app.logger.error("unhandled error", exc_info=original)
    return _respond(error.code, error.name, message, error)


def _respond(status: int, title: str, message, error: HTTPException | None = None):
    db.session.rollback()
    if _wants_json():
        return _problem(status, title, message, error)
    return render_template("errors/error.html", status=status, title=title, message=message), status


def _problem(status: int, title: str, message, error: HTTPException | None):
    """RFC 9457 problem details, with the members the error carries (`problem`: a 422's `errors` by field, the
    lead a 409 is about), the Allow of a 405 and a bearer challenge on a 401."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": str(message),
            **getattr(error, "problem", {})}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for name, value in error.get_headers() if error is not None else ():
        if name in ("Allow", "Retry-After"):
            response.headers[name] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
