"""The service worker, served from the site's root so that its scope is the whole app."""
from flask import Blueprint, make_response

from app import ROOT

bp = Blueprint("service_worker", __name__)


@bp.get("/sw.js")
def script():
    """service_worker/sw.js at /sw.js; never cached, so a new version is found on the next visit."""
    response = make_response((ROOT / "service_worker" / "sw.js").read_bytes())
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"
    return response
