"""`flask --app app bench`: build or reuse a data set, measure, print one table and write it as JSON."""
import time
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app

MEASURES = ("server", "throughput", "wire", "sweep", "pushes", "imports")


@click.command()
@click.option("--leads", default=100_000, show_default=True,
              help="Scale of the data set (the demo: 400 dealers and about 8,000 users at 1,000,000).")
@click.option("--reuse/--rebuild", default=True, show_default=True,
              help="Reuse a database that holds this many leads (and a scratch set of this many follow-ups), or "
                   "build both again.")
@click.option("--yes", is_flag=True, help="Do not ask before building over a database that holds data.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False),
              help="Where to write the table as JSON  [default: bench-<database>-<leads>.json in the instance "
                   "folder]")
@click.option("--only", help=f"Run only these measures, comma-separated: {', '.join(MEASURES)}.")
@click.option("--requests", default=50, show_default=True, help="Timed requests per server-time measure.")
@click.option("--seconds", default=10.0, show_default=True, help="Seconds of load per requests-per-second measure.")
@click.option("--follow-ups", default=1_000_000, show_default=True, help="Open follow-ups the sweep passes over.")
@click.option("--due", default=10_000, show_default=True, help="Of those, how many are due.")
@click.option("--pushes", default=1_000, show_default=True, help="Devices pushed to.")
@click.option("--import-rows", type=int, help="Rows imported  [default: 20,000; 100,000 from 1,000,000 leads]")
def bench(leads: int, reuse: bool, yes: bool, json_path: str | None, only: str | None, requests: int,
          seconds: float, follow_ups: int, due: int, pushes: int, import_rows: int | None) -> None:
    """Measure server times, requests per second, the reminder sweep, pushes, imports and bytes on the wire on a
    data set of a chosen scale, on the database of DATABASE_URL; prints one table and writes it as JSON."""
    from app.benchmark import dataset, report, scratch
    from app.extensions import db

    chosen = MEASURES if not only else tuple(name.strip() for name in only.split(","))
    if unknown := set(chosen) - set(MEASURES):
        raise click.BadParameter(f"{', '.join(sorted(unknown))}: not one of {', '.join(MEASURES)}",
                                 param_hint="--only")
    if leads < 1 or not 0 <= due <= follow_ups or min(requests, pushes) < 1 or seconds <= 0:
        raise click.UsageError("--leads, --requests, --pushes and --seconds must be positive, and --due at most "
                               "--follow-ups")
    import_rows = import_rows or (100_000 if leads >= 1_000_000 else 20_000)
    app = current_app._get_current_object()
    machine = report.machine()  # before building: its load average is the other work on the machine
    data = dataset.ensure(leads, not reuse, yes)
    people = dataset.people()
    about = {"machine": machine, "data set": data,
             "options": {"requests": requests, "seconds": seconds, "follow-ups": follow_ups, "due": due,
                         "pushes": pushes, "import rows": import_rows},
             "people": {"consultant": people.consultant.about, "logger": people.logger.about,
                        "manager": people.manager.about}}
    db.session.remove()
    rows: list[report.Row] = []
    if "server" in chosen:
        from app.benchmark import server_times

        with _step(f"Server time, {requests} requests each:"):
            rows += server_times.measure(app, people, requests)
    if {"throughput", "wire"} & set(chosen):
        from app.benchmark import server, throughput, wire

        click.echo("Starting gunicorn …")
        with server.Gunicorn(app) as url:
            if "throughput" in chosen:
                with _step("Requests per second:"):
                    rows += throughput.measure(url, people.consultant.email, seconds)
            if "wire" in chosen:
                with _step("Bytes on the wire:"):
                    rows += wire.measure(url, people.logger.email, people.logging_leads[0])
    if {"sweep", "pushes", "imports"} & set(chosen):
        from app.benchmark import imports, sweep
        from app.benchmark import pushes as push_measure

        with scratch.opened(app, rebuild=not reuse):
            about["scratch set"] = scratch.ensure(follow_ups)
            if "sweep" in chosen:
                with _step("Reminder sweep:"):
                    rows += sweep.measure(follow_ups, due)
            if "pushes" in chosen:
                with _step("Web Push delivery:"):
                    rows += push_measure.measure(follow_ups, pushes)
            if "imports" in chosen:
                with _step("Import:"):
                    rows += imports.measure(follow_ups, import_rows)
    path = Path(json_path or Path(app.instance_path) / f"bench-{db.engine.dialect.name}-{leads}.json")
    report.write(path, about, rows)
    click.echo("")
    click.echo(report.summary(about))
    click.echo(report.table(rows))
    click.echo(f"\nWritten to {path}")


@contextmanager
def _step(title: str):
    """A progress line before a group of measures, and how long it took after."""
    click.echo(title)
    started = time.perf_counter()
    yield
    click.echo(f"  ({time.perf_counter() - started:.1f} s)")
