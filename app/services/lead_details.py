"""Editing a customer's and a lead's details: the mobile number is normalised with the dealer's region and
may not collide with another customer of the brand."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Customer, Lead, User
from app.services import FieldError, audit
from app.services.phones import display, normalise_mobile

CUSTOMER_FIELDS = ("name", "phone_e164", "wechat_id", "email", "city")


class DetailsError(FieldError):
    """A detail that cannot be saved; `field` names the form field the message belongs to."""


def as_form(lead: Lead) -> dict:
    """The current details as the edit form shows them."""
    customer = lead.customer
    return {"name": customer.name, "phone": display(customer.phone_e164, lead.dealer.phone_region),
            "wechat_id": customer.wechat_id or "", "email": customer.email or "", "city": customer.city or "",
            "model_of_interest": lead.model_of_interest or ""}


def check_phone(lead: Lead, raw: str) -> str:
    """The number in its normalised form if it can be the customer's.

    :raise InvalidPhone: when it is not a valid mobile number.
    :raise DetailsError: when it belongs to another customer of the brand.
    """
    phone = normalise_mobile(raw, lead.dealer.phone_region)
    taken = db.session.scalar(select(Customer.id).where(
        Customer.oem_id == lead.oem_id, Customer.phone_e164 == phone, Customer.id != lead.customer_id))
    if taken:
        raise DetailsError("phone", _l("This number belongs to another customer."))
    return phone


def update(user: User, lead: Lead, data: dict) -> None:
    """Save the edited details; the before and after of what changed go to the audit log.

    :raise DetailsError: for an erased customer: their details are not written back (a new inquiry from them
        starts a new customer).
    """
    customer = lead.customer
    if customer.erased_at is not None:
        raise DetailsError("form", _l("This customer was erased on their request; their details cannot be "
                                      "entered again."))
    new = {"name": data["name"], "phone_e164": check_phone(lead, data["phone"]),
           "wechat_id": data.get("wechat_id"), "email": (data.get("email") or "").lower() or None,
           "city": data.get("city")}
    before = {field: getattr(customer, field) for field in CUSTOMER_FIELDS if getattr(customer, field) != new[field]}
    for field in before:
        setattr(customer, field, new[field])
    if lead.model_of_interest != data.get("model_of_interest"):
        before["model_of_interest"] = lead.model_of_interest
        lead.model_of_interest = data.get("model_of_interest")
    if before:
        after = {field: new.get(field, lead.model_of_interest) for field in before}
        audit.record(user, "customer.updated", customer, dealer_id=lead.dealer_id, before=before, after=after)
    db.session.commit()
