"""Command-line entry points: `flask --app app demo`, `serve`, `worker`, `leads import`, `vapid` and `bench`
(app/benchmark)."""
import os
import signal
import subprocess
import sys

import click
from flask import Flask, current_app
from flask_migrate import upgrade
from sqlalchemy import select

from app.benchmark.command import bench
from app.extensions import db


def init_app(app: Flask) -> None:
    app.cli.add_command(demo)
    app.cli.add_command(serve)
    app.cli.add_command(leads)
    app.cli.add_command(worker)
    app.cli.add_command(vapid)
    app.cli.add_command(bench)


@click.command()
@click.option("--once", is_flag=True, help="Run one pass and exit (for cron, or to check).")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between passes.")
def worker(once: bool, interval: float) -> None:
    """Run the background worker: the clock, pools, reminders, digests, and delivering notifications."""
    import logging

    from app.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if once:
        click.echo(Worker().run_once())
        return
    click.echo(f"Worker running, a pass every {interval:g} s. Ctrl+C stops.")
    Worker().run(interval)


@click.command()
@click.option("--force", is_flag=True, help="Replace existing keys: every device must then subscribe again.")
def vapid(force: bool) -> None:
    """Generate the Web Push (VAPID) keys once into the instance folder and print the public key."""
    from app.services import vapid as vapid_keys

    if vapid_keys.from_environment():
        raise click.ClickException("VAPID_PRIVATE_KEY is set: the keys come from the environment, not from the "
                                   "instance folder")
    try:
        click.echo(vapid_keys.generate(force=force))
    except FileExistsError as error:
        raise click.ClickException(f"keys exist in {error}: their public key is {vapid_keys.public_key_b64url()}. "
                                   "--force replaces them, and every device must then subscribe again.") from None


@click.group()
def leads() -> None:
    """Lead files."""


@leads.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "as_email", required=True, help="Email of the importing lead desk agent or manager.")
def import_leads(path: str, as_email: str) -> None:
    """Import a CSV or ADF XML lead file; prints what became of every row."""
    import time
    from pathlib import Path

    from app.models import Role, User
    from app.services import lead_files, lead_imports

    user = db.session.scalar(select(User).where(User.email == as_email.lower(), User.active.is_(True)))
    if user is None or user.role not in (Role.IDCC_AGENT, Role.MANAGER):
        raise click.BadParameter("not an active lead desk agent or manager", param_hint="--as")
    started = time.perf_counter()
    try:
        parsed = lead_files.parse(Path(path).read_bytes(), Path(path).name,
                                  user.dealer.phone_region if user.dealer else "CN")
    except (lead_files.FileTooLarge, lead_files.UnreadableFile) as error:
        raise click.ClickException(str(error)) from None
    with click.progressbar(length=len(parsed.rows), label="Rows") as bar:
        done = [0]

        def progress(count: int) -> None:
            bar.update(count - done[0])
            done[0] = count

        report = lead_imports.import_rows(user, parsed, progress)
    seconds = time.perf_counter() - started
    for warning in report.warnings:
        click.echo(f"note: {warning}")
    for line, reason in report.skipped:
        click.echo(f"skipped: {reason}")
    total = report.created + report.merged + len(report.skipped)
    click.echo(f"{report.created} created, {report.merged} merged, {len(report.skipped)} skipped "
               f"in {seconds:.1f} s ({total / seconds:.0f} rows/s).")


@click.command()
@click.option("--leads", default=2000, show_default=True, help="How many leads to generate.")
@click.option("--seed", default=2026, show_default=True, help="Random seed, for the same data every time.")
@click.option("--yes", is_flag=True, help="Do not ask before wiping the database.")
def demo(leads: int, seed: int, yes: bool) -> None:
    """Reset the database and fill it with a believable brand, its dealers, people and leads."""
    from app.demo import generate

    if leads < 1:
        raise click.BadParameter("must be at least 1", param_hint="--leads")
    url = db.engine.url.render_as_string(hide_password=True)
    if not yes and sys.stdin.isatty():
        click.confirm(f"This deletes everything in {url}. Continue?", abort=True)
    upgrade()
    summary = generate.run(leads=leads, seed=seed, echo=click.echo)
    click.echo(summary)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--demo/--no-demo", "with_demo", default=True, show_default=True,
              help="Fill an empty database with demo data first.")
def serve(host: str, port: int, with_demo: bool) -> None:
    """Run the app locally: migrate, add demo data to an empty database, start the web server and the worker."""
    from app.demo import generate
    from app.models import Oem

    upgrade()
    if with_demo and db.session.scalar(select(Oem.id).limit(1)) is None:
        click.echo(generate.run(leads=2000, seed=2026, echo=click.echo))
    env = {**os.environ, "APP_ENV": "development"}  # plain http on this machine: no Secure cookies
    flask = [sys.executable, "-m", "flask", "--app", current_app.import_name]
    processes = [
        subprocess.Popen([*flask, "run", "--host", host, "--port", str(port)], env=env),
        subprocess.Popen([*flask, "worker"], env=env),
    ]
    click.echo(f"Open http://{host}:{port}/ — the README lists the demo accounts. Ctrl+C stops.")
    _supervise(processes)


def _supervise(processes: list[subprocess.Popen]) -> None:
    """Wait until one process ends or Ctrl+C, then stop them all."""
    try:
        while all(p.poll() is None for p in processes):
            try:
                processes[0].wait(timeout=1)
            except subprocess.TimeoutExpired:
                continue
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=10)
