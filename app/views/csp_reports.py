"""Content-Security-Policy violation reports from browsers (the policy names this endpoint in app.security).

A report tells us a page tried to load or run something the policy blocks: a bug in our templates, a browser
extension, or an injection attempt. Each one becomes a compact warning line in the log; nothing is stored.
Browsers send no CSRF token and no cookie is needed, so the endpoint is CSRF-exempt, small (16 KB) and
rate-limited per address.
"""
import json

from flask import Blueprint, abort, current_app, request

from app.extensions import csrf, limiter

bp = Blueprint("csp_reports", __name__)

MAX_REPORT_BYTES = 16 * 1024
# The old report-uri format, the Reporting API's (report-to), and plain JSON that some browsers used.
REPORT_TYPES = ("application/csp-report", "application/reports+json", "application/json")
LOGGED_LENGTH = 200


def _report_limit() -> str:
    return current_app.config["CSP_REPORT_RATE_LIMIT"]


@bp.post("/csp-report")
@csrf.exempt
@limiter.limit(_report_limit)
def report():
    """Log the violations in a report and answer 204; 413 when too large, 400 when not a report, 415 when
    not one of the report formats."""
    if request.mimetype not in REPORT_TYPES:
        abort(415)
    if request.content_length is not None and request.content_length > MAX_REPORT_BYTES:
        abort(413)
    body = request.stream.read(MAX_REPORT_BYTES + 1)
    if len(body) > MAX_REPORT_BYTES:
        abort(413)
    try:
        violations = list(_violations(json.loads(body)))
    except (ValueError, TypeError, AttributeError):
        abort(400)
    for violation in violations:
        current_app.logger.warning(
            "csp violation: blocked=%s directive=%s document=%s",
            *(_clip(violation.get(key)) for key in ("blocked", "directive", "document")))
    return "", 204


def _violations(data):
    """The violations of either format as {"blocked", "directive", "document"}.

    :raise ValueError, TypeError, AttributeError: when the JSON is not a report.
    """
    if isinstance(data, dict) and isinstance(data.get("csp-report"), dict):  # report-uri
        legacy = data["csp-report"]
        yield {"blocked": legacy.get("blocked-uri"),
               "directive": legacy.get("effective-directive") or legacy.get("violated-directive"),
               "document": legacy.get("document-uri")}
        return
    if not isinstance(data, list):
        raise TypeError("not a CSP report")
    for entry in data:  # Reporting API: a list of reports, of which some may be of other types
        if entry.get("type") != "csp-violation":
            continue
        body = entry.get("body") or {}
        yield {"blocked": body.get("blockedURL"), "directive": body.get("effectiveDirective"),
               "document": body.get("documentURL") or entry.get("url")}


def _clip(value) -> str:
    """A value fit for one log line: printable characters only, truncated."""
    text = "" if value is None else str(value)
    text = "".join(char if char.isprintable() else "?" for char in text)
    return text[:LOGGED_LENGTH] + ("…" if len(text) > LOGGED_LENGTH else "")
