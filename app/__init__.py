"""Dealer lead follow-up: the Flask application factory."""
import os
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Create and wire the app; configuration comes from the environment unless a test passes its own.

    :param test_config: settings that replace the environment's (tests use it for the database URL).
    """
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from app import config

    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)

    from app import cli, compression, database, errors, i18n, security, templating
    from app.extensions import csrf, db, htmx, limiter, migrate
    from app import models  # noqa: F401  (registers every table before migrations compare)

    compression.init_app(app)  # first: its after_request hook runs last, on the answer as sent
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    database.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    errors.init_app(app)
    cli.init_app(app)

    from app import views

    views.init_app(app)
    return app
