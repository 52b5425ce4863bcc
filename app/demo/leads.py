"""Lead stories for the demo: each lead with its customer, consents, history, next step and appointments."""
import math
from collections import Counter
from dataclasses import dataclass, field

from app.demo import DAY, HOUR, MINUTE, Brand, DealerStaff, dt, names, office
from app.demo.names import mobile, person, weighted_pool
from app.models import (
    ActivityKind, ApprovalKind, ApprovalStatus, AppointmentKind, AppointmentStatus, Channel, ConsentMethod, Origin,
    Outcome, ReturnReason, Source, Stage, TaskStatus,
)
from app.services import milestones

HISTORY_DAYS = 120
TABLES = ("customers", "consent_records", "leads", "activities", "follow_up_tasks", "appointments",
          "approval_requests")
# Pools to draw from with pool[int(random() * len(pool))]: far cheaper per row than random.choices.
STAGES, SOURCES, MODELS = weighted_pool(names.STAGES), weighted_pool(names.SOURCES), weighted_pool(names.MODELS)
INTENTS = {stage: weighted_pool(weights) for stage, weights in names.INTENTS.items()}
LOST_DEPTH = weighted_pool(names.LOST_DEPTH)
CONTACTS = (ActivityKind.CALL, ActivityKind.SMS, ActivityKind.WECHAT, ActivityKind.VISIT, ActivityKind.TEST_DRIVE)
RECYCLE_AFTER = 14 * DAY  # app.services.pools' default recycle period
# Every lead row names every column (rows are written in bulk); contacted leads keep no first-contact clock.
NO_CLOCK = dict.fromkeys(("first_contact_due_at", "return_due_at", "sla_breached_at", "returned_at", "return_reason"))
REMOTE_SOURCES = [s for s in SOURCES if s not in names.CONTACT_ON_ARRIVAL]  # how a lead can wait for a call
# The step of the funnel a history entry reaches: a stage's milestone entry, and any visit or test drive.
REACHES = {event: stage for stage, event in names.MILESTONES.items()}
VISITS = {ActivityKind.VISIT: Stage.VISITED, ActivityKind.TEST_DRIVE: Stage.TEST_DRIVE}


@dataclass(slots=True)
class Story:
    """One lead while its rows are written: where it arrived, who works it, and what has happened."""

    id: int
    dealer: DealerStaff
    consultant: int
    stage: Stage
    plan: str | None  # the next step: fresh, overdue, today, visit_today, upcoming or none
    source: Source
    times: list[float] = field(default_factory=list)  # of the activities, first contact first
    events: list[tuple] = field(default_factory=list)  # the activities' (kind, outcome, summary)
    reason: tuple[str, str] | None = None  # why a closed lead was lost or invalid: (code, note)


