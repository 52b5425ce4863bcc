"""VAPID: the key pair that identifies this server to the browsers' push services (RFC 8292).

A browser subscribes with our public key (`public_key_b64url()`, its applicationServerKey) and its push service
then accepts only pushes signed with the matching private key. New keys silently orphan every subscription,
so the keys are made once and kept. Where they come from, first found wins:
1. the environment: VAPID_PRIVATE_KEY, as PEM or as the raw 32-byte key in base64url (what other Web Push tools
   print), and VAPID_PUBLIC_KEY, optional, checked against it (a mismatch is a configuration error);
2. the instance folder's `vapid_private_key.pem`, written by `flask --app app vapid`, or on first use, like the
   secret key, so the quick start needs no setup. Several machines must share keys: set the environment there.
VAPID_SUBJECT names who to contact about our pushes: a mailto: address (webpush 1.0.6 always writes "mailto:").
"""
import binascii
import os
import tempfile
from base64 import urlsafe_b64decode, urlsafe_b64encode
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from webpush import WebPush

KEY_FILE = "vapid_private_key.pem"
TOKEN_LIFETIME = 12 * 60 * 60  # seconds a signed VAPID token is valid; RFC 8292 allows at most 24 hours


class VapidConfigError(ValueError):
    """The VAPID settings cannot be used; the message says which variable and why."""


def public_key_b64url() -> str:
    """The public key as the browser's `applicationServerKey`: the uncompressed P-256 point in base64url."""
    point = _private_key().public_key().public_bytes(serialization.Encoding.X962,
                                                     serialization.PublicFormat.UncompressedPoint)
    return _b64url(point)


def sender() -> WebPush:
    """The app's webpush sender (encryption and the VAPID header), made once per app.

    Thread-safe as long as `get()` is called without per-call subscriber, ttl or expiration: those mutate it.
    """
    cached = current_app.extensions.get("vapid_sender")
    if cached is None:
        key = _private_key()
        cached = WebPush(
            private_key=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()),
            public_key=key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo),
            subscriber=_subscriber(), expiration=TOKEN_LIFETIME)
        current_app.extensions["vapid_sender"] = cached
    return cached


def generate(force: bool = False) -> str:
    """Write new keys into the instance folder; returns the new public key.

    :param force: replace keys that exist (every browser must then subscribe again).
    :raise FileExistsError: keys exist and `force` is not set.
    """
    path = Path(current_app.instance_path) / KEY_FILE
    if path.exists() and not force:
        raise FileExistsError(path)
    _write_new_key(path, replace=force)
    for cached in ("vapid_key", "vapid_sender"):
        current_app.extensions.pop(cached, None)
    return public_key_b64url()


def from_environment() -> bool:
    """Whether the keys come from the environment (so the instance folder's file is not used)."""
    return bool(current_app.config.get("VAPID_PRIVATE_KEY"))


def _private_key() -> ec.EllipticCurvePrivateKey:
    """The configured private key, loaded once per app."""
    key = current_app.extensions.get("vapid_key")
    if key is None:
        key = _configured_key() if from_environment() else _instance_key()
        current_app.extensions["vapid_key"] = key
    return key


def _configured_key() -> ec.EllipticCurvePrivateKey:
    """The key pair from VAPID_PRIVATE_KEY (and VAPID_PUBLIC_KEY, which must match it)."""
    key = _load_private_key(current_app.config["VAPID_PRIVATE_KEY"])
    public = current_app.config.get("VAPID_PUBLIC_KEY")
    if public and _load_public_point(public) != key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint):
        raise VapidConfigError("VAPID_PUBLIC_KEY is not the public key of VAPID_PRIVATE_KEY")
    return key


def _instance_key() -> ec.EllipticCurvePrivateKey:
    """The key in the instance folder, made on first use."""
    path = Path(current_app.instance_path) / KEY_FILE
    if not path.exists():
        _write_new_key(path, replace=False)
    return _load_private_key(path.read_text())


def _write_new_key(path: Path, replace: bool) -> None:
    """Write a new private key (owner-only) all at once: a reader never sees half a file, and of two processes
    making one at the same moment, the second keeps the first's (unless `replace`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".vapid-")  # mode 0600
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        if replace:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _load_private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key from PEM (literal "\\n" allowed, as some hosts store multi-line values) or from the
    raw 32-byte private value in base64url."""
    text = text.strip().replace("\\n", "\n")
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            raw = _b64url_decode(text)
            if len(raw) != 32:
                raise ValueError(f"{len(raw)} bytes, not 32")
            key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except (ValueError, TypeError, binascii.Error) as error:
        raise VapidConfigError(f"VAPID_PRIVATE_KEY is not a PEM or base64url P-256 private key ({error})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise VapidConfigError("VAPID_PRIVATE_KEY must be an elliptic-curve key on P-256 (prime256v1)")
    return key


def _load_public_point(text: str) -> bytes:
    """The uncompressed point of VAPID_PUBLIC_KEY, given as PEM or base64url."""
    text = text.strip().replace("\\n", "\n")
    try:
        if text.startswith("-----BEGIN"):
            return serialization.load_pem_public_key(text.encode()).public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return _b64url_decode(text)
    except (ValueError, TypeError, AttributeError, binascii.Error) as error:
        raise VapidConfigError(f"VAPID_PUBLIC_KEY is not a PEM or base64url public key ({error})") from None


def _subscriber() -> str:
    """VAPID_SUBJECT without its "mailto:", which the webpush package adds itself."""
    subject = current_app.config["VAPID_SUBJECT"].strip()
    address = subject.removeprefix("mailto:")
    if address == subject or "@" not in address:
        raise VapidConfigError(f"VAPID_SUBJECT must be a mailto: address, not {subject!r}")
    return address


def _b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))
