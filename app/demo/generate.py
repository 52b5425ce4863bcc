"""Reset the database and fill it with the demo brand; run() is what `flask demo` and `flask serve` call."""
import gc
import random
import time
from collections import Counter
from contextlib import nullcontext
from datetime import datetime, timedelta, timezone
from operator import itemgetter
from zoneinfo import ZoneInfo

import click
from sqlalchemy import insert, text

from app.demo import DAY, Brand, DealerStaff, names
from app.demo.leads import LeadStories
from app.demo.names import mobile, person
from app.extensions import db
from app.models import Customer, IntentLevel, Lead, Origin, Role, Source, utcnow
from app.services.accounts import hash_password

DOMAIN = "hengyuan-demo.cn"
PASSWORD = "Showroom-2026"  # every demo account's; the README lists it with the fixed accounts below
FIXED_EMAILS = {role: f"{name}@{DOMAIN}" for role, name in (
    (Role.CONSULTANT, "consultant"), (Role.MANAGER, "manager"), (Role.IDCC_AGENT, "idcc"), (Role.OEM_ADMIN, "oem"))}
BATCH = 10_000  # leads per transaction, with their customers and history: memory stays flat at any size
LEADS_PER_DEALER = 2_500
MAX_DEALERS = 400  # the largest brand cited in the field
PROGRESS_FROM = 5_000  # smaller demos finish before a progress bar would say anything
DESK_PREFIXES = (172,)  # mobile numbers of the desk's waiting leads: no demo customer or user has this prefix
DESK_CALLS = (("广州", Source.OEM_HOTLINE, 4), ("北京", Source.AUTOHOME, 12), ("杭州", Source.BRAND_WEBSITE, 27),
              ("成都", Source.YICHE, 48))  # (city, source, minutes ago) of the leads waiting at the desk


def dealer_count(leads: int) -> int:
    """Dealers in a demo of this size: one per 2,500 leads, at least the eight base ones, at most 400."""
    return max(len(names.BASE_CITIES), min(MAX_DEALERS, round(leads / LEADS_PER_DEALER)))


