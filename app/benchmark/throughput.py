"""Requests per second of Today under gunicorn, next to a trivial endpoint on the same gunicorn (the framework's
floor), each driven for a fixed time by a load generator in a second process over loopback (app.benchmark.load).

The ratio says how much of the framework's capacity Today leaves: a page that only read and rendered what a
phone needs would stay near the floor; the rest is our queries and templates.
"""
import json
import subprocess
import sys

import click

from app import ROOT
from app.benchmark.report import Row, Target
from app.benchmark.server import FLOOR, PHONE_HEADERS, THREADS, WORKERS, Phone

RATIO = Target(25, below=False)  # Today at a quarter of the floor's requests per second, or more


def measure(url: str, email: str, seconds: float, echo=click.echo) -> list[Row]:
    """Drive the floor, then Today signed in as `email`, `seconds` each."""
    phone = Phone(url)
    try:
        phone.sign_in(email)
        cookie = "; ".join(f"{name}={value}" for name, value in phone.cookies.items())
    finally:
        phone.close()
    connections = WORKERS * THREADS
    echo(f"  the floor ({FLOOR}), {seconds:g} s …")
    floor = _drive(url + FLOOR, seconds, connections, {})
    echo(f"  Today, {seconds:g} s …")
    today = _drive(url + "/today", seconds, connections, {"Cookie": cookie})
    for name, result in (("floor", floor), ("Today", today)):
        if result["ok"] != result["requests"] or not result["ok"]:
            raise click.ClickException(f"{name} under load answered {result['statuses']}")
    server = f"gunicorn, {WORKERS} workers × {THREADS} threads, {connections} connections"
    return [
        Row("rps_floor", f"Requests/s: trivial endpoint ({server})", "req/s", value=floor["rps"], detail=floor),
        Row("rps_today", "Requests/s: Today", "req/s", value=today["rps"], detail=today),
        Row("rps_ratio", "Today ÷ trivial endpoint", "%", RATIO, value=round(100 * today["rps"] / floor["rps"], 1)),
    ]


def _drive(url: str, seconds: float, connections: int, headers: dict) -> dict:
    headers = {**PHONE_HEADERS, **headers}
    command = [sys.executable, "-m", "app.benchmark.load", url, "--seconds", str(seconds),
               "--connections", str(connections), "--warm-up", str(min(2.0, seconds / 2))]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 120,
                          check=False)
    if done.returncode != 0:
        raise click.ClickException(f"the load generator failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)
