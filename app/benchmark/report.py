"""The benchmark's table: each measure with its figures, its target and whether it was met; the machine it ran
on; printed, and written as JSON so that two runs can be compared."""
import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from app import ROOT
from app.extensions import db

KB = 1024


@dataclass(frozen=True)
class Target:
    """A figure to stay under (`below`) or to reach at least."""

    limit: float
    below: bool = True

    def met(self, figure: float) -> bool:
        return figure < self.limit if self.below else figure >= self.limit


@dataclass
class Row:
    """One line of the table. Timed measures have p50 and p95 (the target applies to p95); the others a value.

    :param unit: ms, s, req/s, pushes/s, rows/s, %, or bytes.
    :param detail: what the figure is made of (samples, counts, parts), kept in the JSON.
    """

    key: str
    measure: str
    unit: str
    target: Target | None = None
    p50: float | None = None
    p95: float | None = None
    value: float | None = None
    detail: dict = field(default_factory=dict)

    @property
    def figure(self) -> float | None:
        return self.p95 if self.p95 is not None else self.value

    @property
    def met(self) -> bool | None:
        if self.target is None or self.figure is None:
            return None
        return self.target.met(self.figure)


def machine() -> dict:
    """What the figures depend on: CPUs, memory, Python, the database and its version, the code's commit."""
    cpu_model = _proc_field("/proc/cpuinfo", "model name") or platform.processor() or platform.machine()
    memory_kb = _proc_field("/proc/meminfo", "MemTotal")
    dialect = db.engine.dialect.name
    version = db.session.scalar(text("SELECT sqlite_version()" if dialect == "sqlite" else "SHOW server_version"))
    return {
        "cpus": os.cpu_count(), "cpu model": cpu_model,
        "memory GiB": round(int(memory_kb.split()[0]) / 1024 / 1024, 1) if memory_kb else None,
        "python": platform.python_version(), "system": platform.platform(terse=True),
        "database": f"{'SQLite' if dialect == 'sqlite' else 'PostgreSQL'} {version}",
        "commit": _commit(),
        # Other work on the machine slows every figure: a run to compare should start near 0.
        "load average at start": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def _proc_field(path: str, name: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == name:
                return value.strip()
    except OSError:
        pass
    return None


def _commit() -> str | None:
    """The checkout's commit, with "+changes" when the work tree differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+changes" if dirty else "")


def number(value: float | None, unit: str, exact: bool = True) -> str:
    """A figure as the table shows it; a target (not `exact`) without needless decimals: "< 15 ms"."""
    if value is None:
        return "—"
    if unit == "bytes":
        value, unit = value / KB, "KB"
    if not exact:
        return f"{value:,g} {unit}"
    decimals = {"ms": 1, "s": 2, "KB": 1}.get(unit, 0)
    return f"{value:,.{decimals}f} {unit}"


def target_text(row: Row) -> str:
    if row.target is None:
        return "—"
    return ("< " if row.target.below else "≥ ") + number(row.target.limit, row.unit, exact=False)


def table(rows: list[Row]) -> str:
    """The rows as a plain-text table: measure, p50, p95 or value, target, met."""
    lines = [("measure", "p50", "p95 / value", "target", "met?")]
    for row in rows:
        met = {True: "yes", False: "MISS", None: "—"}[row.met]
        lines.append((row.measure, number(row.p50, row.unit) if row.p50 is not None else "",
                      number(row.figure, row.unit), target_text(row), met))
    widths = [max(len(line[i]) for line in lines) for i in range(5)]
    rendered = []
    for index, line in enumerate(lines):
        rendered.append("  ".join([line[0].ljust(widths[0])] + [cell.rjust(widths[i + 1])
                                                                 for i, cell in enumerate(line[1:])]).rstrip())
        if index == 0:
            rendered.append("-" * len(rendered[0]))
    return "\n".join(rendered)


def summary(about: dict) -> str:
    """One line about the machine and the data set, above the table."""
    host, data = about["machine"], about["data set"]
    return (f"{host['database']} · {data['leads']:,} leads, {data['dealers']:,} dealers, {data['users']:,} users · "
            f"{host['cpus']} × {host['cpu model']}, {host['memory GiB']} GiB, Python {host['python']}, "
            f"load {host['load average at start']}")


def as_json(about: dict, rows: list[Row]) -> dict:
    """The run as JSON: when, the machine, the data set, the options, and every row with its target and result."""
    return {"ran_at": datetime.now(UTC).isoformat(timespec="seconds"), **about,
            "rows": [{**{k: v for k, v in asdict(row).items() if k != "target"},
                      "target": target_text(row) if row.target else None,
                      "target_limit": row.target.limit if row.target else None, "met": row.met} for row in rows]}


def write(path: Path, about: dict, rows: list[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(as_json(about, rows), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
