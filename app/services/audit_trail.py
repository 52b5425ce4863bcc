"""Reading the audit log: the entries a manager or the OEM admin may see, newest first, filtered, a page at a
time or as a download, each made readable (who, when in the reader's days, what, which object, old → new).

Who may see which entries is visibility.audit_scope's decision; this module only narrows and formats.
Dates are local days: the dealer's time zone for a manager, the brand's (brand_dashboard.brand_zone) for the
OEM admin, so "1 December" means the same day as on their dashboards.
A download is itself audited ("audit.exported", with the filters in `after`), in its own transaction.
"""
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, false, func, select

from app.extensions import db
from app.labels import audit_action_label, audit_object_label, label
from app.models import ApprovalRequest, AuditEntry, Channel, Customer, Dealer, Lead, Role, Stage, User
from app.services import audit, visibility
from app.services.brand_dashboard import brand_zone

PAGE_SIZE = 50
DOWNLOAD_LIMIT = 10_000
NOTHING = "—"

# How the stored before/after keys read on the page; other keys show as they are, underscores as spaces.
FIELD_LABELS = {
    "stage": _l("Stage"), "dealer_id": _l("Dealer"), "consultant_id": _l("Consultant"),
    "next_follow_up_at": _l("Next follow-up"), "kind": _l("Request"), "reason": _l("Reason"),
    "comment": _l("Comment"), "scope": _l("Matches by"), "match_value": _l("Matches"), "name": _l("Name"),
    "phone_e164": _l("Mobile number"), "email": _l("Email"), "active": _l("Active"), "on_shift": _l("On shift"),
    "routing_weight": _l("Rotation weight"), "format": _l("Format"), "rows": _l("Entries"),
    "action": _l("Action"), "actor_id": _l("Person"), "object_type": _l("Object"), "object_id": _l("Object number"),
    "first": _l("From"), "last": _l("To"),
}
PEOPLE_KEYS = ("consultant_id", "actor_id")


@dataclass
class Filters:
    """What the reader narrowed the trail to; None (or "") is no narrowing."""

    action: str | None = None
    actor_id: int | None = None
    object_type: str | None = None
    object_id: str | None = None  # free text: only a number matches anything
    first: date | None = None
    last: date | None = None

    def as_record(self) -> dict:
        """The filters as the download's audit entry keeps them (JSON-safe, only those set)."""
        values = {"action": self.action, "actor_id": self.actor_id, "object_type": self.object_type,
                  "object_id": self.object_id, "first": self.first and self.first.isoformat(),
                  "last": self.last and self.last.isoformat()}
        return {key: value for key, value in values.items() if value not in (None, "")}


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class Line:
    """One entry as the reader reads it."""

    entry: AuditEntry
    actor: User | None
    at: datetime  # local to the reader's zone
    what: str
    object_label: str
    link: str | None  # the lead's (or customer's) page, when the reader may open it
    changes: list[Change] = field(default_factory=list)

    @property
    def who(self) -> str:
        return self.actor.name if self.actor else str(_l("System"))

    @property
    def role(self) -> str:
        return str(label(self.actor.role)) if self.actor else ""

    @property
    def changes_text(self) -> str:
        return "; ".join(f"{change.field}: {change.old} → {change.new}" for change in self.changes)


@dataclass
class Page:
    lines: list[Line]
    page: int
    has_more: bool
    total: int
    zone: ZoneInfo

    @property
    def download_cut(self) -> bool:
        return self.total > DOWNLOAD_LIMIT


@dataclass
class Choices:
    """What the filter selects offer: only values present in the reader's entries."""

    actions: list[tuple[str, str]]
    actors: list[User]
    object_types: list[tuple[str, str]]


def zone_for(user: User) -> ZoneInfo:
    """The zone of the reader's days: their dealer's, or the brand's for the OEM admin."""
    if user.dealer is not None:
        return ZoneInfo(user.dealer.time_zone)
    return brand_zone(user)


def entries(user: User, filters: Filters, zone: ZoneInfo) -> Select:
    """select(AuditEntry) the user may see, narrowed by the filters, newest first."""
    statement = select(AuditEntry).where(visibility.audit_scope(user))
    if filters.action:
        statement = statement.where(AuditEntry.action == filters.action)
    if filters.actor_id:
        statement = statement.where(AuditEntry.actor_id == filters.actor_id)
    if filters.object_type:
        statement = statement.where(AuditEntry.object_type == filters.object_type)
    if filters.object_id:
        text = filters.object_id.strip().lstrip("#")
        statement = statement.where(AuditEntry.object_id == int(text) if text.isdigit() and len(text) < 16
                                    else false())
    if filters.first:
        statement = statement.where(AuditEntry.created_at >= _midnight(filters.first, zone))
    if filters.last:
        statement = statement.where(AuditEntry.created_at < _midnight(filters.last + timedelta(days=1), zone))
    return statement.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())


