"""The dealer dashboard as pages: the manager's home, its period chooser, sorting, the leads behind a number, the
tables as downloads; only managers, each seeing only their dealer."""
import csv
import io
import re
import zipfile

import pytest

from tests.test_dealer_dashboard import crafted, week  # noqa: F401 (the crafted dealer)

WEEK = {"period": "custom", "from": "2026-11-02", "to": "2026-11-08"}


@pytest.fixture
def manager(auth, world):
    auth.sign_in(world.one.manager.email)
    return world.one.manager


def cells(html: str, row_name: str) -> list[str]:
    """The text of the cells of the table row headed by row_name."""
    row = re.search(r"<tr><th scope=\"row\">\s*" + re.escape(row_name) + r".*?</tr>", html, re.S).group(0)
    return [re.sub(r"<[^>]+>", "", cell).split()[0] if re.sub(r"<[^>]+>", "", cell).split() else ""
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_the_manager_lands_on_the_dashboard(client, manager):
    response = client.get("/", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert response.request.path == "/dashboard"
    assert "Dashboard of" in page and "waiting for first contact" in page and 'aria-current="true"' in page


def test_the_week_shows_the_hand_computed_figures(client, manager, crafted):  # noqa: F811
    page = client.get("/dashboard", query_string=WEEK).get_data(as_text=True)

    assert cells(page, "Leads")[:1] == ["4"] and cells(page, "Ordered")[:2] == ["1", "100%"]
    assert cells(page, "Contacted")[:2] == ["3", "75%"]
    ann = cells(page, crafted["ann"].name)
    assert ann == ["3", "30", "33%", "33%", "3", "2", "2", "1", "33%", "0"]  # 30 min; 1 of 3 follow-ups on time
    assert cells(page, "Cai") == ["0", "—", "—", "—", "0", "0", "0", "0", "—", "0"]
    assert "20 min" in page  # the dealer's median first contact
    assert re.search(r'/dashboard/leads\?measure=leads&amp;period=custom&amp;from=2026-11-02&amp;to=2026-11-08'
                     rf'&amp;consultant={crafted["ann"].id}"', page)


def test_sorting_consultants_by_a_column(client, manager, crafted):  # noqa: F811
    page = client.get("/dashboard", query_string={**WEEK, "sort": "leads", "dir": "desc"}).get_data(as_text=True)
    names = re.findall(r'<tr><th scope="row">([^<]+)</th>', page.split('id="consultants"')[1].split("</table>")[0])
    assert names[:3] == [crafted["ann"].name, crafted["bob"].name, "Cai"]
    assert 'aria-sort="descending"' in page


def test_a_bad_period_says_why_and_shows_today(client, manager):
    page = client.get("/dashboard", query_string={"period": "custom", "from": "2026-11-08", "to": "2026-11-01"})

    assert page.status_code == 200 and "The last day comes before the first." in page.get_data(as_text=True)


def test_the_leads_behind_a_consultants_number(client, manager, crafted):  # noqa: F811
    page = client.get("/dashboard/leads", query_string={**WEEK, "measure": "contacted",
                                                         "consultant": crafted["ann"].id}).get_data(as_text=True)

    assert page.count('class="lead-row"') == 2
    assert f'href="/leads/{crafted["l1"].id}"' in page and f'href="/leads/{crafted["l3"].id}"' not in page
    assert client.get("/dashboard/leads", query_string={"measure": "everything"}).status_code == 404


def test_tables_download_as_csv_and_excel(client, manager, crafted):  # noqa: F811
    response = client.get("/dashboard/consultants.csv", query_string=WEEK)

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "consultants-2026-11-02-2026-11-08.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    ann = next(row for row in rows if row["Consultant"] == crafted["ann"].name)
    assert (ann["Leads"], ann["Median first contact (min)"], ann["Close rate (%)"]) == ("3", "30.0", "33.3")
    workbook = client.get("/dashboard/funnel.xlsx", query_string=WEEK)
    assert workbook.status_code == 200
    with zipfile.ZipFile(io.BytesIO(workbook.get_data())) as book:
        assert "Test drive" in book.read("xl/sharedStrings.xml").decode()
    assert client.get("/dashboard/funnel.pdf").status_code == 404


@pytest.mark.parametrize("role", ["consultant", "idcc_agent", "oem_admin"])
def test_only_managers_open_it(client, auth, world, role):
    user = {"consultant": world.one.consultant, "idcc_agent": world.idcc_agent, "oem_admin": world.oem_admin}[role]
    auth.sign_in(user.email)
    for path in ("/dashboard", "/dashboard/leads", "/dashboard/funnel.csv"):
        assert client.get(path).status_code == 403


def test_another_dealers_manager_sees_none_of_it(client, auth, world, crafted):  # noqa: F811
    auth.sign_in(world.two.manager.email)
    page = client.get("/dashboard", query_string=WEEK).get_data(as_text=True)

    assert crafted["ann"].name not in page
    assert cells(page, "Leads")[:1] == ["1"]  # only its own lead of the week
    behind = client.get("/dashboard/leads", query_string={**WEEK, "measure": "leads"}).get_data(as_text=True)
    assert f'href="/leads/{crafted["l1"].id}"' not in behind
