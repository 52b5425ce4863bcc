"""Ending sessions: "sign out on all devices" on one's own account page, and a manager for a consultant of their
dealer; every other session and remember-me cookie stops working."""
import pytest

from app.extensions import db
from app.models import AuditEntry, User


def device(app, auth, user, **extra):
    """Another browser, signed in as the user."""
    client = app.test_client()
    type(auth)(client).sign_in(user, **extra)
    assert client.get("/leads").status_code == 200
    return client


def remember_me_only(app, signed_in_client):
    """A browser holding nothing but the remember-me cookie of another (its session long gone)."""
    client = app.test_client()
    client.set_cookie("remember_token", signed_in_client.get_cookie("remember_token").value)
    return client


def test_sign_out_on_all_devices_ends_other_sessions_and_remember_me(app, client, auth, world):
    consultant = world.one.consultant
    phone = device(app, auth, consultant)
    laptop = device(app, auth, consultant, remember="true")
    remembered = remember_me_only(app, laptop)
    assert remembered.get("/leads").status_code == 200  # the cookie works before
    auth.sign_in(consultant)
    version = consultant.session_version

    response = client.post("/account/sign-out-everywhere", data={"csrf_token": auth.csrf_token("/account")})

    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert "You are signed out on all other devices." in client.get("/account").get_data(as_text=True)
    assert client.get("/leads").status_code == 200  # this browser stays signed in, with the new version
    for other in (phone, laptop, remember_me_only(app, laptop), remembered):
        assert other.get("/leads").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, consultant.id).session_version == version + 1
    entry = db.session.query(AuditEntry).filter_by(action="user.sessions_ended", object_id=consultant.id).one()
    assert entry.actor_id == consultant.id
    assert type(auth)(phone).sign_in(consultant).status_code == 302  # signing in again works


def test_this_browser_keeps_its_remember_me(app, client, auth, world):
    auth.sign_in(world.one.consultant, remember="true")
    client.post("/account/sign-out-everywhere", data={"csrf_token": auth.csrf_token("/account")})
    assert remember_me_only(app, client).get("/leads").status_code == 200


def test_the_account_page_offers_it_and_it_needs_csrf_and_sign_in(client, auth, world):
    assert client.post("/account/sign-out-everywhere").status_code in (302, 400)
    auth.sign_in(world.one.consultant)
    page = client.get("/account").get_data(as_text=True)
    assert 'action="/account/sign-out-everywhere"' in page and "Sign out on all devices" in page
    assert client.post("/account/sign-out-everywhere").status_code == 400  # no CSRF token
    assert client.get("/leads").status_code == 200


def test_a_manager_ends_a_consultants_sessions(app, client, auth, world):
    consultant = world.one.consultant
    phone = device(app, auth, consultant, remember="true")
    remembered = remember_me_only(app, phone)
    auth.sign_in(world.one.manager)
    page = client.get("/team").get_data(as_text=True)
    assert f'action="/team/{consultant.id}/sign-out-everywhere"' in page

    response = client.post(f"/team/{consultant.id}/sign-out-everywhere",
                           data={"csrf_token": auth.csrf_token("/team")})

    assert response.status_code == 303
    assert f"{consultant.name} is signed out on all devices." in client.get("/team").get_data(as_text=True)
    assert phone.get("/leads").status_code == 302 and remembered.get("/leads").status_code == 302
    assert client.get("/team").status_code == 200  # the manager's own session is untouched
    entry = db.session.query(AuditEntry).filter_by(action="user.sessions_ended", object_id=consultant.id).one()
    assert entry.actor_id == world.one.manager.id and entry.dealer_id == world.one.dealer.id


@pytest.mark.parametrize("target", ["another dealer's consultant", "a manager", "oneself"])
def test_a_manager_cannot_end_sessions_outside_their_consultants(app, client, auth, world, target):
    user = {"another dealer's consultant": world.two.consultant, "a manager": world.two.manager,
            "oneself": world.one.manager}[target]
    auth.sign_in(world.one.manager)
    version = user.session_version
    response = client.post(f"/team/{user.id}/sign-out-everywhere", data={"csrf_token": auth.csrf_token("/team")})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(User, user.id).session_version == version
    assert db.session.query(AuditEntry).filter_by(action="user.sessions_ended").count() == 0


def test_consultants_cannot_end_colleagues_sessions(client, auth, world):
    auth.sign_in(world.one.consultant)
    response = client.post(f"/team/{world.one.colleague.id}/sign-out-everywhere",
                           data={"csrf_token": auth.csrf_token("/account")})
    assert response.status_code in (403, 404)
