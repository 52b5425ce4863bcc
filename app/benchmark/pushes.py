"""Pushes per second: the worker's Web Push delivery (app.services.outbox.deliver, the channel's claim, encrypt,
sign, post and record) to the loopback push service (app.benchmark.push_service) in a process of its own, which
checks each push's VAPID signature and decrypts it as a browser would.

`count` devices of half as many consultants each get one notification (the morning digest, which quiet hours do
not hold back); the outbox fans them out (timed apart), then deliveries are sent until none is due."""
import json
import math
import subprocess
import sys
import time

import click
from sqlalchemy import func, insert, select

from app import ROOT
from app.benchmark import scratch
from app.benchmark.report import Row, Target
from app.extensions import db
from app.models import DeliveryState, PushDelivery, PushSubscription, Role, User, utcnow
from app.services import notices, outbox, vapid
from app.services.channels import CHANNELS

TARGET = Target(300, below=False)


def measure(size: int, count: int, echo=click.echo) -> list[Row]:
    echo(f"  {count:,} pushes to the loopback push service …")
    scratch.reset(size)
    users = list(db.session.scalars(select(User.id).where(User.role == Role.CONSULTANT).order_by(User.id)
                                    .limit(math.ceil(count / 2))))
    with subprocess.Popen([sys.executable, "-m", "app.benchmark.push_service", "--browsers", str(count), "--key",
                           vapid.public_key_b64url()], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True) as service:
        try:
            tried, seconds, fanned = _deliver(service, users)
        finally:
            service.stdin.close()
            received = json.loads(service.stdout.readline() or "{}")
            _hang_up()
    sent = db.session.scalar(select(func.count()).select_from(PushDelivery)
                             .where(PushDelivery.state == DeliveryState.SENT))
    scratch.reset(size)
    if sent != count or received.get("decrypted") != count:
        raise click.ClickException(f"pushes: {sent} of {count} sent, the service read {received}")
    return [Row("pushes", f"Pushes per second ({count:,} devices, loopback push service)", "pushes/s", TARGET,
                value=round(sent / seconds, 1),
                detail={"devices": count, "users": len(users), "sent": sent, "tried": tried,
                        "seconds": round(seconds, 3), "fan_out_seconds": round(fanned, 3), "service": received})]


def _deliver(service: subprocess.Popen, users: list[int]) -> tuple[int, float, float]:
    """Subscribe a device per browser the service made, tell each user once, fan out, then deliver until nothing
    is due; returns the deliveries tried, the seconds they took, and the seconds of the fan-out."""
    line = service.stdout.readline()
    if not line:
        raise click.ClickException("the push service did not start (it needs the test extras: "
                                   "pip install -e \".[test]\")")
    browsers = json.loads(line)
    now = utcnow()
    db.session.execute(insert(PushSubscription), [
        {"user_id": users[index % len(users)], "endpoint": browser["endpoint"], "p256dh": browser["p256dh"],
         "auth": browser["auth"], "user_agent": "bench", "created_at": now}
        for index, browser in enumerate(browsers)])
    notices.add_many([{"user_id": user_id, "kind": "digest", "lead_id": None, "url": "/today", "body": None,
                       "title": "7 follow-ups and 2 appointments today", "created_at": now,
                       "dedupe_key": f"bench:{user_id}:{now.isoformat()}"} for user_id in users])
    db.session.commit()
    started = time.perf_counter()
    outbox.fan_out(now)
    fanned = time.perf_counter() - started
    started, tried = time.perf_counter(), 0
    while done := outbox.deliver(utcnow()):
        tried += done
    seconds = time.perf_counter() - started
    return tried, seconds, fanned


def _hang_up() -> None:
    """Close the channel's pooled keep-alive connections to the push service, which stops now."""
    for channel in CHANNELS:
        client = vars(channel).pop("client", None)
        if client is not None:
            client.close()
