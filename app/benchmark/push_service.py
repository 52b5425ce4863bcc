"""A push service on 127.0.0.1 for the tests and the benchmark: it checks what a real one checks and reads what
the browser would.

No real push service is reachable here, so this one stands in (DESIGN.md, "Tests that touch the real thing").
The tests start it in their own process (`FakePushService()`); the benchmark in a process of its own
(`python -m app.benchmark.push_service`, see `main`), so that its checks do not share the worker's CPU time.
For every request it:
- verifies the VAPID Authorization header (RFC 8292): `vapid t=<JWT>, k=<public key>`, the JWT signed ES256 by
  that key, `aud` the endpoint's origin (webpush 1.0.6 drops the port, harmless on the real services' port 443,
  so the origin without the port is accepted too), `exp` in the future and at most 24 hours ahead, `sub` present;
  and, like the real services, that `k` is the key the browser subscribed with (else 403);
- requires a TTL header and `Content-Encoding: aes128gcm`, and refuses bodies over 4096 bytes (413);
- decrypts the body with `http_ece` using the private key and auth secret of the test's "browser";
- then answers what the test scripted for that endpoint (201 by default; 404, 410, 413, 429 with Retry-After,
  500, or a stall longer than the sender's timeout), and records the request.
"""
import json
import os
import threading
import time
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

MAX_BODY = 4096  # what real push services accept


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """The browser side of a subscription: its ECDH key pair and auth secret, as `pushManager.subscribe()` makes
    them, and the applicationServerKey it subscribed with."""

    endpoint: str
    application_server_key: str
    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)


@dataclass(frozen=True)
class Answer:
    """What the service answers one request: a status and headers, after `stall` seconds."""

    status: int = 201
    headers: dict = field(default_factory=dict)
    stall: float = 0.0


@dataclass
class Received:
    """One request as the service saw it."""

    path: str
    headers: dict  # lower-cased names
    status: int  # what it answered
    claims: dict | None = None  # the verified VAPID JWT
    payload: dict | None = None  # the decrypted JSON
    size: int | None = None  # of the decrypted payload, in bytes
    problem: str | None = None  # why it refused the request, when it did


class _Server(ThreadingHTTPServer):
    """A thread per connection, and a backlog for the many connections workers open at once (a push service
    does not reset them)."""

    daemon_threads = True
    request_queue_size = 128


