"""The service worker and the web app manifest, served from the site's root so that their scope is the whole
app and the app can be installed to a phone's home screen."""
from flask import Blueprint, jsonify, make_response, url_for
from flask_babel import get_locale, gettext as _

from app import ROOT

bp = Blueprint("service_worker", __name__)

BRAND_COLOUR = "#0b5cad"
# (file in static/icons/, size, purpose): "any" icons keep the rounded square of icon.svg; the maskable ones are
# full-bleed with the car inside the central 80 % that every launcher's mask keeps.
ICONS = (("icon-192.png", 192, "any"), ("icon-512.png", 512, "any"),
         ("icon-maskable-192.png", 192, "maskable"), ("icon-maskable-512.png", 512, "maskable"))


@bp.get("/sw.js")
def script():
    """service_worker/sw.js at /sw.js; never cached, so a new version is found on the next visit."""
    response = make_response((ROOT / "service_worker" / "sw.js").read_bytes())
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"
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
