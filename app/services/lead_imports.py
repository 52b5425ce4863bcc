"""Importing lead files: every parsed row ends created, merged into an existing customer, or skipped with a
reason that names the row; a re-import of the same file creates nothing new.

For each row (`import_rows`):
1. Its import key (the provider's id, else phone + source + request time) already imported → skipped.
2. The person (customer by phone, brand-wide) has an open lead → merged: no second lead; the arrival is noted
   in that lead's history so its consultant sees the repeat.
3. The person is known without an open lead → merged: a new lead on the existing customer.
4. Otherwise → created: a new customer and lead.
New leads keep the file's source, provider and consent scope, and are routed at once: an importing manager's
leads go to their dealer's rotation; the lead desk's go by the brand's rules (city, province), or wait in the
desk's inbox when no rule matches.
"""
from dataclasses import dataclass, field

from sqlalchemy import select

from app.extensions import db
from app.models import (
    CLOSED_STAGES, Activity, ActivityKind, Channel, ConsentMethod, ConsentRecord, Customer, ImportedRow,
    IntentLevel, Lead, Origin, Role, Source, User, utcnow,
)
from app.services import routing
from app.services.lead_files import LeadRow, ParsedFile

BATCH = 500  # rows per transaction: progress is saved as it goes, and a failure loses at most one batch


@dataclass
class ImportReport:
    created: int = 0
    merged: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    warnings: list[str] = field(default_factory=list)


def import_rows(user: User, parsed: ParsedFile, progress=None) -> ImportReport:
    """Import a parsed file as `user` (a lead desk agent or a dealer's manager), in batches.

    :param progress: called with the number of rows done after each batch (for a progress bar).
    """
    report = ImportReport(skipped=[(row.line, row.reason) for row in parsed.skipped], warnings=list(parsed.warnings))
    for start in range(0, len(parsed.rows), BATCH):
        for row in parsed.rows[start:start + BATCH]:
            outcome = _import_row(user, row)
            if outcome == "created":
                report.created += 1
            elif outcome == "merged":
                report.merged += 1
            else:
                report.skipped.append((row.line, outcome))
        db.session.commit()
        if progress:
            progress(min(start + BATCH, len(parsed.rows)))
    report.skipped.sort()
    return report


def _import_row(user: User, row: LeadRow) -> str:
    key = row.external_id or f"{row.phone_e164}|{row.source}|{row.requested_at.isoformat() if row.requested_at else ''}"
    if db.session.scalar(select(ImportedRow.id).where(ImportedRow.oem_id == user.oem_id,
                                                     ImportedRow.import_key == key[:200])):
        return f"row {row.line}: already imported"
    customer = db.session.scalar(select(Customer).where(Customer.oem_id == user.oem_id,
                                                        Customer.phone_e164 == row.phone_e164))
    open_lead = customer and db.session.scalar(select(Lead).where(
        Lead.customer_id == customer.id, Lead.stage.not_in(CLOSED_STAGES)).order_by(Lead.arrived_at.desc()).limit(1))
    if open_lead:
        db.session.add(Activity(lead_id=open_lead.id, user_id=user.id, kind=ActivityKind.NOTE,
                                summary=f"again via {row.provider or row.source}", note=row.comments))
        _remember(user, key, open_lead)
        return "merged"
    known = customer is not None
    if not known:
        customer = Customer(oem_id=user.oem_id, name=row.name, phone_e164=row.phone_e164, email=row.email,
                            wechat_id=row.wechat_id, city=row.city)
        db.session.add(customer)
        db.session.flush()
    for channel in row.consent_channels:
        db.session.add(ConsentRecord(customer_id=customer.id, channel=Channel(channel), granted=True,
                                     method=ConsentMethod.IMPORT, source=row.provider or row.source,
                                     recorded_by_id=user.id))
    lead = _new_lead(user, customer, row)
    _remember(user, key, lead)
    return "merged" if known else "created"


def _new_lead(user: User, customer: Customer, row: LeadRow) -> Lead:
    from_dealer = user.role is Role.MANAGER
    lead = Lead(oem_id=user.oem_id, customer=customer, origin=Origin.DEALER if from_dealer else Origin.OEM,
                source=Source(row.source), provider=row.provider, model_of_interest=row.model_of_interest,
                intent_level=IntentLevel(row.intent_level) if row.intent_level else IntentLevel.A,
                arrived_at=row.requested_at or utcnow(), created_by_id=user.id)
    db.session.add(lead)
    db.session.flush()
    if from_dealer:
        lead.dealer = user.dealer
        lead.dealer_id = user.dealer_id
        routing.assign_in_dealer(lead, user)
    else:
        dealer = routing.dealer_for(user.oem_id, row.city, row.province)
        if dealer is not None:
            routing.route(user, lead, dealer)
    return lead


def _remember(user: User, key: str, lead: Lead) -> None:
    db.session.add(ImportedRow(oem_id=user.oem_id, import_key=key[:200], lead_id=lead.id))
