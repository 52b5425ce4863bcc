"""Notes: a consultant adds a note to a lead's history without logging a contact; the note shows in the timeline,
changes nothing else, is refused when empty, never lands on another consultant's lead, and an offline note
replayed with its Idempotency-Key is added once."""
import json
import re
import uuid
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Activity, ActivityKind, FollowUpTask, Lead, Stage, utcnow
from tests import factories

HTMX = {"HX-Request": "true"}


@pytest.fixture
def lead(me, world):
    lead = factories.make_lead(me, customer=factories.make_customer(world.oem, name="陈静"), stage=Stage.CONTACTED,
                               first_contact_at=utcnow() - timedelta(days=1))
    factories.make_follow_up(lead, due_in=timedelta(days=2))
    return lead


def add_note(client, auth, lead, headers=HTMX, **data):
    return client.post(f"/leads/{lead.id}/notes", data={"csrf_token": auth.csrf_token("/today"), **data},
                       headers=headers)


def notes_of(lead) -> list[Activity]:
    db.session.expire_all()
    return db.session.scalars(db.select(Activity).where(Activity.lead_id == lead.id,
                                                        Activity.kind == ActivityKind.NOTE)).all()


def as_row(lead: Lead) -> tuple:
    db.session.expire_all()
    saved = db.session.get(Lead, lead.id)
    return (saved.stage, saved.intent_level, saved.first_contact_at, saved.last_contact_at, saved.last_contact_kind,
            saved.next_follow_up_at, saved.closed_at)


def test_the_lead_page_has_a_note_card_that_posts_without_swapping(client, lead):
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    form = re.search(r'<form[^>]*action="/leads/\d+/notes"[^>]*>', page).group(0)
    assert f'hx-post="/leads/{lead.id}/notes"' in form and 'hx-swap="none"' in form
    assert json.loads(re.search(r"data-offline-entry='([^']*)'", form).group(1)) == {"title": "陈静", "lead": lead.id}
    assert '<textarea name="note" rows="2" maxlength="2000" required' in page and "Add note" in page


def test_a_note_is_a_row_in_the_history_and_changes_nothing_else(client, auth, lead, me):
    before = as_row(lead)

    response = add_note(client, auth, lead, note="  太太更喜欢白色，下周末一起来  ")

    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    assert json.loads(response.headers["HX-Trigger"]) == {"lead-changed": {"lead": lead.id, "message": "Note added."}}
    [note] = notes_of(lead)
    assert (note.note, note.user_id, note.summary, note.outcome) == ("太太更喜欢白色，下周末一起来", me.id, None, None)
    assert abs(note.occurred_at - utcnow()) < timedelta(minutes=1)
    assert as_row(lead) == before
    assert db.session.query(Activity).filter(Activity.lead_id == lead.id).count() == 1
    assert db.session.query(FollowUpTask).filter_by(lead_id=lead.id).count() == 1
    timeline = client.get(f"/leads/{lead.id}").get_data(as_text=True).split('class="timeline"')[1]
    assert re.search(r"<strong>Note</strong>.*?<p class=\"note\">太太更喜欢白色，下周末一起来</p>", timeline, re.S)


def test_without_javascript_a_note_goes_back_to_the_lead_page(client, auth, lead):
    response = add_note(client, auth, lead, headers={}, note="Trade-in: 2016 Corolla")
    assert response.status_code == 303 and response.headers["Location"] == f"/leads/{lead.id}"
    assert "Note added." in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(("data", "message"), [
    ({"note": "   "}, "Write the note first."),
    ({}, "Write the note first."),
    ({"note": "x" * 2001}, "Write a note of at most 2000 characters."),
])
def test_an_empty_or_overlong_note_is_refused(client, auth, lead, data, message):
    response = add_note(client, auth, lead, **data)
    assert response.status_code == 422
    assert json.loads(response.headers["HX-Trigger"])["lead-refused"]["message"] == message
    assert notes_of(lead) == []


def test_a_note_of_2000_characters_is_kept_whole(client, auth, lead):
    assert add_note(client, auth, lead, note="好" * 2000).status_code == 200
    assert notes_of(lead)[0].note == "好" * 2000


def test_nobody_adds_a_note_to_another_consultants_lead(client, auth, me, world):
    other = factories.make_lead(world.one.colleague)
    assert add_note(client, auth, other, note="Not mine").status_code == 404
    assert notes_of(other) == []


def test_the_lead_desk_cannot_add_notes_to_a_dealers_lead(app, auth, world):
    lead = factories.make_lead(world.one.consultant)
    desk = app.test_client()
    type(auth)(desk).sign_in(world.idcc_agent)
    token = type(auth)(desk).csrf_token("/leads")
    assert desk.post(f"/leads/{lead.id}/notes", data={"note": "x", "csrf_token": token}).status_code in (403, 404)
    assert notes_of(lead) == []


def test_a_note_replayed_with_its_key_is_added_once(client, auth, lead):
    headers = {**HTMX, "Idempotency-Key": str(uuid.uuid4())}
    first = add_note(client, auth, lead, headers=headers, note="Asked for the HY-S7 brochure")
    again = add_note(client, auth, lead, headers=headers, note="Asked for the HY-S7 brochure")
    assert first.status_code == again.status_code == 200
    assert again.headers["HX-Trigger"] == first.headers["HX-Trigger"] and again.headers["Idempotent-Replayed"] == "true"
    assert len(notes_of(lead)) == 1


def test_a_note_written_offline_reaches_a_lead_closed_since(client, auth, lead):
    lead.stage, lead.closed_at = Stage.DELIVERED, utcnow()
    db.session.commit()
    assert add_note(client, auth, lead, note="Delivered; wants the first service reminder").status_code == 200
    assert len(notes_of(lead)) == 1