class LeadStories:
    """Builds leads in batches of rows; ids count from 1 in every table, so rows reference each other directly."""

    def __init__(self, rng, brand: Brand, fixed: int):
        """:param fixed: how many of the first leads go to the fixed demo consultant."""
        self.rng, self.r, self.brand, self.now, self.fixed = rng, rng.random, brand, brand.now, fixed
        self.next_id = dict.fromkeys(TABLES, 1)
        self.pending = Counter()  # pending approvals so far, by dealer id
        self.rows: dict[str, list[dict]] = {}
        self.recent: list[int] = []

    def batch(self, start: int, stop: int) -> dict[str, list[dict]]:
        """Rows for the leads numbered start to stop - 1, keyed by table name."""
        self.rows = {table: [] for table in TABLES}
        self.recent = []  # this batch's customers, for the few who come back as a second lead
        for index in range(start, stop):
            self._lead(index)
        return self.rows

    def _pick(self, pool):
        """A random item of a sequence."""
        return pool[int(self.r() * len(pool))]

    def _add(self, table: str, **row) -> int:
        """Append a row with the table's next id and return the id."""
        row["id"] = self.next_id[table]
        self.next_id[table] += 1
        self.rows[table].append(row)
        return row["id"]

    def _lead(self, index: int) -> None:
        """One lead's whole story; the fixed consultant's first leads follow names.FIXED_PLANS."""
        r, brand, now = self.r, self.brand, self.now
        if index < self.fixed:
            dealer, consultant = brand.dealers[0], brand.fixed_consultant_id
            stage, plan = names.FIXED_PLANS[index] if index < len(names.FIXED_PLANS) else (None, None)
        else:
            dealer, stage, plan = self._pick(brand.dealers), None, None
            consultant = self._pick(dealer.consultant_ids[1 if dealer is brand.dealers[0] else 0:])  # see above
        stage = stage or self._pick(STAGES)
        if plan is None and stage.is_open:  # the next step: ~5 % none, ~15 % overdue, ~20 % today, else later
            u = r()
            plan = "none" if u < 0.05 else "overdue" if u < 0.2 else "today" if u < 0.4 else "upcoming"
        reused = bool(self.recent) and r() < 0.02  # the same person again: a repeat purchase or another portal
        sources = names.RESENDS if reused else REMOTE_SOURCES if stage is Stage.NEW else SOURCES
        story = Story(self.next_id["leads"], dealer, consultant, stage, plan, self._pick(sources))
        if plan == "fresh":
            age = (5 + r() * 50) * MINUTE
        elif stage is Stage.NEW:  # exponential: most uncontacted leads are hours old, a few are forgotten
            age = min(-math.log(1.0 - r()) * 1.5 * DAY, 30 * DAY)
        else:
            low = 5 if plan == "overdue" else names.MIN_AGE_DAYS[stage]
            age = (low + (HISTORY_DAYS - low) * r() ** 1.6) * DAY  # recent leads are more common
        at_once, oem = story.source in names.CONTACT_ON_ARRIVAL, story.source in names.OEM_SOURCES
        arrived = min(office(now - age, dealer.utc_offset), now - MINUTE) if at_once else now - age
        routed_by = self._pick(brand.idcc_ids) if oem else None
        routed = self._soon(arrived, (2 + r() * 28) * MINUTE) if oem else None
        # Walk-ins are served at once; others wait minutes mostly, hours when the desk or the manager is slow.
        wait = r() * 3 if at_once else (1 + r() * 19) if r() < 0.7 else (20 + r() * 340)
        assigned = self._soon(routed or arrived, wait * MINUTE)
        customer_id = self._pick(self.recent) if reused else self._customer(story, arrived, routed_by or consultant)
        intent = names.H if plan == "fresh" else self._pick(INTENTS[stage])
        self._history(story, routed_by, assigned)
        next_due = self._open_task(story, intent)
        self._appointments(story)
        self._approvals(story)
        closed = not stage.is_open
        # The latest contact in the history, kept on the lead as the app keeps it (Today shows it on each row).
        history = zip(reversed(story.events), reversed(story.times))
        last = next(((at, kind, outcome) for (kind, outcome, _), at in history if kind in CONTACTS), (None, None, None))
        lead = dict(
            oem_id=brand.oem_id, customer_id=customer_id, dealer_id=dealer.id, consultant_id=consultant,
            origin=Origin.OEM if oem else Origin.DEALER, source=story.source,
            provider=names.PROVIDERS.get(story.source), model_of_interest=self._pick(MODELS), intent_level=intent,
            stage=stage, arrived_at=dt(arrived), routed_at=routed and dt(routed), routed_by_id=routed_by,
            assigned_at=dt(assigned), first_contact_at=None if stage is Stage.NEW else dt(story.times[0]),
            next_follow_up_at=next_due and dt(next_due), closed_at=dt(story.times[-1]) if closed else None,
            last_contact_at=last[0] and dt(last[0]), last_contact_kind=last[1], last_contact_outcome=last[2],
            created_by_id=routed_by or consultant, created_at=dt(arrived), updated_at=dt(story.times[-1]),
            **self._milestones(story),
        )
        if stage is Stage.NEW:
            lead.update(self._first_contact_clock(story, oem, assigned))
        elif not closed and next_due is None and (last[0] or assigned) + RECYCLE_AFTER <= now:  # after its history
            back = max((last[0] or assigned) + RECYCLE_AFTER, story.times[-1])
            lead.update(self._back_in_pool(story, oem, back, ReturnReason.UNTOUCHED))
        else:
            lead.update(NO_CLOCK)
        self._add("leads", **lead)

    def _milestones(self, story: Story) -> dict:
        """The lead's funnel milestones as the app records them (app.services.milestones): each step its history
        reaches (a visit or test drive, a stage's milestone entry), then its stage by its last entry."""
        row = dict.fromkeys(milestones.MILESTONES.values())
        for event, at in zip(story.events, story.times):  # in time order
            step = REACHES.get(event) or VISITS.get(event[0])
            if step is not None:
                milestones.reach_row(row, step, dt(at))
        milestones.reach_row(row, story.stage, dt(story.times[-1]))  # sets nothing for new, lost and invalid
        return row

    def _first_contact_clock(self, story: Story, oem: bool, assigned: float) -> dict:
        """An uncontacted lead as the worker leaves it (app.services.first_contact_clock, default limits): its
        deadlines while it is under a day old, else back in a pool (the desk's for the brand's leads)."""
        due, back = assigned + 30 * MINUTE, assigned + DAY
        if back > self.now:
            return {**NO_CLOCK, "first_contact_due_at": dt(due), "return_due_at": dt(back),
                    "sla_breached_at": dt(due) if due <= self.now else None}
        return self._back_in_pool(story, oem, back, ReturnReason.NOT_CONTACTED)

    def _back_in_pool(self, story: Story, oem: bool, at: float, reason: ReturnReason) -> dict:
        """A lead the worker took back at `at` (app.services.pools): the desk's pool for the brand's leads."""
        self._activity(story, None, (ActivityKind.ASSIGNMENT, None, "returned_to_desk" if oem else "returned_to_pool"),
                       at)
        return {**NO_CLOCK, "consultant_id": None, "dealer_id": None if oem else story.dealer.id,
                "returned_at": dt(at), "return_reason": reason, "next_follow_up_at": None}

    def _soon(self, since: float, delay: float) -> float:
        """since + delay, or a random moment up to now for a lead too fresh for the whole delay to have passed."""
        u = self.r()  # drawn either way: how many numbers a lead draws must not depend on the clock
        return since + delay if since + delay < self.now else since + (self.now - since) * u

    def _customer(self, story: Story, arrived: float, recorded_by: int) -> int:
        """A new customer with a unique mobile number and the consents their source collected."""
        r = self.r
        index = self.next_id["customers"] - 1
        name, pinyin = person(self.rng)
        plain = pinyin.replace(".", "")
        email = f"{plain}{index % 997}@{names.MAIL_DOMAINS[index % 6]}" if r() < 0.15 else None
        wechat = f"{plain}_{1965 + int(r() * 40)}" if r() < 0.35 else None
        customer_id = self._add(
            "customers", oem_id=self.brand.oem_id, name=name, phone_e164=mobile(names.CUSTOMER_PREFIXES, index),
            email=email, wechat_id=wechat, city=story.dealer.city, created_at=dt(arrived), updated_at=dt(arrived),
        )
        self.recent.append(customer_id)
        method = names.CONSENT_METHODS[story.source]
        by = None if method in (ConsentMethod.PORTAL, ConsentMethod.WEB_FORM) else recorded_by  # no one of ours
        for channel, chance in ((Channel.CALL, 0.92), (Channel.SMS, 0.5), (Channel.WECHAT, 1 if wechat else 0)):
            if r() < chance:
                self._add("consent_records", customer_id=customer_id, channel=channel, granted=True, method=method,
                          source=story.source.value, recorded_at=dt(arrived), recorded_by_id=by)
        return customer_id

    def _history(self, story: Story, routed_by: int | None, assigned: float) -> None:
        """Write the activities in order, from first contact to the close or now, and keep them in the story."""
        r, now, stage, dealer = self.r, self.now, story.stage, story.dealer
        if stage is Stage.NEW:
            story.times, story.events = [assigned], [names.ASSIGNED]
            self._activity(story, routed_by or dealer.manager_id, names.ASSIGNED, assigned)
            return
        u = r()  # assignment to first contact: mostly within 30 minutes, some hours, a few days
        delay = min(-math.log(1.0 - r()) * 8, 30) if u < 0.7 else 30 + r() * 210 if u < 0.9 else 240 + r() * 4080
        first = assigned if story.source in names.CONTACT_ON_ARRIVAL else min(now, assigned + delay * MINUTE)
        closed = not stage.is_open
        if stage is Stage.INVALID:
            events = [names.WRONG_NUMBER]
        else:  # a delivered lead skips the quote note so its history stays within six entries
            depth = self._pick(LOST_DEPTH) if stage is Stage.LOST else names.PATH.index(stage) - closed
            events = [names.OPENINGS.get(story.source, names.FIRST_CALL)] + [
                names.MILESTONES[s] for s in names.PATH[1:depth + 1]
                if not (stage is Stage.DELIVERED and s is Stage.NEGOTIATING)]
        if closed:
            events.append(names.CLOSINGS.get(stage, names.MILESTONES[Stage.DELIVERED]))
        for _ in range(int(r() * 3)):  # unanswered calls, messages: the everyday work between milestones
            if len(events) < 6:
                events.insert(1 + int(r() * (len(events) - closed)), self._pick(names.FILLERS))
        quiet_since = dealer.today_start - HOUR  # an overdue lead has seen no activity since before today
        u = r()  # drawn before the branches, which depend on the clock: the same seed, the same numbers
        pinned = True  # the last entry falls at `end`
        if closed:
            end = min(now, max(first, office(first + (now - first) * (0.15 + 0.85 * u), dealer.utc_offset)))
        elif story.plan in ("overdue", "none") and quiet_since - first > 2 * HOUR:
            # quiet for a while, but not for the 14 days after which the worker recycles a lead to the pool
            end = quiet_since - min(quiet_since - first, 12 * DAY) * 0.7 * u
        else:  # and a lead too young to be overdue is due today instead
            story.plan, end, pinned = ("today" if story.plan == "overdue" else story.plan), now, False
        samples = sorted(first + (end - first) * r() for _ in range(len(events) - 1))
        times = [first] + [min(end, max(first, office(t, dealer.utc_offset))) for t in samples]
        if closed or (pinned and len(times) > 1):
            times[-1] = end
        if stage in names.CLOSINGS:
            story.reason = self._pick(names.LOST_REASONS if stage is Stage.LOST else names.INVALID_REASONS)
        story.times, story.events = times, events
        for position, (event, at) in enumerate(zip(events, times)):
            note = (story.reason and story.reason[1] if closed and position == len(events) - 1
                    else self._pick(names.CALL_NOTES) if event[1] is Outcome.REACHED and r() < 0.4 else None)
            self._activity(story, story.consultant, event, at, note)
        if len(times) > 1 and r() < 0.6:  # the follow-up that led to the second contact, ticked off then
            due = max(first, times[1] - r() * 6 * HOUR)
            self._add("follow_up_tasks", lead_id=story.id, consultant_id=story.consultant, due_at=dt(due),
                      status=TaskStatus.DONE, purpose=names.FOLLOW_UP_PURPOSES[0], done_at=dt(times[1]),
                      created_at=dt(first), reminded_at=dt(due) if due <= times[1] else None)

    def _activity(self, story: Story, user_id: int, event: tuple, at: float, note: str | None = None) -> None:
        """Append one history entry; event is (kind, outcome, summary)."""
        kind, outcome, summary = event
        self._add("activities", lead_id=story.id, user_id=user_id, kind=kind, outcome=outcome, summary=summary,
                  note=note, occurred_at=dt(at), created_at=dt(at))

    def _open_task(self, story: Story, intent) -> float | None:
        """Write an open lead's next follow-up as its plan says; return when it is due (None: no next step)."""
        now, dealer, last = self.now, story.dealer, story.times[-1]
        if not story.stage.is_open or story.plan == "none":
            return None
        u, v = self.r(), self.r()  # both drawn whatever the plan, which the clock may have changed
        if story.stage is Stage.NEW:  # the first call, due half an hour after assignment
            due, purpose = last + 30 * MINUTE, "首次联系"
            if last + DAY <= now:  # nobody called for a day: the lead went back to a pool, its task with it
                self._add("follow_up_tasks", lead_id=story.id, consultant_id=story.consultant, due_at=dt(due),
                          status=TaskStatus.CANCELLED, purpose=purpose, done_at=dt(last + DAY), created_at=dt(last),
                          reminded_at=dt(due))
                return None
        else:
            if story.plan == "overdue":  # due after the last contact and before today: nothing happened since
                since = max(last, dealer.today_start - 12 * DAY)  # overdue for less than the recycle period
                due = max(last, office(since + (dealer.today_start - since) * (0.2 + 0.8 * u), dealer.utc_offset))
            elif story.plan in ("today", "visit_today"):
                due = max(now + 5 * MINUTE, office(now + (dealer.today_start + DAY - now) * u, dealer.utc_offset))
            else:  # the intent level sets how soon: H within two days, C within a month
                days = 1 + int(u * names.FOLLOW_UP_DAYS[intent])
                due = dealer.today_start + days * DAY + (9 + v * 11) * HOUR
            purpose = names.STAGE_PURPOSES.get(story.stage) or self._pick(names.FOLLOW_UP_PURPOSES)
        self._add("follow_up_tasks", lead_id=story.id, consultant_id=story.consultant, due_at=dt(due),
                  status=TaskStatus.OPEN, purpose=purpose, done_at=None, created_at=dt(last),
                  reminded_at=dt(due) if due <= now else None)  # as the worker's reminder sweep leaves it
        return due

    def _appointments(self, story: Story) -> None:
        """Visits booked for today and the coming days, and attended or missed ones in the past."""
        r, now, stage, times, events, dealer = self.r, self.now, story.stage, story.times, story.events, story.dealer

        def book(kind, starts, status, booked_at):
            self._add("appointments", lead_id=story.id, dealer_id=dealer.id, consultant_id=story.consultant,
                      kind=kind, starts_at=dt(starts), status=status, created_at=dt(min(booked_at, starts)),
                      note=self._pick(names.APPOINTMENT_NOTES) if r() < 0.2 else None,
                      reminded_at=dt(starts - HOUR) if starts - HOUR <= now else None)

        def slot(days):  # on the hour or half hour, 10:00–17:30 local
            return dealer.today_start + days * DAY + (10 + int(r() * 16) / 2) * HOUR

        if stage is Stage.INVITED and (story.plan == "visit_today" or r() < 0.55):
            days = 0 if story.plan == "visit_today" or r() < 0.25 else 1 + int(r() * 7)
            book(AppointmentKind.VISIT, slot(days), AppointmentStatus.BOOKED, times[-1])
        elif stage is Stage.INVITED and r() < 0.3:  # a no-show since the invitation: it needs a new date
            book(AppointmentKind.VISIT, min(now, office(times[-1] + (now - times[-1]) * r(), dealer.utc_offset)),
                 AppointmentStatus.NO_SHOW, times[-1])
        if names.MILESTONES[Stage.VISITED] in events and r() < 0.7:  # the booked visit that happened
            visit = events.index(names.MILESTONES[Stage.VISITED])
            before, at = times[visit - 1], times[visit]
            if r() < 0.2:  # and, for some, a booking missed before it
                book(AppointmentKind.VISIT, (before + at) / 2, AppointmentStatus.NO_SHOW, before)
            book(AppointmentKind.VISIT, at, AppointmentStatus.ATTENDED, before)
        if stage is Stage.ORDERED and r() < 0.5:
            book(AppointmentKind.DELIVERY, slot(1 + int(r() * 14)), AppointmentStatus.BOOKED, times[-1])
        elif stage is Stage.DELIVERED:
            book(AppointmentKind.DELIVERY, times[-1], AppointmentStatus.ATTENDED, times[-2])

    def _approvals(self, story: Story) -> None:
        """A few pending requests to mark a lead lost at every dealer, and approved ones behind closed leads."""
        r, dealer, last = self.r, story.dealer, story.times[-1]
        if story.stage in (Stage.CONTACTED, Stage.INVITED) and (
                self.pending[dealer.id] < 3 and r() < 0.25 or r() < 0.004):
            self.pending[dealer.id] += 1
            code, note = self._pick(names.LOST_REASONS)
            decision = dict(kind=ApprovalKind.MARK_LOST, reason=code, note=note,
                            status=ApprovalStatus.PENDING, decided_by_id=None, decided_at=None, decision_note=None,
                            created_at=dt(last + (self.now - last) * r()))
        elif story.reason and r() < 0.35:  # a sample, so the manager's decided requests are not empty
            lost = story.stage is Stage.LOST
            decision = dict(kind=ApprovalKind.MARK_LOST if lost else ApprovalKind.MARK_INVALID,
                            reason=story.reason[0], note=story.reason[1],
                            status=ApprovalStatus.APPROVED, decided_by_id=dealer.manager_id, decided_at=dt(last),
                            decision_note="同意", created_at=dt(max(story.times[-2], last - r() * DAY)))
        else:
            return
        self._add("approval_requests", lead_id=story.id, dealer_id=dealer.id, requested_by_id=story.consultant,
                  **decision)
