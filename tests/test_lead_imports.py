"""Importing lead files: every row created, merged or skipped with a reason; a re-import creates nothing;
imported leads keep source, provider and consent and are routed at once."""
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Activity, ConsentMethod, ConsentRecord, Customer, Lead, Origin, RoutingRule, RuleScope, Stage
from app.services.lead_files import parse
from tests import factories

FILES = Path(__file__).parent / "files" / "lead_files"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def run(runner, name, user):
    return runner.invoke(args=["leads", "import", str(FILES / name), "--as", user.email])


def test_a_clean_csv_is_imported_and_a_reimport_creates_nothing(runner, world):
    first = run(runner, "clean.csv", world.idcc_agent)
    assert first.exit_code == 0, first.output
    leads, customers = count(Lead), count(Customer)
    assert leads > 0 and f"{leads} created, 0 merged, 0 skipped" in first.output
    again = run(runner, "clean.csv", world.idcc_agent)
    assert again.exit_code == 0 and f"0 created, 0 merged, {leads} skipped" in again.output
    assert "already imported" in again.output
    assert (count(Lead), count(Customer)) == (leads, customers)
    lead = db.session.scalar(select(Lead).limit(1))
    assert lead.origin is Origin.OEM and lead.created_by_id == world.idcc_agent.id


def test_bad_rows_are_reported_by_row_and_nothing_is_lost(runner, world):
    result = run(runner, "bad_rows.csv", world.idcc_agent)
    assert result.exit_code == 0, result.output
    assert "skipped: row 3:" in result.output and "is not a valid mobile number" in result.output
    created = int(result.output.split(" created")[0].split()[-1])
    assert created == count(Lead)


def test_a_resend_of_the_same_provider_lead_is_no_second_lead(runner, world):
    """Prospect 2 re-sends prospect 1's Dongchedi lead DCD-501 (status="resend")."""
    result = run(runner, "multi_prospect.xml", world.idcc_agent)
    assert result.exit_code == 0, result.output
    assert "skipped: row 2: already imported" in result.output
    assert "2 created, 0 merged, 1 skipped" in result.output
    assert count(Lead) == 2


def test_a_person_arriving_again_is_merged_into_their_open_lead(runner, world):
    row = parse((FILES / "clean.csv").read_bytes(), "clean.csv").rows[0]
    person = factories.make_customer(world.oem, phone_e164=row.phone_e164, name="已在跟进")
    open_lead = factories.make_lead(world.one.consultant, customer=person)
    result = run(runner, "clean.csv", world.idcc_agent)
    assert "1 merged" in result.output
    assert db.session.scalar(select(func.count()).select_from(Lead).where(Lead.customer_id == person.id)) == 1
    note = db.session.scalar(select(Activity).where(Activity.lead_id == open_lead.id))
    assert note.summary.startswith("arrived_again: ")


def test_a_known_person_without_an_open_lead_gets_a_new_lead_on_the_same_customer(runner, world):
    row = parse((FILES / "clean.csv").read_bytes(), "clean.csv").rows[0]
    person = factories.make_customer(world.oem, phone_e164=row.phone_e164, name="老客户")
    factories.make_lead(world.one.consultant, customer=person, stage=Stage.DELIVERED)
    result = run(runner, "clean.csv", world.idcc_agent)
    assert "1 merged" in result.output
    assert db.session.scalar(select(func.count()).select_from(Lead).where(Lead.customer_id == person.id)) == 2


def test_imported_leads_are_routed_by_the_rules_and_keep_their_consent(runner, world):
    rows = parse((FILES / "clean.csv").read_bytes(), "clean.csv").rows
    for city in {row.city for row in rows if row.city}:
        db.session.add(RoutingRule(oem_id=world.oem.id, scope=RuleScope.CITY, match_value=city,
                                   dealer_id=world.one.dealer.id))
    db.session.commit()
    run(runner, "clean.csv", world.idcc_agent)
    routed = db.session.scalars(select(Lead).where(Lead.dealer_id == world.one.dealer.id)).all()
    assert len(routed) == len([row for row in rows if row.city])
    assert all(lead.consultant_id in (world.one.consultant.id, world.one.colleague.id) for lead in routed)
    consents = db.session.scalars(select(ConsentRecord)).all()
    assert len(consents) == sum(len(row.consent_channels) for row in rows)
    assert all(record.method is ConsentMethod.IMPORT for record in consents)


def test_a_managers_import_stays_with_their_dealer(runner, world):
    result = run(runner, "clean.csv", world.one.manager)
    assert result.exit_code == 0, result.output
    leads = db.session.scalars(select(Lead)).all()
    assert leads and all(lead.dealer_id == world.one.dealer.id and lead.origin is Origin.DEALER for lead in leads)


@pytest.mark.parametrize("name", ["empty.csv", "billion_laughs.xml"])
def test_unusable_files_are_refused_with_a_clear_message(runner, world, name):
    result = run(runner, name, world.idcc_agent)
    assert result.exit_code != 0 and name in result.output
    assert count(Lead) == 0


def test_only_the_lead_desk_and_managers_import(runner, world):
    result = run(runner, "clean.csv", world.one.consultant)
    assert result.exit_code != 0 and "not an active lead desk agent or manager" in result.output


def test_the_same_new_person_twice_in_one_file_is_one_customer_and_one_lead(runner, world, tmp_path):
    twice = tmp_path / "twice.csv"
    twice.write_text("name,phone,source\n张三,13912345678,autohome\n张三,139 1234 5678,yiche\n", encoding="utf-8")
    result = runner.invoke(args=["leads", "import", str(twice), "--as", world.idcc_agent.email])
    assert "1 created, 1 merged, 0 skipped" in result.output, result.output
    assert count(Customer) == 1 and count(Lead) == 1
