"""The alert desk (docs/rules.md): alert records, escalation, acknowledgment codes,
clinician replies and actions. Pure: every function takes `now`; the stream shell stores
records with `to_dict`/`from_dict` and sends the texts."""

from afterglow.core.alerting.ack import (
    ClinicianReply,
    ReplyKind,
    ack_code_for,
    parse_clinician_reply,
)
from afterglow.core.alerting.actions import (
    ActionResult,
    Outcome,
    acknowledge,
    parse_outcome,
    resolve,
)
from afterglow.core.alerting.escalation import (
    EscalationPolicy,
    EscalationStep,
    due_escalations,
    mark_escalated,
    next_escalation_at,
)
from afterglow.core.alerting.messages import (
    CLINICIAN_TEMPLATE_PARAMS,
    ClinicianTemplate,
    kind_label,
    patient_ref,
)
from afterglow.core.alerting.record import AlertRecord, AlertStatus, Role
from afterglow.core.alerting.routing import (
    Hop,
    Notice,
    NoticeType,
    backup_hop,
    escalation_page,
    first_notice,
    status_hop,
    unreachable_digest_hop,
    unreachable_hop,
)

__all__ = [
    "CLINICIAN_TEMPLATE_PARAMS",
    "ActionResult",
    "AlertRecord",
    "AlertStatus",
    "ClinicianReply",
    "ClinicianTemplate",
    "EscalationPolicy",
    "EscalationStep",
    "Hop",
    "Notice",
    "NoticeType",
    "Outcome",
    "ReplyKind",
    "Role",
    "ack_code_for",
    "acknowledge",
    "backup_hop",
    "due_escalations",
    "escalation_page",
    "first_notice",
    "kind_label",
    "mark_escalated",
    "next_escalation_at",
    "parse_clinician_reply",
    "parse_outcome",
    "patient_ref",
    "resolve",
    "status_hop",
    "unreachable_digest_hop",
    "unreachable_hop",
]
