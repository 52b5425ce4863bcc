"""Finding a customer by mobile number (an integration asking "do we know this caller?"), within what the user
may see: the customer only when one of their leads is visible to the user, with those leads only."""
from dataclasses import dataclass

from app.extensions import db
from app.models import Customer, Lead, User
from app.services import visibility


@dataclass(frozen=True)
class Found:
    customer: Customer
    leads: list[Lead]  # the customer's leads the user may see, newest first


def by_phone(user: User, phone: str) -> list[Found]:
    """The visible customer with this E.164 number (none or one: one customer per brand and number), with their
    visible leads. An erased customer is never found by number again."""
    customers = db.session.scalars(visibility.visible_customers(user).where(
        Customer.oem_id == user.oem_id, Customer.phone_e164 == phone, Customer.erased_at.is_(None)))
    found = []
    for customer in customers:
        leads = db.session.scalars(visibility.visible_leads(user).where(Lead.customer_id == customer.id)
                                   .order_by(Lead.arrived_at.desc(), Lead.id.desc()))
        found.append(Found(customer, list(leads)))
    return found

