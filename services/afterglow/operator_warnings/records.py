"""The operator warnings' kinds, keys and records (pure).

A warning is keyed `<kind>:<clinic_id>:<subject>` on the compacted topic
`afterglow.operator-warnings`; the same key raised again replaces it, a tombstone clears it.
Subjects are the clinic's pseudonymous ids (a clinician or a patient id), never a phone
number, a name or a message body (docs/operators.md, "Operator warnings").
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class WarningKind(StrEnum):
    # Registrations name a clinician with no record in clinic.clinicians: pages and digests
    # for their patients go to the clinic director until the record arrives.
    UNKNOWN_CLINICIAN = "unknown_clinician"
    # An infusion is held for a patient with no registration: nothing is planned until it
    # arrives (docs/operators.md).
    UNREGISTERED_PATIENT = "unregistered_patient"


_MESSAGES = {
    WarningKind.UNKNOWN_CLINICIAN: (
        "registrations name this clinician, who has no record in clinic.clinicians: pages "
        "and digests for their patients go to the clinic's medical director until the "
        "clinician's record is sent"
    ),
    WarningKind.UNREGISTERED_PATIENT: (
        "an infusion is held for this patient, who has no registration in clinic.patients: "
        "no check-in is planned until the registration is sent"
    ),
}


def warning_id(kind: WarningKind, clinic_id: str, subject: str) -> str:
    """The warning's key (opaque, compared whole, never split)."""
    return f"{kind.value}:{clinic_id}:{subject}"


def warning_record(
    kind: WarningKind, clinic_id: str, subject: str, *, at: str, source_topic: str
) -> dict[str, Any]:
    return {
        "warning_id": warning_id(kind, clinic_id, subject),
        "kind": kind.value,
        "clinic_id": clinic_id,
        "subject": subject,
        "message": _MESSAGES[kind],
        "at": at,
        "source_topic": source_topic,
    }
