"""Changing one's own password: the current one is required, weak ones are refused, other sessions end."""
import pytest
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import AuditEntry, User
from tests import factories

NEW = "Blue-Sedan-2027"


def change(client, auth, current=factories.PASSWORD, new=NEW, confirm=None):
    token = auth.csrf_token("/account/password")
    return client.post("/account/password", data={
        "current_password": current, "new_password": new, "confirm_password": confirm or new, "csrf_token": token})


def stored_hash(user) -> str:
    db.session.expire_all()
    return db.session.get(User, user.id).password_hash


def test_change_password_keeps_this_session_and_ends_the_others(app, client, auth, world):
    user = world.one.consultant
    other_device = app.test_client()
    factories_auth = type(auth)(other_device)
    factories_auth.sign_in(user)
    assert other_device.get("/leads").status_code == 200
    auth.sign_in(user, remember="true")

    response = change(client, auth)

    assert response.headers["Location"] == "/account"
    assert "Other devices have been signed out" in client.get("/account").get_data(as_text=True)
    assert client.get("/leads").status_code == 200
    assert other_device.get("/leads").status_code == 302
    assert check_password_hash(stored_hash(user), NEW)
    assert db.session.query(AuditEntry).filter_by(action="user.password_changed", object_id=user.id).count() == 1
    auth.sign_out()
    assert auth.sign_in(user, password=NEW).status_code == 302


@pytest.mark.parametrize(("current", "new", "confirm", "message"), [
    ("wrong-password", NEW, NEW, "Your current password is not correct."),
    (factories.PASSWORD, "short1!", "short1!", "Use at least 10 characters."),
    (factories.PASSWORD, "aaaaabbbbb", "aaaaabbbbb", "This password is too easy to guess."),
    (factories.PASSWORD, "password123", "password123", "This password is too easy to guess."),
    (factories.PASSWORD, NEW, NEW + "x", "The two new passwords differ."),
    (factories.PASSWORD, factories.PASSWORD, factories.PASSWORD, "Choose a password you have not used here before."),
])
def test_refused_changes_say_why_and_change_nothing(client, auth, world, current, new, confirm, message):
    user = world.one.consultant
    before = stored_hash(user)
    auth.sign_in(user)
    response = change(client, auth, current, new, confirm)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert stored_hash(user) == before


def test_password_may_not_contain_own_email_name(client, auth, world):
    user = world.one.consultant
    auth.sign_in(user)
    local_part = user.email.split("@")[0]
    response = change(client, auth, new=f"{local_part}-Secret9", confirm=f"{local_part}-Secret9")
    assert "Do not use your own email address or mobile number." in response.get_data(as_text=True)


def test_temporary_password_must_be_replaced_before_anything_else(client, auth, world):
    user = world.one.consultant
    user.must_change_password = True
    db.session.commit()
    auth.sign_in(user)
    assert client.get("/leads").headers["Location"] == "/account/password"
    assert "temporary password" in client.get("/account/password").get_data(as_text=True)
    change(client, auth)
    assert client.get("/leads").status_code == 200
