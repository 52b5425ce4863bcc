"""Words shown for the stored codes (stages, levels, sources, roles), translated at render time.

Keyed by enum class first: StrEnum members equal their values, so Source.WECHAT == Channel.WECHAT.
"""
from flask_babel import lazy_gettext as _l

from app.models import (
    ActivityKind, AppointmentKind, AppointmentStatus, Channel, ConsentMethod, ConsentState, IntentLevel, Outcome,
    Role, Source, Stage, TaskStatus,
)

LABELS = {
    Stage: {
        Stage.NEW: _l("New"), Stage.CONTACTED: _l("Contacted"), Stage.INVITED: _l("Invited"),
        Stage.VISITED: _l("Visited"), Stage.TEST_DRIVE: _l("Test drive"), Stage.NEGOTIATING: _l("Negotiating"),
        Stage.ORDERED: _l("Ordered"), Stage.DELIVERED: _l("Delivered"), Stage.LOST: _l("Lost"),
        Stage.INVALID: _l("Invalid"),
    },
    IntentLevel: {
        IntentLevel.H: _l("H · within 7 days"), IntentLevel.A: _l("A · within a month"),
        IntentLevel.B: _l("B · 1–3 months"), IntentLevel.C: _l("C · over 3 months"),
        IntentLevel.O: _l("O · ordered"),
    },
    Source: {
        Source.OEM_HOTLINE: _l("Brand hotline"), Source.BRAND_WEBSITE: _l("Brand website"),
        Source.AUTOHOME: _l("Autohome"), Source.DONGCHEDI: _l("Dongchedi"), Source.YICHE: _l("Yiche"),
        Source.PHONE_IN: _l("Phone-in"), Source.WALK_IN: _l("Walk-in"), Source.AUTO_SHOW: _l("Auto show"),
        Source.REFERRAL: _l("Referral"), Source.WECHAT: _l("WeChat"), Source.REPEAT_CUSTOMER: _l("Repeat customer"),
    },
    Role: {
        Role.CONSULTANT: _l("Sales consultant"), Role.MANAGER: _l("Sales manager"),
        Role.IDCC_AGENT: _l("Lead desk agent"), Role.OEM_ADMIN: _l("Brand administrator"),
    },
    ActivityKind: {
        ActivityKind.CALL: _l("Call"), ActivityKind.SMS: _l("SMS"), ActivityKind.WECHAT: _l("WeChat message"),
        ActivityKind.VISIT: _l("Showroom visit"), ActivityKind.TEST_DRIVE: _l("Test drive"),
        ActivityKind.NOTE: _l("Note"), ActivityKind.STAGE_CHANGE: _l("Stage changed"),
        ActivityKind.INTENT_CHANGE: _l("Intent level changed"), ActivityKind.ASSIGNMENT: _l("Assigned"),
    },
    Outcome: {
        Outcome.REACHED: _l("Reached"), Outcome.NO_ANSWER: _l("No answer"), Outcome.BUSY: _l("Busy"),
        Outcome.WRONG_NUMBER: _l("Wrong number"),
    },
    Channel: {
        Channel.CALL: _l("Phone calls"), Channel.SMS: _l("SMS"), Channel.WECHAT: _l("WeChat"),
        Channel.EMAIL: _l("Email"),
    },
    ConsentState: {
        ConsentState.GRANTED: _l("Agreed"), ConsentState.WITHDRAWN: _l("Withdrawn"),
        ConsentState.NOT_RECORDED: _l("Not recorded"),
    },
    ConsentMethod: {
        ConsentMethod.WALK_IN_FORM: _l("Walk-in form"), ConsentMethod.PHONE: _l("By phone"),
        ConsentMethod.PORTAL: _l("Car portal"), ConsentMethod.WEB_FORM: _l("Web form"),
        ConsentMethod.IMPORT: _l("Lead file"),
    },
    TaskStatus: {TaskStatus.OPEN: _l("Open"), TaskStatus.DONE: _l("Done"), TaskStatus.CANCELLED: _l("Cancelled")},
    AppointmentKind: {
        AppointmentKind.VISIT: _l("Showroom visit"), AppointmentKind.TEST_DRIVE: _l("Test drive"),
        AppointmentKind.DELIVERY: _l("Delivery"),
    },
    AppointmentStatus: {
        AppointmentStatus.BOOKED: _l("Booked"), AppointmentStatus.ATTENDED: _l("Attended"),
        AppointmentStatus.NO_SHOW: _l("No-show"), AppointmentStatus.CANCELLED: _l("Cancelled"),
    },
}


