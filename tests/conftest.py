"""Fixtures in the flaskr style: app, client, runner, auth; the database is SQLite unless
TEST_DATABASE_URL names a PostgreSQL server, where each run gets a schema of its own, dropped afterwards."""
import contextvars
import os
import tempfile
import uuid

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="dealer-leads-test-instance-"))

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from tests import factories  # noqa: E402

pytest_plugins = ["tests.browser_fixtures", "tests.push_fixtures"]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A migrated, empty database for this test run: an SQLite file, or a fresh PostgreSQL schema."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        _migrate(url)
        yield url
        return
    server = server.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in server else "?"
    url = f"{server}{separator}options=-csearch_path%3D{schema}"
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _migrate(url: str) -> None:
    """Build the schema with the real migrations, so every run also proves they work on this database."""
    app = create_app(_test_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _test_config(url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
    }


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context (own g, own database session), as in production.

    Flask reuses an app context that is already pushed, and the tests hold one for their factories.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(database_url):
    """The app with a context pushed for the test's own queries, on an empty database; emptied afterwards."""
    app = create_app(_test_config(database_url))
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


def _empty_all_tables() -> None:
    tables = [table.name for table in db.metadata.sorted_tables]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    """Sign in and out as a test user, with the real form and its CSRF token."""

    def __init__(self, client):
        self._client = client

    def csrf_token(self, path: str = "/signin") -> str:
        return factories.csrf_token_from(self._client.get(path).get_data(as_text=True))

    def sign_in(self, identifier, password: str = factories.PASSWORD, **extra):
        if hasattr(identifier, "email"):
            identifier = identifier.email or identifier.phone_e164
        data = {"identifier": identifier, "password": password, "csrf_token": self.csrf_token(), **extra}
        return self._client.post("/signin", data=data)

    def sign_out(self):
        return self._client.post("/signout", data={"csrf_token": self.csrf_token("/account")})


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def world(app):
    """A small brand: two dealers, each with a manager and two consultants, plus an IDCC agent and an OEM admin."""
    return factories.make_world()


@pytest.fixture
def me(auth, world):
    """The first dealer's consultant, signed in."""
    auth.sign_in(world.one.consultant)
    return world.one.consultant
