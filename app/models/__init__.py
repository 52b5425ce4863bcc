"""All models, importable from one place (and all registered before Alembic compares metadata)."""
from app.models.activities import Activity, ActivityKind, AppendOnlyError, Outcome
from app.models.api_tokens import ApiToken
from app.models.approvals import ApprovalKind, ApprovalRequest, ApprovalStatus
from app.models.audit import AuditEntry
from app.models.cadence import BUILT_IN, DEFAULT_DAYS, SETTINGS, CadencePolicy, Digest, StopCondition
from app.models.idempotency import IdempotentRequest
from app.models.imports import ImportedRow, ImportState, LeadImport, LeadImportIssue
from app.models.customers import Channel, ConsentMethod, ConsentRecord, ConsentState, Customer
from app.models.leads import CLOSED_STAGES, OPEN_STAGES, IntentLevel, Lead, Origin, ReturnReason, Source, Stage
from app.models.notifications import DeliveryState, Notification, PushDelivery, PushPreferences, PushSubscription
from app.models.org import AssignmentMode, Dealer, Oem, Region
from app.models.routing import RoutingRule, RuleScope
from app.models.tasks import Appointment, AppointmentKind, AppointmentStatus, FollowUpTask, TaskStatus
from app.models.types import utcnow
from app.models.users import Role, User
from app.models.visits import ShowroomVisit

__all__ = [
    "Activity", "ActivityKind", "ApiToken", "AssignmentMode", "IdempotentRequest", "ImportedRow", "ImportState", "LeadImport", "LeadImportIssue",
    "ReturnReason", "DeliveryState", "PushDelivery", "PushPreferences", "RoutingRule", "RuleScope", "AppendOnlyError", "Appointment", "AppointmentKind", "AppointmentStatus",
    "ApprovalKind", "ApprovalRequest", "ApprovalStatus", "AuditEntry", "BUILT_IN", "CLOSED_STAGES", "CadencePolicy", "Channel",
    "ConsentMethod", "ConsentRecord", "ConsentState", "Customer", "DEFAULT_DAYS", "Dealer", "Digest", "FollowUpTask", "IntentLevel", "Lead",
    "Notification", "OPEN_STAGES", "Oem", "Origin", "Outcome", "PushSubscription", "Region", "Role",
    "SETTINGS", "ShowroomVisit", "Source", "Stage", "StopCondition", "TaskStatus", "User", "utcnow",
]
