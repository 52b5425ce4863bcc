"""Cadence policies with inheritance: the brand's default, a region's override and a dealer's own settings, the
screens that show where each value comes from, checks with clear messages, moving open follow-ups on request,
stop conditions, who may change which level, and the audit log."""
import json
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import (
    AuditEntry, CadencePolicy, Channel, ConsentMethod, ConsentRecord, Dealer, FollowUpTask, IntentLevel, Role,
    Stage, StopCondition, TaskStatus, utcnow,
)
from app.services import cadence, cadence_policies, follow_ups
from tests import factories

# What the form posts for its choice groups while a level inherits them (their "use inherited" boxes ticked).
INHERITED_CHOICES = ["working_days", "stop_on"]
MONDAY_10_AM = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # 10:00 in Guangzhou


@pytest.fixture
def south(world):
    """The region of both of the world's dealers, named as the screens will name it."""
    region = world.one.dealer.region
    region.name = "South China"
    db.session.commit()
    return region


def post(client, auth, path, data, **headers):
    form = {"csrf_token": auth.csrf_token("/account"), "inherit": INHERITED_CHOICES, **data}
    return client.post(path, data=form, headers=headers)


def dealer_form(**data):
    return {"assignment_mode": "round_robin", "time_zone": "Asia/Shanghai", **data}


def policy_row(**level) -> CadencePolicy | None:
    db.session.expire_all()
    column, value = next(iter(level.items()))
    return db.session.scalar(select(CadencePolicy).where(getattr(CadencePolicy, column) == value))


