"""HTTP compression of text answers: pages, htmx fragments, CSS, JavaScript, JSON, the manifest and SVG icons go
out with brotli or gzip (Flask-Compress) to a client that accepts it, with `Vary: Accept-Encoding`.

A phone on a weak signal pays for every byte, and these compress to a fifth of their size or less. Pictures (PNG)
and downloads (CSV, Excel) go as they are: Excel files are zip archives already, and a download is rare.

What is compressed and what is not:
- answers shorter than COMPRESS_MIN_SIZE stay as they are (an htmx answer that only triggers an event);
- the stored answer of an offline entry (app.views.idempotency) is kept as the view made it and compressed, like
  any answer, for the request that replays it;
- streamed answers are never compressed (COMPRESS_STREAMS off): their closing would be lost on the way. Static
  files are streamed by Flask, so `_read_static_file` reads them whole first (they are small), which also gives
  them a Content-Length and a conditional answer (304) on their compressed ETag.

BREACH (guessing a secret in a compressed page from its size): pages carry the CSRF token, and requests that an
attacker's site makes are what would reveal it. The session cookie is SameSite=Lax, so such requests (images,
scripts, fetches from another site) carry no session and get no token; only top-level navigations do, whose
sizes another site cannot read. So the pages are compressed.
"""
from flask import Flask, current_app, request

from app.extensions import compress

SETTINGS = {
    "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                           "application/manifest+json", "image/svg+xml"],
    # brotli is smaller (every browser sends it over HTTPS), gzip for the rest; zstd and deflate add nothing.
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_BR_LEVEL": 5,
    "COMPRESS_LEVEL": 6,
    "COMPRESS_MIN_SIZE": 500,
    "COMPRESS_STREAMS": False,
}


def init_app(app: Flask) -> None:
    """Compress text answers; call first in create_app, so compression runs after every other after_request hook
    (Flask runs them in reverse order) on the answer as it is finally sent."""
    for name, value in SETTINGS.items():
        app.config.setdefault(name, value)
    compress.init_app(app)
    app.after_request(_read_static_file)  # registered after compress: runs just before it


def _read_static_file(response):
    """A static file of a compressible type read whole instead of streamed, so that it can be compressed."""
    if (request.endpoint == "static" and response.status_code == 200 and response.is_streamed
            and response.mimetype in current_app.config["COMPRESS_MIMETYPES"]):
        file = response.response
        try:
            data = b"".join(file)
        finally:
            file.close()  # now, not when the server closes the answer: a test client may never do that
        response.direct_passthrough = False
        response.set_data(data)
    return response
