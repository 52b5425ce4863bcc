"""Everything held about one customer, for their request to see it (PIPL art. 45): the same sections as a JSON
download and as a page, each a list of whole rows.

What is collected (`everything_about`), as far as the reader answers for it (visibility.data_request_scope: a
manager their dealer's leads, the brand's administrator the leads its desk captured):
the customer row; their consent records; their leads (dealer, source, stage, intent, timestamps, milestones); the
leads' activities (notes, outcomes), follow-ups, appointments, showroom visits, approval requests (reasons and
notes), the notifications about them (their texts), the rows of imported files that became them (the import key
holds the file's phone or the portal's id), and the audit entries about the customer, the leads and the requests
that the reader may read in the audit trail (visibility.audit_scope).

Each row is exported whole, every column by its name, so a column added later is exported without a change here;
the name of the person or dealer behind an id is added beside it ("consultant_id" and "consultant"). Left out:
the address a colleague's change came from (audit_log.ip_address: the staff's, not the customer's), a replay's
stored answer (idempotent_requests: a 14-day cache of pages already shown) and push delivery attempts (they carry
no text of their own). Showing or downloading the data is itself audited ("customer.exported").
"""
import json
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, or_, select

from app.extensions import db
from app.models import (
    Activity, ApprovalRequest, Appointment, AuditEntry, ConsentRecord, Customer, Dealer, FollowUpTask, ImportedRow,
    Lead, Notification, ShowroomVisit, User, utcnow,
)
from app.services import audit, visibility

FORMAT, VERSION = "customer-data", 1
# The sections in the order they are shown and written, with their titles; "customer" is one row, the rest lists.
SECTIONS = (
    ("customer", _l("Customer")), ("consents", _l("Consent records")), ("leads", _l("Leads")),
    ("activities", _l("History")), ("follow_ups", _l("Follow-ups")), ("appointments", _l("Appointments")),
    ("showroom_visits", _l("Showroom visits")), ("approval_requests", _l("Approval requests")),
    ("notifications", _l("Notifications")), ("imported_rows", _l("Imported file rows")),
    ("audit_entries", _l("Audit trail")),
)
# Columns never exported, by table: they are about the staff, not the customer.
LEFT_OUT = {AuditEntry.__tablename__: {"ip_address"}}
# How the column names read on the page; others show as they are, underscores as spaces.
FIELD_LABELS = {
    "id": _l("Number"), "name": _l("Name"), "phone_e164": _l("Mobile number"), "email": _l("Email"),
    "wechat_id": _l("WeChat id"),
    "city": _l("City"), "created_at": _l("Created"), "erased_at": _l("Erased"), "source": _l("Source"),
    "dealer": _l("Dealer"), "consultant": _l("Consultant"), "model_of_interest": _l("Model of interest"),
    "intent_level": _l("Intent level"), "stage": _l("Stage"), "arrived_at": _l("Arrived"),
    "assigned_at": _l("Assigned"), "first_contact_at": _l("First contact"), "invited_at": _l("Invited"),
    "visited_at": _l("Visited"), "test_drive_at": _l("Test drive"), "ordered_at": _l("Ordered"),
    "delivered_at": _l("Delivered"), "next_follow_up_at": _l("Next follow-up"), "note": _l("Note"),
    "occurred_at": _l("When"), "done_at": _l("Done"), "left_at": _l("Left"), "party_size": _l("Party size"),
    "first_visit": _l("First visit"), "wechat_added": _l("WeChat added"), "reason": _l("Reason"),
    "requested_by": _l("Requested by"), "decision_note": _l("Comment"), "lead_id": _l("Lead"),
    "action": _l("What"), "actor": _l("Who"), "object_type": _l("Object"), "object_id": _l("Object number"),
    "updated_at": _l("Changed"), "channel": _l("Channel"), "granted": _l("Agreed"), "method": _l("How"),
    "recorded_at": _l("Recorded"), "recorded_by": _l("Recorded by"), "origin": _l("Captured by"),
    "provider": _l("Provider"), "closed_at": _l("Closed"), "kind": _l("Kind"), "outcome": _l("Outcome"),
    "summary": _l("Summary"), "user": _l("By"), "due_at": _l("Due"), "status": _l("Status"),
    "purpose": _l("Purpose"), "starts_at": _l("Starts"), "decided_at": _l("Decided"), "decided_by": _l("Decided by"),
    "title": _l("Title"), "body": _l("Message"), "read_at": _l("Read"), "import_key": _l("Import key"),
    "imported_at": _l("Imported"), "before": _l("Before"), "after": _l("After"),
}


