"""The person behind a lead taken on the phone (the lead desk's, a dealer's own): the brand's customer with the
number, or a new one, with the city they named and the consents they gave on the call."""
from datetime import datetime

from app.extensions import db
from app.models import ConsentMethod, Customer, User
from app.services import consent_changes


def customer_of_call(user: User, known: Customer | None, data: dict, now: datetime) -> Customer:
    """The customer a new lead of a call is for, flushed, in the caller's transaction.

    :param known: the brand's customer with this number, if the caller found one (locked or not, as it needs).
    :param data: phone (E.164), name, source, and optional city and consent (channel names).
    """
    customer = known
    if customer is None:
        customer = Customer(oem_id=user.oem_id, name=data["name"], phone_e164=data["phone"])
        db.session.add(customer)
    customer.city = data.get("city") or customer.city
    db.session.flush()
    consent_changes.collected(customer, data.get("consent", ()), ConsentMethod.PHONE, data["source"], user, now)
    return customer
