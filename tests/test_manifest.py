"""The installable app from the server's side: the web app manifest in the user's language, its icons (served,
of the stated sizes), the page head that links them, and the service worker at the root, never cached."""
import struct

from app.extensions import db

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_header(data: bytes) -> tuple[int, int, int]:
    """Width, height and colour type from a PNG's IHDR chunk, which always comes first.

    :raise AssertionError: when the bytes are not a PNG.
    """
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR", "not a PNG"
    width, height, _depth, colour_type = struct.unpack(">IIBB", data[16:26])
    return width, height, colour_type


def static_bytes(client, path: str) -> bytes:
    """A static file's bytes; the response is closed, since Flask streams it from an open file."""
    response = client.get(path)
    assert response.status_code == 200, path
    try:
        return response.get_data()
    finally:
        response.close()


def test_the_manifest_describes_a_standalone_app_opening_on_the_home(client):
    response = client.get("/manifest.webmanifest")

    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    assert response.headers["Cache-Control"] == "private, max-age=600"
    assert {"Cookie", "Accept-Language"} <= set(response.vary)
    manifest = response.get_json()
    assert (manifest["name"], manifest["short_name"], manifest["lang"]) == ("Dealer Leads", "Leads", "en")
    assert (manifest["id"], manifest["start_url"], manifest["scope"]) == ("/", "/", "/")
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == manifest["background_color"] == "#0b5cad"
    assert manifest["description"]
    purposes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert purposes == {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")}
    assert {"src": "/static/icons/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"} \
        in manifest["icons"]


def test_every_icon_is_served_with_the_size_it_states(client):
    for icon in client.get("/manifest.webmanifest").get_json()["icons"]:
        data = static_bytes(client, icon["src"])
        if icon["type"] == "image/svg+xml":
            assert data.startswith(b"<svg")
            continue
        width, height, colour_type = png_header(data)
        assert f"{width}x{height}" == icon["sizes"], icon["src"]
        if icon["purpose"] == "maskable":
            # Full bleed: no alpha channel and no transparent colour, so a launcher's mask never shows a hole.
            assert colour_type == 2 and b"tRNS" not in data, icon["src"]


def test_the_manifest_is_in_chinese_for_a_chinese_user(client, auth, world):
    user = world.one.consultant
    user.locale = "zh_Hans"
    db.session.commit()
    auth.sign_in(user)

    manifest = client.get("/manifest.webmanifest", headers={"Accept-Language": "en"}).get_json()

    assert manifest["lang"] == "zh-Hans"
    assert manifest["name"] != "Dealer Leads" and manifest["short_name"] != "Leads"
    # A home screen shows about six Chinese characters under the icon.
    assert 0 < len(manifest["short_name"]) <= 6 and len(manifest["short_name"]) < len(manifest["name"])
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"


def test_the_browsers_language_chooses_before_sign_in(client):
    manifest = client.get("/manifest.webmanifest", headers={"Accept-Language": "zh-CN"}).get_json()
    assert manifest["lang"] == "zh-Hans" and manifest["short_name"] != "Leads"


def test_pages_link_the_manifest_and_the_home_screen_icon(client, auth, world):
    page = client.get("/signin").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest" crossorigin="use-credentials">' in page
    assert 'href="/static/icons/apple-touch-icon.png"' in page
    assert '<meta name="apple-mobile-web-app-capable" content="yes">' in page
    assert png_header(static_bytes(client, "/static/icons/apple-touch-icon.png"))[:2] == (180, 180)
    assert "data-service-worker" not in page  # registered only once signed in

    auth.sign_in(world.one.consultant)
    assert 'data-service-worker="/sw.js"' in client.get("/today").get_data(as_text=True)


def test_the_service_worker_is_still_never_cached_and_answers_fetches(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
    script = response.get_data(as_text=True)
    assert 'addEventListener("fetch"' in script and 'addEventListener("push"' in script


def test_the_manifest_is_reachable_while_a_password_must_be_changed(client, auth, world):
    user = world.one.consultant
    user.must_change_password = True
    db.session.commit()
    auth.sign_in(user)
    assert client.get("/manifest.webmanifest").status_code == 200
