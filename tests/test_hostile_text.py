"""No user-controlled HTML anywhere: a customer's name, a note, a model, a WeChat id, a city, an audit value, each
carrying a script, comes out escaped on every page that shows it, for every role that sees it."""
from sqlalchemy import select

from app.extensions import db
from app.models import ActivityKind, Lead
from app.services import audit
from tests import factories

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert("


def assert_escaped(page: str, where: str):
    assert "<script>alert(" not in page and "<img src=x" not in page, f"{where} shows raw HTML"
    assert ESCAPED in page, f"{where} does not show the text at all"


def test_hostile_text_is_escaped_wherever_it_shows(client, auth, world):
    me = world.one.consultant
    customer = factories.make_customer(world.oem, name=PAYLOAD, wechat_id=PAYLOAD, email="a@b.cn", city=PAYLOAD)
    lead = factories.make_lead(me, customer=customer, model_of_interest=PAYLOAD)
    factories.make_follow_up(lead)
    factories.make_activity(lead, ActivityKind.NOTE, note=PAYLOAD, summary=PAYLOAD)
    audit.record(me, "customer.updated", customer, dealer_id=world.one.dealer.id,
                 before={"name": "王芳"}, after={"name": PAYLOAD})
    db.session.commit()

    auth.sign_in(me.email)
    for path in ("/today", f"/leads/{lead.id}", f"/customers/{customer.id}", "/leads", "/leads?q=%3Cscript",
                 f"/leads/{lead.id}/contacts/log", f"/leads/{lead.id}/appointments"):
        assert_escaped(client.get(path).get_data(as_text=True), path)
    auth.sign_out()

    auth.sign_in(world.one.manager.email)
    for path in (f"/leads/{lead.id}", "/leads", "/dashboard/leads?measure=leads", "/audit",
                 f"/customers/{customer.id}/data", f"/customers/{customer.id}/erase"):
        assert_escaped(client.get(path).get_data(as_text=True), path)



def test_script_tags_in_an_imported_file_are_escaped(client, auth, world):
    """A lead file is anybody's text: its cells reach the import report, the lead and the customer page as text."""
    from tests.test_import_page import import_file

    manager = world.one.manager
    rows = [["name", "phone", "city", "model", "comments", "wechat"],
            [PAYLOAD, "13800138000", PAYLOAD, PAYLOAD, PAYLOAD, PAYLOAD],
            ['=HYPERLINK("http://evil.example","x")', '=1+2<script>alert("x")</script>', "", "", "", ""]]
    content = "\n".join(",".join('"' + cell.replace('"', '""') + '"' for cell in row) for row in rows) + "\n"
    auth.sign_in(manager.email)
    job, report = import_file(client, content.encode())

    assert (job.created, job.skipped) == (1, 1)
    assert "<script>alert(" not in report and "&lt;script&gt;alert(" in report  # the skipped row's reason
    lead = db.session.scalars(select(Lead)).one()
    assert lead.customer.name == PAYLOAD  # kept as typed, shown as text
    for path in (f"/leads/{lead.id}", f"/customers/{lead.customer_id}", "/leads", "/dashboard/leads?measure=leads"):
        assert_escaped(client.get(path).get_data(as_text=True), path)