def audited(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def add(*rows: CadencePolicy) -> None:
    db.session.add_all(rows)
    db.session.commit()


def test_each_setting_comes_from_the_nearest_level_that_sets_it(world, south):
    add(CadencePolicy(oem_id=world.oem.id, h_days=3, a_days=5, quiet_starts=time(22)),
        CadencePolicy(region_id=south.id, a_days=10, working_days=frozenset(range(1, 7))),
        CadencePolicy(dealer_id=world.one.dealer.id, b_days=21))

    settings = cadence_policies.resolve(world.one.dealer)

    shown = {name: (settings[name].value, str(settings[name].source))
             for name in ("h_days", "a_days", "b_days", "c_days", "working_days", "quiet_starts")}
    assert shown == {"h_days": (3, "brand default"), "a_days": (10, "South China region"),
                     "b_days": (21, "this dealer"), "c_days": (30, "built-in default"),
                     "working_days": (frozenset(range(1, 7)), "South China region"),
                     "quiet_starts": (time(22), "brand default")}
    own = settings["b_days"]
    assert (own.own, own.inherited, str(own.inherited_from)) == (21, 14, "built-in default")
    assert settings["a_days"].own is None
    one, two = cadence.policy_for(world.one.dealer), cadence.policy_for(world.two.dealer)
    assert one.days == {"H": 3, "A": 10, "B": 21, "C": 30, "O": 7} and two.days == {**one.days, "B": 14}
    assert one.working_days == frozenset(range(1, 7)) and one.quiet_starts == time(22)
    assert cadence.policies_for([world.one.dealer, world.two.dealer]) == {world.one.dealer.id: one,
                                                                         world.two.dealer.id: two}


def test_a_dealers_policy_is_read_in_one_query(world, south):
    add(CadencePolicy(oem_id=world.oem.id, h_days=3), CadencePolicy(region_id=south.id, a_days=10),
        CadencePolicy(dealer_id=world.one.dealer.id, b_days=21))
    dealer = db.session.get(Dealer, world.one.dealer.id)
    db.session.refresh(dealer)
    statements = []

    def count(*_args):
        statements.append(_args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        policy = cadence.policy_for(dealer)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1 and policy.days["H"] == 3 and policy.days["A"] == 10 and policy.days["B"] == 21


def test_the_recycle_sweep_reads_every_dealers_inherited_period_at_once(world, south):
    elsewhere = factories.make_dealer(factories.make_region(world.oem))
    add(CadencePolicy(oem_id=world.oem.id, recycle_days=21), CadencePolicy(region_id=south.id, recycle_days=30),
        CadencePolicy(dealer_id=world.one.dealer.id, recycle_days=7))
    periods = dict(db.session.execute(cadence.setting_by_dealer("recycle_days")).all())
    assert periods == {world.one.dealer.id: 7, world.two.dealer.id: 30, elsewhere.id: 21}


def test_the_brand_default_reaches_every_dealer_with_its_source_named(client, auth, world, south):
    auth.sign_in(world.oem_admin)
    assert 'href="/cadence"' in client.get("/dealers").get_data(as_text=True)
    page = client.get("/cadence").get_data(as_text=True)
    assert "Applies: 2 days · built-in default" in page and f'href="/cadence/regions/{south.id}"' in page

    response = post(client, auth, "/cadence", {"h_days": "3", "quiet_starts": "22:00", "quiet_ends": "08:00"})

    assert response.status_code == 303 and response.headers["Location"] == "/cadence"
    row = policy_row(oem_id=world.oem.id)
    assert (row.h_days, row.quiet_starts, row.quiet_ends, row.a_days, row.region_id) == (3, time(22), time(8), None,
                                                                                        None)
    entry, = audited("oem.settings_changed")
    assert (entry.object_type, entry.object_id, entry.actor_id, entry.dealer_id) == ("oems", world.oem.id,
                                                                                   world.oem_admin.id, None)
    assert entry.before == {"h_days": None, "quiet_starts": None, "quiet_ends": None}
    assert entry.after == {"h_days": 3, "quiet_starts": "22:00", "quiet_ends": "08:00"}
    page = client.get("/cadence").get_data(as_text=True)
    assert "Saved." in page and "Applies: 3 days · brand default" in page and "Use inherited: 2 days" in page
    assert "Applies: 3 days · brand default" in client.get(f"/cadence/regions/{south.id}").get_data(as_text=True)
    assert cadence.policy_for(world.two.dealer).days["H"] == 3
    assert cadence.policy_for(world.two.dealer).quiet_starts == time(22)


def test_a_region_overrides_the_brand_and_a_dealer_the_region(client, auth, world, south):
    add(CadencePolicy(oem_id=world.oem.id, h_days=3))
    auth.sign_in(world.oem_admin)
    response = post(client, auth, f"/cadence/regions/{south.id}",
                    {"h_days": "4", "working_days": ["1", "2", "3", "4", "5", "6"], "inherit": ["stop_on"]})
    assert response.status_code == 303 and response.headers["Location"] == f"/cadence/regions/{south.id}"
    entry, = audited("region.settings_changed")
    assert (entry.object_type, entry.object_id) == ("regions", south.id)
    assert entry.before == {"h_days": None, "working_days": None}
    assert entry.after == {"h_days": 4, "working_days": ["1", "2", "3", "4", "5", "6"]}
    auth.sign_out()

    auth.sign_in(world.one.manager)
    page = client.get("/cadence/dealer").get_data(as_text=True)
    assert "Applies: 4 days · South China region" in page
    assert "Applies: Mon, Tue, Wed, Thu, Fri, Sat · South China region" in page
    response = post(client, auth, "/cadence/dealer", dealer_form(h_days="5"))
    assert response.status_code == 303 and response.headers["Location"] == "/cadence/dealer"

    page = client.get("/cadence/dealer").get_data(as_text=True)
    assert "Applies: 5 days · this dealer" in page and "Use inherited: 4 days (South China region)" in page
    assert [cadence.policy_for(dealer).days["H"] for dealer in (world.one.dealer, world.two.dealer)] == [5, 4]
    assert "H 5 · A 7 · B 14 · C 30 · O 7 days" in client.get("/team").get_data(as_text=True)
    entry, = audited("dealer.settings_changed")
    assert (entry.object_type, entry.dealer_id, entry.before, entry.after) == (
        "dealers", world.one.dealer.id, {"h_days": None}, {"h_days": 5})


@pytest.mark.parametrize("how", ["empty field", "use inherited"])
def test_a_setting_goes_back_to_inheriting(client, auth, world, south, how):
    add(CadencePolicy(region_id=south.id, a_days=10), CadencePolicy(dealer_id=world.one.dealer.id, a_days=12,
                                                                    b_days=21))
    auth.sign_in(world.one.manager)
    page = client.get("/cadence/dealer").get_data(as_text=True)
    assert 'name="inherit" value="a_days"' in page and "Use inherited: 10 days (South China region)" in page
    typed = {"a_days": ""} if how == "empty field" else {"a_days": "12", "inherit": [*INHERITED_CHOICES, "a_days"]}

    assert post(client, auth, "/cadence/dealer", dealer_form(b_days="21", **typed)).status_code == 303

    row = policy_row(dealer_id=world.one.dealer.id)
    assert (row.a_days, row.b_days) == (None, 21) and cadence.policy_for(world.one.dealer).days["A"] == 10
    entry, = audited("dealer.settings_changed")
    assert (entry.before, entry.after) == ({"a_days": 12}, {"a_days": None})
    assert "Applies: 10 days · South China region" in client.get("/cadence/dealer").get_data(as_text=True)

    post(client, auth, "/cadence/dealer", dealer_form())
    assert policy_row(dealer_id=world.one.dealer.id) is None  # nothing of its own left: no row


@pytest.mark.parametrize(("data", "message", "typed"), [
    ({"h_days": "0"}, "Enter a whole number from 1 to 365.", 'value="0"'),
    ({"h_days": "soon"}, "Enter a whole number from 1 to 365.", 'value="soon"'),
    ({"inherit": ["stop_on"]}, "Choose at least one working day.", None),
    ({"day_starts": "18:00", "day_ends": "09:00"}, "The working day must end after it starts.", 'value="18:00"'),
    ({"day_starts": "9am"}, "Enter a time like 09:00.", 'value="9am"'),
    ({"quiet_starts": "21:00", "quiet_ends": "21:00"}, "Quiet hours must start and end at different times.", None),
    ({"first_contact_minutes": "1441"}, "Enter a whole number from 1 to 1440.", 'value="1441"'),
    ({"return_after_hours": "0"}, "Enter a whole number from 1 to 720.", None),
    ({"first_contact_minutes": "90", "return_after_hours": "1"},
     "Leads would return before the first call is due: allow more hours than the first-contact limit.", None),
    ({"recycle_days": "366"}, "Enter a whole number from 1 to 365.", None),
    ({"stop_on": ["won", "whenever"], "inherit": ["working_days"]}, "Choose one of the options.", None),
])
def test_bad_settings_are_refused_with_a_clear_message(client, auth, world, data, message, typed):
    auth.sign_in(world.oem_admin)
    response = post(client, auth, "/cadence", {"a_days": "9", **data})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page
    assert 'value="9"' in page and (typed is None or typed in page)  # what was typed stays
    assert db.session.scalar(select(func.count(CadencePolicy.id))) == 0 and not audited("oem.settings_changed")


def test_a_dealers_time_zone_must_be_a_real_one(client, auth, world):
    auth.sign_in(world.one.manager)
    response = post(client, auth, "/cadence/dealer", dealer_form(time_zone="Mars/Olympus"))
    assert response.status_code == 422
    assert "Choose a time zone from the list, such as Asia/Shanghai." in response.get_data(as_text=True)

    assert post(client, auth, "/cadence/dealer", dealer_form(time_zone="Asia/Urumqi")).status_code == 303
    db.session.expire_all()
    assert str(cadence.policy_for(db.session.get(Dealer, world.one.dealer.id)).zone) == "Asia/Urumqi"
    entry, = audited("dealer.settings_changed")
    assert (entry.before, entry.after) == ({"time_zone": "Asia/Shanghai"}, {"time_zone": "Asia/Urumqi"})


def test_a_brand_default_that_would_break_a_dealers_own_hours_is_refused_naming_it(client, auth, world):
    add(CadencePolicy(dealer_id=world.one.dealer.id, day_starts=time(10)))
    auth.sign_in(world.oem_admin)
    response = post(client, auth, "/cadence", {"day_ends": "09:30"})
    assert response.status_code == 422
    assert (f"The working day would end before it starts at {world.one.dealer.name}, which set their own hours."
            in response.get_data(as_text=True))
    assert policy_row(oem_id=world.oem.id) is None


@pytest.mark.parametrize("reschedule", [False, True])
def test_open_follow_ups_move_to_a_new_rhythm_only_on_request(client, auth, world, south, reschedule):
    hot = factories.make_lead(world.one.consultant, intent_level=IntentLevel.H, last_contact_at=MONDAY_10_AM)
    task = factories.make_follow_up(hot, due_at=MONDAY_10_AM + timedelta(days=2))
    # The second dealer sets its whole rhythm itself: the region's change does not reach it.
    add(CadencePolicy(dealer_id=world.two.dealer.id, h_days=2, a_days=7, b_days=14, c_days=30, o_days=7,
                      working_days=frozenset(range(1, 8)), day_starts=time(9), day_ends=time(18)))
    own_rhythm = factories.make_lead(world.two.consultant, intent_level=IntentLevel.H, last_contact_at=MONDAY_10_AM)
    kept = factories.make_follow_up(own_rhythm, due_at=MONDAY_10_AM + timedelta(days=5))
    auth.sign_in(world.oem_admin)

    response = post(client, auth, f"/cadence/regions/{south.id}",
                    {"h_days": "4", **({"reschedule": "y"} if reschedule else {})})

    assert response.status_code == 303
    db.session.expire_all()
    friday_10_am = MONDAY_10_AM + timedelta(days=4)
    due = friday_10_am if reschedule else MONDAY_10_AM + timedelta(days=2)
    moved = db.session.get(FollowUpTask, task.id)
    assert (moved.due_at, moved.status, hot.next_follow_up_at) == (due, TaskStatus.OPEN, due)
    assert db.session.get(FollowUpTask, kept.id).due_at == MONDAY_10_AM + timedelta(days=5)
    page = client.get(f"/cadence/regions/{south.id}").get_data(as_text=True)
    assert ("Saved. 1 open follow-up moved to the new rhythm." in page) is reschedule
    assert [entry.after for entry in audited("region.follow_ups_rescheduled")] == (
        [{"moved": 1, "dealers": 1}] if reschedule else [])


@pytest.mark.parametrize(("stop_on", "stops"), [(None, True), (frozenset({StopCondition.WON}), False)])
def test_a_customer_who_opted_out_of_calls_gets_no_next_follow_up(world, stop_on, stops):
    lead = factories.make_lead(world.one.consultant)
    first = factories.make_follow_up(lead)
    for granted, days_ago in ((True, 30), (False, 1)):  # the latest word counts
        db.session.add(ConsentRecord(customer_id=lead.customer_id, channel=Channel.CALL, granted=granted,
                                     method=ConsentMethod.PHONE, source="hotline",
                                     recorded_at=utcnow() - timedelta(days=days_ago)))
    if stop_on is not None:
        db.session.add(CadencePolicy(dealer_id=world.one.dealer.id, stop_on=stop_on))
    db.session.commit()
    due = utcnow() + timedelta(days=2)

    follow_ups.set_next(lead, due)
    db.session.commit()

    assert (follow_ups.stop_condition(lead) is StopCondition.OPTED_OUT) is stops
    assert lead.next_follow_up_at == (None if stops else due)
    assert db.session.get(FollowUpTask, first.id).status is TaskStatus.DONE
    assert db.session.scalar(select(func.count(FollowUpTask.id)).where(
        FollowUpTask.lead_id == lead.id, FollowUpTask.status == TaskStatus.OPEN)) == (0 if stops else 1)


@pytest.mark.parametrize(("stage", "stop_on", "message"), [
    (Stage.DELIVERED, None, "This lead is won: its follow-ups have stopped."),
    (Stage.LOST, None, "This lead is closed: its follow-ups have stopped."),
    (Stage.DELIVERED, frozenset({StopCondition.LOST, StopCondition.OPTED_OUT}), None),
])
def test_a_won_or_lost_lead_gets_no_next_follow_up_unless_the_policy_says_so(client, auth, me, world, stage,
                                                                             stop_on, message):
    lead = factories.make_lead(me, stage=stage)
    if stop_on is not None:
        add(CadencePolicy(oem_id=world.oem.id, stop_on=stop_on))
    day = (utcnow() + timedelta(days=3)).date()
    response = client.post(f"/leads/{lead.id}/next-follow-up", headers={"HX-Request": "true"}, data={
        "csrf_token": auth.csrf_token("/account"), "next_at": "custom", "custom_date": day.isoformat(),
        "custom_time": "15:00"})
    db.session.expire_all()
    if message:
        assert response.status_code == 422
        assert json.loads(response.headers["HX-Trigger"])["lead-refused"]["message"] == message
        assert db.session.get(type(lead), lead.id).next_follow_up_at is None
    else:
        assert response.status_code == 200 and db.session.get(type(lead), lead.id).next_follow_up_at is not None


def test_stop_conditions_are_saved_per_level(client, auth, world):
    auth.sign_in(world.oem_admin)
    post(client, auth, "/cadence", {"stop_on": ["won", "lost"], "inherit": ["working_days"]})
    assert policy_row(oem_id=world.oem.id).stop_on == frozenset({StopCondition.WON, StopCondition.LOST})
    assert cadence.policy_for(world.one.dealer).stop_on == frozenset({StopCondition.WON, StopCondition.LOST})
    assert audited("oem.settings_changed")[0].after == {"stop_on": ["lost", "won"]}
    page = client.get("/cadence").get_data(as_text=True)
    assert "Applies: won (delivered), lost or invalid · brand default" in page
    assert "Use inherited: won (delivered), lost or invalid, opted out of calls (built-in default)" in page


def test_no_daily_digest_is_a_setting_a_lower_level_can_override(client, auth, world, south):
    auth.sign_in(world.oem_admin)
    post(client, auth, "/cadence", {"digest_off": "y"})
    assert cadence.policy_for(world.one.dealer).digest_at is None
    post(client, auth, f"/cadence/regions/{south.id}", {"digest_at": "07:45"})
    assert [cadence.policy_for(dealer).digest_at for dealer in (world.one.dealer, world.two.dealer)] == [
        time(7, 45), time(7, 45)]
    assert "Applies: no digest · brand default" in client.get("/cadence").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.CONSULTANT, Role.MANAGER, Role.IDCC_AGENT])
