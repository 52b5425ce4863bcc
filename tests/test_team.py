"""A manager adds, deactivates, reactivates and resets the passwords of their own dealer's consultants."""
import re

import pytest

from app.extensions import db
from app.models import AuditEntry, Role, User


def post(client, auth, path, **data):
    return client.post(path, data={"csrf_token": auth.csrf_token("/team"), **data})


def issued_password(response) -> str:
    match = re.search(r'<p class="secret"[^>]*>([^<]+)</p>', response.get_data(as_text=True))
    assert match, "no temporary password shown"
    return match.group(1).strip()


@pytest.fixture
def manager(auth, world):
    auth.sign_in(world.one.manager)
    return world.one.manager


def test_team_page_lists_only_own_dealers_consultants(client, manager, world):
    page = client.get("/team").get_data(as_text=True)
    people = page.split('<ul class="people">')[1].split("</ul>")[0]
    assert world.one.consultant.name in people and world.one.colleague.name in people
    assert world.two.consultant.name not in people and world.one.manager.name not in people


def test_add_consultant_issues_a_temporary_password_that_must_be_changed(app, client, auth, manager, world):
    response = post(client, auth, "/team/new", name="王小明", email="Wang.XM@Test.Example", phone="139 1234 5678")
    assert response.status_code == 200
    password = issued_password(response)
    created = db.session.scalar(db.select(User).filter_by(email="wang.xm@test.example"))
    assert (created.role, created.dealer_id, created.phone_e164) == (Role.CONSULTANT, world.one.dealer.id,
                                                                      "+8613912345678")
    assert created.must_change_password
    assert db.session.query(AuditEntry).filter_by(action="user.created", object_id=created.id).count() == 1

    newcomer = app.test_client()
    newcomer_auth = type(auth)(newcomer)
    assert newcomer_auth.sign_in("13912345678", password=password).status_code == 302
    assert newcomer.get("/leads").headers["Location"] == "/account/password"


@pytest.mark.parametrize(("data", "field_message"), [
    ({"name": "", "email": "a@test.example"}, "This field is required."),
    ({"name": "张三"}, "Give an email address or a mobile number to sign in with."),
    ({"name": "张三", "email": "not-an-email"}, "Enter a valid email address."),
    ({"name": "张三", "phone": "12345"}, "This number does not exist: check the digits."),
    ({"name": "张三", "phone": "020 8888 8888"}, "Enter a mobile number, not a landline."),
])
def test_add_consultant_with_bad_input_keeps_what_was_typed(client, auth, manager, data, field_message):
    count = db.session.query(User).count()
    response = post(client, auth, "/team/new", **data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_message in page
    assert 'value="张三"' in page or not data.get("name")
    assert db.session.query(User).count() == count


def test_add_consultant_refuses_an_address_already_in_use(client, auth, manager, world):
    response = post(client, auth, "/team/new", name="Copy", email=world.two.consultant.email.upper())
    assert response.status_code == 422
    assert "An account with this email address already exists." in response.get_data(as_text=True)


def test_deactivate_signs_the_consultant_out_and_keeps_them_out(app, client, auth, manager, world):
    consultant = world.one.consultant
    their_phone = app.test_client()
    type(auth)(their_phone).sign_in(consultant)
    assert their_phone.get("/leads").status_code == 200

    response = post(client, auth, f"/team/{consultant.id}/deactivate")

    assert response.status_code == 303
    assert f"{consultant.name} can no longer sign in." in client.get("/team").get_data(as_text=True)
    assert their_phone.get("/leads").status_code == 302
    assert type(auth)(their_phone).sign_in(consultant).status_code == 422
    post(client, auth, f"/team/{consultant.id}/reactivate")
    assert type(auth)(app.test_client()).sign_in(consultant).status_code == 302


def test_reset_password_ends_sessions_and_issues_a_new_one(app, client, auth, manager, world):
    consultant = world.one.consultant
    their_phone = app.test_client()
    type(auth)(their_phone).sign_in(consultant)
    password = issued_password(post(client, auth, f"/team/{consultant.id}/reset-password"))
    assert their_phone.get("/leads").status_code == 302
    assert type(auth)(their_phone).sign_in(consultant).status_code == 422
    assert type(auth)(their_phone).sign_in(consultant, password=password).status_code == 302
    assert db.session.query(AuditEntry).filter_by(action="user.password_reset").count() == 1


@pytest.mark.parametrize("action", ["deactivate", "reactivate", "reset-password"])
def test_manager_cannot_touch_another_dealers_people_or_themselves(client, auth, manager, world, action):
    for other in (world.two.consultant, world.two.manager, world.one.manager, world.idcc_agent):
        assert post(client, auth, f"/team/{other.id}/{action}").status_code == 404
    db.session.expire_all()
    assert db.session.get(User, world.two.consultant.id).active


@pytest.mark.parametrize("role", ["consultant", "idcc_agent", "oem_admin"])
def test_only_managers_manage_a_team(client, auth, world, role):
    user = {"consultant": world.one.consultant, "idcc_agent": world.idcc_agent, "oem_admin": world.oem_admin}[role]
    auth.sign_in(user)
    assert client.get("/team").status_code == 403
    token = auth.csrf_token("/account")
    assert client.post(f"/team/{world.one.colleague.id}/deactivate", data={"csrf_token": token}).status_code == 403
    assert client.post("/team/new", data={"name": "x", "email": "x@test.example", "csrf_token": token}).status_code == 403
    db.session.expire_all()
    assert db.session.get(User, world.one.colleague.id).active
