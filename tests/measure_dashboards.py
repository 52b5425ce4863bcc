"""Server time of the dashboards on a large demo database, printed, never asserted (speed is measured, not tested).

Build the data once (`flask --app app demo --leads 1000000 --yes` with DATABASE_URL pointing at a scratch
database: 400 dealers, 8,000 users), then:

    DATABASE_URL=... .venv/bin/python tests/measure_dashboards.py [samples]

It signs in as the manager of the dealer with the most leads and as the brand's administrator, and times whole
requests in the process (routing, queries, rendering) for this month and a 90-day range: p50 and p95.
"""
import json
import statistics
import sys
import time

from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import Lead, Role, User


def timed(client, url: str, samples: int) -> dict:
    for _ in range(2):  # warm: caches of the database and of the templates
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.headers.get("Location"))
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    times.sort()
    return {"p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[min(len(times) - 1, round(0.95 * len(times)) - 1)], 1)}


def signed_in(app, user):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()  # Flask-Login's session id, "id.version"
        session["_fresh"] = True
    return client


def main(samples: int) -> None:
    app = create_app()
    with app.app_context():  # the people and the sizes; requests then run in contexts of their own
        dealer_id, leads = db.session.execute(
            select(Lead.dealer_id, func.count()).where(Lead.dealer_id.is_not(None)).group_by(Lead.dealer_id)
            .order_by(func.count().desc()).limit(1)).one()
        manager = db.session.scalar(select(User).where(User.dealer_id == dealer_id, User.role == Role.MANAGER))
        admin = db.session.scalar(select(User).where(User.role == Role.OEM_ADMIN))
        sizes = {"database": db.engine.dialect.name, "leads": db.session.scalar(select(func.count()).select_from(Lead)),
                 "dealers": db.session.scalar(select(func.count(func.distinct(Lead.dealer_id))))}
        manager_client, admin_client = signed_in(app, manager), signed_in(app, admin)
    today = time.strftime("%Y-%m-%d")
    ninety = "period=custom&from={}&to={}".format(
        time.strftime("%Y-%m-%d", time.localtime(time.time() - 89 * 86400)), today)
    print(json.dumps({
        **sizes,
        "dealer dashboard": {"dealer's leads": leads,
                             "this month": timed(manager_client, "/dashboard?period=month", samples),
                             "90 days": timed(manager_client, "/dashboard?" + ninety, samples)},
        "brand dashboard": {"this month": timed(admin_client, "/brand-dashboard?period=month", samples),
                            "90 days": timed(admin_client, "/brand-dashboard?" + ninety, samples)},
    }, indent=2))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
