"""HTTP compression (app/compression.py): pages, fragments, styles, scripts, the manifest and SVG go out with brotli
or gzip to a client that accepts it, varying on Accept-Encoding; pictures, downloads and short answers go as they
are; static files keep their conditional answers; an offline entry's stored answer is the view's own, and its
replay is compressed like any answer."""
import gzip
import re
import uuid

import brotli
import pytest
from flask_login import login_required

from app.extensions import db
from app.models import IdempotentRequest
from app.views.idempotency import idempotent
from tests import factories

PHONE = {"Accept-Encoding": "gzip, deflate, br, zstd"}


def decoded(response) -> bytes:
    data = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(data)
    if encoding == "gzip":
        return gzip.decompress(data)
    assert encoding is None, encoding
    return data


def untokened(page: bytes) -> bytes:
    """The page without its CSRF token, which is new in every answer."""
    return re.sub(rb'"X-CSRFToken": "[^"]+"', b"", page)


def test_a_page_goes_in_brotli_to_a_phone_in_gzip_to_an_older_client_and_plain_to_others(client, me):
    phone = client.get("/today", headers=PHONE)
    older = client.get("/today", headers={"Accept-Encoding": "gzip"})
    plain = client.get("/today")

    assert (phone.headers["Content-Encoding"], older.headers["Content-Encoding"]) == ("br", "gzip")
    assert "Content-Encoding" not in plain.headers
    assert untokened(decoded(phone)) == untokened(decoded(older)) == untokened(plain.get_data())
    assert int(phone.headers["Content-Length"]) == len(phone.get_data()) < len(plain.get_data()) / 2
    for response in (phone, older, plain):
        assert {"HX-Request", "Accept-Encoding"} <= {v.strip() for v in response.headers["Vary"].split(",")}
        assert response.headers["Cache-Control"] == "private, no-store"


def test_an_htmx_fragment_is_compressed_too(client, me):
    for n in range(12):
        factories.make_lead(me, customer=factories.make_customer(me.oem, name=f"客户{n}"))

    fragment = client.get("/today", headers={**PHONE, "HX-Request": "true"})

    assert fragment.headers["Content-Encoding"] == "br"
    assert "<html" not in decoded(fragment).decode() and "客户11" in decoded(fragment).decode()


@pytest.mark.parametrize("path", ["/static/css/app.css", "/static/js/app.js", "/static/vendor/htmx-2.0.11.min.js",
                                  "/sw.js"])
def test_styles_and_scripts_are_compressed_whole_with_their_length(client, path):
    plain = client.get(path)
    response = client.get(path, headers=PHONE)

    assert response.headers["Content-Encoding"] == "br"
    assert decoded(response) == plain.get_data()
    assert int(response.headers["Content-Length"]) == len(response.get_data())
    assert "Accept-Encoding" in response.headers["Vary"]


def test_a_static_file_answers_304_to_its_compressed_etag(client):
    first = client.get("/static/css/app.css", headers=PHONE)
    again = client.get("/static/css/app.css", headers={**PHONE, "If-None-Match": first.headers["ETag"]})
    other = client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip"})

    assert first.headers["ETag"].endswith(':br"')
    assert (again.status_code, again.get_data()) == (304, b"")
    assert other.headers["ETag"] != first.headers["ETag"] and other.headers["Content-Encoding"] == "gzip"


def test_the_service_worker_stays_uncached_when_compressed(client):
    response = client.get("/sw.js", headers=PHONE)

    assert response.headers["Cache-Control"] == "no-cache"
    assert b"/static/css/app.css" in decoded(response)


def test_pictures_short_answers_and_downloads_go_as_they_are(client, auth, world):
    with client.get("/static/icons/icon-192.png", headers=PHONE) as icon:  # streamed: closed by hand here
        assert "Content-Encoding" not in icon.headers and icon.get_data().startswith(b"\x89PNG")
    assert client.get("/static/icons/icon.svg").content_length < 500  # too short to be worth it
    assert "Content-Encoding" not in client.get("/static/icons/icon.svg", headers=PHONE).headers

    auth.sign_in(world.one.manager)
    for fmt in ("csv", "xlsx"):
        download = client.get(f"/dashboard/funnel.{fmt}?period=month", headers=PHONE)
        assert download.status_code == 200, fmt
        assert "Content-Encoding" not in download.headers
        assert "attachment" in download.headers["Content-Disposition"]


def test_an_offline_entry_keeps_the_views_answer_and_its_replay_is_compressed(app, client, auth, world):
    # An entry whose answer is long enough to compress (the app's own entries answer with a redirect or an
    # empty htmx answer): the idempotent decorator as the app's views use it.
    answer = "<p>" + "Saved. Next follow-up tomorrow 10:30. " * 40 + "</p>"
    app.add_url_rule("/test-entry", "test_entry", login_required(idempotent(lambda: answer)), methods=["POST"])
    auth.sign_in(world.one.consultant)
    key, token = str(uuid.uuid4()), auth.csrf_token("/account")

    first = client.post("/test-entry", data={"csrf_token": token}, headers={**PHONE, "Idempotency-Key": key})
    replay = client.post("/test-entry", data={"csrf_token": token}, headers={**PHONE, "Idempotency-Key": key})

    assert first.status_code == replay.status_code == 200
    assert first.headers["Content-Encoding"] == replay.headers["Content-Encoding"] == "br"
    assert replay.headers["Idempotent-Replayed"] == "true" and "Accept-Encoding" in replay.headers["Vary"]
    assert decoded(first).decode() == decoded(replay).decode() == answer
    assert db.session.query(IdempotentRequest).one().body == answer  # as the view made it, not compressed
