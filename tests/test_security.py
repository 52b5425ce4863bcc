"""Security headers, cookie flags and the strict Content-Security-Policy."""
from app import create_app
from app.security import CONTENT_SECURITY_POLICY


def test_every_page_sends_a_strict_policy_and_the_usual_headers(client, world):
    response = client.get("/signin")
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "no-store" in headers["Cache-Control"]


def test_pages_have_no_inline_script_or_style(client, auth, world):
    auth.sign_in(world.one.manager)
    for path in ("/signin", "/leads", "/team", "/account", "/account/password"):
        html = client.get(path).get_data(as_text=True).lower()
        assert "<script>" not in html and "<style" not in html and " style=" not in html and " onclick" not in html


def test_htmx_is_configured_for_the_strict_policy(client, world):
    html = client.get("/signin").get_data(as_text=True)
    assert '"allowEval": false' in html and '"includeIndicatorStyles": false' in html


def test_session_cookie_is_httponly_and_samesite(client, auth, world):
    auth.sign_in(world.one.consultant, remember="true")
    session = client.get_cookie("session")
    remember = client.get_cookie("remember_token")
    assert session.http_only and session.same_site == "Lax"
    assert remember.http_only and remember.same_site == "Lax"


def test_cookies_are_secure_and_hsts_sent_outside_development(monkeypatch, tmp_path):
    monkeypatch.delenv("APP_ENV", raising=False)
    production = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})
    assert production.config["SESSION_COOKIE_SECURE"] and production.config["REMEMBER_COOKIE_SECURE"]
    assert "max-age" in _headers(production, "/static/css/app.css")["Strict-Transport-Security"]
    monkeypatch.setenv("APP_ENV", "development")
    development = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'd.db'}"})
    assert not development.config["SESSION_COOKIE_SECURE"]
    assert "Strict-Transport-Security" not in _headers(development, "/static/css/app.css")


def _headers(app, path):
    with app.test_client().get(path) as response:
        return response.headers


def test_oversized_request_is_refused_with_a_clear_message(app, client, world):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/signin", data={"identifier": "x" * 4096, "password": "y"})
    assert response.status_code == 413
    assert "The upload is too large." in response.get_data(as_text=True)
