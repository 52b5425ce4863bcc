"""Erasing a customer on their request (PIPL art. 47): personal data removed, the dealer's counts kept.

Who may erase, and a person known elsewhere in the brand:
The brand keeps one customer record per person (found by mobile number), shared by every dealer holding a lead
of theirs, so an erasure erases the person for the whole brand. A user may therefore erase only a person whose
every lead they answer for (visibility.data_request_scope): a dealer's manager when all of the person's leads are
at their dealer, the brand's administrator when all were captured by the brand's lead desk. When any lead is held
by someone else (another dealer, or the desk for a manager), `plan` says so and `erase` refuses: erasing would
destroy another party's records without them knowing, and erasing only a part would leave the person findable by
their number. The request then goes to the brand's administrator, who settles it with the other holders; the
refusal does not say who they are.

What `erase` does, in one transaction:
- the customer: name → ERASED_NAME, mobile → a placeholder without a digit ("erased-" and the id in letters,
  unique, never matched by a number search), email, WeChat id and city emptied, erased_at set;
- notes emptied: activities' notes (the one exception to their append-only rule, see below), appointments',
  approval requests' notes and decision comments; follow-up purposes that are not the app's own codes;
- notifications about their leads: the title (the customer's name) → ERASED_NAME, the body (a note or model)
  emptied; push deliveries hold no text (they are composed from the notification when sent);
- the stored answers of offline entries replayed about them (idempotent_requests): body emptied and their
  details taken out of the kept headers; the row stays, so a late replay still gets "done" instead of running
  again and writing the erased details back;
- imported file rows: the import key (the file's phone, source and time, or the portal's id) → a keyed hash
  (`erased_import_key`), so importing the same old file again does not bring the person back;
- audit entries about the customer, their leads and requests: values of personal keys (PERSONAL_KEYS) and any
  of the customer's details inside other values replaced by ERASED_VALUE; the entries stay;
- one audit entry "customer.erased" per dealer holding their leads (so each dealer's trail shows it), with who,
  the reason (their details taken out of it too) and how many leads; nothing personal.
What stays, and why: the leads with source, model, stage, intent, milestones and timestamps; the activities'
kinds, outcomes and summaries (codes, models, staff names); follow-ups, appointments, visits and approval kinds and
reasons (codes): the dealer's and the brand's figures count these and must not change. Consent records stay: when,
how and from which source the person agreed, nothing personal once the customer is anonymous, and the proof that
past contacts were allowed. Erasing an erased customer changes nothing.
"""
import hashlib
import hmac
import html
import json
import re
from dataclasses import dataclass

import phonenumbers
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, func, or_, select, update

from app.extensions import db
from app.labels import LABELS
from app.models import (
    Activity, ApprovalRequest, Appointment, AuditEntry, Customer, FollowUpTask, IdempotentRequest, ImportedRow, Lead,
    Notification, User, utcnow,
)
from app.services import FieldError, audit, visibility

ERASED_NAME = "Erased customer"  # stored as it is: every page and message shows it without knowing of erasure
ERASED_VALUE = "[erased]"
PERSONAL_KEYS = frozenset({"name", "phone", "phone_e164", "email", "wechat_id", "city", "note", "comment",
                           "decision_note"})
_LETTERS = str.maketrans("0123456789", "abcdefghij")


class ErasureError(FieldError):
    """An erasure that cannot be done; `field` names the form field the message belongs to."""


@dataclass(frozen=True)
class Plan:
    """What erasing the customer would touch, for the confirmation page."""

    leads: int  # the customer's leads the user answers for: kept, without personal data
    notes: int  # notes in their history that will be emptied
    held_elsewhere: int  # their leads that someone else answers for: while any, erasing is refused

    @property
    def allowed(self) -> bool:
        return self.held_elsewhere == 0


