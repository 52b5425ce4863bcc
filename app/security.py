"""Sign-in plumbing and the security headers sent with every response."""
from flask import Flask, current_app, flash, make_response, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from app.extensions import login_manager

# No inline script or style anywhere (htmx runs with allowEval off and its indicator styles off),
# so the policy needs no 'unsafe-inline' and no 'unsafe-eval'.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    # Violations are reported to app.views.csp_reports: report-uri for every browser, report-to (with the
    # Reporting-Endpoints header below) for those that support the Reporting API.
    "report-uri /csp-report",
    "report-to csp-endpoint",
])
REPORTING_ENDPOINTS = 'csp-endpoint="/csp-report"'


def init_app(app: Flask) -> None:
    """Wire Flask-Login and add the security headers."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    app.after_request(_security_headers)


def _load_user(session_id: str):
    """Load the signed-in user from the session id "user.version"; an old version means signed out."""
    from app.services.accounts import user_for_session

    return user_for_session(session_id)


def _unauthorized():
    """Send the browser to sign in; an htmx request is told to load the sign-in page as a whole page."""
    flash(login_manager.login_message, "info")
    target = url_for("auth.sign_in", next=request.full_path if request.method == "GET" else None)
    if request.htmx:
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("Reporting-Endpoints", REPORTING_ENDPOINTS)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if response.mimetype == "text/html":
        # Pages carry personal data: never kept by shared caches (the service worker keeps its own copies).
        headers.setdefault("Cache-Control", "private, no-store")
    return response
