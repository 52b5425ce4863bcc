"""Importing lead files: every parsed row ends created, merged into an existing customer, or skipped with a
reason that names the row; a re-import of the same file creates nothing new.

For each row (`import_batch`):
1. Its import key (the provider's id, else phone + source + request time) already imported → skipped; so is a
   row whose person was erased since (app.services.erasure keeps their keys as hashes): an old file does not
   bring them back.
2. The person (customer by phone, brand-wide) has an open lead → merged: no second lead; the arrival is noted
   in that lead's history so its consultant sees the repeat.
3. The person is known without an open lead → merged: a new lead on the existing customer.
4. Otherwise → created: a new customer and lead.
New leads keep the file's source, provider and consent scope, and are routed at once: an importing manager's
leads go to their dealer's rotation; the lead desk's go by the brand's rules (city, province), or wait in the
desk's inbox when no rule matches.

Rows go in batches of BATCH (`import_batch`, which does not commit): the command line's `import_rows` commits
batch by batch, and a job of the import page (app.services.import_jobs) commits each batch together with the
job's progress.
"""
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import (
    CLOSED_STAGES, Activity, ActivityKind, ConsentMethod, Customer, ImportedRow,
    IntentLevel, Lead, Origin, Role, Source, User, utcnow,
)
from app.services import consent_changes, routing
from app.services.erasure import erased_import_key
from app.services.lead_files import LeadRow, ParsedFile

BATCH = 500  # rows per transaction: progress is saved as it goes, and a failure loses at most one batch


@dataclass
class ImportReport:
    created: int = 0
    merged: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    warnings: list[str] = field(default_factory=list)

    def add(self, batch: "ImportReport") -> None:
        """Count a batch's outcome into this report."""
        self.created += batch.created
        self.merged += batch.merged
        self.skipped += batch.skipped


def import_rows(user: User, parsed: ParsedFile, progress=None) -> ImportReport:
    """Import a parsed file as `user` (a lead desk agent or a dealer's manager), committing batch by batch.

    :param progress: called with the number of rows done after each batch (for a progress bar).
    """
    report = ImportReport(skipped=[(row.line, row.reason) for row in parsed.skipped], warnings=list(parsed.warnings))
    rules = routing.Rules(user.oem_id)
    for start in range(0, len(parsed.rows), BATCH):
        report.add(import_batch(user, parsed.rows[start:start + BATCH], rules))
        db.session.commit()
        if progress:
            progress(min(start + BATCH, len(parsed.rows)))
    report.skipped.sort()
    return report


def import_batch(user: User, rows: list[LeadRow], rules: routing.Rules) -> ImportReport:
    """Create, merge or skip each of a batch's rows and route the new leads, without committing: the caller
    commits the batch together with its own record of progress, so a batch is saved whole or not at all.

    :param rows: at most BATCH rows (their reads are one query each for the whole batch).
    :param rules: the brand's routing rules, read once per import.
    """
    report = ImportReport()
    known = _Known(user.oem_id, rows)
    for row in rows:
        with db.session.no_autoflush:
            outcome = _import_row(user, row, known)
        if outcome == "created":
            report.created += 1
        elif outcome == "merged":
            report.merged += 1
        else:
            report.skipped.append((row.line, outcome))
    db.session.flush()  # the batch's rows in a few multi-row INSERTs; then route each new lead
    turns = routing.Turns()  # each dealer locked and read once for the batch
    with db.session.no_autoflush:  # the routing's rows go in with the commit, in multi-row INSERTs too
        for lead, row in known.new_leads:
            _route(user, lead, row, rules, turns)
    return report


class _Known:
    """What the database already holds about a batch's rows, read in three queries instead of three a row."""

    def __init__(self, oem_id: int, batch: list[LeadRow]):
        keys = [_key(row) for row in batch]
        phones = [row.phone_e164 for row in batch]
        self.keys = set(db.session.scalars(select(ImportedRow.import_key).where(
            ImportedRow.oem_id == oem_id, ImportedRow.import_key.in_(keys + [erased_import_key(k) for k in keys]))))
        self.customers = {c.phone_e164: c for c in db.session.scalars(select(Customer).where(
            Customer.oem_id == oem_id, Customer.phone_e164.in_(phones)))}
        self.new_leads: list[tuple[Lead, LeadRow]] = []
        phone_of = {c.id: c.phone_e164 for c in self.customers.values()}
        self.open_leads = {}  # by phone: customers made in this batch have no id yet
        for lead in db.session.scalars(select(Lead).where(
                Lead.customer_id.in_(list(phone_of)), Lead.stage.not_in(CLOSED_STAGES)).order_by(Lead.arrived_at)):
            self.open_leads[phone_of[lead.customer_id]] = lead  # the newest wins


def _key(row: LeadRow) -> str:
    when = row.requested_at.isoformat() if row.requested_at else ""
    return (row.external_id or f"{row.phone_e164}|{row.source}|{when}")[:200]


def _import_row(user: User, row: LeadRow, known: _Known) -> str:
    key = _key(row)
    if key in known.keys:
        return _("%(label)s: already imported", label=_("row %(number)d", number=row.line))
    if erased_import_key(key) in known.keys:
        return _("%(label)s: this person was erased on their request; not imported again",
                 label=_("row %(number)d", number=row.line))
    known.keys.add(key)
    customer = known.customers.get(row.phone_e164)
    open_lead = known.open_leads.get(row.phone_e164)
    if open_lead is not None:
        db.session.add(Activity(lead=open_lead, user_id=user.id, kind=ActivityKind.NOTE,
                                summary=f"arrived_again: {row.provider or row.source}", note=row.comments))
        _remember(user, key, open_lead)
        return "merged"
    existing = customer is not None
    if not existing:
        customer = Customer(oem_id=user.oem_id, name=row.name, phone_e164=row.phone_e164, email=row.email,
                            wechat_id=row.wechat_id, city=row.city)
        db.session.add(customer)
        known.customers[row.phone_e164] = customer
    consent_changes.collected(customer, row.consent_channels, ConsentMethod.IMPORT, row.provider or row.source, user)
    from_dealer = user.role is Role.MANAGER
    lead = Lead(oem_id=user.oem_id, customer=customer, origin=Origin.DEALER if from_dealer else Origin.OEM,
                source=Source(row.source), provider=row.provider, model_of_interest=row.model_of_interest,
                intent_level=IntentLevel(row.intent_level) if row.intent_level else IntentLevel.A,
                arrived_at=row.requested_at or utcnow(), created_by_id=user.id,
                dealer_id=user.dealer_id if from_dealer else None)
    db.session.add(lead)
    known.new_leads.append((lead, row))
    known.open_leads[row.phone_e164] = lead
    _remember(user, key, lead)
    return "merged" if existing else "created"


def _route(user: User, lead: Lead, row: LeadRow, rules: routing.Rules, turns: routing.Turns) -> None:
    """A manager's import goes to their dealer's rotation; the desk's by the brand's rules (or waits)."""
    if lead.dealer_id is not None:
        lead.dealer = user.dealer
        routing.assign_in_dealer(lead, user, turns)
        return
    dealer = rules.dealer_for(row.city, row.province)
    if dealer is not None:
        routing.route(user, lead, dealer, turns)


def _remember(user: User, key: str, lead: Lead) -> None:
    db.session.add(ImportedRow(oem_id=user.oem_id, import_key=key, lead=lead))
