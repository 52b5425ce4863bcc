"""Today: the five sections, their order and counts, what each row shows, and the dealer's "today"."""
from datetime import timedelta

import pytest

from app.models import Appointment, AppointmentKind, Channel, Outcome, Stage, ActivityKind, utcnow
from app.extensions import db
from app.services import cadence
from app.services.today import SECTION_LIMIT
from tests import factories


def section(html: str, name: str) -> str:
    return html.split(f'id="{name}"', 1)[1].split("</section>", 1)[0]


def count(html: str, name: str) -> int:
    return int(section(html, name).split('class="count">', 1)[1].split("<", 1)[0])


def lead_named(me, world, name, **fields):
    return factories.make_lead(me, customer=factories.make_customer(world.oem, name=name), **fields)


def test_sections_in_order_with_counts(client, me, world):
    lead_named(me, world, "新来的", arrived_at=utcnow() - timedelta(minutes=10),
               first_contact_due_at=utcnow() + timedelta(minutes=20))
    lead_named(me, world, "被遗忘", arrived_at=utcnow() - timedelta(days=3, hours=2),
               first_contact_due_at=utcnow() - timedelta(days=3, hours=1, minutes=30))
    factories.make_follow_up(lead_named(me, world, "逾期的", stage=Stage.CONTACTED,
                                        first_contact_at=utcnow() - timedelta(days=3)), due_in=timedelta(hours=-26))
    factories.make_follow_up(lead_named(me, world, "今天的", stage=Stage.CONTACTED,
                                        first_contact_at=utcnow() - timedelta(days=3)), due_in=timedelta(minutes=20))
    factories.make_follow_up(lead_named(me, world, "下周的", stage=Stage.CONTACTED,
                                        first_contact_at=utcnow()), due_in=timedelta(days=7))
    lead_named(me, world, "没下一步", stage=Stage.INVITED, first_contact_at=utcnow())
    lead_named(me, world, "别人的", consultant_id=world.one.colleague.id)
    factories.make_lead(world.one.colleague, customer=factories.make_customer(world.oem, name="同事的"))

    html = client.get("/today").get_data(as_text=True)

    order = [html.index(f'id="{name}"') for name in ("new", "overdue", "due-today", "appointments", "no-next-step")]
    assert order == sorted(order)
    assert [count(html, n) for n in ("new", "overdue", "due-today", "appointments", "no-next-step")] == [2, 1, 1, 0, 1]
    new = section(html, "new")
    assert new.index("被遗忘") < new.index("新来的")  # the longest wait first
    forgotten, fresh = new.split("新来的", 1)[0].rsplit("被遗忘", 1)[1], new.split("新来的", 1)[1]
    assert 'class="due overdue">Waiting 3 days · over the limit' in forgotten  # past the dealer's deadline
    assert 'class="due ">Waiting 10 min · call by ' in fresh
    assert "逾期的" in section(html, "overdue") and "今天的" in section(html, "due-today")
    assert "没下一步" in section(html, "no-next-step")
    assert "下周的" not in html and "同事的" not in html


def test_a_full_section_shows_its_first_rows_and_counts_them_all(client, me, world):
    for hours in range(1, SECTION_LIMIT + 6):  # 20 overdue, 16 waiting for a first call, 2 with no next step
        factories.make_follow_up(lead_named(me, world, f"逾期{hours:02d}", stage=Stage.CONTACTED,
                                            first_contact_at=utcnow() - timedelta(days=2)),
                                 due_in=timedelta(hours=-hours))
    for minutes in range(SECTION_LIMIT + 1):
        lead_named(me, world, f"新{minutes:02d}", arrived_at=utcnow() - timedelta(minutes=minutes + 1))
    for n in range(2):
        lead_named(me, world, f"没下一步{n}", stage=Stage.INVITED, first_contact_at=utcnow())

    html = client.get("/today").get_data(as_text=True)

    assert [count(html, n) for n in ("new", "overdue", "due-today", "no-next-step")] == [16, 20, 0, 2]
    overdue = section(html, "overdue")
    assert overdue.count('class="today-row"') == SECTION_LIMIT and "逾期20" in overdue and "逾期05" not in overdue
    assert "and 5 more: see all leads" in overdue
    assert "and 1 more: see all leads" in section(html, "new")
    assert "more: see all leads" not in section(html, "no-next-step")


def test_a_row_shows_model_source_last_contact_and_one_tap_contact(client, me, world):
    lead = lead_named(me, world, "王芳", model_of_interest="HY-X7 SUV", stage=Stage.CONTACTED,
                      first_contact_at=utcnow(), last_contact_at=utcnow() - timedelta(days=1),
                      last_contact_kind=ActivityKind.CALL, last_contact_outcome=Outcome.NO_ANSWER)
    factories.make_follow_up(lead, due_in=timedelta(hours=-1))
    factories.make_consent(lead.customer, Channel.SMS)  # SMS only with consent (tests/test_consent.py)
    row = section(client.get("/today").get_data(as_text=True), "overdue")
    assert "HY-X7 SUV · Walk-in" in row
    assert "Last: Call yesterday" in row and "No answer" in row
    assert f'href="tel:{lead.customer.phone_e164}"' in row
    assert f'data-attempt="/leads/{lead.id}/contacts/call"' in row
    assert f'href="sms:{lead.customer.phone_e164}"' in row


def test_todays_appointments_in_the_dealers_day(client, me, world):
    lead = lead_named(me, world, "看车的", stage=Stage.INVITED, first_contact_at=utcnow())
    day_starts, day_ends = cadence.local_day(cadence.policy_for(me.dealer), utcnow())
    for starts_at in (day_starts + timedelta(minutes=1), day_ends + timedelta(hours=1)):  # today, tomorrow
        db.session.add(Appointment(lead_id=lead.id, dealer_id=lead.dealer_id, consultant_id=me.id,
                                   kind=AppointmentKind.TEST_DRIVE, starts_at=starts_at))
    db.session.commit()
    html = client.get("/today").get_data(as_text=True)
    assert count(html, "appointments") == 1
    appointments = section(html, "appointments")
    assert "00:01 · 看车的" in appointments and "Test drive" in appointments and "Came" in appointments


def test_htmx_refresh_gets_only_the_sections(client, me, world):
    response = client.get("/today", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="new"' in html
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("role", ["idcc_agent", "oem_admin"])
def test_brand_users_have_no_today(client, auth, world, role):
    auth.sign_in(getattr(world, role))
    assert client.get("/today").status_code == 403


def test_consultants_land_on_today(client, me):
    assert client.get("/").headers["Location"] == "/today"