def plan(user: User, customer: Customer) -> Plan:
    """Count what an erasure by this user would touch, and what would stop it (the module's rule)."""
    theirs = select(Lead.id).where(Lead.customer_id == customer.id)
    mine = theirs.where(visibility.data_request_scope(user))
    notes = select(Activity.id).where(Activity.lead_id.in_(mine), Activity.note.is_not(None))
    return Plan(leads=_count(mine), notes=_count(notes), held_elsewhere=_count(theirs) - _count(mine))


def _count(statement) -> int:
    return db.session.scalar(select(func.count()).select_from(statement.subquery()))


def erase(customer: Customer, actor: User, reason: str) -> bool:
    """Erase the customer as the module describes, and commit; False when they were erased already.

    :param reason: why, as the actor wrote it ("customer's request by phone on 3 May"); kept in the audit entry.
    :raise ErasureError: when someone else holds a lead of theirs, or the reason is empty.
    """
    if not reason.strip():
        raise ErasureError("reason", _l("Say why they are erased, for example “their request by phone on 3 May”."))
    # Lock the customer (a write that changes nothing, as app.services.walk_ins does): a second erasure, or a
    # walk-in with their number, waits for this one and then sees it.
    db.session.execute(update(Customer).where(Customer.id == customer.id).values(updated_at=Customer.updated_at))
    db.session.refresh(customer)
    if customer.erased_at is not None:
        db.session.rollback()
        return False
    if not plan(actor, customer).allowed:
        db.session.rollback()
        raise ErasureError("form", _l("This person also has leads elsewhere in the brand. Erasing here would "
                                      "remove other holders' records too, so it cannot be done here: ask the "
                                      "brand's administrator to settle the request with them."))
    traces = _traces(customer)
    leads = list(db.session.scalars(select(Lead).where(Lead.customer_id == customer.id)))
    lead_ids = [lead.id for lead in leads]
    _erase_customer(customer)
    _erase_texts(lead_ids)
    _erase_replays(lead_ids, traces)
    _erase_import_keys(lead_ids)
    _erase_audit_values(customer, lead_ids, traces)
    after = {"reason": _scrub(reason.strip(), traces), "leads": len(lead_ids)}
    for dealer_id in sorted({lead.dealer_id for lead in leads if lead.dealer_id}) or [None]:
        audit.record(actor, "customer.erased", customer, dealer_id=dealer_id, after=dict(after))
    db.session.commit()
    return True


def erased_import_key(key: str) -> str:
    """What an erased person's import key becomes: a hash keyed with the app's secret (so it cannot be turned back
    into the phone by trying every number), still recognised when the same file row comes again."""
    digest = hmac.new(current_app.secret_key.encode(), key.encode(), hashlib.sha256).hexdigest()
    return f"erased:{digest}"


def placeholder_phone(customer_id: int) -> str:
    """A unique stand-in for an erased customer's number: no digit in it, so no number search can match it."""
    placeholder = f"erased-{str(customer_id).translate(_LETTERS)}"
    assert len(placeholder) <= 16, "customers.phone_e164 holds 16 characters"
    return placeholder


def _traces(customer: Customer) -> list[str]:
    """The customer's details as they may appear inside other text: name, the number as stored and as people
    write it, email, WeChat id; each also as JSON (non-ASCII escaped, as in a header) and HTML write it. Longest
    first, so a longer form is replaced before a part of it."""
    found = {customer.name, customer.email, customer.wechat_id, customer.phone_e164}
    try:
        number = phonenumbers.parse(customer.phone_e164)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None:
        found |= {phonenumbers.national_significant_number(number)} | {
            phonenumbers.format_number(number, fmt) for fmt in (
                phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL)}
    found = {text for text in found if text and len(text.strip()) >= 2}
    found |= {json.dumps(text)[1:-1] for text in found} | {html.escape(text) for text in found}
    return sorted(found, key=len, reverse=True)


