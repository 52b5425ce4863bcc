"""/api/v1: who I am, my leads (list, one, a new one), my follow-ups, a customer by number, my notifications."""
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.models import Lead, Role
from app.schemas.api import (
    CustomersOut, FollowUpsOut, LeadOut, LeadPageOut, LeadQuery, MeOut, NewLeadBody, NotificationsOut, PhoneQuery,
)
from app.services import FieldError, customer_lookup, inbox, lead_desk, lead_lists, own_leads, today, visibility
from app.services.phones import InvalidPhone, normalise_mobile
from app.views.api.blueprint import bp
from app.views.api.docs import WRITE_PROBLEMS, operation
from app.views.api.problems import answer, invalid, lead, load_body, load_query, problem
from app.views.idempotency import idempotent


@bp.get("/me")
@operation("Who I am", answer=(200, MeOut))
def me():
    """The calling user: role, and dealer for a dealer's staff."""
    return answer(MeOut(), current_user)


@bp.get("/leads")
@operation("My leads", answer=(200, LeadPageOut), query=LeadQuery)
def leads():
    """The leads the caller may see, as on their lead list: without a stage, a dealer's staff get open leads; a
    consultant's come by next follow-up, everyone else's newest first. Page by page: `next_page` is the next one."""
    params = load_query(LeadQuery())
    found = lead_lists.list_leads(current_user, stage=params.get("stage"), intent=params.get("intent"),
                                  q=params["q"], page=params["page"], page_size=params["limit"])
    return answer(LeadPageOut(), {"items": found.leads, "page": found.page, "limit": params["limit"],
                                  "next_page": found.page + 1 if found.has_more else None})


@bp.get("/leads/<int:lead_id>")
@operation("One lead", answer=(200, LeadOut))
def show(lead_id: int):
    """A lead the caller may see."""
    return answer(LeadOut(), lead(current_user, lead_id))


@bp.post("/leads")
@operation("A new lead", answer=(201, LeadOut), body=NewLeadBody, problems=WRITE_PROBLEMS)
@idempotent
def create():
    """A dealer's staff enter their dealer's own lead (a consultant's own; a manager's to the consultant they pick,
    else the dealer's rotation); the lead desk captures a lead of the brand, which waits to be routed. A person
    with an open lead (at the dealer; for the lead desk, anywhere) is not entered twice: 409, with the lead's id
    where the caller may see it. The brand's administrators enter no leads."""
    if current_user.role is Role.OEM_ADMIN:
        problem(403, _("The brand's administrators do not enter leads."))
    data = load_body(NewLeadBody())
    try:
        data["phone"] = normalise_mobile(data["phone"], current_user.dealer.phone_region if current_user.dealer
                                         else "CN")
        new = _capture(data)
    except InvalidPhone as error:
        invalid({"phone": str(error)})
    except own_leads.DuplicateLead as error:
        _duplicate(error, [error.lead])
    except lead_desk.DeskError as error:
        _duplicate(error, lead_desk.open_leads_of(current_user.oem_id, data["phone"]))
    except FieldError as error:
        invalid({error.field: str(error)})
    return answer(LeadOut(), new, 201, Location=url_for("api.show", lead_id=new.id))


def _capture(data: dict) -> Lead:
    if current_user.role.belongs_to_dealer:
        return own_leads.capture(current_user, data)
    if data["source"].value not in lead_desk.DESK_SOURCES:
        invalid({"source": _("Choose a source the lead desk takes calls from.")})
    return lead_desk.capture(current_user, {**data, "source": data["source"].value})


def _duplicate(error: FieldError, existing: list[Lead]):
    """409 for a person who has an open lead; its id only where the caller may open it."""
    seen = db.session.scalar(visibility.visible_leads(current_user).where(
        Lead.id.in_([known.id for known in existing])).with_only_columns(Lead.id).limit(1))
    problem(409, str(error), **({"lead_id": seen} if seen is not None else {}))


@bp.get("/follow-ups")
@operation("My follow-ups due", answer=(200, FollowUpsOut))
def follow_ups():
    """Overdue follow-ups and those due later today (the dealer's day), as on Today: the first few of each with
    the exact count. For a dealer's staff (a manager's cover the dealer)."""
    if not current_user.role.belongs_to_dealer:
        problem(403, _("Follow-ups are worked by a dealer's staff."))
    day = today.today_for(current_user)
    return answer(FollowUpsOut(), {"overdue": day.overdue, "due_today": day.due_today})


@bp.get("/customers")
@operation("A customer by mobile number", answer=(200, CustomersOut), query=PhoneQuery)
def customers():
    """The customer with this mobile number, with their leads, where the caller may see one of them."""
    raw = load_query(PhoneQuery())["phone"]
    try:
        phone = normalise_mobile(raw, current_user.dealer.phone_region if current_user.dealer else "CN")
    except InvalidPhone as error:
        invalid({"phone": str(error)})
    return answer(CustomersOut(), {"items": customer_lookup.by_phone(current_user, phone)})


@bp.get("/notifications")
@operation("My notifications", answer=(200, NotificationsOut))
def notifications():
    """The caller's newest notifications, as in their inbox, and how many are unread."""
    return answer(NotificationsOut(), {"unread": inbox.unread_count(current_user),
                                       "items": inbox.latest(current_user)})
