"""Import rows per second: generated portal exports (CSV, as the lead desk uploads them, at most FILE_ROWS rows a
file, well under the upload limit) parsed (app.services.lead_files) and imported by the lead desk
(app.services.lead_imports.import_rows: created, merged or skipped, and routed by the brand's rules) into the
scratch set, whose million customers the rows are looked up among. One row in twenty is a known customer with an
open lead (merged); the rest are new people in the brand's cities."""
import csv
import io
import random
import time
from datetime import timedelta

import click
from sqlalchemy import select

from app.benchmark import scratch
from app.benchmark.report import Row
from app.demo import names
from app.extensions import db
from app.models import Dealer, Role, User, utcnow
from app.services import lead_files, lead_imports

FILE_ROWS = 20_000
NEW_PREFIXES = (193,)  # mobile prefixes no scratch customer or user has
HEADER = ("线索编号", "姓名", "手机号码", "城市", "意向车型", "来源", "留资时间", "意向级别", "授权", "备注")
SOURCES = ("汽车之家", "懂车帝", "易车", "官网", "热线")


def measure(size: int, rows: int, echo=click.echo) -> list[Row]:
    scratch.reset(size)
    desk = db.session.scalar(select(User).where(User.role == Role.IDCC_AGENT).order_by(User.id))
    cities = sorted(set(db.session.scalars(select(Dealer.city))))
    rng = random.Random(rows)
    parsed_seconds = imported_seconds = 0.0
    report = lead_imports.ImportReport()
    for start in range(0, rows, FILE_ROWS):
        count = min(FILE_ROWS, rows - start)
        echo(f"  importing rows {start + 1:,}–{start + count:,} …")
        data = _file(rng, start, count, size, cities)
        started = time.perf_counter()
        parsed = lead_files.parse(data, f"bench-{start}.csv", "CN")
        parsed_seconds += time.perf_counter() - started
        started = time.perf_counter()
        report.add(lead_imports.import_rows(desk, parsed))
        imported_seconds += time.perf_counter() - started
    scratch.reset(size)
    seconds = parsed_seconds + imported_seconds
    done = report.created + report.merged + len(report.skipped)
    if done != rows:
        raise click.ClickException(f"import: {done} of {rows} rows accounted for")
    return [Row("import", f"Import rows per second ({rows:,} rows, lead desk, routed)", "rows/s",
                value=round(rows / seconds), detail={
                    "rows": rows, "created": report.created, "merged": report.merged, "skipped": len(report.skipped),
                    "parse_seconds": round(parsed_seconds, 2), "import_seconds": round(imported_seconds, 2)})]


def _file(rng: random.Random, start: int, count: int, known: int, cities: list[str]) -> bytes:
    """A portal export of `count` rows: every 20th a customer the scratch set has, the rest new people."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    today = utcnow() + timedelta(hours=8)
    for index in range(start, start + count):
        if index % 20 == 19 and known:
            phone = names.mobile(names.CUSTOMER_PREFIXES, rng.randrange(known))
        else:
            phone = names.mobile(NEW_PREFIXES, index)
        name, _pinyin = names.person(rng)
        asked = today - timedelta(minutes=index % 1440)
        writer.writerow((f"BENCH-{index}", name, phone.removeprefix("+86"), rng.choice(cities),
                         rng.choice(list(names.MODELS)), rng.choice(SOURCES), asked.strftime("%Y-%m-%d %H:%M"),
                         rng.choice("HABC"), "是", "" if index % 4 else "想了解金融方案"))
    return out.getvalue().encode("utf-8")
