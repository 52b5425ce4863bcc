"""Signing in and out: by email or mobile number, clear errors, safe redirects, rate limits, CSRF."""
import pytest

from app.extensions import db
from app.models import Role, User
from tests import factories


@pytest.fixture
def consultant(world):
    user = world.one.consultant
    user.phone_e164 = "+8613800138000"
    db.session.commit()
    return user


@pytest.mark.parametrize("identifier", [
    "{email}", "{email_upper}", "13800138000", "138 0013 8000", "+86 138-0013-8000", "008613800138000",
])
def test_sign_in_with_email_or_any_form_of_the_mobile_number(client, auth, consultant, identifier):
    identifier = identifier.format(email=consultant.email, email_upper=consultant.email.upper())
    response = auth.sign_in(identifier)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/today"


def test_wrong_password_says_so_without_telling_which_part(client, auth, consultant):
    response = auth.sign_in(consultant, password="not-the-password")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The email, mobile number or password is not correct." in page
    assert consultant.email in page  # what was typed stays in the form
    assert client.get("/leads").status_code == 302


def test_unknown_account_gets_the_same_message(auth, world):
    response = auth.sign_in("nobody@test.example")
    assert "The email, mobile number or password is not correct." in response.get_data(as_text=True)


def test_missing_fields_are_named(auth, world):
    response = auth.sign_in("", password="")
    assert response.status_code == 422
    assert response.get_data(as_text=True).count("This field is required.") == 2


def test_deactivated_user_cannot_sign_in(auth, consultant):
    consultant.active = False
    db.session.commit()
    assert auth.sign_in(consultant).status_code == 422


def test_sign_in_records_the_time(auth, consultant):
    auth.sign_in(consultant)
    db.session.expire_all()
    assert db.session.get(User, consultant.id).last_sign_in_at is not None


def test_sign_out_ends_the_session(client, auth, consultant):
    auth.sign_in(consultant)
    assert auth.sign_out().headers["Location"] == "/signin"
    assert client.get("/leads").status_code == 302


def test_pages_need_sign_in_and_come_back_after_it(client, auth, consultant):
    response = client.get("/leads?q=li")
    assert response.status_code == 302
    assert response.headers["Location"] == "/signin?next=/leads?q%3Dli"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/leads?q=li"' in page
    assert auth.sign_in(consultant, next="/leads?q=li").headers["Location"] == "/leads?q=li"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_sign_in_never_redirects_off_site(auth, consultant, target):
    assert auth.sign_in(consultant, next=target).headers["Location"] == "/"


def test_expired_session_on_an_htmx_request_reloads_the_sign_in_page(client, world):
    response = client.get("/leads?q=x", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/signin?next=")


def test_post_without_csrf_token_is_refused(client, consultant):
    response = client.post("/signin", data={"identifier": consultant.email, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "nothing was saved" in response.get_data(as_text=True)
    assert client.get("/leads").status_code == 302


def test_htmx_requests_carry_the_token_in_a_header(client, auth, consultant):
    auth.sign_in(consultant)
    token = auth.csrf_token("/account")
    without = client.post("/account/locale", data={"locale": "zh_Hans"}, headers={"HX-Request": "true"})
    assert without.status_code == 400
    with_header = client.post("/account/locale", data={"locale": "zh_Hans"},
                              headers={"HX-Request": "true", "X-CSRFToken": token})
    assert with_header.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, consultant.id).locale == "zh_Hans"


def test_sign_in_attempts_are_rate_limited_per_address(client, auth, world):
    statuses = [auth.sign_in(f"guess{n}@test.example", password="wrong").status_code for n in range(11)]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429
    assert "Too many attempts" in auth.sign_in(world.one.manager).get_data(as_text=True)


def test_sign_in_attempts_are_rate_limited_per_account(app, world):
    """Spreading guesses for one account over many addresses does not help."""
    target = world.one.manager.email
    statuses = []
    for n in range(11):
        client = app.test_client()
        token = factories.csrf_token_from(client.get("/signin").get_data(as_text=True))
        response = client.post("/signin", data={"identifier": target, "password": "wrong", "csrf_token": token},
                               environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"})
        statuses.append(response.status_code)
    assert statuses[-1] == 429 and statuses[:10] == [422] * 10


def test_roles_land_on_their_home(client, auth, world):
    homes = {Role.CONSULTANT: "/today", Role.MANAGER: "/dashboard", Role.IDCC_AGENT: "/desk", Role.OEM_ADMIN: "/dealers"}
    for user in (world.one.consultant, world.one.manager, world.idcc_agent, world.oem_admin):
        auth.sign_in(user)
        assert client.get("/").headers["Location"] == homes[user.role]
        assert client.get(homes[user.role]).status_code == 200
        auth.sign_out()