class FakePushService:
    """Start with `FakePushService()`; `close()` stops it. Thread-safe: several workers may push at once.

    :param keep_alive: keep connections open between requests (HTTP/1.1), as the real services do; the tests'
        default closes each one, so that a stalled answer never holds up the next request.
    """

    def __init__(self, keep_alive: bool = False):
        self.received: list[Received] = []
        self._browsers: dict[str, Browser] = {}
        self._scripts: dict[str, list[Answer]] = {}
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_POST(self):
                service._handle(self)

            def log_message(self, *args):  # keep pytest's output clean
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def browser(self, application_server_key: str) -> Browser:
        """A new browser subscribed here with the given applicationServerKey (the server's VAPID public key)."""
        with self._lock:
            path = f"/push/{len(self._browsers) + 1}-{b64url(os.urandom(6))}"
            browser = Browser(self.origin + path, application_server_key)
            self._browsers[path] = browser
        return browser

    def script(self, browser: Browser, *answers: Answer) -> None:
        """Answer the next requests to this browser's endpoint with `answers`, in order; then 201 again."""
        with self._lock:
            self._scripts.setdefault(self._path(browser), []).extend(answers)

    def to(self, browser: Browser) -> list[Received]:
        """The requests sent to this browser's endpoint."""
        with self._lock:
            return [request for request in self.received if request.path == self._path(browser)]

    def _path(self, browser: Browser) -> str:
        return browser.endpoint.removeprefix(self.origin)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("content-length") or 0))
        headers = {name.lower(): value for name, value in request.headers.items()}
        with self._lock:
            browser = self._browsers.get(request.path)
            script = self._scripts.get(request.path)
            answer = script.pop(0) if script else Answer()
        received = Received(request.path, headers, answer.status)
        try:
            if browser is None:
                raise Refused(404, "no such subscription")
            received.claims = self._verify_vapid(headers.get("authorization", ""), browser)
            if "ttl" not in headers:
                raise Refused(400, "TTL header missing")
            if headers.get("content-encoding") != "aes128gcm":
                raise Refused(415, "Content-Encoding must be aes128gcm")
            if len(body) > MAX_BODY:
                raise Refused(413, f"{len(body)} bytes is more than {MAX_BODY}")
            plaintext = http_ece.decrypt(body, private_key=browser.private_key, auth_secret=browser.auth_secret,
                                         version="aes128gcm")
            received.payload, received.size = json.loads(plaintext), len(plaintext)
        except Refused as refused:
            received.status, received.problem, answer = refused.status, refused.reason, Answer(refused.status)
        except (http_ece.ECEException, ValueError) as error:
            received.status, received.problem, answer = 400, f"undecryptable: {error!r}", Answer(400)
        with self._lock:
            self.received.append(received)
        time.sleep(answer.stall)
        try:
            request.send_response(answer.status)
            for name, value in answer.headers.items():
                request.send_header(name, value)
            problem = (received.problem or "").encode()
            request.send_header("Content-Length", str(len(problem)))
            request.end_headers()
            request.wfile.write(problem)
        except (BrokenPipeError, ConnectionResetError):  # the sender gave up waiting (a stall)
            pass

    def _verify_vapid(self, authorization: str, browser: Browser) -> dict:
        """The verified claims of the VAPID JWT; Refused(401/403) when it does not hold."""
        scheme, _, parameters = authorization.partition(" ")
        values = dict(part.strip().split("=", 1) for part in parameters.split(",") if "=" in part)
        if scheme.lower() != "vapid" or "t" not in values or "k" not in values:
            raise Refused(401, f"not a VAPID authorization: {authorization!r}")
        if values["k"] != browser.application_server_key:
            raise Refused(403, "the VAPID key is not the one the browser subscribed with")
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(values["k"]))
        try:
            claims = jwt.decode(values["t"], key=key, algorithms=["ES256"], options={"require": ["aud", "exp", "sub"]},
                                audience=[self.origin, self.origin.rsplit(":", 1)[0]])
        except jwt.InvalidTokenError as error:
            raise Refused(401, f"bad VAPID token: {error}") from None
        if claims["exp"] > time.time() + 24 * 60 * 60:
            raise Refused(401, "VAPID token expires more than 24 hours ahead")
        if not claims["sub"].startswith(("mailto:", "https:")):
            raise Refused(401, f"VAPID subject is not mailto: or https: ({claims['sub']!r})")
        return claims


class Refused(Exception):
    """A request the service refuses, as a real one would."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def main() -> None:
    """Serve N browsers subscribed with the given VAPID public key until standard input closes.

    Prints one JSON line with the browsers (endpoint, p256dh, auth: what a PushSubscription stores), and, when
    standard input closes, one with what it received: requests, decrypted payloads, and the refusals by reason.
    """
    import argparse
    import sys
    from collections import Counter

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--browsers", type=int, required=True)
    parser.add_argument("--key", required=True, help="the server's VAPID public key (applicationServerKey)")
    arguments = parser.parse_args()
    service = FakePushService(keep_alive=True)
    browsers = [service.browser(arguments.key) for _ in range(arguments.browsers)]
    print(json.dumps([{"endpoint": b.endpoint, "p256dh": b.p256dh, "auth": b.auth} for b in browsers]), flush=True)
    sys.stdin.read()
    service.close()
    with service._lock:
        received = list(service.received)
    print(json.dumps({"requests": len(received), "decrypted": sum(r.payload is not None for r in received),
                      "refused": Counter(r.problem for r in received if r.problem)}), flush=True)


if __name__ == "__main__":
    main()
