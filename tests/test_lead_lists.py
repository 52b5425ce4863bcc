"""The home lists: what each row shows, order, search by name or any form of a mobile number, stage filter,
paging by htmx fragment, and the OEM admin's dealer list."""
import re
from datetime import timedelta

import pytest

from app.models import IntentLevel, Origin, Stage
from tests import factories


def rows(html: str) -> list[str]:
    return [part.split("</li>")[0] for part in html.split('<li class="lead-row')[1:]]


def test_consultant_sees_open_leads_most_urgent_first_with_what_is_due(client, auth, world):
    me = world.one.consultant
    later = factories.make_lead(me, customer=factories.make_customer(world.oem, name="晚些"), model_of_interest="HY-X7")
    factories.make_follow_up(later, due_in=timedelta(days=3))
    overdue = factories.make_lead(me, customer=factories.make_customer(world.oem, name="逾期"),
                                  intent_level=IntentLevel.H)
    factories.make_follow_up(overdue, due_in=timedelta(days=-2))
    factories.make_lead(me, customer=factories.make_customer(world.oem, name="没有下一步"))
    factories.make_lead(me, customer=factories.make_customer(world.oem, name="已成交"), stage=Stage.DELIVERED)
    auth.sign_in(me)

    listed = rows(client.get("/leads").get_data(as_text=True))

    assert [next(n for n in ("逾期", "晚些", "没有下一步") if n in row) for row in listed] == ["逾期", "晚些", "没有下一步"]
    assert 'class="next overdue"' in listed[0] and "intent-H" in listed[0]
    assert "HY-X7" in listed[1] and "Next:" in listed[1]
    assert "No next step" in listed[2]


@pytest.mark.parametrize("query", ["13912345678", "139 1234 5678", "+86 139-1234-5678", "李", "李雷"])
def test_search_finds_by_name_start_or_any_form_of_the_number(client, auth, world, query):
    me = world.one.consultant
    factories.make_lead(me, customer=factories.make_customer(world.oem, name="李雷", phone_e164="+8613912345678"))
    factories.make_lead(me, customer=factories.make_customer(world.oem, name="韩梅梅"))
    auth.sign_in(me)
    listed = rows(client.get("/leads", query_string={"q": query}).get_data(as_text=True))
    assert len(listed) == 1 and "李雷" in listed[0]


def test_search_never_reaches_leads_out_of_scope(client, auth, world):
    factories.make_lead(world.two.consultant, customer=factories.make_customer(world.oem, name="李雷"))
    auth.sign_in(world.one.consultant)
    assert "No leads match." in client.get("/leads?q=李").get_data(as_text=True)


def test_search_with_like_wildcards_matches_literally(client, auth, world):
    factories.make_lead(world.one.consultant, customer=factories.make_customer(world.oem, name="王五"))
    auth.sign_in(world.one.consultant)
    assert "No leads match." in client.get("/leads?q=%25").get_data(as_text=True)


def test_manager_filters_by_stage_including_closed_ones(client, auth, world):
    factories.make_lead(world.one.consultant, customer=factories.make_customer(world.oem, name="开放"))
    factories.make_lead(world.one.colleague, customer=factories.make_customer(world.oem, name="战败"), stage=Stage.LOST)
    auth.sign_in(world.one.manager)
    default = client.get("/leads").get_data(as_text=True)
    assert "开放" in default and "战败" not in default
    assert world.one.consultant.name in rows(default)[0]  # managers see who works each lead
    lost = client.get("/leads?stage=lost").get_data(as_text=True)
    assert "战败" in lost and "开放" not in lost


def test_bad_query_parameters_are_a_400_not_a_500(client, auth, world):
    auth.sign_in(world.one.manager)
    assert client.get("/leads?stage=bogus").status_code == 400
    assert client.get("/leads?page=0").status_code == 400


