"""The brand's dashboard: the crafted dealer's week seen from the brand (numbers only, never customers), regions,
the rankings, a dealer's drill-down, the lost-lead audit, and the downloads."""
import csv
import io

import pytest

from app.extensions import db
from app.models import ApprovalKind, ApprovalRequest, ApprovalStatus, Origin, Role
from app.services import brand_dashboard
from tests import factories
from tests.test_dealer_dashboard import NOW, ZONE, crafted, lead, local, week  # noqa: F401

WEEK = {"period": "custom", "from": "2026-11-02", "to": "2026-11-08"}


@pytest.fixture
def audited(world, crafted):  # noqa: F811
    """Dealer two: three leads of the week, two closed as lost after requests by one consultant; one request
    rejected; plus dealer one's approved request (crafted)."""
    two, them = world.two.dealer, world.two.consultant
    extra = [lead(them, local(3, 10), contact_after=5, stage="lost"), lead(them, local(4, 10), stage="lost")]
    for made, status in ((extra[0], ApprovalStatus.APPROVED), (extra[1], ApprovalStatus.APPROVED),
                         (extra[1], ApprovalStatus.REJECTED)):
        db.session.add(ApprovalRequest(lead_id=made.id, dealer_id=two.id, requested_by_id=them.id,
                                       kind=ApprovalKind.MARK_LOST, reason="no_response", status=status,
                                       created_at=local(6, 9)))
    db.session.commit()
    return crafted


def test_dealers_regions_and_the_whole_brand(world, audited):
    board = brand_dashboard.dashboard(world.oem_admin, week())

    by_dealer = {row.dealer.id: row.measures for row in board.dealers}
    assert (by_dealer[world.one.dealer.id].leads, by_dealer[world.two.dealer.id].leads) == (4, 3)
    assert board.total.leads == 7 and board.total.ordered == 2  # dealer one's order and dealer two's
    assert [(row.region.id, row.dealers, row.measures.leads) for row in board.regions] == [
        (world.one.dealer.region_id, 2, 7)]
    assert board.total_before.leads == 1


def test_rankings_put_the_fastest_and_the_best_converting_first(world, audited):
    board = brand_dashboard.dashboard(world.oem_admin, week())

    fastest = brand_dashboard.ranking(board.dealers, "response")
    assert [row.dealer.id for row in fastest] == [world.two.dealer.id, world.one.dealer.id]  # 1-5 min vs 20 min
    converting = brand_dashboard.ranking(board.dealers, "conversion")
    assert [row.dealer.id for row in converting] == [world.two.dealer.id, world.one.dealer.id]  # 1/3 vs 1/4


def test_the_lost_lead_audit(world, audited):
    audit = {row.dealer.id: row for row in brand_dashboard.dashboard(world.oem_admin, week()).audit}

    two = audit[world.two.dealer.id]
    assert (two.requested, two.approved, two.rejected, two.lost, two.leads) == (3, 2, 1, 2, 3)
    assert two.lost_share == 2 / 3 and two.reasons == {"no_response": 3}
    assert two.consultants == {world.two.consultant.name: 3}
    one = audit[world.one.dealer.id]
    assert (one.requested, one.lost, one.leads) == (1, 1, 4)
    assert [row.dealer.id for row in brand_dashboard.dashboard(world.oem_admin, week()).audit][0] == world.two.dealer.id


def test_the_page_drill_down_and_downloads_show_numbers_never_customers(client, auth, world, audited):
    auth.sign_in(world.oem_admin.email)
    page = client.get("/brand-dashboard", query_string=WEEK).get_data(as_text=True)

    assert "Lost-lead audit" in page and world.two.dealer.name in page
    for name in ("l1", "l2", "l3", "l6"):
        assert audited[name].customer.name not in page
    dealer = client.get(f"/brand-dashboard/dealers/{world.one.dealer.id}", query_string=WEEK).get_data(as_text=True)
    assert audited["ann"].name in dealer and audited["l1"].customer.name not in dealer
    assert "/leads/" not in dealer.split("<main")[1]  # no way into the dealer's leads
    rows = list(csv.DictReader(io.StringIO(client.get("/brand-dashboard/audit.csv", query_string=WEEK)
                                           .get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0]["Dealer"] == world.two.dealer.name and rows[0]["Share lost (%)"] == "66.7"


def test_another_brands_dealer_is_not_found(client, auth, world):
    other = factories.make_dealer(factories.make_region(factories.make_oem()))
    auth.sign_in(world.oem_admin.email)
    assert client.get(f"/brand-dashboard/dealers/{other.id}").status_code == 404


@pytest.mark.parametrize("role", [Role.CONSULTANT, Role.MANAGER, Role.IDCC_AGENT])
def test_only_the_brands_administrators_open_it(client, auth, world, role):
    user = {Role.CONSULTANT: world.one.consultant, Role.MANAGER: world.one.manager,
            Role.IDCC_AGENT: world.idcc_agent}[role]
    auth.sign_in(user.email)
    assert client.get("/brand-dashboard").status_code == 403
    assert client.get(f"/brand-dashboard/dealers/{world.one.dealer.id}").status_code == 403


def test_leads_captured_by_the_dealers_count_in_the_brands_numbers(world):
    own = lead(world.one.consultant, local(4, 9), origin=Origin.DEALER)
    assert own.origin is Origin.DEALER
    board = brand_dashboard.dashboard(world.oem_admin, week())
    assert board.total.leads == 1  # counted, though the brand may not open it


def test_dealers_sort_by_any_column(client, auth, world, audited):
    auth.sign_in(world.oem_admin.email)
    page = client.get("/brand-dashboard", query_string={**WEEK, "sort": "lost_rate", "dir": "desc"})
    table = page.get_data(as_text=True).split('id="brand-dealers"')[1].split("</table>")[0]

    assert table.index(world.two.dealer.name) < table.index(world.one.dealer.name)  # 2/3 lost before 1/4
    assert 'aria-sort="descending"' in table
    upwards = client.get("/brand-dashboard", query_string={**WEEK, "sort": "lost_rate", "dir": "asc"})
    table = upwards.get_data(as_text=True).split('id="brand-dealers"')[1].split("</table>")[0]
    assert table.index(world.one.dealer.name) < table.index(world.two.dealer.name)
