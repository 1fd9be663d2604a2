"""Records shaped like the worker's outputs (and the clinic's inputs) for read-model tests:
a fictional cohort's registrations, infusions, check-ins, answers, alerts with their audit
trail, consent changes and texts with delivery reports, with some records sent twice, as a
replay after a crash sends them. Every record is valid against schemas/."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from afterglow.topics import (
    ALERTS,
    AUDIT,
    CHECKINS,
    CLINICAL_EVENTS,
    CLINICIANS,
    CONSENT,
    INFUSIONS_COMPLETED,
    PATIENTS,
    SMS_OUTBOUND,
    SMS_OUTBOUND_URGENT,
    SMS_PATIENT_INBOUND,
    SMS_STATUS,
)
from tests.support.records import clinician, infusion, patient

_START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Produced:
    """One record to produce: catalog topic, key, value (None: a tombstone)."""

    topic: str
    key: str
    value: dict[str, Any] | None


def _at(minutes: float) -> str:
    return (_START + timedelta(minutes=minutes)).isoformat()


def _phone(number: int) -> str:
    return f"+1555555{number % 10000:04d}"


def cohort(patients: int, prefix: str = "pt") -> list[Produced]:
    """Every record of ``patients`` patients, in an order a running service could write
    them; each patient's records keep their own order."""
    records = [
        Produced(CLINICIANS, f"clin-{n}", clinician(f"clin-{n}", _phone(100 + n))) for n in range(3)
    ]
    for number in range(patients):
        records.extend(_patient_records(f"{prefix}-{number}", number))
    return records


def _patient_records(patient_id: str, number: int) -> list[Produced]:
    out: list[Produced] = []
    base = number * 3.0

    def add(topic: str, value: dict[str, Any] | None, key: str = patient_id) -> None:
        out.append(Produced(topic, key, value))

    registration = patient(
        patient_id, phone=_phone(number), clinician_id=f"clin-{number % 3}", display_name="Ana"
    )
    add(PATIENTS, registration)
    add(PATIENTS, {**registration, "timezone": "Europe/Berlin"})  # latest wins
    for n in range(2):
        add(INFUSIONS_COMPLETED, infusion(f"{patient_id}/inf-{n}", patient_id, _at(base + n)))
    for occurrence in range(3):
        occurrence_id = f"occ-{occurrence}"
        planned = _at(base + 60 * occurrence)
        step = {
            "patient_id": patient_id,
            "clinic_id": "clinic-a",
            "occurrence_id": occurrence_id,
            "kind": "baseline" if occurrence == 0 else "followup",
            "planned_at": planned,
        }
        add(
            CHECKINS,
            {
                **step,
                "event_id": f"{patient_id}/{occurrence_id}:due",
                "type": "checkin_due",
                "at": planned,
            },
        )
        send_key = f"{patient_id}/{occurrence_id}/q1"
        add(
            SMS_OUTBOUND,
            {
                "send_key": send_key,
                "patient_id": patient_id,
                "to": _phone(number),
                "body": "How have you been feeling?",
                "category": "questionnaire",
                "at": planned,
            },
        )
        sid = f"SM{number:06d}{occurrence:02d}"
        add(
            SMS_STATUS,
            {
                "message_sid": sid,
                "status": "queued",
                "received_at": planned,
                "send_key": send_key,
                "patient_id": patient_id,
            },
            key=sid,
        )
        add(
            SMS_STATUS,
            {
                "message_sid": sid,
                "status": "delivered",
                "received_at": _at(base + 60 * occurrence + 1),
            },
            key=sid,
        )
        add(
            SMS_STATUS,
            {
                "message_sid": sid,
                "status": "sent",
                "error_code": None,
                "received_at": _at(base + 60 * occurrence + 2),
            },
            key=sid,
        )
        add(
            CHECKINS,
            {
                **step,
                "event_id": f"{patient_id}/{occurrence_id}:r1",
                "type": "checkin_reminder",
                "number": 1,
                "at": _at(base + 60 * occurrence + 5),
            },
        )
        if occurrence == 2:
            add(
                CHECKINS,
                {
                    **step,
                    "event_id": f"{patient_id}/{occurrence_id}:exp",
                    "type": "checkin_expired",
                    "at": _at(base + 60 * occurrence + 30),
                },
            )
            continue
        items = [(number + item + occurrence) % 4 for item in range(8)] + [0]
        answered = _at(base + 60 * occurrence + 10)
        add(
            SMS_PATIENT_INBOUND,
            {
                "message_sid": f"SMin{number:06d}{occurrence:02d}",
                "patient_id": patient_id,
                "from": _phone(number),
                "body": " ".join(map(str, items)),
                "received_at": answered,
            },
        )
        add(
            CLINICAL_EVENTS,
            {
                "event_id": f"{patient_id}/{occurrence_id}:assessment",
                "type": "assessment_completed",
                "patient_id": patient_id,
                "occurrence_id": occurrence_id,
                "at": answered,
                "items": items,
                "total": sum(items),
                "severity": "moderate",
            },
        )
        add(
            CLINICAL_EVENTS,
            {
                "event_id": f"{patient_id}/{occurrence_id}:difficulty",
                "type": "difficulty_answered",
                "patient_id": patient_id,
                "occurrence_id": occurrence_id,
                "at": answered,
                "value": 1,
            },
        )
    if number % 2 == 0:
        out.extend(_alert_records(patient_id, number, base))
    if number % 5 == 0:
        add(
            CONSENT,
            {
                "event_id": f"{patient_id}/stop",
                "patient_id": patient_id,
                "action": "opt_out",
                "at": _at(base + 200),
                "source": "sms",
            },
        )
        add(
            CONSENT,
            {
                "event_id": f"{patient_id}/start",
                "patient_id": patient_id,
                "action": "opt_in",
                "at": _at(base + 300),
                "source": "sms",
            },
        )
    if number % 4 == 0:
        add(
            CLINICAL_EVENTS,
            {
                "event_id": f"{patient_id}/occ-1:item9",
                "type": "self_harm_item_answered",
                "patient_id": patient_id,
                "occurrence_id": "occ-1",
                "value": 1,
                "at": _at(base + 69),
            },
        )
        add(
            SMS_OUTBOUND_URGENT,
            {
                "send_key": f"{patient_id}/crisis",
                "patient_id": patient_id,
                "to": _phone(number),
                "body": "If you are in danger, call 988.",
                "category": "crisis",
                "urgent": True,
                "at": _at(base + 70),
            },
        )
    if number % 7 == 3:
        add(PATIENTS, None)  # the clinic removed the patient
    # A replay after a crash: the same records again, with the same ids.
    return out + out[-3:]


