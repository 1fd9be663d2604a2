"""Decoding and validating raw Kafka record values from the clinic's systems."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from afterglow.topics import CLINICIANS, INFUSIONS_COMPLETED, PATIENTS, topic_spec
from afterglow.validation import InvalidEvent, SchemaCatalog, parse_instant


def decode_json_object(value: bytes | None) -> dict[str, Any]:
    if value is None:
        raise InvalidEvent("empty record value")
    try:
        data = json.loads(value)
    except UnicodeDecodeError:
        raise InvalidEvent("value is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise InvalidEvent(f"value is not JSON ({error.msg} at position {error.pos})") from None
    if not isinstance(data, dict):
        raise InvalidEvent(f"value is a JSON {type(data).__name__}, not an object")
    return data


def require_key(key: bytes | None, expected: str, field: str) -> None:
    """Tables are partitioned like their source topic, so a record keyed by anything else
    would land its state on the wrong partition."""
    actual = None if key is None else key.decode("utf-8", errors="replace")
    if actual != expected:
        raise InvalidEvent(f"record key {actual!r} differs from {field} {expected!r}")


def parse_datetime(text: str, field: str) -> datetime:
    return parse_instant(text, field)


def check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidEvent(f"timezone {name!r} is not an IANA time zone name") from None


@dataclass(frozen=True, slots=True)
class InfusionRecord:
    event_id: str
    patient_id: str
    clinic_id: str
    completed_at: datetime


def parse_infusion(
    catalog: SchemaCatalog, key: bytes | None, value: bytes | None
) -> InfusionRecord:
    data = catalog.validate(topic_spec(INFUSIONS_COMPLETED).schema, decode_json_object(value))
    require_key(key, data["patient_id"], "patient_id")
    return InfusionRecord(
        event_id=data["event_id"],
        patient_id=data["patient_id"],
        clinic_id=data["clinic_id"],
        completed_at=parse_datetime(data["completed_at"], "completed_at"),
    )


def parse_patient(catalog: SchemaCatalog, key: bytes | None, value: bytes | None) -> dict[str, Any]:
    """A validated registration, as stored in the patients table."""
    data = catalog.validate(topic_spec(PATIENTS).schema, decode_json_object(value))
    require_key(key, data["patient_id"], "patient_id")
    check_timezone(data["timezone"])
    return dict(data)


def parse_clinician(
    catalog: SchemaCatalog, key: bytes | None, value: bytes | None
) -> dict[str, Any]:
    data = catalog.validate(topic_spec(CLINICIANS).schema, decode_json_object(value))
    require_key(key, data["clinician_id"], "clinician_id")
    return dict(data)
