"""The benchmark command (`flask --app app bench`) at a tiny scale: every measure runs, briefly, against the test
database, and the table it prints and writes as JSON holds every row with numbers. Not a timed test: how fast
things are is what the command measures, not what this test asserts."""
import json
from datetime import timedelta

from sqlalchemy import func, select

from app.benchmark import scratch
from app.extensions import db
from app.models import Activity, Lead, Outcome, utcnow

TIMED = {"today", "lead_page", "search_phone", "search_phone_dealer", "log_outcome", "dealer_dashboard",
         "brand_dashboard"}
VALUES = {"rps_floor", "rps_today", "rps_ratio", "bytes_first_visit", "bytes_log_fragment", "bytes_today_refresh",
          "sweep", "pushes", "import"}
REQUESTS = 2


def test_bench_measures_everything_at_a_tiny_scale_and_writes_the_table_as_json(app, runner, tmp_path):
    path = tmp_path / "bench.json"
    started = utcnow() - timedelta(seconds=1)
    try:
        result = runner.invoke(args=[
            "bench", "--leads", "300", "--follow-ups", "600", "--due", "60", "--pushes", "6", "--import-rows", "80",
            "--requests", str(REQUESTS), "--seconds", "0.5", "--json", str(path), "--yes"])
    finally:
        scratch.drop(app)

    assert result.exit_code == 0, result.output
    written = json.loads(path.read_text(encoding="utf-8"))
    rows = {row["key"]: row for row in written["rows"]}
    assert set(rows) == TIMED | VALUES
    for key in TIMED:
        assert 0 < rows[key]["p50"] <= rows[key]["p95"], rows[key]
        assert rows[key]["detail"]["samples"] == REQUESTS
    for key in VALUES:
        assert isinstance(rows[key]["value"], int | float) and rows[key]["value"] >= 0, rows[key]
    for row in written["rows"]:
        assert row["met"] is None if row["target"] is None else row["met"] in (True, False), row
    assert rows["rps_floor"]["value"] > 0 and rows["rps_today"]["value"] > 0
    assert rows["sweep"]["detail"]["marked"] == 60
    assert rows["pushes"]["detail"]["sent"] == 6 and rows["pushes"]["detail"]["service"]["decrypted"] == 6
    assert rows["import"]["detail"]["created"] + rows["import"]["detail"]["merged"] > 0
    assert rows["bytes_first_visit"]["value"] > rows["bytes_log_fragment"]["value"] > 0
    assert written["data set"]["leads"] == 300 and written["machine"]["cpus"] >= 1
    assert written["machine"]["database"].startswith(("SQLite", "PostgreSQL"))
    # Logging an outcome wrote for real: the warm-up's and the timed ones in process, one more through gunicorn.
    logged = db.session.scalar(select(func.count()).select_from(Activity).where(
        Activity.outcome == Outcome.REACHED, Activity.occurred_at >= started))
    assert logged >= 3 + REQUESTS + 1
    # The import went to the scratch set, not the data set.
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 300
    for words in ("Today (consultant", "OEM dashboard", "Reminder sweep", "Pushes per second", str(path)):
        assert words in result.output


def test_bench_refuses_an_unknown_measure(runner):
    result = runner.invoke(args=["bench", "--only", "server,speed"])

    assert result.exit_code != 0
    assert "speed: not one of server, throughput, wire, sweep, pushes, imports" in result.output
