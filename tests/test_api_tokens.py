"""API tokens: a manager issues them for the people of their dealer (the brand's administrator for the brand's own
people), the secret shows once and only its SHA-256 is stored; a revoked token and a deactivated user's are refused at
once; issuing and revoking are audited."""
import hashlib
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, AuditEntry
from app.services import api_tokens


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def issued_secret(response) -> str:
    match = re.search(r'<p class="secret"[^>]*>([^<]+)</p>', response.get_data(as_text=True))
    assert match, "no secret shown"
    return match.group(1).strip()


def issue(client, auth, user_id, name="DMS bridge"):
    token = auth.csrf_token("/api-tokens")
    return client.post("/api-tokens", data={"csrf_token": token, "user_id": user_id, "name": name})


def test_a_manager_issues_a_token_shown_once_and_stored_as_its_hash(app, client, auth, world):
    consultant = world.one.consultant
    auth.sign_in(world.one.manager)
    response = issue(client, auth, consultant.id)
    assert response.status_code == 200
    secret = issued_secret(response)
    assert secret.startswith("dlk_") and len(secret) > 40
    token = db.session.scalar(select(ApiToken))
    assert (token.user_id, token.name, token.created_by_id) == (consultant.id, "DMS bridge", world.one.manager.id)
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest() and secret[:12] == token.prefix
    page = client.get("/api-tokens").get_data(as_text=True)
    assert "DMS bridge" in page and token.prefix in page and secret not in page and "never used" in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token.issued"))
    assert (entry.actor_id, entry.object_id, entry.dealer_id) == (world.one.manager.id, token.id, world.one.dealer.id)

    fresh = app.test_client()
    answer = fresh.get("/api/v1/me", headers=bearer(secret))
    assert answer.status_code == 200 and answer.json["id"] == consultant.id
    db.session.refresh(token)
    assert token.last_used_at is not None


def test_a_revoked_token_is_refused_at_once(app, client, auth, world):
    auth.sign_in(world.one.manager)
    secret = issued_secret(issue(client, auth, world.one.colleague.id, "Portal sync"))
    integration = app.test_client()
    assert integration.get("/api/v1/leads", headers=bearer(secret)).status_code == 200
    token = db.session.scalar(select(ApiToken))
    response = client.post(f"/api-tokens/{token.id}/revoke", data={"csrf_token": auth.csrf_token("/api-tokens")})
    assert response.status_code == 303
    refused = integration.get("/api/v1/leads", headers=bearer(secret))
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    db.session.refresh(token)
    assert token.revoked_at is not None and token.revoked_by_id == world.one.manager.id
    assert db.session.scalar(select(AuditEntry.object_id).where(AuditEntry.action == "api_token.revoked")) == token.id
    assert "Revoked" in client.get("/api-tokens").get_data(as_text=True)


def test_a_manager_cannot_issue_or_revoke_for_another_dealer(app, client, auth, world):
    others = api_tokens.issue(world.two.manager, world.two.consultant, "Their bridge")[0]
    auth.sign_in(world.one.manager)
    assert issue(client, auth, world.two.consultant.id).status_code == 404
    assert issue(client, auth, world.idcc_agent.id).status_code == 404
    revoke = client.post(f"/api-tokens/{others.id}/revoke", data={"csrf_token": auth.csrf_token("/api-tokens")})
    assert revoke.status_code == 404
    assert "Their bridge" not in client.get("/api-tokens").get_data(as_text=True)
    db.session.refresh(others)
    assert others.revoked_at is None
    assert db.session.scalar(select(ApiToken).where(ApiToken.user_id == world.two.consultant.id)) is others


def test_the_brands_administrator_issues_for_the_brands_people_only(client, auth, world):
    auth.sign_in(world.oem_admin)
    assert issue(client, auth, world.one.consultant.id).status_code == 404
    assert issue(client, auth, world.idcc_agent.id, "Call centre CTI").status_code == 200
    assert db.session.scalar(select(ApiToken.user_id)) == world.idcc_agent.id
    trail = client.get("/audit").get_data(as_text=True)  # the brand's own tokens are in its audit trail
    assert "API token issued" in trail and "Call centre CTI" in trail


@pytest.mark.parametrize("role", ["consultant", "idcc_agent"])
def test_consultants_and_the_lead_desk_have_no_token_page(client, auth, world, role):
    auth.sign_in(world.one.consultant if role == "consultant" else world.idcc_agent)
    assert client.get("/api-tokens").status_code == 403


def test_an_empty_name_is_refused_with_the_form_kept(client, auth, world):
    auth.sign_in(world.one.manager)
    response = issue(client, auth, world.one.consultant.id, "  ")
    assert response.status_code == 422 and "This field is required." in response.get_data(as_text=True)
    assert db.session.scalar(select(ApiToken)) is None


def test_a_deactivated_users_token_is_refused(client, world):
    consultant = world.one.consultant
    secret = api_tokens.issue(world.one.manager, consultant, "Bridge")[1]
    consultant.active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


@pytest.mark.parametrize("header", ["Bearer dlk_not-a-token", "Basic dXNlcjpwYXNz", "Bearer", "dlk_x"])
def test_an_unknown_or_malformed_token_is_a_401_problem(client, world, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert response.json["status"] == 401 and response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_token_decides_even_beside_a_session_cookie(client, auth, world):
    """A browser signed in as a manager that sends a revoked token is refused, not served as the manager."""
    token, secret = api_tokens.issue(world.one.manager, world.one.consultant, "Bridge")
    api_tokens.revoke(world.one.manager, token)
    auth.sign_in(world.one.manager)
    assert client.get("/api/v1/me").json["id"] == world.one.manager.id
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_token_requests_are_rate_limited(app, client, world):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    secret = api_tokens.issue(world.one.manager, world.one.consultant, "Bridge")[1]
    statuses = [client.get("/api/v1/me", headers=bearer(secret)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/me", headers=bearer(secret))
    assert limited.mimetype == "application/problem+json" and limited.json["status"] == 429
    assert "Retry-After" in limited.headers


def test_the_token_page_is_linked_from_team_and_account(client, auth, world):
    auth.sign_in(world.one.manager)
    assert 'href="/api-tokens"' in client.get("/team").get_data(as_text=True)
    assert 'href="/api-tokens"' in client.get("/account").get_data(as_text=True)
