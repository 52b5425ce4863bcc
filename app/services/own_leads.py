"""A dealer's own lead entered by its staff outside the showroom (a call to the dealer, the dealer's website through
an integration on /api/v1); walk-ins go through app.services.walk_ins, which also records the visit.

In one transaction:
1. Find the person by normalised mobile number within the brand (one customer per brand and number), locked so
   two entries of one person run one after the other.
2. If this dealer holds an open lead of theirs, whichever colleague owns it, nothing is created: DuplicateLead
   names that lead (the caller shows it only where the user may see it).
3. Else a new lead at this dealer (origin dealer: it stays with the dealer), on the existing customer or a new
   one, with the consents given: a consultant's own; a manager's goes to the consultant they pick, or else to the
   dealer's rotation (app.services.routing), as a manager's import does. The first-contact clock starts.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Lead, Origin, Role, Stage, User, utcnow
from app.services import FieldError, callers, first_contact_clock, routing, walk_ins


class DuplicateLead(FieldError):
    """The person already has an open lead at this dealer: `lead` is that lead."""

    def __init__(self, lead: Lead):
        super().__init__("phone", _l("This person already has an open lead at your dealer."))
        self.lead = lead


def capture(user: User, data: dict) -> Lead:
    """Enter a dealer's own lead as the module describes, and commit.

    :param data: phone (E.164), name, source, intent_level, and optional model_of_interest, city, consent (channel
        names) and, for a manager, consultant_id.
    :raise DuplicateLead: when the dealer already works an open lead of this person.
    :raise FieldError: when a manager picks someone who is not an active consultant of the dealer.
    """
    try:
        return _capture(user, data)
    except IntegrityError:
        db.session.rollback()  # another request created this customer a moment ago: starting over finds theirs
        return _capture(user, data)


def _capture(user: User, data: dict) -> Lead:
    customer = walk_ins.locked_customer(user.oem_id, data["phone"])
    existing = walk_ins.open_leads(user, data["phone"]) if customer else []
    if existing:
        db.session.rollback()
        raise DuplicateLead(existing[0])
    consultant = _receiver(user, data.get("consultant_id"))
    now = utcnow()
    customer = callers.customer_of_call(user, customer, data, now)
    lead = Lead(oem_id=user.oem_id, customer=customer, dealer_id=user.dealer_id, dealer=user.dealer,
                origin=Origin.DEALER, source=data["source"], model_of_interest=data.get("model_of_interest"),
                intent_level=data["intent_level"], stage=Stage.NEW, arrived_at=now, created_by_id=user.id)
    db.session.add(lead)
    db.session.flush()
    if consultant is user:
        lead.consultant_id, lead.assigned_at = user.id, now
        first_contact_clock.start(lead, now)
    elif consultant is not None:
        routing.assign(lead, consultant, user)
    else:
        routing.assign_in_dealer(lead, user)
    db.session.commit()
    return lead


def _receiver(user: User, consultant_id: int | None) -> User | None:
    """Who gets the lead: the consultant who entered it; a manager's pick; None for the dealer's rotation."""
    if user.role is not Role.MANAGER:
        return user
    if consultant_id is None:
        return None
    for consultant in walk_ins.consultant_choices(user):
        if consultant.id == consultant_id:
            return consultant
    db.session.rollback()
    raise FieldError("consultant_id", _l("Choose the consultant who receives them."))
