"""The /api/v1 blueprint and who calls it (see app.views.api)."""
from flask import Blueprint, abort, current_app, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user

from app.extensions import csrf, limiter, login_manager
from app.services import api_tokens

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # checked below for session callers only: a bearer token is no ambient credential
MAX_BODY = 1024 * 1024  # a JSON entry is a few kilobytes; the pages' 16 MiB is for lead files
PUBLIC = {"api.openapi"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _api_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


# Requests with a token, per address: guessing tokens, or a runaway integration, slows down to this pace.
limiter.limit(_api_limit, key_func=get_remote_address,
              exempt_when=lambda: "Authorization" not in request.headers)(bp)


@bp.before_request
def _authenticate():
    """Find who calls: the bearer token when one is sent (it alone decides), else the session."""
    request.max_content_length = MAX_BODY
    if request.endpoint in PUBLIC:
        return
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _space, secret = header.partition(" ")
        user = api_tokens.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            abort(401, _("This API token is not valid: it is unknown, revoked, or its user can no longer use it."))
        # This request only: Flask-Login's current user, without touching the session (so no cookie is sent).
        login_manager._update_request_context_with_user(user)
        return
    if not current_user.is_authenticated:
        abort(401, _("Sign in, or send an API token as Authorization: Bearer <token>."))
    if request.method not in SAFE_METHODS:
        csrf.protect()


@bp.after_request
def _not_kept_by_caches(response):
    """Answers carry customers' data: never kept by a shared cache (the pages say the same for HTML)."""
    if request.endpoint not in PUBLIC:
        response.headers.setdefault("Cache-Control", "private, no-store")
    return response
