"""Who sees which lead and customer: a role × object matrix through the pages and the service itself."""
import pytest

from app.extensions import db
from app.models import Lead, Origin, Role
from app.services import visibility
from tests import factories


@pytest.fixture
def scene(world):
    """Five leads (own, colleague's OEM lead, other dealer's own and OEM lead, unrouted) and a second brand."""
    one, two = world.one, world.two
    leads = {
        "own": factories.make_lead(one.consultant),
        "colleague_oem": factories.make_lead(one.colleague, origin=Origin.OEM, routed_by_id=world.idcc_agent.id),
        "other_dealer": factories.make_lead(two.consultant),
        "other_dealer_oem": factories.make_lead(two.consultant, origin=Origin.OEM),
        "unrouted": factories.make_lead(None, origin=Origin.OEM, oem_id=world.oem.id),
    }
    rival = factories.make_oem()
    rival_dealer = factories.make_dealer(factories.make_region(rival))
    users = {
        "consultant": one.consultant, "colleague": one.colleague, "manager": one.manager,
        "other_manager": two.manager, "idcc": world.idcc_agent, "oem_admin": world.oem_admin,
        "rival_admin": factories.make_user(Role.OEM_ADMIN, oem=rival),
        "rival_idcc": factories.make_user(Role.IDCC_AGENT, oem=rival),
        "rival_manager": factories.make_user(Role.MANAGER, oem=rival, dealer=rival_dealer),
    }
    return users, leads


EXPECTED = {
    "consultant": {"own"},
    "colleague": {"colleague_oem"},
    "manager": {"own", "colleague_oem"},
    "other_manager": {"other_dealer", "other_dealer_oem"},
    "idcc": {"colleague_oem", "other_dealer_oem", "unrouted"},
    "oem_admin": {"colleague_oem", "other_dealer_oem"},
    "rival_admin": set(),
    "rival_idcc": set(),
    "rival_manager": set(),
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_lead_and_customer_pages_open_only_in_scope(client, auth, scene, who):
    users, leads = scene
    auth.sign_in(users[who])
    for name, lead in leads.items():
        expected = 200 if name in EXPECTED[who] else 404
        assert client.get(f"/leads/{lead.id}").status_code == expected, (who, name)
        assert client.get(f"/customers/{lead.customer_id}").status_code == expected, (who, name)


@pytest.mark.parametrize("who", list(EXPECTED))
def test_the_service_returns_exactly_the_scope(scene, who):
    users, leads = scene
    visible = set(db.session.scalars(visibility.visible_leads(users[who]).with_only_columns(Lead.id)))
    assert visible == {leads[name].id for name in EXPECTED[who]}


@pytest.mark.parametrize("who", ["consultant", "manager", "other_manager", "idcc", "rival_manager"])
def test_lead_lists_show_exactly_the_scope(client, auth, scene, who):
    users, leads = scene
    auth.sign_in(users[who])
    page = client.get("/leads").get_data(as_text=True)
    for name, lead in leads.items():
        assert (f'href="/leads/{lead.id}"' in page) == (name in EXPECTED[who]), (who, name)


def test_a_shared_customer_shows_only_the_leads_in_scope(client, auth, world):
    person = factories.make_customer(world.oem)
    mine = factories.make_lead(world.one.consultant, customer=person)
    theirs = factories.make_lead(world.two.consultant, customer=person)
    auth.sign_in(world.one.manager)
    page = client.get(f"/customers/{person.id}").get_data(as_text=True)
    assert f'href="/leads/{mine.id}"' in page
    assert f'href="/leads/{theirs.id}"' not in page


def test_nonexistent_ids_are_404_like_foreign_ones(client, auth, world):
    auth.sign_in(world.one.manager)
    assert client.get("/leads/999999").status_code == 404
    assert client.get("/customers/999999").status_code == 404
