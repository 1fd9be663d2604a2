"""From topic records to read-model rows: pure, no Kafka, no database, no clock.

``decode`` checks a raw record exactly as the worker does (``intake.records``: size, JSON,
the topic's schema, the key); ``project`` turns a decoded record into the ``Upsert``s that
write it, keyed by the identity of what it describes (docs/developers.md, "Read model").
Times are stored as UTC ISO-8601 text with microseconds, so text order is time order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from afterglow.intake.records import MAX_INPUT_KEY_BYTES, decode_catalog_record, parse_patient
from afterglow.readmodel.upserts import VERSION, Merge, Upsert
from afterglow.sms.ledger import delivery_rank
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
from afterglow.validation import InvalidEvent, SchemaCatalog, parse_instant

# Compacted topics whose tombstone (no value) removes what the key names.
_TOMBSTONE_TOPICS = frozenset({PATIENTS, CLINICIANS})

_ALERT_STATUS_RANK = {"open": 0, "acknowledged": 1, "resolved": 2}
_PHQ9 = "PHQ-9"


@dataclass(frozen=True)
class Position:
    """Where a record was read: the physical topic, partition and offset."""

    topic: str
    partition: int
    offset: int


class ProjectionError(ValueError):
    """A valid record the read model cannot hold; ``str()`` is the reason."""


def decode(
    catalog: SchemaCatalog, name: str, key: bytes | None, value: bytes | None
) -> dict[str, Any] | None:
    """The record's value, checked like the worker checks it; None for a tombstone of a
    compacted registry topic. InvalidEvent says what is wrong.

    The checks that need no state are the worker's own (a registration's time zone
    included); those that depend on the worker's clock, clinic settings or registry (an
    infusion's date window, an unknown clinic, another clinic's patient) are not made, so
    such a record is shown although the worker dead-lettered it."""
    if value is None and name in _TOMBSTONE_TOPICS:
        if not key:
            raise InvalidEvent("tombstone without a key")
        if len(key) > MAX_INPUT_KEY_BYTES:
            raise InvalidEvent(f"record key of {len(key):,} bytes is over the limit")
        return None
    if name == PATIENTS:
        return parse_patient(catalog, key, value)
    return decode_catalog_record(catalog, name, key, value)


def project(
    name: str, key: bytes | None, value: Mapping[str, Any] | None, position: Position
) -> list[Upsert]:
    """The upserts that write one decoded record of catalog topic ``name``."""
    if value is None:
        return _removal(name, key, position)
    handler = _HANDLERS.get(name)
    if handler is None:
        raise ProjectionError(f"topic {name} is not projected")
    return handler(value, position)


def utc(text: str, field: str = "at") -> str:
    """A schema-valid date-time as UTC text that sorts like the instant it names."""
    return parse_instant(text, field).astimezone(UTC).isoformat(timespec="microseconds")


def _optional_utc(value: Mapping[str, Any], field: str) -> str | None:
    raw = value.get(field)
    return None if raw is None else utc(raw, field)


def _offset_version(position: Position) -> str:
    return f"{position.offset:020d}"


def _versioned(values: Mapping[str, Any]) -> dict[str, Merge]:
    return dict.fromkeys(values, Merge.VERSIONED)


def _removal(name: str, key: bytes | None, position: Position) -> list[Upsert]:
    if name not in _TOMBSTONE_TOPICS or key is None:
        raise ProjectionError(f"a record of {name} without a value")
    identity = "patient_id" if name == PATIENTS else "clinician_id"
    table = "patients" if name == PATIENTS else "clinicians"
    values = {"removed_version": _offset_version(position)}
    return [Upsert(table, {identity: key.decode()}, values, {"removed_version": Merge.GREATEST})]


def _patient(value: Mapping[str, Any], position: Position) -> list[Upsert]:
    values = {
        "clinic_id": value["clinic_id"],
        "clinician_id": value["clinician_id"],
        "display_name": value.get("display_name"),
        "phone": value["phone"],
        "timezone": value["timezone"],
        "language": value["language"],
        "sms_consent": value["sms_consent"],
        "baseline_phq9": value.get("baseline_phq9"),
        "shared_phone": value.get("shared_phone", False),
        VERSION: _offset_version(position),
    }
    return [Upsert("patients", {"patient_id": value["patient_id"]}, values, _versioned(values))]


def _clinician(value: Mapping[str, Any], position: Position) -> list[Upsert]:
    values = {
        "clinic_id": value["clinic_id"],
        "name": value["name"],
        "phone": value["phone"],
        "backup_clinician_id": value.get("backup_clinician_id"),
        VERSION: _offset_version(position),
    }
    return [
        Upsert("clinicians", {"clinician_id": value["clinician_id"]}, values, _versioned(values))
    ]


def _infusion(value: Mapping[str, Any], position: Position) -> list[Upsert]:
    values = {
        "patient_id": value["patient_id"],
        "clinic_id": value["clinic_id"],
        "completed_at": utc(value["completed_at"], "completed_at"),
    }
    return [Upsert("infusions", {"event_id": value["event_id"]}, values)]


def _checkin_row(patient_id: str, occurrence_id: str, **values: Any) -> Upsert:
    """A step of one check-in: fills in what the row does not know yet."""
    merge = {name: Merge.GREATEST if name == "reminders" else Merge.FILL for name in values}
    return Upsert(
        "checkins", {"patient_id": patient_id, "occurrence_id": occurrence_id}, values, merge
    )


def _checkin_step(value: Mapping[str, Any], position: Position) -> list[Upsert]:
    at = utc(value["at"])
    step: dict[str, Any] = {
        "clinic_id": value["clinic_id"],
        "kind": value["kind"],
        "planned_at": utc(value["planned_at"], "planned_at"),
    }
    if value["type"] == "checkin_due":
        step["due_at"] = at
    elif value["type"] == "checkin_reminder":
        step["reminders"] = max(int(value.get("number", 1)), 1)
    else:  # checkin_expired
        step["expired_at"] = at
    return [_checkin_row(value["patient_id"], value["occurrence_id"], **step)]


def _clinical_event(value: Mapping[str, Any], position: Position) -> list[Upsert]:
    kind = value["type"]
    occurrence_id = value.get("occurrence_id")
    at = utc(value["at"])
    event = {
        "patient_id": value["patient_id"],
        "type": kind,
        "at": at,
        **{
            name: value.get(name)
            for name in (
                "occurrence_id",
                "value",
                "total",
                "severity",
                "kind",
                "alert_id",
                "outcome",
                "actor",
            )
        },
    }
    upserts = [Upsert("clinical_events", {"event_id": value["event_id"]}, event)]
    if kind == "assessment_completed":
        event_id = value["event_id"]
        values = {
            "patient_id": value["patient_id"],
            "occurrence_id": occurrence_id,
            "instrument": _PHQ9,
            "at": at,
            "total": value.get("total"),
            "severity": value.get("severity"),
        }
        upserts.append(Upsert("assessments", {"event_id": event_id}, values))
        upserts.extend(
            Upsert("assessment_items", {"event_id": event_id, "item": number}, {"answer": answer})
            for number, answer in enumerate(value["items"], start=1)
        )
        if occurrence_id is not None:
            upserts.append(_checkin_row(value["patient_id"], occurrence_id, completed_at=at))
    elif kind == "difficulty_answered" and occurrence_id is not None:
        difficulty = value.get("value")  # the answer's field (core/clinical_records.py)
        upserts.append(_checkin_row(value["patient_id"], occurrence_id, difficulty=difficulty))
    elif kind == "checkin_incomplete" and occurrence_id is not None:
        upserts.append(_checkin_row(value["patient_id"], occurrence_id, incomplete_at=at))
    return upserts


def _alert(value: Mapping[str, Any], position: Position) -> list[Upsert]:
    changed_at = _optional_utc(value, "changed_at")
    version = "|".join(
        (
            str(_ALERT_STATUS_RANK[value["status"]]),
            changed_at or utc(value["at"]),
            f"{int(value.get('updates', 0)):09d}",
            f"{int(value.get('escalations', 0)):09d}",
        )
    )
    values = {
        "patient_id": value["patient_id"],
        "clinic_id": value["clinic_id"],
        "kind": value["kind"],
        "priority": value["priority"],
        "status": value["status"],
        "reason": value["reason"],
        "clinician_id": value.get("clinician_id"),
        "at": utc(value["at"]),
        "raised_at": _optional_utc(value, "raised_at"),
        "changed_at": changed_at,
        "escalations": value.get("escalations"),
        "updates": value.get("updates"),
        "acknowledged_by": value.get("acknowledged_by"),
        "acknowledged_at": _optional_utc(value, "acknowledged_at"),
        "resolved_by": value.get("resolved_by"),
        "resolved_at": _optional_utc(value, "resolved_at"),
        "outcome": value.get("outcome"),
        VERSION: version,
    }
    return [Upsert("alerts", {"alert_id": value["alert_id"]}, values, _versioned(values))]


def _audit(value: Mapping[str, Any], position: Position) -> list[Upsert]:
    alert_id = value.get("alert_id")
    if not alert_id:
        return []  # carrier reports (opted out, bad number) are not about an alert
    values = {
        "alert_id": alert_id,
        "patient_id": value["patient_id"],
        "clinic_id": value.get("clinic_id"),
        "action": value["action"],
        "actor": value["actor"],
        "at": utc(value["at"]),
        **{
            name: value.get(name)
            for name in ("kind", "priority", "via", "recipient", "role", "outcome", "detail")
        },
    }
    return [Upsert("alert_events", {"event_id": value["event_id"]}, values)]


def _consent(value: Mapping[str, Any], position: Position) -> list[Upsert]:
    values = {
        "patient_id": value["patient_id"],
        "action": value["action"],
        "at": utc(value["at"]),
        "source": value.get("source"),
    }
    return [Upsert("consent_events", {"event_id": value["event_id"]}, values)]


def _outbound(value: Mapping[str, Any], position: Position) -> list[Upsert]:
    values = {
        "patient_id": value.get("patient_id"),
        "recipient": value.get("recipient"),
        "phone": value["to"],
        "category": value["category"],
        "body": value["body"],
        "urgent": bool(value.get("urgent", False)),
        "at": utc(value["at"]),
    }
    key = {"direction": "outbound", "message_key": value["send_key"]}
    return [Upsert("sms_messages", key, values)]


def _patient_inbound(value: Mapping[str, Any], position: Position) -> list[Upsert]:
    values = {
        "patient_id": value["patient_id"],
        "recipient": None,
        "phone": value.get("from"),
        "category": None,
        "body": value["body"],
        "urgent": None,
        "at": utc(value["received_at"], "received_at"),
    }
    key = {"direction": "inbound", "message_key": value["message_sid"]}
    return [Upsert("sms_messages", key, values)]


def _delivery(value: Mapping[str, Any], position: Position) -> list[Upsert]:
    status = value["status"]
    code = value.get("error_code")
    values = {
        "send_key": value.get("send_key") or None,
        "patient_id": value.get("patient_id") or None,
        "status": status,
        "error_code": None if code is None else str(code),
        "reported_at": utc(value["received_at"], "received_at"),
        # Equal ranks (delivered, failed) are ordered by name, so any order gives one row.
        VERSION: f"{delivery_rank(status) + 1:02d}:{status}",
    }
    merge = _versioned(values)
    merge["send_key"] = merge["patient_id"] = Merge.FILL  # only the sender's record has them
    return [Upsert("sms_deliveries", {"message_sid": value["message_sid"]}, values, merge)]


_HANDLERS: dict[str, Callable[[Mapping[str, Any], Position], list[Upsert]]] = {
    PATIENTS: _patient,
    CLINICIANS: _clinician,
    INFUSIONS_COMPLETED: _infusion,
    CHECKINS: _checkin_step,
    CLINICAL_EVENTS: _clinical_event,
    ALERTS: _alert,
    AUDIT: _audit,
    CONSENT: _consent,
    SMS_OUTBOUND: _outbound,
    SMS_OUTBOUND_URGENT: _outbound,
    SMS_PATIENT_INBOUND: _patient_inbound,
    SMS_STATUS: _delivery,
}

# The topics the projector reads (catalog names), in the order a rebuild reads them.
PROJECTED_TOPICS: tuple[str, ...] = tuple(_HANDLERS)