# Codes the app itself writes where people also write free text (activity summaries, follow-up purposes, consent
# sources), and the consent states as the audit trail stores them.
LABELS[str] = {
    **{state.value: words for state, words in LABELS[ConsentState].items()},
    "lead_page": _l("Lead page"),
    "no_show": _l("Customer did not come"),
    "reschedule_no_show": _l("Reschedule the missed appointment"),
    "after_visit": _l("Follow up after the showroom visit"),
    "arrived_again": _l("Arrived again via"),
    "follow_up_due": _l("Follow-up due"),
    "appointment_soon": _l("Appointment within the hour"),
    "visit": _l("Showroom visit"),
    "test_drive": _l("Test drive"),
    "digest": _l("Your day"),
    "test": _l("Test notification"),
    "lead_assigned": _l("New lead for you"),
    "lead_to_assign": _l("Lead to assign"),
    "lead_taken_back": _l("Lead taken back"),
    "lead_reassigned": _l("Lead handed to a colleague"),
    "first_contact_breach": _l("Not called in time"),
    "returned_to_desk": _l("Returned to the lead desk"),
    "returned_to_pool": _l("Returned to the dealer's pool"),
    "not_contacted": _l("Nobody called within the limit"),
    "untouched": _l("Nobody followed it up"),
    "approval_requested": _l("Asks for your approval"),
    "approval_approved": _l("Your request was approved"),
    "approval_rejected": _l("Your request was rejected"),
    "rejected": _l("Request rejected"),
    "mark_lost": _l("Lost requested"),
    "mark_invalid": _l("Invalid requested"),
    "cancel_follow_up": _l("Cancel follow-up requested"),
    "asked_not_to_call": _l("Customer asked not to be called for now"),
    "away_for_now": _l("Customer is away for a while"),
    "waiting_for_customer": _l("Customer will get back to us"),
    "duplicate_task": _l("Duplicate follow-up"),
    "bought_competitor": _l("Bought another brand"),
    "bought_elsewhere": _l("Bought from another dealer"),
    "price": _l("Price or financing"),
    "postponed": _l("Purchase postponed"),
    "no_longer_interested": _l("No longer wants to buy"),
    "unreachable": _l("Never reachable"),
    "wrong_number": _l("Wrong number"),
    "duplicate": _l("Duplicate lead"),
    "not_a_buyer": _l("Not a car buyer"),
    "test_or_spam": _l("Test or spam"),
}


def label(value) -> str:
    """The translated word for a stored code; anything else shows as it is."""
    return LABELS.get(type(value), {}).get(value, value)


# What an audit trail entry records, by its action code (app.services.audit.record).
AUDIT_ACTIONS = {
    "user.created": _l("Consultant added"),
    "user.activated": _l("Account reactivated"),
    "user.deactivated": _l("Account deactivated"),
    "user.password_reset": _l("Password reset by the manager"),
    "user.password_changed": _l("Password changed"),
    "user.locked": _l("Account locked after failed sign-ins"),
    "user.unlocked": _l("Account unlocked"),
    "user.sessions_ended": _l("Signed out on all devices"),
    "user.leads_handed_over": _l("Leads handed over"),
    "user.shift_changed": _l("Shift changed"),
    "user.weight_changed": _l("Rotation weight changed"),
    "lead.routed": _l("Lead routed to a dealer"),
    "lead.assigned": _l("Lead assigned"),
    "lead.returned": _l("Lead taken back"),
    "lead.stage_changed": _l("Lead stage changed"),
    "customer.updated": _l("Customer details changed"),
    "consent.granted": _l("Consent recorded"),
    "consent.withdrawn": _l("Consent withdrawn"),
    "customer.exported": _l("Customer's data shown or downloaded"),
    "customer.erased": _l("Customer erased on request"),
    "approval.approved": _l("Request approved"),
    "approval.rejected": _l("Request rejected"),
    "routing_rule.created": _l("Routing rule added"),
    "routing_rule.changed": _l("Routing rule changed"),
    "routing_rule.deleted": _l("Routing rule deleted"),
    "oem.settings_changed": _l("Brand cadence changed"),
    "oem.follow_ups_rescheduled": _l("Follow-ups rescheduled by the brand cadence"),
    "region.settings_changed": _l("Region cadence changed"),
    "region.follow_ups_rescheduled": _l("Follow-ups rescheduled by the region cadence"),
    "dealer.settings_changed": _l("Dealer cadence changed"),
    "dealer.follow_ups_rescheduled": _l("Follow-ups rescheduled by the dealer cadence"),
    "audit.exported": _l("Audit trail downloaded"),
    "api_token.issued": _l("API token issued"),
    "api_token.revoked": _l("API token revoked"),
}

# The kinds of object an audit entry is about, by table name.
AUDIT_OBJECTS = {
    "users": _l("Person"), "leads": _l("Lead"), "customers": _l("Customer"),
    "approval_requests": _l("Approval request"), "routing_rules": _l("Routing rule"), "oems": _l("Brand"),
    "regions": _l("Region"), "dealers": _l("Dealer"), "api_tokens": _l("API token"),
}


def audit_action_label(action: str) -> str:
    """The translated words for an audit action code; an unknown code shows as it is."""
    return AUDIT_ACTIONS.get(action, action)


def audit_object_label(object_type: str) -> str:
    """The translated name of the kind of object an audit entry is about."""
    return AUDIT_OBJECTS.get(object_type, object_type)
