"""How times read on every page (`when`): today, yesterday and tomorrow with the clock, a weekday within the
week, else a date; all in the reader's dealer's time zone, whatever the server's."""
from datetime import datetime, timedelta, timezone

import pytest
from flask_login import login_user

from app import templating
from app.extensions import db

NOW = datetime(2026, 11, 23, 15, 30, tzinfo=timezone.utc)  # 23:30 in Shanghai, 21:30 in Urumqi


@pytest.fixture
def reader(app, world, monkeypatch):
    """`reader(zone)`: `when` as a consultant of a dealer in that zone reads it, at NOW, in English."""
    monkeypatch.setattr(templating, "utcnow", lambda: NOW)

    def read(zone: str, moment):
        world.one.dealer.time_zone = zone
        db.session.commit()
        with app.test_request_context("/", headers={"Accept-Language": "en"}):
            login_user(world.one.consultant)
            return templating.when(moment)

    return read


@pytest.mark.parametrize(("zone", "moment", "words"), [
    ("Asia/Shanghai", NOW + timedelta(minutes=45), "tomorrow 00:15"),  # past midnight there already
    ("Asia/Urumqi", NOW + timedelta(minutes=45), "today 22:15"),
    ("Asia/Shanghai", NOW - timedelta(hours=16), "today 07:30"),
    ("Asia/Shanghai", NOW - timedelta(hours=24), "yesterday 23:30"),
    ("Asia/Shanghai", datetime(2026, 11, 23, 2, 0), "today 10:00"),  # a naive time is UTC
    ("Asia/Shanghai", NOW + timedelta(days=3), "Thu 23:30"),
    ("Asia/Shanghai", NOW - timedelta(days=20), "Tue, Nov 3"),
    ("Asia/Shanghai", NOW + timedelta(days=60), "Fri, Jan 22, 2027"),
])
def test_a_time_reads_in_the_readers_zone(reader, zone, moment, words):
    assert reader(zone, moment) == words


def test_no_time_reads_as_nothing(reader):
    assert reader("Asia/Shanghai", None) == ""
