"""Decoding and validating raw Kafka record values from the clinic's systems."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from afterglow.topics import CLINICIANS, INFUSIONS_COMPLETED, PATIENTS, topic_spec
from afterglow.validation import InvalidEvent, SchemaCatalog, parse_instant

# The largest input record (key and value) the worker parses. Every input is a small JSON
# object (a registration, an infusion, a text of at most 1,600 characters); anything bigger
# is refused before parsing, so it cannot cost memory or produce oversized state
# (docs/operators.md, "Dead letters").
MAX_INPUT_VALUE_BYTES = 64 * 1024
MAX_INPUT_KEY_BYTES = 1024


def decode_json_object(value: bytes | None) -> dict[str, Any]:
    if value is None:
        raise InvalidEvent("empty record value")
    if len(value) > MAX_INPUT_VALUE_BYTES:
        raise InvalidEvent(
            f"record value of {len(value):,} bytes is over the {MAX_INPUT_VALUE_BYTES:,}-byte limit"
        )
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidEvent("value is not UTF-8 text") from None
    # orjson, not json: it refuses lone surrogates (text no later step could write back),
    # NaN and Infinity, and nesting deeper than 1,024 levels, all as a JSONDecodeError.
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        if "depth limit" in error.msg:
            raise InvalidEvent("value is JSON nested too deeply") from None
        raise InvalidEvent(f"value is not JSON ({error.msg} at position {error.pos})") from None
    if not isinstance(data, dict):
        raise InvalidEvent(f"value is a JSON {type(data).__name__}, not an object")
    return data


def require_key(key: bytes | None, expected: str, field: str) -> None:
    """Tables are partitioned like their source topic, so a record keyed by anything else
    would land its state on the wrong partition."""
    if key is not None and len(key) > MAX_INPUT_KEY_BYTES:
        raise InvalidEvent(
            f"record key of {len(key):,} bytes is over the {MAX_INPUT_KEY_BYTES:,}-byte limit"
        )
    actual = None if key is None else key.decode("utf-8", errors="replace")
    if actual != expected:
        raise InvalidEvent(f"record key {actual!r} differs from {field} {expected!r}")


def decode_catalog_record(
    catalog: SchemaCatalog, name: str, key: bytes | None, value: bytes | None
) -> dict[str, Any]:
    """A record of catalog topic `name`: JSON, valid against the topic's schema, its key
    the value of the topic's key field."""
    spec = topic_spec(name)
    data = catalog.validate(spec.schema, decode_json_object(value))
    key_field = spec.key_field_of(data)
    if key_field is not None:
        require_key(key, str(data[key_field]), key_field)
    return dict(data)


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


# An infusion is accepted from 2000 on and until a day past the worker's now (clock skew
# between the clinic's systems and ours); a date outside it is a data-entry or system error
# that would otherwise plan check-ins, and raise alerts, in year 9999.
EARLIEST_INFUSION = datetime(2000, 1, 1, tzinfo=UTC)
INFUSION_FUTURE_TOLERANCE = timedelta(days=1)


def parse_infusion(
    catalog: SchemaCatalog, key: bytes | None, value: bytes | None, now: datetime
) -> InfusionRecord:
    data = catalog.validate(topic_spec(INFUSIONS_COMPLETED).schema, decode_json_object(value))
    require_key(key, data["patient_id"], "patient_id")
    completed_at = parse_datetime(data["completed_at"], "completed_at")
    if not EARLIEST_INFUSION <= completed_at <= now + INFUSION_FUTURE_TOLERANCE:
        raise InvalidEvent(
            f"completed_at {data['completed_at']} is outside the accepted window "
            f"({EARLIEST_INFUSION.date()} to a day after now)"
        )
    return InfusionRecord(
        event_id=data["event_id"],
        patient_id=data["patient_id"],
        clinic_id=data["clinic_id"],
        completed_at=completed_at,
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