def consultant_count(dealer_index: int, leads_per_dealer: int) -> int:
    """Consultants at one dealer: 4 to 6 in small demos, up to 19 in big ones (about 8,000 users at 1 M leads)."""
    return max(4 + dealer_index % 3, min(19, leads_per_dealer // 130))


def fixed_consultant_leads(leads: int) -> int:
    """Leads of the fixed demo consultant: a full day's list (about 60 open), never most of a small demo."""
    return min(leads, 70, max(len(names.FIXED_PLANS), leads // 10))


def run(leads: int, seed: int = 2026, echo=click.echo) -> str:
    """Empty every table, write the brand, its people and `leads` leads, and return a one-line summary.

    :param seed: the same seed gives the same people, leads and histories (times stay relative to now).
    :param echo: prints a line of progress.
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    echo(f"Emptying {db.engine.url.render_as_string(hide_password=True)} …")
    reset_database()
    brand, users = _write_brand(rng, leads)
    db.session.commit()
    echo(f"Wrote the brand: {len(brand.dealers)} dealers and {users:,} users. Writing {leads:,} leads …")
    waiting = min(len(DESK_CALLS), leads // 100)  # of the `leads`, these wait in the desk's inbox
    stories = LeadStories(rng, brand, fixed_consultant_leads(leads - waiting))
    counts = Counter()
    bar = click.progressbar(length=leads, label="Leads") if leads > PROGRESS_FROM else nullcontext()
    gc.disable()  # millions of new rows and no reference cycles: the collector would only rescan them
    try:
        with bar as progress:
            for start in range(0, leads - waiting, BATCH):
                stop = min(leads - waiting, start + BATCH)
                rows = stories.batch(start, stop)
                _insert(rows)
                db.session.commit()
                counts.update({table: len(table_rows) for table, table_rows in rows.items()})
                if progress is not None:
                    progress.update(stop - start)
    finally:
        gc.enable()
    _restart_id_sequences()
    db.session.commit()
    _desk_inbox(rng, waiting)
    counts["leads"] += waiting
    db.engine.dispose()  # new connections start with the app's own SQLite settings, not the bulk load's
    return (f"Demo data: {len(brand.dealers):,} dealers, {users:,} users, {counts['customers']:,} customers, "
            f"{counts['leads']:,} leads, {counts['activities']:,} activities, "
            f"{counts['follow_up_tasks']:,} follow-ups, {counts['appointments']:,} appointments "
            f"in {time.perf_counter() - started:.1f} s.")


def reset_database() -> None:
    """Delete every row of every table, children first; PostgreSQL does it in one TRUNCATE and restarts ids."""
    connection = db.session.connection()
    tables = db.metadata.sorted_tables
    if _postgresql():
        connection.execute(text(f"TRUNCATE {', '.join(_quote(t.name) for t in tables)} RESTART IDENTITY CASCADE"))
        db.session.commit()
        return
    # With foreign keys checked, SQLite deletes row by row; without, it drops each table's pages at once.
    # Pragmas apply only outside a transaction, and nothing has been written in this one yet.
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    for table in reversed(tables):
        connection.execute(table.delete())
    db.session.commit()
    connection = db.session.connection()
    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    connection.exec_driver_sql("VACUUM")  # give the space of a big demo back before a small one
    db.session.commit()


def _insert(rows: dict[str, list[dict]]) -> None:
    """Bulk-insert rows, parents first: COPY on PostgreSQL, Core executemany elsewhere; never ORM objects."""
    if _postgresql():
        _copy(rows)
        return
    connection = db.session.connection()
    # A demo can be written again: skip waiting for the disk, and keep the growing indexes in memory.
    connection.exec_driver_sql("PRAGMA synchronous=OFF")
    connection.exec_driver_sql(f"PRAGMA cache_size=-{256 * 1024}")
    for table in db.metadata.sorted_tables:
        if rows.get(table.name):
            connection.execute(insert(table), rows[table.name])


def _copy(rows: dict[str, list[dict]]) -> None:
    """Write rows with PostgreSQL's COPY, many times faster than INSERT, in the session's transaction.

    Values go as psycopg adapts them: enum members as their string values, and aware UTC datetimes with a
    +00:00 that PostgreSQL drops when it reads a zone-less timestamp column, leaving the UTC time stored.
    """
    cursor = db.session.connection().connection.driver_connection.cursor()
    for table in db.metadata.sorted_tables:
        table_rows = rows.get(table.name)
        if not table_rows:
            continue
        columns = list(table_rows[0])
        values = itemgetter(*columns)
        with cursor.copy(f"COPY {_quote(table.name)} ({', '.join(map(_quote, columns))}) FROM STDIN") as copy:
            for row in table_rows:
                copy.write_row(values(row))


def _restart_id_sequences() -> None:
    """On PostgreSQL, move each id sequence past the ids we assigned; SQLite counts on from max(id) itself."""
    if not _postgresql():
        return
    for table in db.metadata.sorted_tables:
        if "id" not in table.c:  # keyed by another table's id (push_preferences by user), no sequence of its own
            continue
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), COALESCE(MAX(id), 0) + 1, false) "
            f"FROM {_quote(table.name)}"
        ))


def _postgresql() -> bool:
    """Whether the session talks to PostgreSQL (else SQLite)."""
    return db.session.get_bind().dialect.name == "postgresql"


def _quote(name: str) -> str:
    """A table or column name quoted for raw SQL, where the dialect needs it."""
    return db.session.get_bind().dialect.identifier_preparer.quote(name)


# Regions differ (DOMAIN.md): in the south a hot prospect expects a call every 3 days, so South China overrides
# the brand's default for H; in Hebei that is pushy, so dealers there set a weekly rhythm of their own. Everyone
# else follows the built-in default (H 2, A 7, B 14, C 30, O 7 days).
SOUTH_RHYTHM = {"h_days": 3}
HEBEI_RHYTHM = {"h_days": 7, "a_days": 15, "b_days": 30, "c_days": 90}


def _cadence_policies(dealers: list[dict], regions: list[str]) -> list[dict]:
    """South China's override and a policy for each dealer in Hebei (rows of one shape, as COPY wants)."""
    blank = {"oem_id": None, "region_id": None, "dealer_id": None, "h_days": None, "a_days": None,
             "b_days": None, "c_days": None}
    rows = [{**blank, "region_id": regions.index(names.S) + 1, **SOUTH_RHYTHM}]
    rows += [{**blank, "dealer_id": dealer["id"], **HEBEI_RHYTHM} for dealer in dealers if dealer["province"] == "河北"]
    return [{"id": number, **row} for number, row in enumerate(rows, 1)]


def _routing_rules(dealers: list[dict], regions: list[str]) -> list[dict]:
    """The brand's routing rules: each city to its first dealer, and each region's first dealer as its fallback."""
    rules, cities, fallbacks = [], set(), set()
    for dealer in dealers:
        for scope, value, seen in (("city", dealer["city"], cities),
                                   ("region_fallback", regions[dealer["region_id"] - 1], fallbacks)):
            if value not in seen:
                seen.add(value)
                rules.append({"id": len(rules) + 1, "oem_id": 1, "scope": scope, "match_value": value,
                              "dealer_id": dealer["id"]})
    return rules


def _desk_inbox(rng: random.Random, count: int) -> None:
    """A few leads from the last hour's calls and web forms, waiting in the lead desk's inbox to be routed."""
    now = utcnow()
    for index, (city, source, minutes) in enumerate(DESK_CALLS[:count]):
        name, _pinyin = person(rng)
        customer = Customer(oem_id=1, name=name, phone_e164=mobile(DESK_PREFIXES, index), city=city)
        db.session.add(Lead(oem_id=1, customer=customer, origin=Origin.OEM, source=source,
                            provider=names.PROVIDERS.get(source), model_of_interest=rng.choice(list(names.MODELS)),
                            intent_level=IntentLevel.H if index % 2 == 0 else IntentLevel.A,
                            arrived_at=now - timedelta(minutes=minutes), created_by_id=1))
    db.session.commit()


def dealer_sites(count: int):
    """(city, code, name) per dealer: the base eight first, then every city in turn, a district name each."""
    cities = names.BASE_CITIES + names.MORE_CITIES
    per_city = Counter()
    for index in range(count):
        city = cities[index % len(cities)]
        number = per_city[city.code] = per_city[city.code] + 1
        # 400 dealers over 48 cities need at most 9 per city: the district suffixes suffice.
        place = city.district if number == 1 else names.DISTRICT_SUFFIXES[number - 2]
        yield city, f"{city.code}{number:02d}", f"{city.name}{place}恒远4S店"


def _write_brand(rng: random.Random, leads: int) -> tuple[Brand, int]:
    """Write the OEM, its three regions, the dealers and every user; return the brand and the user count."""
    now = datetime.now(timezone.utc)
    password_hash = hash_password(PASSWORD)  # scrypt is slow on purpose: hash once, share it
    users: list[dict] = []

    def add_user(role: Role, dealer_id: int | None = None, email: str | None = None) -> int:
        """Append a user with a unique email and mobile number; return their id."""
        user_id = len(users) + 1
        name, pinyin = person(rng)
        users.append({
            "id": user_id, "oem_id": 1, "dealer_id": dealer_id, "role": role, "name": name,
            "email": email or f"{pinyin}.{user_id}@{DOMAIN}", "phone_e164": mobile(names.USER_PREFIXES, user_id),
            "password_hash": password_hash, "active": True, "must_change_password": False, "session_version": 1,
            # The fixed accounts follow the browser's language; some others chose Chinese on every device.
            "locale": "zh_Hans" if email is None and rng.random() < 0.3 else None,
            "created_at": now, "last_sign_in_at": None,
        })
        return user_id

    idcc_ids = [add_user(Role.IDCC_AGENT, email=FIXED_EMAILS[Role.IDCC_AGENT]), add_user(Role.IDCC_AGENT)]
    add_user(Role.OEM_ADMIN, email=FIXED_EMAILS[Role.OEM_ADMIN])
    regions = list(names.REGIONS)
    count = dealer_count(leads)
    dealers, staff, epoch = [], [], now.timestamp()
    for index, (city, code, name) in enumerate(dealer_sites(count)):
        dealer_id = index + 1
        dealers.append({"id": dealer_id, "region_id": regions.index(city.region) + 1, "code": code, "name": name,
                        "city": city.name, "province": city.province, "time_zone": city.time_zone,
                        "phone_region": "CN", "active": True})
        offset = int(now.astimezone(ZoneInfo(city.time_zone)).utcoffset().total_seconds())
        first = index == 0  # the fixed manager and consultant work at the first dealer, in Guangzhou
        manager = add_user(Role.MANAGER, dealer_id, FIXED_EMAILS[Role.MANAGER] if first else None)
        consultants = [add_user(Role.CONSULTANT, dealer_id, FIXED_EMAILS[Role.CONSULTANT] if first and k == 0
                                else None) for k in range(consultant_count(index, leads // count))]
        staff.append(DealerStaff(dealer_id, city.name, offset, epoch - (epoch + offset) % DAY, manager, consultants))
    _insert({
        "oems": [{"id": 1, "code": "HY", "name": "恒远汽车 Hengyuan Auto"}],
        "cadence_policies": _cadence_policies(dealers, regions),
        "regions": [{"id": i + 1, "oem_id": 1, "code": code, "name": names.REGIONS[code]}
                    for i, code in enumerate(regions)],
        "dealers": dealers, "users": users,
        "routing_rules": _routing_rules(dealers, regions),
    })
    brand = Brand(1, epoch, staff, idcc_ids, staff[0].consultant_ids[0])
    return brand, len(users)
