"""The helpers that decide between a whole page and an htmx fragment, and how a change is answered."""
import json
from urllib.parse import urlsplit

from flask import flash, make_response, redirect, render_template, request, url_for


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page; boosted links and history restores get pages."""
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


def render(template: str, fragment: str | None = None, status: int = 200, **context):
    """Render the page, or only its fragment for an htmx request; the response varies on HX-Request.

    :param template: the whole page's template, which includes the fragment.
    :param fragment: the template an htmx request gets instead, named with a leading underscore.
    """
    partial = bool(fragment) and wants_fragment()
    response = make_response(render_template(fragment if partial else template, partial=partial, **context), status)
    response.vary.add("HX-Request")
    return response


def render_sheet(fragment: str, title: str, status: int = 200, **context):
    """A lead's short form: alone for htmx (it opens in the sheet), else as a page of its own."""
    return render("lead_sheet.html", fragment, status=status, sheet=fragment, page_title=title, **context)


def changed(lead, message: str, *, refused: bool = False):
    """Answer a change to a lead: htmx hears "lead-changed" (the parts of the page that show the lead refresh
    themselves and the message shows) or, when refused, "lead-refused" with the reason; a plain form post goes
    back where it came from with the message.
    """
    if wants_fragment():
        event = "lead-refused" if refused else "lead-changed"
        response = make_response("", 422 if refused else 200)
        response.headers["HX-Trigger"] = json.dumps({event: {"lead": lead.id, "message": str(message)}})
        return response
    flash(message, "error" if refused else "success")
    return redirect(safe_next(request.form.get("next")) or f"/leads/{lead.id}", 303)


def gone(message: str):
    """Answer a change after which the lead is no longer the user's (it went back to the lead desk): the
    message shows on the user's home page, for htmx (HX-Location) and plain forms alike."""
    flash(message, "success")
    if wants_fragment():
        response = make_response("", 200)
        response.headers["HX-Location"] = url_for("home.index")
        return response
    return redirect(url_for("home.index"), 303)


def safe_next(target: str | None) -> str | None:
    """Only paths on this site; never another host (an open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