def everything_about(customer: Customer, reader: User) -> dict:
    """The customer's data as the module describes: {"format", "version", "exported_at", "exported_by",
    "customer": {...}, "consents": [...], "leads": [...], ...} with datetimes (aware UTC) and codes as they are."""
    leads = _all(select(Lead).where(Lead.customer_id == customer.id, visibility.data_request_scope(reader))
                 .order_by(Lead.arrived_at, Lead.id))
    lead_ids = [lead.id for lead in leads]
    of_leads = {  # section: (table, its order)
        "activities": (Activity, Activity.occurred_at), "follow_ups": (FollowUpTask, FollowUpTask.due_at),
        "appointments": (Appointment, Appointment.starts_at),
        "showroom_visits": (ShowroomVisit, ShowroomVisit.arrived_at),
        "approval_requests": (ApprovalRequest, ApprovalRequest.created_at),
        "notifications": (Notification, Notification.created_at),
        "imported_rows": (ImportedRow, ImportedRow.imported_at),
    }
    found = {key: _all(select(model).where(model.lead_id.in_(lead_ids)).order_by(order, model.id))
             for key, (model, order) in of_leads.items()}
    sections = {
        "customer": customer, "consents": _all(select(ConsentRecord).where(ConsentRecord.customer_id == customer.id)
                                               .order_by(ConsentRecord.recorded_at, ConsentRecord.id)),
        "leads": leads, **found,
        "audit_entries": _audit_entries(reader, customer, lead_ids, [r.id for r in found["approval_requests"]]),
    }
    names = _names(sections)
    data = {"format": FORMAT, "version": VERSION, "exported_at": utcnow(), "exported_by": reader.name}
    for key, _title in SECTIONS:
        rows = sections[key]
        data[key] = _row(rows, names) if key == "customer" else [_row(row, names) for row in rows]
    return data


def as_json(data: dict) -> str:
    """The export as a JSON document: keys in the sections' order, timestamps in ISO 8601 (UTC)."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=_iso)


def record_export(reader: User, customer: Customer, fmt: str) -> None:
    """Audit that the reader showed ("page") or downloaded ("json") the customer's data, and commit."""
    audit.record(reader, "customer.exported", customer, dealer_id=reader.dealer_id, after={"format": fmt})
    db.session.commit()


def field_label(key: str) -> str:
    return str(FIELD_LABELS.get(key, key.replace("_", " ")))


def _all(statement) -> list:
    return list(db.session.scalars(statement))


def _audit_entries(reader: User, customer: Customer, lead_ids: list[int], request_ids: list[int]) -> list:
    about = or_(
        (AuditEntry.object_type == Customer.__tablename__) & (AuditEntry.object_id == customer.id),
        (AuditEntry.object_type == Lead.__tablename__) & AuditEntry.object_id.in_(lead_ids),
        (AuditEntry.object_type == ApprovalRequest.__tablename__) & AuditEntry.object_id.in_(request_ids),
    )
    return _all(select(AuditEntry).where(about, visibility.audit_scope(reader))
                .order_by(AuditEntry.created_at, AuditEntry.id))


def _references(model) -> list[tuple[str, str, str]]:
    """(column key, name key, table) for each column of `model` naming a person or a dealer."""
    found = []
    for attribute in inspect(model).column_attrs:
        for key in attribute.columns[0].foreign_keys:
            table = key.column.table.name
            if table in (User.__tablename__, Dealer.__tablename__) and attribute.key.endswith("_id"):
                found.append((attribute.key, attribute.key.removesuffix("_id"), table))
    return found


def _names(sections: dict) -> dict[str, dict[int, str]]:
    """The names behind every person and dealer id in the sections, read in one query per table."""
    wanted = {User.__tablename__: set(), Dealer.__tablename__: set()}
    for rows in sections.values():
        for row in rows if isinstance(rows, list) else [rows]:
            for column, _name, table in _references(type(row)):
                if getattr(row, column) is not None:
                    wanted[table].add(getattr(row, column))
    return {
        User.__tablename__: dict(db.session.execute(select(User.id, User.name).where(
            User.id.in_(wanted[User.__tablename__]))).all()),
        Dealer.__tablename__: dict(db.session.execute(select(Dealer.id, Dealer.name).where(
            Dealer.id.in_(wanted[Dealer.__tablename__]))).all()),
    }


def _row(row, names: dict) -> dict:
    """Every column of the row by its name, with the name behind each person or dealer id beside it."""
    model = type(row)
    left_out = LEFT_OUT.get(model.__tablename__, set())
    values = {attribute.key: getattr(row, attribute.key) for attribute in inspect(model).column_attrs
              if attribute.key not in left_out}
    for column, name, table in _references(model):
        values[name] = names[table].get(values[column])
    return values


def _iso(value):
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
