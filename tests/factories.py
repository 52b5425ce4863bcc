"""Factories with sensible defaults: each makes one row, commits it, and returns it."""
import itertools
import re
from dataclasses import dataclass
from datetime import timedelta

from app.extensions import db
from app.models import (
    Activity, ActivityKind, Channel, ConsentMethod, ConsentRecord, Customer, Dealer, FollowUpTask, IntentLevel, Lead,
    Oem, Origin, Region, Role, Source, Stage, User, utcnow,
)
from app.services.accounts import hash_password

PASSWORD = "Showroom-2026"
_PASSWORD_HASH = hash_password(PASSWORD)  # hashing is slow by design; do it once for every test user
_numbers = itertools.count(1)


def csrf_token_from(html: str) -> str:
    """The CSRF token a page carries (in its forms, and for htmx in the hx-headers of every page)."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def _save(obj):
    db.session.add(obj)
    db.session.commit()
    return obj


def make_oem(**fields) -> Oem:
    n = next(_numbers)
    return _save(Oem(**{"code": f"OEM{n}", "name": f"Brand {n}", **fields}))


def make_region(oem: Oem, **fields) -> Region:
    n = next(_numbers)
    return _save(Region(**{"oem_id": oem.id, "code": f"R{n}", "name": f"Region {n}", **fields}))


def make_dealer(region: Region, **fields) -> Dealer:
    n = next(_numbers)
    defaults = {"region_id": region.id, "code": f"D{n:04d}", "name": f"Dealer {n}", "city": "Guangzhou",
                "province": "Guangdong", "time_zone": "Asia/Shanghai", "phone_region": "CN"}
    return _save(Dealer(**{**defaults, **fields}))


def make_user(role: Role, *, oem: Oem, dealer: Dealer | None = None, **fields) -> User:
    n = next(_numbers)
    defaults = {"oem_id": oem.id, "dealer_id": dealer.id if dealer else None, "role": role,
                "name": f"{role.value} {n}", "email": f"user{n}@test.example", "password_hash": _PASSWORD_HASH}
    return _save(User(**{**defaults, **fields}))


def make_customer(oem: Oem, **fields) -> Customer:
    n = next(_numbers)
    defaults = {"oem_id": oem.id, "name": f"客户{n}", "phone_e164": f"+86139{n:08d}"}
    return _save(Customer(**{**defaults, **fields}))


def make_consent(customer: Customer, channel: Channel, granted: bool = True, **fields) -> ConsentRecord:
    """The customer's word on a channel, as a walk-in form records it unless told otherwise."""
    defaults = {"customer_id": customer.id, "channel": channel, "granted": granted,
                "method": ConsentMethod.WALK_IN_FORM, "source": "walk_in"}
    return _save(ConsentRecord(**{**defaults, **fields}))


def make_lead(consultant: User | None = None, *, dealer: Dealer | None = None, customer: Customer | None = None,
              origin: Origin = Origin.DEALER, **fields) -> Lead:
    dealer = dealer or (consultant.dealer if consultant else None)
    oem_id = consultant.oem_id if consultant else (fields.pop("oem_id", None) or dealer.region.oem_id)
    customer = customer or make_customer(db.session.get(Oem, oem_id))
    defaults = {"oem_id": oem_id, "customer_id": customer.id, "dealer_id": dealer.id if dealer else None,
                "consultant_id": consultant.id if consultant else None, "origin": origin,
                "source": Source.OEM_HOTLINE if origin is Origin.OEM else Source.WALK_IN,
                "model_of_interest": "HY-S5", "intent_level": IntentLevel.A, "stage": Stage.NEW}
    return _save(Lead(**{**defaults, **fields}))


def make_follow_up(lead: Lead, *, due_in: timedelta = timedelta(days=1), **fields) -> FollowUpTask:
    defaults = {"lead_id": lead.id, "consultant_id": lead.consultant_id, "due_at": utcnow() + due_in}
    task = _save(FollowUpTask(**{**defaults, **fields}))
    lead.next_follow_up_at = task.due_at
    db.session.commit()
    return task


def make_activity(lead: Lead, kind: ActivityKind = ActivityKind.NOTE, **fields) -> Activity:
    return _save(Activity(**{"lead_id": lead.id, "user_id": lead.consultant_id, "kind": kind, **fields}))


@dataclass
class DealerStaff:
    dealer: Dealer
    manager: User
    consultant: User
    colleague: User


@dataclass
class World:
    oem: Oem
    one: DealerStaff
    two: DealerStaff
    idcc_agent: User
    oem_admin: User


def make_world() -> World:
    """A brand with two dealers (a manager and two consultants each), one IDCC agent and one OEM admin."""
    oem = make_oem()
    region = make_region(oem)

    def staff(city: str) -> DealerStaff:
        dealer = make_dealer(region, city=city)
        return DealerStaff(dealer, make_user(Role.MANAGER, oem=oem, dealer=dealer),
                           make_user(Role.CONSULTANT, oem=oem, dealer=dealer),
                           make_user(Role.CONSULTANT, oem=oem, dealer=dealer))

    return World(oem, staff("Guangzhou"), staff("Shenzhen"),
                 make_user(Role.IDCC_AGENT, oem=oem), make_user(Role.OEM_ADMIN, oem=oem))
