"""Clinical events as JSON records: the `afterglow.clinical-events` topic and the lines of a
backtest history share one format, read by `decode` (the monitor, `afterglow backtest`) and
written by `encode` (the conversation, intake, consent and the alert desk).

Pure: records in, events out. Records are validated against their schema before `decode`
sees them, so it only builds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from afterglow.core.conversation.events import CheckinIncomplete, DifficultyAnswered
from afterglow.core.events import (
    AlertResolved,
    AssessmentCompleted,
    CheckinExpired,
    ClinicalEvent,
    CrisisTextReceived,
    InfusionCompleted,
    OptedOut,
    PatientEnrolled,
    SelfHarmItemAnswered,
)
from afterglow.core.scoring import score

_Builder = Callable[[Mapping[str, Any], str, datetime], ClinicalEvent]


def _items(raw: Any) -> tuple[int | None, ...] | None:
    return None if raw is None else tuple(None if v is None else int(v) for v in raw)


_BUILDERS: dict[str, _Builder] = {
    "patient_enrolled": lambda d, p, at: PatientEnrolled(p, at, d.get("baseline_phq9")),
    "infusion_completed": lambda d, p, at: InfusionCompleted(p, at),
    "assessment_completed": lambda d, p, at: AssessmentCompleted(
        p, at, tuple(map(int, d["items"])), d.get("difficulty"), d.get("occurrence_id")
    ),
    "self_harm_item_answered": lambda d, p, at: SelfHarmItemAnswered(
        p, at, d["value"], d["occurrence_id"]
    ),
    "crisis_text_received": lambda d, p, at: CrisisTextReceived(p, at),
    "checkin_expired": lambda d, p, at: CheckinExpired(
        p, at, d.get("occurrence_id"), _items(d.get("items"))
    ),
    "opted_out": lambda d, p, at: OptedOut(p, at),
    "alert_resolved": lambda d, p, at: AlertResolved(
        p, at, d["kind"], d.get("alert_id"), d.get("outcome")
    ),
}

CLINICAL_TYPES = frozenset(_BUILDERS)


def decode(data: Mapping[str, Any], at: datetime) -> ClinicalEvent | None:
    """The rule engine's event for a validated record whose `at` is `at`; None for record
    types the rules do not read (difficulty answers, incomplete check-ins)."""
    build = _BUILDERS.get(data["type"])
    return None if build is None else build(data, data["patient_id"], at)


RecordedEvent = ClinicalEvent | DifficultyAnswered | CheckinIncomplete


def encode(event: RecordedEvent, event_id: str, **extra: Any) -> dict[str, Any]:
    """The record of `event` (with `extra` fields such as `clinic_id`)."""
    record: dict[str, Any] = {
        "event_id": event_id,
        "type": "",
        "patient_id": event.patient_id,
        "at": event.at.isoformat(),
    }
    if isinstance(event, AssessmentCompleted):
        result = score(event.items)
        assert result is not None  # completed means items 1-9 answered
        record |= {
            "type": "assessment_completed",
            "occurrence_id": event.occurrence_id,
            "items": list(event.items),
            "total": result.total,
            "severity": result.severity,
        }
    elif isinstance(event, SelfHarmItemAnswered):
        record |= {
            "type": "self_harm_item_answered",
            "occurrence_id": event.occurrence_id,
            "value": event.value,
        }
    elif isinstance(event, CrisisTextReceived):
        record |= {"type": "crisis_text_received", "occurrence_id": None}
    elif isinstance(event, DifficultyAnswered):
        record |= {
            "type": "difficulty_answered",
            "occurrence_id": event.occurrence_id,
            "value": event.value,
        }
    elif isinstance(event, CheckinIncomplete):
        record |= {
            "type": "checkin_incomplete",
            "occurrence_id": event.occurrence_id,
            "items": list(event.answers),
        }
    elif isinstance(event, CheckinExpired):
        record |= {"type": "checkin_expired", "occurrence_id": event.occurrence_id}
        if event.items is not None:
            record["items"] = list(event.items)  # a partial check-in keeps its items
    elif isinstance(event, PatientEnrolled):
        record |= {"type": "patient_enrolled", "baseline_phq9": event.baseline_phq9}
    elif isinstance(event, InfusionCompleted):
        record["type"] = "infusion_completed"
    elif isinstance(event, OptedOut):
        record["type"] = "opted_out"
    else:
        record |= {
            "type": "alert_resolved",
            "kind": event.kind,
            "alert_id": event.alert_id,
            "outcome": event.outcome,
        }
    record.update(extra)
    return record
