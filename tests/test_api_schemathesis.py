"""/api/v1 against its own OpenAPI document: schemathesis generates requests for every operation from the document
and checks each answer: never a 500, only documented status codes and content types, and bodies that match the
documented schemas. As a consultant and as their manager, with tokens, in a dealer with leads of every kind.

The examples are few and derandomized (the same on every run, so CI is stable); the whole module takes about a
minute. For a deeper run: `SCHEMATHESIS_EXAMPLES=500 .venv/bin/python -m pytest tests/test_api_schemathesis.py`.
"""
import contextvars
import os
from datetime import timedelta

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_headers_conformance, response_schema_conformance, status_code_conformance,
)

from app import create_app
from app.extensions import db
from app.models import IntentLevel, Notification, Origin, Stage, utcnow
from app.services import api_tokens
from tests import factories

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))


@pytest.fixture
def tokens(app, world):
    """A dealer with open, closed, overdue and brand leads, a colleague's and another dealer's; a token for the
    consultant and one for the manager."""
    app.config["API_RATE_LIMIT"] = "100000 per minute"  # the run is a burst from one address
    me, one = world.one.consultant, world.one
    for stage, level in ((Stage.NEW, IntentLevel.H), (Stage.CONTACTED, IntentLevel.A), (Stage.LOST, IntentLevel.B)):
        factories.make_lead(me, stage=stage, intent_level=level)
    overdue = factories.make_lead(me, stage=Stage.CONTACTED, first_contact_at=utcnow(), origin=Origin.OEM)
    factories.make_follow_up(overdue, due_in=timedelta(hours=-2))
    factories.make_lead(one.colleague)
    factories.make_lead(world.two.consultant)
    db.session.add(Notification(user_id=me.id, kind="lead_assigned", title="New lead", dedupe_key="st-1",
                                lead_id=overdue.id))
    db.session.commit()
    return [api_tokens.issue(one.manager, user, "schemathesis")[1] for user in (me, one.manager)]


@pytest.fixture
def wsgi(app):
    """The test's app, each call in a context of its own as a real request (the test holds an app context)."""
    def isolated(environ, start_response):
        return contextvars.Context().run(app, environ, start_response)
    return isolated


def _served_document() -> dict:
    """The document as the app serves it (it describes shapes only: no database needed)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "document", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return app.test_client().get("/api/v1/openapi.json").json


# Loaded once at collection, so each operation is a test of its own.
schema = schemathesis.openapi.from_dict(_served_document())


@schema.parametrize()
@hypothesis.settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(hypothesis.HealthCheck))
def test_every_answer_conforms_to_the_document(case, tokens, wsgi):
    for secret in tokens:
        case.call_and_validate(headers={"Authorization": f"Bearer {secret}", "Accept-Encoding": "identity"},
                               checks=CHECKS, app=wsgi)