def _scrub(value, traces: list[str], key: str | None = None):
    """A stored value without the customer's details: personal keys' values replaced, traces cut out of text."""
    if key in PERSONAL_KEYS and value not in (None, ""):
        return ERASED_VALUE
    if isinstance(value, str):
        for trace in traces:
            value = value.replace(trace, ERASED_VALUE)
        return value
    if isinstance(value, dict):
        return {name: _scrub(inner, traces, name) for name, inner in value.items()}
    if isinstance(value, list):
        return [_scrub(inner, traces) for inner in value]
    return value


def _erase_customer(customer: Customer) -> None:
    customer.name, customer.phone_e164 = ERASED_NAME, placeholder_phone(customer.id)
    customer.email = customer.wechat_id = customer.city = None
    customer.erased_at = utcnow()
    db.session.flush()


def _erase_texts(lead_ids: list[int]) -> None:
    """Empty the free text written about the leads; codes and counts stay."""
    activities = Activity.__table__
    # Activities are append-only (app.models.activities refuses any change through the ORM). Erasure on the
    # customer's request is the one exception the law makes: a Core UPDATE, past the ORM's guard, that empties
    # only the notes and keeps every activity with its kind, outcome and time.
    db.session.execute(update(activities).where(activities.c.lead_id.in_(lead_ids), activities.c.note.is_not(None))
                       .values(note=None))
    for statement in (
        update(Appointment).where(Appointment.lead_id.in_(lead_ids)).values(note=None),
        update(ApprovalRequest).where(ApprovalRequest.lead_id.in_(lead_ids)).values(note=None, decision_note=None),
        update(FollowUpTask).where(FollowUpTask.lead_id.in_(lead_ids), FollowUpTask.purpose.not_in(list(LABELS[str])))
        .values(purpose=None),
        update(Notification).where(Notification.lead_id.in_(lead_ids)).values(title=ERASED_NAME, body=None),
    ):
        db.session.execute(statement.execution_options(synchronize_session=False))


def _erase_replays(lead_ids: list[int], traces: list[str]) -> None:
    """Stored answers of offline entries about the leads (by their address) or showing the customer's details."""
    addresses = [f"/leads/{lead_id}" for lead_id in lead_ids]
    candidates = db.session.scalars(select(IdempotentRequest).where(or_(
        *(IdempotentRequest.path.startswith(address, autoescape=True) for address in addresses),
        *(IdempotentRequest.body.contains(trace, autoescape=True) for trace in traces),
        *(cast(IdempotentRequest.headers, String).contains(text, autoescape=True) for text in addresses + traces))))
    about = re.compile(r"/leads/(\d+)(?!\d)")
    for row in candidates:
        kept = " ".join([row.path, row.body or "", *(str(value) for value in (row.headers or {}).values())])
        if {int(found) for found in about.findall(kept)} & set(lead_ids) or any(trace in kept for trace in traces):
            row.body = ""
            row.headers = _scrub(row.headers, traces) if row.headers else row.headers


def _erase_import_keys(lead_ids: list[int]) -> None:
    for row in db.session.scalars(select(ImportedRow).where(ImportedRow.lead_id.in_(lead_ids),
                                                            ImportedRow.import_key.not_like("erased:%"))):
        row.import_key = erased_import_key(row.import_key)


def _erase_audit_values(customer: Customer, lead_ids: list[int], traces: list[str]) -> None:
    requests = select(ApprovalRequest.id).where(ApprovalRequest.lead_id.in_(lead_ids))
    about = or_(
        (AuditEntry.object_type == Customer.__tablename__) & (AuditEntry.object_id == customer.id),
        (AuditEntry.object_type == Lead.__tablename__) & AuditEntry.object_id.in_(lead_ids),
        (AuditEntry.object_type == ApprovalRequest.__tablename__) & AuditEntry.object_id.in_(requests),
    )
    for entry in db.session.scalars(select(AuditEntry).where(about)):
        entry.before = _scrub(entry.before, traces) if entry.before else entry.before
        entry.after = _scrub(entry.after, traces) if entry.after else entry.after
