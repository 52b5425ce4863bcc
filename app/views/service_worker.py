"""The service worker and the web app manifest, served from the site's root so that their scope is the whole
app and the app can be installed to a phone's home screen; and the pages the worker keeps for offline use."""
import hashlib
import json
from functools import cache

from flask import Blueprint, current_app, jsonify, make_response, render_template, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from app import ROOT

bp = Blueprint("service_worker", __name__)

BRAND_COLOUR = "#0b5cad"
# (file in static/icons/, size, purpose): "any" icons keep the rounded square of icon.svg; the maskable ones are
# full-bleed with the car inside the central 80 % that every launcher's mask keeps.
ICONS = (("icon-192.png", 192, "any"), ("icon-512.png", 512, "any"),
         ("icon-maskable-192.png", 192, "maskable"), ("icon-maskable-512.png", 512, "maskable"))


# The app shell, kept by the worker at install: the files every page loads, and two pages of its own.
SHELL_FILES = ("css/app.css", "js/app.js", "js/outbox.js", "js/offline.js", "vendor/htmx-2.0.11.min.js", "icons/icon.svg",
               "icons/icon-192.png")


@bp.get("/sw.js")
def script():
    """service_worker/sw.js at /sw.js, with this release's version and app shell written in; never cached, so a
    phone finds a new release on its next visit."""
    shell = [url_for("static", filename=name) for name in SHELL_FILES]
    shell += [url_for("service_worker.offline"), url_for("service_worker.outbox")]
    source = (ROOT / "service_worker" / "sw.js").read_text(encoding="utf-8")
    version = fingerprint() if current_app.debug else release()  # while developing, every edit is a release
    source = source.replace('"__VERSION__"', json.dumps(version)).replace('["__SHELL__"]', json.dumps(shell))
    response = make_response(source)
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"
    return response


@cache
def release() -> str:
    """This release: the fingerprint of the files as the process started."""
    return fingerprint()


def fingerprint() -> str:
    """A short fingerprint of the worker, the static files and the templates: a new release gets new caches
    (the old ones are deleted when its worker takes over), and nothing older is ever served from them."""
    digest = hashlib.sha256()
    for folder in ("service_worker", "static", "templates"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@bp.get("/offline")
@login_required
def offline():
    """What the worker shows for a page it does not hold while there is no signal."""
    return render_template("offline/offline.html")


@bp.get("/outbox")
@login_required
def outbox():
    """Entries made on this phone that wait to sync or need attention; static/js/outbox.js fills the lists
    from the phone's own storage, so the page works offline."""
    return render_template("offline/outbox.html")


@bp.get("/session")
def session_state():
    """Who is signed in and a fresh CSRF token, for the phone before it replays its waiting entries."""
    response = jsonify({"user": current_user.id if current_user.is_authenticated else None,
                        "csrf_token": generate_csrf()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest in the user's language; the app opens on the role's home, full screen."""
    icons = [{"src": url_for("static", filename=f"icons/{name}"), "sizes": f"{size}x{size}", "type": "image/png",
              "purpose": purpose} for name, size, purpose in ICONS]
    icons.append({"src": url_for("static", filename="icons/icon.svg"), "sizes": "any", "type": "image/svg+xml",
                  "purpose": "any"})
    response = jsonify({
        "id": "/",
        "name": _("Dealer Leads"),
        # Under the icon on a home screen: a word or two.
        "short_name": _("Leads"),
        "description": _("Leads, follow-ups and appointments for car dealers."),
        "lang": "zh-Hans" if str(get_locale()) == "zh_Hans" else "en",  # as <html lang> in base.html
        "dir": "ltr",
        "start_url": url_for("home.index"),
        "scope": "/",
        "display": "standalone",
        "background_color": BRAND_COLOUR,
        "theme_color": BRAND_COLOUR,
        "icons": icons,
    })
    response.mimetype = "application/manifest+json"
    # Short, and per user: the language follows the user's setting (the page asks with credentials).
    response.headers["Cache-Control"] = "private, max-age=600"
    response.vary.add("Cookie")
    response.vary.add("Accept-Language")
    return response
