"""Manager tools: the dealer's pool, assigning and reassigning one lead or many, handing a consultant's leads
over, shifts and weights steering the round robin, and the dealer's lead-handling settings (on its settings page,
app.views.cadence)."""
import json
import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Activity, ActivityKind, AssignmentMode, AuditEntry, CadencePolicy, Dealer, FollowUpTask, Lead, Notification,
    ReturnReason, Role, Stage, User, utcnow,
)
from app.services import pools, routing
from tests import factories


@pytest.fixture
def manager(auth, world):
    auth.sign_in(world.one.manager)
    return world.one.manager


def post(client, auth, path, data=None, **headers):
    return client.post(path, data={"csrf_token": auth.csrf_token("/team"), **(data or {})}, headers=headers)


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def rows(html: str) -> list[str]:
    return [part.split("</li>")[0] for part in html.split('<li class="lead-row')[1:]]


def audited(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def colleagues(world, count: int, **fields) -> list[User]:
    return [factories.make_user(Role.CONSULTANT, oem=world.oem, dealer=world.one.dealer, **fields)
            for _ in range(count)]


def test_assign_many_from_the_list_is_history_notification_audit_and_moves_the_follow_up(client, auth, manager,
                                                                                          world):
    to = world.one.colleague
    waiting = [factories.make_lead(dealer=world.one.dealer) for _ in range(2)]
    worked = factories.make_lead(world.one.consultant)
    task = factories.make_follow_up(worked)

    response = post(client, auth, "/leads/assign", {"lead_ids": [lead.id for lead in (*waiting, worked)],
                                                    "consultant_id": to.id, "next": "/leads?q="})

    assert response.status_code == 303 and response.headers["Location"] == "/leads?q="
    assert [fresh(Lead, lead.id).consultant_id for lead in (*waiting, worked)] == [to.id] * 3
    assert fresh(FollowUpTask, task.id).consultant_id == to.id
    told = db.session.scalars(select(Notification.lead_id).where(Notification.user_id == to.id,
                                                                 Notification.kind == "lead_assigned"))
    assert sorted(told) == sorted(lead.id for lead in (*waiting, worked))
    history = db.session.scalars(select(Activity).where(Activity.kind == ActivityKind.ASSIGNMENT)).all()
    assert {(a.lead_id, a.user_id, a.summary) for a in history} == {
        (lead.id, manager.id, to.name) for lead in (*waiting, worked)}
    entries = audited("lead.assigned")
    assert len(entries) == 3 and {e.actor_id for e in entries} == {manager.id}
    assert {e.after["consultant_id"] for e in entries} == {to.id}
    page = client.get("/leads?q=").get_data(as_text=True)
    assert "3 leads assigned to" in page
    assert all(to.name in row for row in rows(page))


def test_with_htmx_the_list_reloads_in_place_and_the_message_is_a_toast(client, auth, manager, world):
    lead = factories.make_lead(dealer=world.one.dealer)
    page = client.get("/leads").get_data(as_text=True)
    assert 'form="bulk-assign"' in page and 'id="bulk-assign"' in page
    assert "leads-assigned from:body" in page  # the filters reload the rows when told

    response = post(client, auth, "/leads/assign", {"lead_ids": [lead.id], "consultant_id": world.one.colleague.id},
                    **{"HX-Request": "true"})

    assert response.status_code == 200
    events = json.loads(response.headers["HX-Trigger"])
    assert "leads-assigned" in events
    assert events["lead-changed"]["message"] == f"1 lead assigned to {world.one.colleague.name}."
    assert fresh(Lead, lead.id).consultant_id == world.one.colleague.id


def test_reassign_from_the_lead_page(client, auth, manager, world):
    lead = factories.make_lead(world.one.consultant)
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    control = page.split('class="card lead-assignment"')[1].split("</section>")[0]
    assert f"Assigned to {world.one.consultant.name}" in control
    assert f'<option value="{world.one.colleague.id}">' in control
    assert f'<option value="{world.one.consultant.id}">' not in control  # not to whoever has it already

    response = post(client, auth, f"/leads/{lead.id}/assign", {"consultant_id": world.one.colleague.id})

    assert response.status_code == 303 and response.headers["Location"] == f"/leads/{lead.id}"
    assert fresh(Lead, lead.id).consultant_id == world.one.colleague.id
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert f"Assigned to {world.one.colleague.name}" in page
    assert audited("lead.assigned")[0].before == {"consultant_id": world.one.consultant.id}
    told = db.session.scalars(select(Notification).where(Notification.kind == "lead_reassigned")).all()
    assert [(n.user_id, n.body) for n in told] == [(world.one.consultant.id, world.one.colleague.name)]


def test_the_lead_page_shows_no_assignment_to_other_roles(client, auth, world):
    lead = factories.make_lead(world.one.consultant)
    auth.sign_in(world.one.consultant)
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "lead-assignment" not in page and "Reassign to" not in page
    assert 'form="bulk-assign"' not in client.get("/leads").get_data(as_text=True)


def test_a_lead_or_consultant_of_the_other_dealer_is_a_404_and_nothing_changes(client, auth, manager, world):
    own = factories.make_lead(dealer=world.one.dealer)
    foreign = factories.make_lead(world.two.consultant)

    assert post(client, auth, "/leads/assign", {"lead_ids": [own.id, foreign.id],
                                                "consultant_id": world.one.colleague.id}).status_code == 404
    assert post(client, auth, f"/leads/{foreign.id}/assign",
                {"consultant_id": world.one.colleague.id}).status_code == 404
    assert post(client, auth, "/leads/assign", {"lead_ids": [own.id],
                                                "consultant_id": world.two.colleague.id}).status_code == 404

    assert fresh(Lead, own.id).consultant_id is None
    assert fresh(Lead, foreign.id).consultant_id == world.two.consultant.id
    assert not audited("lead.assigned") and db.session.scalar(select(func.count(Notification.id))) == 0


def test_a_deactivated_consultant_or_a_closed_lead_is_refused_and_nothing_is_half_done(client, auth, manager,
                                                                                       world):
    open_lead = factories.make_lead(dealer=world.one.dealer)
    closed = factories.make_lead(world.one.consultant, stage=Stage.LOST)
    world.one.colleague.active = False
    db.session.commit()

    refused = post(client, auth, "/leads/assign", {"lead_ids": [open_lead.id], "consultant_id": world.one.colleague.id},
                   **{"HX-Request": "true"})
    assert refused.status_code == 422
    assert json.loads(refused.headers["HX-Trigger"])["lead-refused"]["message"] == (
        f"{world.one.colleague.name} is deactivated and cannot receive leads.")

    response = post(client, auth, "/leads/assign", {"lead_ids": [open_lead.id, closed.id],
                                                    "consultant_id": world.one.consultant.id, "next": "/leads"})
    assert response.status_code == 303
    assert "1 of the chosen leads is closed: nothing was assigned." in client.get("/leads").get_data(as_text=True)

    assert fresh(Lead, open_lead.id).consultant_id is None
    assert not audited("lead.assigned")


@pytest.mark.parametrize(("data", "message"), [
    ({"consultant_id": "x"}, "Choose at least one lead."),
    ({}, "Choose a consultant."),
])
def test_the_assign_bar_says_what_is_missing(client, auth, manager, world, data, message):
    response = post(client, auth, "/leads/assign", data, **{"HX-Request": "true"})
    assert response.status_code == 422
    assert message in json.loads(response.headers["HX-Trigger"])["lead-refused"]["message"]


def test_the_pool_lists_a_lead_taken_back_with_why(client, auth, manager, world):
    returned = factories.make_lead(world.one.consultant, customer=factories.make_customer(world.oem, name="退回"))
    pools.take_back(returned, ReturnReason.NOT_CONTACTED, utcnow())
    db.session.commit()
    factories.make_lead(world.one.consultant, customer=factories.make_customer(world.oem, name="有人跟"))
    factories.make_lead(dealer=world.one.dealer, stage=Stage.LOST, customer=factories.make_customer(world.oem,
                                                                                                   name="战败"))
    factories.make_lead(dealer=world.two.dealer, customer=factories.make_customer(world.oem, name="别家"))

    page = client.get("/leads?pool=1").get_data(as_text=True)

    listed = rows(page)
    assert len(listed) == 1 and "退回" in listed[0]
    assert "In the pool · Nobody called within the limit" in listed[0]
    assert re.search(r'aria-current="page">Pool <span class="count">1</span>', page)
    assert 'name="pool" value="1"' in page  # searching stays within the pool
    assert "pool=1" in listed[0]  # and so does the lead page's list


def test_a_breached_lead_is_flagged_on_the_managers_list_only(app, client, auth, world):
    now = utcnow()
    factories.make_lead(world.one.consultant, customer=factories.make_customer(world.oem, name="超时"),
                               arrived_at=now - timedelta(minutes=45), first_contact_due_at=now - timedelta(minutes=15))
    factories.make_lead(world.one.consultant, customer=factories.make_customer(world.oem, name="还早"),
                        first_contact_due_at=now + timedelta(minutes=20))
    factories.make_lead(world.one.consultant, customer=factories.make_customer(world.oem, name="已联系"),
                        first_contact_due_at=now - timedelta(hours=1), first_contact_at=now - timedelta(hours=2))
    auth.sign_in(world.one.manager)

    listed = {row.split('class="name">')[1].split("<")[0]: row for row in rows(client.get("/leads").get_data(as_text=True))}

    assert "breach-chip" in listed["超时"] and "Not called · Waiting 45 min" in listed["超时"]
    assert "breach-chip" not in listed["还早"] and "breach-chip" not in listed["已联系"]
    consultants_phone = app.test_client()
    type(auth)(consultants_phone).sign_in(world.one.consultant)
    assert "超时" in consultants_phone.get("/leads").get_data(as_text=True)
    assert "breach-chip" not in consultants_phone.get("/leads").get_data(as_text=True)


def test_hand_over_evenly_confirms_first_then_sums_up(client, auth, manager, world):
    leaver = world.one.consultant
    others = [world.one.colleague, *colleagues(world, 2)]
    off_shift = colleagues(world, 1, on_shift=False)[0]
    leads = [factories.make_lead(leaver) for _ in range(23)]
    closed = factories.make_lead(leaver, stage=Stage.DELIVERED)

    form = client.get(f"/team/{leaver.id}/hand-over").get_data(as_text=True)
    assert "23 open leads" in form and "Evenly among the colleagues on shift" in form
    plan = post(client, auth, f"/team/{leaver.id}/hand-over").get_data(as_text=True)
    assert "Confirm" in plan and all(person.name in plan for person in others) and off_shift.name not in plan
    assert fresh(Lead, leads[0].id).consultant_id == leaver.id  # nothing changes before the confirmation

    response = post(client, auth, f"/team/{leaver.id}/hand-over", {"confirmed": "true"})

    assert response.status_code == 303 and response.headers["Location"] == "/team"
    received = Counter(db.session.scalars(select(Lead.consultant_id).where(Lead.id.in_([lead.id for lead in leads]))))
    assert set(received) == {person.id for person in others}
    assert sorted(received.values()) == [7, 8, 8]
    assert fresh(Lead, closed.id).consultant_id == leaver.id
    summary = re.search(r'class="flash flash-success"[^>]*>([^<]+)<', client.get("/team").get_data(as_text=True))
    assert summary.group(1).startswith("23 leads: ") and summary.group(1).count(" to ") == 3
    entry = audited("user.leads_handed_over")[0]
    assert entry.object_id == leaver.id and sum(entry.after["to"].values()) == 23
    assert len(audited("lead.assigned")) == 23


def test_hand_over_evenly_falls_back_to_every_active_colleague_when_nobody_is_on_shift(client, auth, manager, world):
    leaver = world.one.consultant
    world.one.colleague.on_shift = False
    other = colleagues(world, 1, on_shift=False)[0]
    colleagues(world, 1, active=False)
    leads = [factories.make_lead(leaver) for _ in range(5)]
    post(client, auth, f"/team/{leaver.id}/hand-over", {"confirmed": "true"})
    received = Counter(db.session.scalars(select(Lead.consultant_id).where(Lead.id.in_([lead.id for lead in leads]))))
    assert set(received) == {world.one.colleague.id, other.id} and sorted(received.values()) == [2, 3]


def test_hand_over_to_one_person(client, auth, manager, world):
    leaver, to = world.one.consultant, world.one.colleague
    leads = [factories.make_lead(leaver) for _ in range(4)]
    plan = post(client, auth, f"/team/{leaver.id}/hand-over", {"to_id": to.id}).get_data(as_text=True)
    assert f"<strong>{to.name}</strong>: 4 leads" in plan and f'name="to_id" value="{to.id}"' in plan

    post(client, auth, f"/team/{leaver.id}/hand-over", {"to_id": to.id, "confirmed": "true"})

    assert {fresh(Lead, lead.id).consultant_id for lead in leads} == {to.id}
    assert f"4 leads: 4 to {to.name}." in client.get("/team").get_data(as_text=True)


@pytest.mark.parametrize(("to", "message"), [
    ("self", "Choose someone other than"),
    ("inactive", "is deactivated and cannot receive leads."),
])
def test_hand_over_refuses_with_a_message(client, auth, manager, world, to, message):
    leaver = world.one.consultant
    lead = factories.make_lead(leaver)
    target = leaver if to == "self" else colleagues(world, 1, active=False)[0]
    response = post(client, auth, f"/team/{leaver.id}/hand-over", {"to_id": target.id, "confirmed": "true"})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert fresh(Lead, lead.id).consultant_id == leaver.id


def test_deactivating_a_consultant_with_open_leads_offers_the_hand_over(client, auth, manager, world):
    leaver = world.one.consultant
    factories.make_lead(leaver)
    response = post(client, auth, f"/team/{leaver.id}/deactivate")
    assert response.status_code == 303 and response.headers["Location"] == f"/team/{leaver.id}/hand-over"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{leaver.name} can no longer sign in." in page and "1 open lead," in page

    without_leads = post(client, auth, f"/team/{world.one.colleague.id}/deactivate")
    assert without_leads.headers["Location"] == "/team"


def test_team_page_shows_open_leads_shifts_weights_and_lead_handling(client, auth, manager, world):
    for _ in range(2):
        factories.make_lead(world.one.consultant)
    factories.make_lead(world.one.consultant, stage=Stage.LOST)
    page = client.get("/team").get_data(as_text=True)
    mine = page.split(world.one.consultant.name)[1].split("</li>")[0]
    assert "2 open leads" in mine and f"/team/{world.one.consultant.id}/hand-over" in mine
    assert 'aria-pressed="true"' in mine and '<option value="1" selected>' in mine
    theirs = page.split(world.one.colleague.name)[1].split("</li>")[0]
    assert "0 open leads" in theirs and "hand-over" not in theirs
    assert "30 minutes of working time" in page and "after 24 hours" in page and "after 14 days" in page


def test_shifts_decide_who_the_round_robin_picks(client, auth, manager, world):
    off = world.one.colleague
    response = post(client, auth, f"/team/{off.id}/shift", {"on_shift": "false"}, **{"HX-Request": "true"})
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div class="rotation">') and 'aria-pressed="false"' in fragment
    assert audited("user.shift_changed")[0].after == {"on_shift": False}

    picked = {routing.assign_in_dealer(factories.make_lead(dealer=world.one.dealer), manager).id for _ in range(4)}
    db.session.commit()
    assert picked == {world.one.consultant.id}

    assert post(client, auth, f"/team/{off.id}/shift", {"on_shift": "true"}).headers["Location"] == "/team"
    db.session.expire_all()
    picked = Counter(routing.assign_in_dealer(factories.make_lead(dealer=world.one.dealer), manager).id
                     for _ in range(4))
    assert picked == {off.id: 2, world.one.consultant.id: 2}  # back in turn, not every lead until caught up


def test_a_heavier_weight_takes_a_larger_share_from_now_on(client, auth, manager, world):
    heavy = world.one.colleague
    for _ in range(4):
        routing.assign_in_dealer(factories.make_lead(dealer=world.one.dealer), manager)
    db.session.commit()

    response = post(client, auth, f"/team/{heavy.id}/weight", {"routing_weight": "3"}, **{"HX-Request": "true"})

    assert response.status_code == 200 and '<option value="3" selected>' in response.get_data(as_text=True)
    assert audited("user.weight_changed")[0].after == {"routing_weight": 3}
    db.session.expire_all()
    picked = Counter(routing.assign_in_dealer(factories.make_lead(dealer=world.one.dealer), manager).id
                     for _ in range(8))
    assert picked == {heavy.id: 6, world.one.consultant.id: 2}


def test_a_weight_out_of_range_is_refused(client, auth, manager, world):
    response = post(client, auth, f"/team/{world.one.colleague.id}/weight", {"routing_weight": "9"},
                    **{"HX-Request": "true"})
    assert response.status_code == 422 and "Enter a whole number from 1 to 5." in response.get_data(as_text=True)
    assert fresh(User, world.one.colleague.id).routing_weight == 1


# What the settings form posts for its choice groups while the dealer inherits them (their boxes ticked).
INHERITED_CHOICES = ["working_days", "stop_on"]


def test_lead_handling_shows_defaults_and_saves_with_an_audit_entry(client, auth, manager, world):
    page = client.get("/team").get_data(as_text=True)
    assert 'href="/cadence/dealer"' in page
    page = client.get("/cadence/dealer").get_data(as_text=True)
    assert 'value="round_robin" checked' in page and 'placeholder="30"' in page and 'placeholder="24"' in page
    assert "Applies: 14 days · built-in default" in page

    response = post(client, auth, "/cadence/dealer", {"assignment_mode": "manager_pick", "time_zone": "Asia/Shanghai",
                                                      "first_contact_minutes": "45", "return_after_hours": "48",
                                                      "inherit": INHERITED_CHOICES})

    assert response.status_code == 303 and response.headers["Location"] == "/cadence/dealer"
    row = db.session.scalar(select(CadencePolicy).where(CadencePolicy.dealer_id == world.one.dealer.id))
    assert (row.first_contact_minutes, row.return_after_hours, row.recycle_days) == (45, 48, None)
    assert fresh(Dealer, world.one.dealer.id).assignment_mode is AssignmentMode.MANAGER_PICK
    entry = audited("dealer.settings_changed")[0]
    assert entry.before == {"assignment_mode": "round_robin", "first_contact_minutes": None,
                            "return_after_hours": None}  # inherited until now
    assert entry.after == {"assignment_mode": "manager_pick", "first_contact_minutes": 45, "return_after_hours": 48}
    assert "Saved." in client.get("/cadence/dealer").get_data(as_text=True)
    team = client.get("/team").get_data(as_text=True)
    assert "45 minutes of working time" in team and "The manager picks each time" in team
    assert routing.assign_in_dealer(factories.make_lead(dealer=fresh(Dealer, world.one.dealer.id)), None) is None


@pytest.mark.parametrize(("field", "value", "message"), [
    ("first_contact_minutes", "0", "Enter a whole number from 1 to 1440."),
    ("first_contact_minutes", "half an hour", "Enter a whole number from 1 to 1440."),
    ("return_after_hours", "721", "Enter a whole number from 1 to 720."),
    ("recycle_days", "two weeks", "Enter a whole number from 1 to 365."),
    ("recycle_days", "366", "Enter a whole number from 1 to 365."),
    ("assignment_mode", "lottery", "Choose how leads reach consultants."),
    ("return_after_hours", "1", "Leads would return before the first call is due"),
])
def test_lead_handling_refuses_bad_values_with_messages(client, auth, manager, world, field, value, message):
    data = {"assignment_mode": "round_robin", "time_zone": "Asia/Shanghai", "first_contact_minutes": "90",
            "return_after_hours": "24", "recycle_days": "14", "inherit": INHERITED_CHOICES, field: value}
    response = post(client, auth, "/cadence/dealer", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and f'value="{data["first_contact_minutes"]}"' in page  # what was typed stays
    assert db.session.scalar(select(func.count(CadencePolicy.id))) == 0 and not audited("dealer.settings_changed")


MANAGER_ENDPOINTS = [
    ("get", "/cadence/dealer"), ("post", "/cadence/dealer"), ("get", "/team/{consultant}/hand-over"),
    ("post", "/team/{consultant}/hand-over"), ("post", "/team/{consultant}/shift"),
    ("post", "/team/{consultant}/weight"), ("post", "/leads/assign"), ("post", "/leads/{lead}/assign"),
]


@pytest.mark.parametrize("role", ["consultant", "idcc_agent", "oem_admin"])
def test_only_managers_use_the_manager_tools(client, auth, world, role):
    lead = factories.make_lead(world.one.consultant)
    auth.sign_in({"consultant": world.one.consultant, "idcc_agent": world.idcc_agent,
                  "oem_admin": world.oem_admin}[role])
    token = auth.csrf_token("/account")
    data = {"csrf_token": token, "consultant_id": world.one.colleague.id, "lead_ids": [lead.id], "on_shift": "false",
            "routing_weight": "5", "confirmed": "true", "assignment_mode": "manager_pick",
            "first_contact_minutes": "60", "return_after_hours": "24", "recycle_days": "14",
            "time_zone": "Asia/Shanghai"}
    for method, path in MANAGER_ENDPOINTS:
        url = path.format(consultant=world.one.consultant.id, lead=lead.id)
        response = client.get(url) if method == "get" else client.post(url, data=data)
        assert response.status_code == 403, url
    assert fresh(Lead, lead.id).consultant_id == world.one.consultant.id
    assert fresh(User, world.one.colleague.id).on_shift and not db.session.scalar(
        select(func.count(CadencePolicy.id)))


@pytest.mark.parametrize("path", ["/team/{id}/hand-over", "/team/{id}/shift", "/team/{id}/weight"])
def test_the_other_dealers_consultants_are_out_of_reach(client, auth, manager, world, path):
    other = world.two.consultant
    factories.make_lead(other)
    response = post(client, auth, path.format(id=other.id), {"on_shift": "false", "routing_weight": "5",
                                                             "confirmed": "true"})
    assert response.status_code == 404
    db.session.expire_all()
    assert other.on_shift and other.routing_weight == 1
    assert db.session.scalar(select(Lead.consultant_id).where(Lead.dealer_id == world.two.dealer.id)) == other.id