def test_htmx_gets_the_rows_fragment_and_paging_continues_in_place(app, client, auth, world):
    app.config["PAGE_SIZE"] = 3
    for n in range(5):
        factories.make_lead(world.one.consultant, customer=factories.make_customer(world.oem, name=f"客户甲{n}"))
    auth.sign_in(world.one.consultant)

    fragment = client.get("/leads?q=客户甲", headers={"HX-Request": "true"})
    assert {part.strip() for part in fragment.headers["Vary"].split(",")} >= {"HX-Request", "Cookie"}
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and len(rows(html)) == 3
    assert 'hx-trigger="revealed"' in html and "page=2" in html

    second = client.get("/leads?q=客户甲&page=2", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert len(rows(second)) == 2 and "revealed" not in second

    boosted = client.get("/leads", headers={"HX-Request": "true", "HX-Boosted": "true"}).get_data(as_text=True)
    restore = client.get("/leads", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in boosted and "<html" in restore.get_data(as_text=True)


def test_lead_page_shows_customer_interest_and_history(client, auth, world):
    lead = factories.make_lead(world.one.consultant, model_of_interest="HY-E3", intent_level=IntentLevel.B,
                               customer=factories.make_customer(world.oem, name="赵六", phone_e164="+8613800138000",
                                                                wechat_id="zhao6"))
    factories.make_activity(lead, note="客户想看白色")
    auth.sign_in(world.one.consultant)
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    for text in ("赵六", 'href="tel:+8613800138000"', "138 0013 8000", "zhao6", "HY-E3", "B · 1–3 months",
                 "客户想看白色", "No next step"):
        assert text in page


def test_oem_admin_sees_every_dealer_with_counts_of_all_its_leads(client, auth, world):
    factories.make_lead(world.one.consultant)
    factories.make_lead(world.one.consultant, stage=Stage.CONTACTED, origin=Origin.OEM)
    factories.make_lead(world.one.colleague, stage=Stage.DELIVERED)
    auth.sign_in(world.oem_admin)
    page = client.get("/dealers").get_data(as_text=True)
    row_one = page.split(world.one.dealer.name)[1].split("</tr>")[0]
    row_two = page.split(world.two.dealer.name)[1].split("</tr>")[0]
    assert re.findall(r'<td class="num[^"]*"[^>]*>(\d+)</td>', row_one) == ["3", "2", "1", "1"]
    assert re.findall(r'<td class="num[^"]*"[^>]*>(\d+)</td>', row_two) == ["0", "0", "0", "0"]


@pytest.mark.parametrize("query", ["5678", "1234 5678", "X7", "x7 suv"])
def test_search_by_part_of_the_number_or_the_model(client, auth, world, query):
    me = world.one.consultant
    factories.make_lead(me, customer=factories.make_customer(world.oem, name="李雷", phone_e164="+8613912345678"),
                        model_of_interest="HY-X7 SUV")
    factories.make_lead(me, customer=factories.make_customer(world.oem, name="韩梅梅", phone_e164="+8613800000001"),
                        model_of_interest="HY-S5")
    auth.sign_in(me)
    listed = rows(client.get("/leads", query_string={"q": query}).get_data(as_text=True))
    assert len(listed) == 1 and "李雷" in listed[0]


def test_the_search_box_on_every_page_finds_closed_leads_too(client, auth, world):
    me = world.one.consultant
    done = factories.make_lead(me, customer=factories.make_customer(world.oem, name="老客户"), stage=Stage.DELIVERED)
    factories.make_lead(world.one.colleague, customer=factories.make_customer(world.oem, name="老同事的客户"))
    auth.sign_in(me)
    assert 'hx-get="/search"' in client.get("/account").get_data(as_text=True)
    results = client.get("/search?q=老", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f'href="/leads/{done.id}"' in results and "老同事的客户" not in results
    assert client.get("/search?q=老").headers["Location"] == "/leads?q=%E8%80%81"
