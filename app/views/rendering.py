"""The one helper that decides between a whole page and an htmx fragment."""
from flask import make_response, render_template, request


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page; boosted links and history restores get pages."""
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


def render(template: str, fragment: str | None = None, status: int = 200, **context):
    """Render the page, or only its fragment for an htmx request; the response varies on HX-Request.

    :param template: the whole page's template, which includes the fragment.
    :param fragment: the template an htmx request gets instead, named with a leading underscore.
    """
    chosen = fragment if fragment and wants_fragment() else template
    response = make_response(render_template(chosen, **context), status)
    response.vary.add("HX-Request")
    return response