def _alert_records(patient_id: str, number: int, base: float) -> list[Produced]:
    alert_id = f"{patient_id}/a-1"
    raised = _at(base + 70)
    alert: dict[str, Any] = {
        "alert_id": alert_id,
        "patient_id": patient_id,
        "clinic_id": "clinic-a",
        "kind": "safety",
        "priority": "P1",
        "at": raised,
        "reason": "item 9 answered 1",
        "status": "open",
        "clinician_id": f"clin-{number % 3}",
        "raised_at": raised,
        "changed_at": raised,
        "escalations": 0,
        "updates": 0,
        "acknowledged_by": None,
        "acknowledged_at": None,
        "resolved_by": None,
        "resolved_at": None,
        "outcome": None,
    }
    escalated = {**alert, "changed_at": _at(base + 85), "escalations": 1}
    acknowledged = {
        **escalated,
        "status": "acknowledged",
        "changed_at": _at(base + 90),
        "acknowledged_by": "clinician:clin-0",
        "acknowledged_at": _at(base + 90),
    }
    resolved = {
        **acknowledged,
        "status": "resolved",
        "changed_at": _at(base + 120),
        "resolved_by": "clinician:clin-0",
        "resolved_at": _at(base + 120),
        "outcome": "reached_plan_made",
    }

    def audit(action: str, at: str, actor: str = "system", **details: Any) -> Produced:
        return Produced(
            AUDIT,
            patient_id,
            {
                "event_id": f"{alert_id}/{action}",
                "patient_id": patient_id,
                "clinic_id": "clinic-a",
                "action": action,
                "actor": actor,
                "at": at,
                "alert_id": alert_id,
                "kind": "safety",
                "priority": "P1",
                **details,
            },
        )

    records = [
        Produced(ALERTS, patient_id, alert),
        audit("raised", raised, via="stream"),
        audit("notified", raised, recipient="clinician:clin-0", role="primary"),
        Produced(ALERTS, patient_id, escalated),
        audit("escalated", _at(base + 85), via="timer", recipient="director:clinic-a"),
        Produced(ALERTS, patient_id, acknowledged),
        audit("acknowledged", _at(base + 90), actor="clinician:clin-0", via="sms"),
    ]
    if number % 4 == 0:
        records += [
            Produced(ALERTS, patient_id, resolved),
            audit(
                "resolved",
                _at(base + 120),
                actor="clinician:clin-0",
                via="dashboard",
                outcome="reached_plan_made",
            ),
        ]
    records.append(
        Produced(
            AUDIT,
            patient_id,
            {
                "event_id": f"{patient_id}/bad-number",
                "patient_id": patient_id,
                "action": "sms_bad_number",
                "actor": "carrier",
                "at": _at(base + 5),
                "code": 21211,
                "reference": "SM1",
            },
        )
    )
    return records
