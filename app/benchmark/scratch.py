"""The scratch set: a second database beside the data set, for the measures that need more rows of one kind than
the data set has (1,000,000 open follow-ups) or that would change it (imports, pushes).

It lives in the same place as the data set: on PostgreSQL a schema of its own in the same database (`bench_scratch`,
or `<schema>_scratch` beside a schema other than public), on SQLite a file beside the data set's
(`leads-scratch.sqlite3` beside `leads.sqlite3`). It is migrated like any database of the app and holds the demo
brand at the scale of `size` leads (at 1,000,000: 400 dealers, about 8,000 users) and those leads, each with its
customer and one open follow-up, due later. It is built once and reused while its counts hold; `reset` takes away what a
measure added (every row of the other tables, leads, customers and follow-ups past `size`), so each measure
starts from the same rows.
"""
import random
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, delete, func, make_url, select, text

from app.benchmark.dataset import SEED
from app.demo import generate, names
from app.extensions import db
from app.models import ActivityKind, FollowUpTask, IntentLevel, Lead, Origin, Outcome, Source, Stage, TaskStatus, utcnow

BUILT = frozenset({"oems", "regions", "dealers", "cadence_policies", "routing_rules", "users"})  # the brand
NUMBERED = ("customers", "leads", "follow_up_tasks")  # ids 1..size, one of each per lead
BATCH = 50_000


def database_url(main: Flask) -> str:
    """The scratch set's database URL, beside the main app's."""
    with main.app_context():
        url = db.engine.url
        if url.get_backend_name() == "sqlite":
            if not url.database or url.database == ":memory:":
                raise click.ClickException("the benchmark needs an SQLite file, not a database in memory")
            path = Path(url.database)
            return url.set(database=str(path.with_name(f"{path.stem}-scratch{path.suffix}"))).render_as_string(
                hide_password=False)
        return url.update_query_dict({"options": f"-csearch_path={_schema(main)}"}).render_as_string(
            hide_password=False)


def _schema(main: Flask) -> str:
    with main.app_context():
        current = db.session.scalar(text("SELECT current_schema()"))
        db.session.rollback()
    return "bench_scratch" if current in (None, "public") else f"{current}_scratch"


@contextmanager
def opened(main: Flask, rebuild: bool = False):
    """`with opened(app) as scratch:` the scratch set's app, its context pushed, migrated; emptied first when
    `rebuild`. Its Web Push keys are its own, made for the run, so nothing is written to the instance folder."""
    url = database_url(main)
    if rebuild:
        drop(main)
    if url.startswith("postgresql"):
        _postgresql(main, f"CREATE SCHEMA IF NOT EXISTS {_schema(main)}")
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    from app import create_app

    scratch = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": main.config["SECRET_KEY"],
                          "VAPID_PRIVATE_KEY": key, "VAPID_SUBJECT": "mailto:bench@dealer-leads.example"})
    with scratch.app_context():
        upgrade()
        try:
            yield scratch
        finally:
            db.session.remove()
            db.engine.dispose()


def drop(main: Flask) -> None:
    """Remove the scratch set: its schema, or its files."""
    url = database_url(main)
    if url.startswith("postgresql"):
        _postgresql(main, f"DROP SCHEMA IF EXISTS {_schema(main)} CASCADE")
        return
    path = Path(make_url(url).database)
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        file.unlink(missing_ok=True)


def _postgresql(main: Flask, statement: str) -> None:
    with main.app_context():
        engine = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def ensure(size: int, echo=click.echo) -> dict:
    """Reuse the scratch set if it holds `size` leads with their open follow-ups, else build it."""
    reset(size)
    leads = db.session.scalar(select(func.count()).select_from(Lead))
    open_follow_ups = db.session.scalar(select(func.count()).select_from(FollowUpTask)
                                        .where(FollowUpTask.status == TaskStatus.OPEN))
    if leads == open_follow_ups == size:
        echo(f"Reusing the scratch set: {size:,} open follow-ups.")
        return {"open follow-ups": size, "built now": False}
    echo(f"Building the scratch set: {size:,} leads with an open follow-up each …")
    started = time.perf_counter()
    _build(size, echo)
    echo(f"Built in {time.perf_counter() - started:.0f} s.")
    return {"open follow-ups": size, "built now": True}


