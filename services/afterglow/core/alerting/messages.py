"""The clinician texts: template names and their parameters, never wording.

One Jinja2 file per message and language: templates/sms/<language>/<name>.j2, rendered with
`afterglow.sms.templates.render`. Like the patient texts they carry no diagnosis, drug name,
score, patient name or the words "depression"/"ketamine" (docs/rules.md): a page says
only which clinic, an opaque patient reference, the priority and the code to reply with.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

from afterglow.core.rules.kinds import KINDS, AlertKind


class ClinicianTemplate(StrEnum):
    ALERT = "clinician_alert"
    ACK_CONFIRMED = "clinician_ack_confirmed"
    ACK_ALREADY = "clinician_ack_already"
    ACK_CLOSED = "clinician_ack_closed"
    ACK_UNKNOWN = "clinician_ack_unknown"
    HELP = "clinician_help"
    DIGEST = "clinician_digest"
    CRISIS_SENDER = "clinician_crisis_sender"


# The parameters each template is rendered with (tests render every template with these).
CLINICIAN_TEMPLATE_PARAMS: dict[ClinicianTemplate, frozenset[str]] = {
    # escalated_from: None for the first page, else the Role value that did not acknowledge
    # ("primary", "backup", "director"); kind_label: a neutral label such as "safety".
    ClinicianTemplate.ALERT: frozenset(
        {"clinic_name", "patient_ref", "priority", "kind_label", "code", "escalated_from"}
    ),
    ClinicianTemplate.ACK_CONFIRMED: frozenset({"code", "patient_ref"}),
    # owner_label: "you" or "a colleague"
    ClinicianTemplate.ACK_ALREADY: frozenset({"code", "patient_ref", "owner_label"}),
    ClinicianTemplate.ACK_CLOSED: frozenset({"code"}),
    # code: the digits typed, or None; open_codes: the codes the clinician holds (up to 5)
    ClinicianTemplate.ACK_UNKNOWN: frozenset({"code", "open_codes"}),
    ClinicianTemplate.HELP: frozenset(),
    # date: the digest's local date (a date or an ISO string); count: patients
    ClinicianTemplate.DIGEST: frozenset({"clinic_name", "count", "date"}),
    # sender: the masked number (+1******0199) of a crisis text nobody in the directory owns
    ClinicianTemplate.CRISIS_SENDER: frozenset({"clinic_name", "sender"}),
}


_MAX_REF = 12


def kind_label(kind: str) -> str:
    """What a page may say about why (docs/rules.md: no scores, no diagnosis)."""
    return KINDS[AlertKind(kind)].page_label


def patient_ref(patient_id: str) -> str:
    """The patient reference a page carries: the clinic's id when it is short, else a
    stable 8-character digest of it (the dashboard shows both), so a page stays one
    segment."""
    if len(patient_id) <= _MAX_REF:
        return patient_id
    return "P" + hashlib.blake2b(patient_id.encode(), digest_size=4).hexdigest().upper()
