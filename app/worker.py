"""The worker: the app's background duties, run on a timer beside the web processes (`flask --app app worker`).

Each pass (`run_once`):
1. the first-contact clock's sweep: breaches escalated to the managers, leads nobody called in time returned
   to their pool (app.services.first_contact_clock);
2. recycling of leads nobody touched for their dealer's recycle period (app.services.pools), at most every
   RECYCLE_EVERY: it reads the open leads of every dealer, and a day-scale rule needs no minute-scale checks;
3. lead imports whose web thread died (a deploy, a crash) carried on to their end (app.services.import_jobs).
Every step commits its own batches, so a worker stopped mid-pass loses nothing and the next pass carries on.
Rows are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers can run at once.
"""
import logging
import signal
import threading
from datetime import datetime, timedelta

from app.models import utcnow
from app.services import first_contact_clock, import_jobs, pools

log = logging.getLogger(__name__)
RECYCLE_EVERY = timedelta(minutes=15)


class Worker:
    """Runs passes until stopped; remembers when it last recycled."""

    def __init__(self):
        self.last_recycled: datetime | None = None
        self.stopping = threading.Event()

    def run_once(self, now: datetime | None = None) -> dict[str, int]:
        """One pass over every duty; returns what each did (for the log and for tests)."""
        now = now or utcnow()
        swept = first_contact_clock.sweep(now)
        done = {"breached": swept.breached, "returned": swept.returned, "recycled": 0, "imports": 0}
        if self.last_recycled is None or now - self.last_recycled >= RECYCLE_EVERY:
            done["recycled"] = pools.recycle(now)
            self.last_recycled = now
        for import_id in import_jobs.interrupted_ids(now):
            import_jobs.run(import_id)
            done["imports"] += 1
        if any(done.values()):
            log.info("worker pass: %s", done)
        return done

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