def reset(size: int) -> None:
    """Take away whatever the measures added: the scratch set holds the brand and `size` leads again."""
    for table in reversed(db.metadata.sorted_tables):
        if table.name in BUILT:
            continue
        statement = delete(table)
        if table.name in NUMBERED:
            statement = statement.where(table.c.id > size)
        db.session.execute(statement)
    db.session.commit()


def _build(size: int, echo) -> None:
    """The brand, then `size` leads already contacted, each with its customer and a follow-up due within 90 days,
    spread over every consultant in turn; written in batches as the demo writes its data."""
    generate.reset_database()
    rng = random.Random(SEED)
    brand, _users = generate._write_brand(rng, size)
    db.session.commit()
    staff = [(dealer.id, consultant) for dealer in brand.dealers for consultant in dealer.consultant_ids]
    blank = {name: dict.fromkeys(db.metadata.tables[name].c.keys()) for name in NUMBERED}
    models, now = list(names.MODELS), utcnow()
    levels = (IntentLevel.H, IntentLevel.A, IntentLevel.A, IntentLevel.B, IntentLevel.B, IntentLevel.C)
    with click.progressbar(length=size, label="Scratch leads") as bar:
        for start in range(0, size, BATCH):
            rows = {name: [] for name in NUMBERED}
            for index in range(start, min(size, start + BATCH)):
                number = index + 1
                dealer_id, consultant_id = staff[index % len(staff)]
                arrived = now - timedelta(days=1 + index % 60, minutes=index % 600)
                contacted = arrived + timedelta(minutes=20)
                due = now + timedelta(days=1 + index % 90, minutes=index % 600)
                name, _pinyin = names.person(rng)
                rows["customers"].append({**blank["customers"], "id": number, "oem_id": 1, "name": name,
                                          "phone_e164": names.mobile(names.CUSTOMER_PREFIXES, index),
                                          "created_at": arrived, "updated_at": arrived})
                rows["leads"].append({
                    **blank["leads"], "id": number, "oem_id": 1, "customer_id": number, "dealer_id": dealer_id,
                    "consultant_id": consultant_id, "origin": Origin.DEALER, "source": Source.WALK_IN,
                    "model_of_interest": models[index % len(models)], "intent_level": levels[index % len(levels)],
                    "stage": Stage.CONTACTED, "arrived_at": arrived, "assigned_at": arrived,
                    "first_contact_at": contacted, "first_contact_due_at": arrived + timedelta(minutes=30),
                    "next_follow_up_at": due, "last_contact_at": contacted, "last_contact_kind": ActivityKind.CALL,
                    "last_contact_outcome": Outcome.REACHED, "created_by_id": consultant_id, "created_at": arrived,
                    "updated_at": contacted})
                rows["follow_up_tasks"].append({
                    **blank["follow_up_tasks"], "id": number, "lead_id": number, "consultant_id": consultant_id,
                    "due_at": due, "status": TaskStatus.OPEN,
                    "purpose": names.FOLLOW_UP_PURPOSES[index % len(names.FOLLOW_UP_PURPOSES)],
                    "created_at": contacted})
            generate._insert(rows)
            db.session.commit()
            bar.update(len(rows["leads"]))
    generate._restart_id_sequences()
    db.session.commit()
    analyse()
    db.engine.dispose()  # new connections start with the app's own SQLite settings, not the bulk load's


def analyse() -> None:
    """Fresh planner statistics after many rows changed, as autovacuum or a DBA would keep them."""
    if db.engine.dialect.name == "postgresql":
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
