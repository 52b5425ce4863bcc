"""The worker: the app's background duties, run on a timer beside the web processes (`flask --app app worker`).

Each pass (`run_once`):
1. the first-contact clock's sweep: breaches escalated to the managers, leads nobody called in time returned
   to their pool (app.services.first_contact_clock);
2. reminders of follow-ups that fell due and appointments within the hour (app.services.reminders);
3. at most every DIGEST_EVERY, the morning digests of the dealers whose digest time has come;
4. at most every RECYCLE_EVERY, recycling of leads nobody touched for their dealer's recycle period
   (app.services.pools): it reads the open leads of every dealer, and a day-scale rule needs no minute-scale checks;
5. lead imports whose web thread died (a deploy, a crash) carried on to their end (app.services.import_jobs);
6. the outbox (app.services.outbox): new notifications fanned out to the channels, deferred past the quiet hours
   of the user's dealer, and what is due delivered, retried with backoff;
7. at most every PURGE_EVERY, Idempotency-Keys of offline entries older than their keeping time forgotten
   (app.services.idempotency).
Every step commits its own batches, so a worker stopped mid-pass loses nothing and the next pass carries on.
Rows are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers can run at once.
"""
import logging
import signal
import threading
from datetime import datetime, timedelta

from app.models import utcnow
from app.services import first_contact_clock, idempotency, import_jobs, outbox, pools, reminders

log = logging.getLogger(__name__)
RECYCLE_EVERY = timedelta(minutes=15)
DIGEST_EVERY = timedelta(minutes=5)
PURGE_EVERY = timedelta(hours=1)


class Worker:
    """Runs passes until stopped; remembers when it last ran its less frequent duties."""

    def __init__(self):
        self.last_run: dict[str, datetime] = {}
        self.stopping = threading.Event()

    def run_once(self, now: datetime | None = None) -> dict[str, int]:
        """One pass over every duty; returns what each did (for the log and for tests)."""
        now = now or utcnow()
        swept = first_contact_clock.sweep(now)
        done = {"breached": swept.breached, "returned": swept.returned,
                "follow_ups_due": reminders.follow_ups_due(now), "appointments_soon": reminders.appointments_soon(now),
                "digests": self._every(DIGEST_EVERY, now, reminders.digests),
                "recycled": self._every(RECYCLE_EVERY, now, pools.recycle), "imports": 0}
        for import_id in import_jobs.interrupted_ids(now):
            import_jobs.run(import_id)
            done["imports"] += 1
        done["fanned_out"] = outbox.fan_out(now)
        done["delivered"] = outbox.deliver(now)
        done["keys_purged"] = self._every(PURGE_EVERY, now, idempotency.purge)
        if any(done.values()):
            log.info("worker pass: %s", done)
        return done

    def _every(self, interval: timedelta, now: datetime, duty) -> int:
        """Run `duty(now)` if it has not run for `interval` (or ever) in this worker; what it did, else 0."""
        last = self.last_run.get(duty.__name__)
        if last is not None and now - last < interval:
            return 0
        self.last_run[duty.__name__] = now
        return duty(now)

    def run(self, interval: float) -> None:
        """Pass after pass, `interval` seconds apart, until SIGTERM or SIGINT."""
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signal_number, lambda *_: self.stopping.set())
        while not self.stopping.is_set():
            try:
                self.run_once()
            except Exception:  # a failed pass is logged and retried on the next one; the worker stays up
                log.exception("worker pass failed")
                from app.extensions import db

                db.session.rollback()
            self.stopping.wait(interval)
