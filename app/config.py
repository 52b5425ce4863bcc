"""Configuration read from the environment; every variable is documented in the README."""
import os
import secrets
from pathlib import Path


# Chrome and Edge (FCM), Firefox (Mozilla autopush), Safari (Apple), Windows (WNS).
PUSH_SERVICE_HOSTS = ("fcm.googleapis.com", "push.services.mozilla.com", "push.apple.com", "notify.windows.com")


def _instance_secret(instance_path: str, name: str) -> str:
    """Return a secret kept in the instance folder, generating it on first use.

    So a fresh checkout runs without anyone inventing a SECRET_KEY, and restarts keep sessions valid.
    """
    path = Path(instance_path) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def database_url(instance_path: str) -> str:
    """The DATABASE_URL, normalised for SQLAlchemy + psycopg 3; SQLite in the instance folder by default."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{Path(instance_path) / 'dealer_leads.sqlite3'}"
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy needs the driver spelled out.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def from_environment(instance_path: str) -> dict:
    """Build the app's config mapping from environment variables."""
    development = os.environ.get("APP_ENV", "production") == "development"
    url = database_url(instance_path)
    engine_options: dict = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        # psycopg prepares a statement after 5 runs and PostgreSQL may then keep a generic plan made while a
        # table was small: a 100,000-row import slowed to a crawl on sequential scans. Plan every statement.
        engine_options["connect_args"] = {"prepare_threshold": None}
    return {
        "APP_ENV": "development" if development else "production",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _instance_secret(instance_path, "secret_key"),
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not development,
        "REMEMBER_COOKIE_NAME": "remember_token",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": not development,
        "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 30,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session; a phone stays signed in all day
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "SIGN_IN_RATE_LIMIT": os.environ.get("SIGN_IN_RATE_LIMIT", "10 per minute;50 per hour"),
        # Account lockout: this many failed sign-ins within this many minutes lock the account for as long.
        "SIGN_IN_LOCKOUT_ATTEMPTS": int(os.environ.get("SIGN_IN_LOCKOUT_ATTEMPTS", 5)),
        "SIGN_IN_LOCKOUT_MINUTES": int(os.environ.get("SIGN_IN_LOCKOUT_MINUTES", 15)),
        "CSP_REPORT_RATE_LIMIT": os.environ.get("CSP_REPORT_RATE_LIMIT", "60 per minute"),
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "300 per minute"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", 16 * 1024 * 1024)),
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "PAGE_SIZE": 50,
        # Web Push (app.services.vapid): without a private key here, one is generated into the instance folder.
        "VAPID_PRIVATE_KEY": os.environ.get("VAPID_PRIVATE_KEY"),
        "VAPID_PUBLIC_KEY": os.environ.get("VAPID_PUBLIC_KEY"),
        "VAPID_SUBJECT": os.environ.get("VAPID_SUBJECT", "mailto:webpush@example.com"),
        # The browsers' push services a subscription may point at (the host or a parent domain); anything else
        # would let a signed-in user make the worker send requests to a host of their choosing.
        "PUSH_SERVICE_HOSTS": tuple(os.environ.get("PUSH_SERVICE_HOSTS", ",".join(PUSH_SERVICE_HOSTS)).split(",")),
    }