def test_only_the_brands_administrator_sets_the_brand_and_region_levels(client, auth, world, south, role):
    auth.sign_in({Role.CONSULTANT: world.one.consultant, Role.MANAGER: world.one.manager,
                  Role.IDCC_AGENT: world.idcc_agent}[role])
    for path in ("/cadence", f"/cadence/regions/{south.id}"):
        assert client.get(path).status_code == 403
        assert post(client, auth, path, {"h_days": "3"}).status_code == 403
    assert db.session.scalar(select(func.count(CadencePolicy.id))) == 0


@pytest.mark.parametrize("role", [Role.CONSULTANT, Role.IDCC_AGENT, Role.OEM_ADMIN])
def test_only_a_manager_sets_their_dealers_level(client, auth, world, role):
    auth.sign_in({Role.CONSULTANT: world.one.consultant, Role.IDCC_AGENT: world.idcc_agent,
                  Role.OEM_ADMIN: world.oem_admin}[role])
    assert client.get("/cadence/dealer").status_code == 403
    assert post(client, auth, "/cadence/dealer", dealer_form(h_days="3")).status_code == 403
    assert db.session.scalar(select(func.count(CadencePolicy.id))) == 0


def test_another_brands_region_is_not_found(client, auth, world):
    elsewhere = factories.make_region(factories.make_oem())
    auth.sign_in(world.oem_admin)
    assert client.get(f"/cadence/regions/{elsewhere.id}").status_code == 404
    assert post(client, auth, f"/cadence/regions/{elsewhere.id}", {"h_days": "3"}).status_code == 404
    assert db.session.scalar(select(func.count(CadencePolicy.id))) == 0


def test_a_manager_changes_only_their_own_dealer(client, auth, world):
    auth.sign_in(world.two.manager)
    assert post(client, auth, "/cadence/dealer", dealer_form(h_days="9")).status_code == 303
    assert policy_row(dealer_id=world.two.dealer.id).h_days == 9 and policy_row(dealer_id=world.one.dealer.id) is None
    assert cadence.policy_for(world.one.dealer).days["H"] == 2