def page(user: User, filters: Filters, number: int = 1) -> Page:
    """One page of PAGE_SIZE entries, and how many entries match in all."""
    zone = zone_for(user)
    statement = entries(user, filters, zone)
    rows = list(db.session.scalars(statement.offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    return Page(_readable(user, rows[:PAGE_SIZE], zone), number, len(rows) > PAGE_SIZE, total, zone)


def for_download(user: User, filters: Filters) -> tuple[list[Line], bool]:
    """At most DOWNLOAD_LIMIT entries, and whether there were more."""
    zone = zone_for(user)
    rows = list(db.session.scalars(entries(user, filters, zone).limit(DOWNLOAD_LIMIT + 1)))
    return _readable(user, rows[:DOWNLOAD_LIMIT], zone), len(rows) > DOWNLOAD_LIMIT


def record_download(user: User, filters: Filters, fmt: str, rows: int) -> None:
    """Audit a download of the trail (on the reader's own account) and commit."""
    audit.record(user, "audit.exported", user, dealer_id=user.dealer_id,
                 after={"format": fmt, "rows": rows, **filters.as_record()})
    db.session.commit()


def choices(user: User) -> Choices:
    """The actions, people and kinds of object that occur in the user's entries, for the filter selects."""
    scope = visibility.audit_scope(user)
    actions = db.session.scalars(select(AuditEntry.action).where(scope).distinct())
    types = db.session.scalars(select(AuditEntry.object_type).where(scope).distinct())
    actors = db.session.scalars(select(User).where(
        User.id.in_(select(AuditEntry.actor_id).where(scope))).order_by(User.name, User.id))
    return Choices(sorted(((code, str(audit_action_label(code))) for code in actions), key=lambda pair: pair[1]),
                   list(actors),
                   sorted(((code, str(audit_object_label(code))) for code in types), key=lambda pair: pair[1]))


def _readable(user: User, rows: list[AuditEntry], zone: ZoneInfo) -> list[Line]:
    """Lines for the entries: actors, names behind ids and links looked up once for the whole page."""
    people_ids = {row.actor_id for row in rows if row.actor_id}
    dealer_ids = set()
    for row in rows:
        for values in (row.before or {}, row.after or {}):
            people_ids |= {values[key] for key in PEOPLE_KEYS if isinstance(values.get(key), int)}
            if isinstance(values.get("dealer_id"), int):
                dealer_ids.add(values["dealer_id"])
    people = {person.id: person for person in db.session.scalars(select(User).where(User.id.in_(people_ids)))}
    dealers = dict(db.session.execute(select(Dealer.id, Dealer.name).where(Dealer.id.in_(dealer_ids))).all())
    links = _links(user, rows)
    names = {"consultant_id": people, "actor_id": people, "dealer_id": dealers}
    return [Line(row, people.get(row.actor_id), row.created_at.astimezone(zone), str(audit_action_label(row.action)),
                 str(audit_object_label(row.object_type)), links.get((row.object_type, row.object_id)),
                 _changes(row.before or {}, row.after or {}, names)) for row in rows]


def _links(user: User, rows: list[AuditEntry]) -> dict[tuple[str, int], str]:
    """Page addresses for the objects the user may open: leads (and the lead an approval was about), customers."""
    lead_ids = {row.object_id for row in rows if row.object_type == Lead.__tablename__}
    request_ids = {row.object_id for row in rows if row.object_type == ApprovalRequest.__tablename__}
    customer_ids = {row.object_id for row in rows if row.object_type == Customer.__tablename__}
    request_leads = dict(db.session.execute(
        select(ApprovalRequest.id, ApprovalRequest.lead_id).where(ApprovalRequest.id.in_(request_ids))).all())
    visible_leads = set(db.session.scalars(visibility.visible_leads(user).with_only_columns(Lead.id).where(
        Lead.id.in_(lead_ids | set(request_leads.values())))))
    visible_customers = set(db.session.scalars(visibility.visible_customers(user).with_only_columns(Customer.id)
                                               .where(Customer.id.in_(customer_ids))))
    links = {(Lead.__tablename__, lead_id): f"/leads/{lead_id}" for lead_id in lead_ids & visible_leads}
    links |= {(ApprovalRequest.__tablename__, request_id): f"/leads/{lead_id}"
              for request_id, lead_id in request_leads.items() if lead_id in visible_leads}
    links |= {(Customer.__tablename__, customer_id): f"/customers/{customer_id}" for customer_id in visible_customers}
    return links


def _changes(before: dict, after: dict, names: dict) -> list[Change]:
    """field: old → new for every key whose value differs (a key on one side only reads "—" on the other)."""
    keys = list(before) + [key for key in after if key not in before]
    return [Change(_field_label(key), _value(key, before.get(key), names), _value(key, after.get(key), names))
            for key in keys if before.get(key) != after.get(key)]


def _field_label(key: str) -> str:
    if key in set(Channel):  # a consent change: {"sms": "not_recorded"} → {"sms": "granted"}
        return str(label(Channel(key)))
    return str(FIELD_LABELS.get(key, key.replace("_", " ")))


def _value(key: str, value, names: dict) -> str:
    """A stored value as words: names for ids, labels for stages and codes, JSON for anything nested."""
    if value is None or value == "":
        return NOTHING
    if key in names and isinstance(value, int):
        found = names[key].get(value)
        return (found.name if isinstance(found, User) else found) or f"#{value}"
    if key == "stage" and value in set(Stage):
        return str(label(Stage(value)))
    if key == "role" and value in set(Role):
        return str(label(Role(value)))
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if key == "action" and isinstance(value, str):
        return str(audit_action_label(value))
    return str(label(value)) if isinstance(value, str) else str(value)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(timezone.utc)
