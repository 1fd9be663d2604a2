"""A patient's timeline from decoded topic records: pure, no Kafka, no clock.

Each record becomes one ``TimelineEntry``; entries are sorted by time, and ties keep the
order the records were read in (topic by topic, offset order within a topic). A replayed
record (same ``event_id``; for alerts without one, same ``alert_id`` and ``status``; for
anything else, the same content) appears once: the first copy is kept.

Phone numbers, names and message bodies are PHI and never printed: registration lines show
clinic, clinician, time zone, language and consent; fields named like ``phone`` or ``body``
are dropped from generic lines; and every summary is scrubbed of anything that looks like a
phone number as a last line of defence.

Every printed field is on one line whatever the records hold: control characters (a
newline in an actor, an ANSI escape in a reason) are shown as visible escapes, so a record
can neither forge a line of the timeline nor act on the terminal (docs/operators.md,
"Audit trail").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from afterglow.printable import escape_controls, json_escape_controls
from afterglow.topics import (
    ALERTS,
    AUDIT,
    CHECKINS,
    CLINICAL_EVENTS,
    CONSENT,
    INFUSIONS_COMPLETED,
    PATIENTS,
)

# Read order of the topics (and so the order of entries that share a time).
TIMELINE_TOPICS: tuple[str, ...] = (
    PATIENTS,
    INFUSIONS_COMPLETED,
    CHECKINS,
    CLINICAL_EVENTS,
    CONSENT,
    ALERTS,
    AUDIT,
)

# The `source` column: a short label per topic.
SOURCE_LABELS: dict[str, str] = {
    PATIENTS: "registration",
    INFUSIONS_COMPLETED: "infusion",
    CHECKINS: "check-in",
    CLINICAL_EVENTS: "clinical",
    CONSENT: "consent",
    ALERTS: "alert",
    AUDIT: "audit",
}

# Entries with no time at all (no time field, no Kafka timestamp) sort first.
_NO_TIME = datetime.min.replace(tzinfo=UTC)

# Field names whose values are never printed, whatever the record (compared lower-case).
_SENSITIVE_FIELDS = frozenset(
    {
        "phone",
        "body",
        "display_name",
        "name",
        "first_name",
        "last_name",
        "email",
        "address",
        "from",
        "to",
        "text",
        "message",
    }
)
_SENSITIVE_PARTS = ("phone", "body", "email")

# Anything that looks like a phone number: E.164 (possibly spaced), 10-15 bare digits,
# or the North American 201-555-0123 style. ISO times and ids do not match.
_PHONE_LIKE = re.compile(
    r"\+\d[\d ().-]{5,}\d"
    r"|(?<![\w.+-])\d{10,15}(?![\w])"
    r"|(?<![\w.+-])\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?![\w])"
)
REDACTED = "[redacted]"

# Fields the generic line leaves out: they are in the other columns already.
_GENERIC_SKIP = frozenset({"type", "action", "patient_id", "event_id", "at", "actor"})

_PATIENT_ANSWERS = frozenset(
    {
        "assessment_completed",
        "self_harm_item_answered",
        "crisis_text_received",
        "difficulty_answered",
    }
)


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record read from a topic, decoded."""

    topic: str  # contract name, e.g. "alerts" (no test prefix)
    value: Mapping[str, Any] | None  # None: a tombstone (or an undecodable value)
    timestamp: datetime | None = None  # the Kafka record's timestamp
    undecodable: bool = False  # the value was not a JSON object


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    source: str
    summary: str
    actor: str | None = None
    topic: str = ""
    kind: str = ""  # the record's type, action or status (for --json)


def decode_record(topic: str, raw: bytes | None, timestamp_ms: int | None) -> SourceRecord:
    """A Kafka value (JSON bytes) as a ``SourceRecord``; a non-object is kept as undecodable."""
    timestamp = (
        datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
        if timestamp_ms is not None and timestamp_ms >= 0
        else None
    )
    if raw is None:
        return SourceRecord(topic, None, timestamp)
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return SourceRecord(topic, None, timestamp, undecodable=True)
    if not isinstance(value, dict):
        return SourceRecord(topic, None, timestamp, undecodable=True)
    return SourceRecord(topic, value, timestamp)


def build_timeline(records: Iterable[SourceRecord]) -> list[TimelineEntry]:
    """Entries for ``records`` (given in read order): de-duplicated, sorted by time, stable."""
    entries: list[TimelineEntry] = []
    seen: set[tuple[str, ...]] = set()
    registration: Mapping[str, Any] | None = None
    registered = False
    for record in records:
        if record.topic == PATIENTS and not record.undecodable:
            # A compacted topic without ids: a record identical to the current one is a replay.
            if registered and record.value == registration:
                continue
            entries.append(_registration_entry(record, registration))
            registration, registered = record.value, True
            continue
        key = _dedupe_key(record)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        entries.append(_entry(record))
    return sorted(entries, key=lambda entry: entry.at)


def registered_timezone(records: Iterable[SourceRecord]) -> str | None:
    """The time zone of the patient's latest registration record, if any."""
    zone: str | None = None
    for record in records:
        if record.topic == PATIENTS and record.value is not None:
            candidate = record.value.get("timezone")
            if isinstance(candidate, str) and candidate:
                zone = candidate
    return zone


def render_text(entries: Sequence[TimelineEntry], zone: tzinfo | None) -> str:
    """One line per entry: local ISO time, source, actor ('-' if unknown), summary.

    ``zone`` None means the machine's local time zone."""
    if not entries:
        return ""
    rows = [
        (
            escape_controls(entry.source),
            escape_controls(entry.actor or "-"),
            escape_controls(entry.summary),
            entry,
        )
        for entry in entries
    ]
    source_width = max(len(source) for source, _, _, _ in rows)
    actor_width = min(28, max(len(actor) for _, actor, _, _ in rows))
    lines = [
        f"{_local(entry.at, zone)}  {source:<{source_width}}  {actor:<{actor_width}}  {summary}"
        for source, actor, summary, entry in rows
    ]
    return "\n".join(lines)


def render_json(entries: Sequence[TimelineEntry], zone: tzinfo | None) -> str:
    """One JSON object per line: at, source, topic, kind, actor, summary. The values are
    the records' own; what could act on a terminal is written as a JSON escape."""
    return "\n".join(
        json_escape_controls(
            json.dumps(
                {
                    "at": _local(entry.at, zone),
                    "source": entry.source,
                    "topic": entry.topic,
                    "kind": entry.kind,
                    "actor": entry.actor,
                    "summary": entry.summary,
                },
                ensure_ascii=False,
            )
        )
        for entry in entries
    )


def redact(text: str) -> str:
    """``text`` with anything that looks like a phone number replaced."""
    return _PHONE_LIKE.sub(REDACTED, text)


# --- one entry per record ------------------------------------------------------------------


def _entry(record: SourceRecord) -> TimelineEntry:
    value = record.value
    if record.undecodable or value is None:
        what = "unreadable record (not a JSON object)" if record.undecodable else "tombstone"
        return _make(record, _time(record, ()), what, None, "")
    if record.topic == INFUSIONS_COMPLETED:
        return _infusion_entry(record, value)
    if record.topic == CHECKINS:
        return _checkin_entry(record, value)
    if record.topic == CLINICAL_EVENTS:
        return _clinical_entry(record, value)
    if record.topic == CONSENT:
        return _consent_entry(record, value)
    if record.topic == ALERTS:
        return _alert_entry(record, value)
    if record.topic == AUDIT:
        return _audit_entry(record, value)
    kind = _text(value.get("type"))
    return _make(record, _time(record, ("at",)), _generic(kind or "record", value), None, kind)


def _make(
    record: SourceRecord, at: datetime, summary: str, actor: str | None, kind: str
) -> TimelineEntry:
    return TimelineEntry(
        at=at,
        source=SOURCE_LABELS.get(record.topic, record.topic),
        summary=redact(summary),
        actor=redact(actor) if actor else None,
        topic=record.topic,
        kind=kind,
    )


def _registration_entry(record: SourceRecord, previous: Mapping[str, Any] | None) -> TimelineEntry:
    at = record.timestamp or _NO_TIME  # registrations carry no time of their own
    value = record.value
    if value is None:
        return _make(record, at, "registration deleted (tombstone)", "clinic", "deleted")
    if previous is None:
        summary = "registered: " + _registration_facts(value)
        return _make(record, at, summary, "clinic", "registered")
    changes = [
        f"{label} {_show(field, previous.get(field))} -> {_show(field, value.get(field))}"
        for field, label in _REGISTRATION_FIELDS
        if previous.get(field) != value.get(field)
    ]
    hidden = [
        field
        for field in sorted(set(previous) | set(value))
        if _is_sensitive(field) and previous.get(field) != value.get(field)
    ]
    if hidden:
        changes.append(" and ".join(field.replace("_", " ") for field in hidden) + " changed")
    summary = "registration updated: " + ("; ".join(changes) or "no shown field changed")
    return _make(record, at, summary, "clinic", "updated")


_REGISTRATION_FIELDS: tuple[tuple[str, str], ...] = (
    ("clinic_id", "clinic"),
    ("clinician_id", "clinician"),
    ("timezone", "timezone"),
    ("language", "language"),
    ("sms_consent", "SMS consent"),
    ("baseline_phq9", "baseline PHQ-9"),
)


def _registration_facts(value: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{label} {_show(field, value.get(field))}" for field, label in _REGISTRATION_FIELDS
    )


def _show(field: str, raw: Any) -> str:
    if raw is None:
        return "none"
    if field == "sms_consent":
        return "yes" if raw is True else "no" if raw is False else _text(raw)
    return _text(raw)


def _infusion_entry(record: SourceRecord, value: Mapping[str, Any]) -> TimelineEntry:
    summary = f"infusion completed (event {_text(value.get('event_id'))}"
    if value.get("clinic_id"):
        summary += f", clinic {_text(value['clinic_id'])}"
    summary += ")"
    at = _time(record, ("completed_at", "at"))
    return _make(record, at, summary, "clinic", "infusion_completed")


_CHECKIN_STEPS = {
    "checkin_due": "check-in due",
    "checkin_reminder": "check-in reminder",
    "checkin_expired": "check-in expired",
}


def _checkin_entry(record: SourceRecord, value: Mapping[str, Any]) -> TimelineEntry:
    kind = _text(value.get("type"))
    at = _time(record, ("at",))
    step = _CHECKIN_STEPS.get(kind)
    if step is None:
        return _make(record, at, _generic(kind or "check-in record", value), "system", kind)
    if kind == "checkin_reminder" and value.get("number"):
        step += f" {_text(value['number'])}"
    details = [f"{_text(value.get('kind') or 'check-in')} {_text(value.get('occurrence_id'))}"]
    if value.get("planned_at"):
        details.append(f"planned {_text(value['planned_at'])}")
    return _make(record, at, f"{step}: {', '.join(details)}", "system", kind)


def _clinical_entry(record: SourceRecord, value: Mapping[str, Any]) -> TimelineEntry:
    kind = _text(value.get("type"))
    at = _time(record, ("at",))
    actor = "patient" if kind in _PATIENT_ANSWERS else _optional_text(value.get("actor"))
    instrument = _text(value.get("instrument") or "PHQ-9")
    checkin = f" (check-in {_text(value['occurrence_id'])})" if value.get("occurrence_id") else ""
    if kind == "assessment_completed":
        summary = f"{instrument} completed: total {_text(value.get('total'))}"
        if value.get("severity"):
            summary += f" ({_text(value['severity'])})"
        summary += f", items {_items(value.get('items'))}"
        if value.get("difficulty") is not None:
            summary += f", difficulty {_text(value['difficulty'])}"
        summary += checkin
    elif kind == "self_harm_item_answered":
        summary = f"{instrument} item 9 (self-harm) answered {_text(value.get('value'))}{checkin}"
    elif kind == "crisis_text_received":
        summary = f"crisis text received{checkin}"
    elif kind == "difficulty_answered":
        summary = f"difficulty answered {_text(value.get('value'))}{checkin}"
    elif kind == "checkin_incomplete":
        items = value.get("items")
        answered = sum(1 for item in items if item is not None) if isinstance(items, list) else 0
        total = len(items) if isinstance(items, list) else 0
        summary = f"check-in incomplete: {answered} of {total} items answered"
        if isinstance(items, list) and items:
            summary += f" ({_items(items)})"
        summary += checkin
    else:
        summary = _generic(kind or "clinical event", value)
    return _make(record, at, summary, actor, kind)


def _consent_entry(record: SourceRecord, value: Mapping[str, Any]) -> TimelineEntry:
    action = _text(value.get("action"))
    source = _optional_text(value.get("source"))
    at = _time(record, ("at",))
    actor = "patient" if source == "sms-keyword" else source
    if action == "opt_out":
        summary = "opted out of text messages"
    elif action == "opt_in":
        summary = "opted back in to text messages"
    else:
        return _make(record, at, _generic(action or "consent change", value), actor, action)
    if source:
        summary += f" (source {source})"
    return _make(record, at, summary, actor, action)


def _alert_entry(record: SourceRecord, value: Mapping[str, Any]) -> TimelineEntry:
    status = _text(value.get("status"))
    # `at` is the triggering event's time; a state change carries its own time next to it.
    at = _time(record, ("changed_at", f"{status}_at", "updated_at", "at"))
    summary = f"alert {_text(value.get('alert_id'))} {_alert_label(value)} {status or 'changed'}"
    notes = []
    if _count(value.get("escalations")):
        notes.append(f"escalation {_count(value.get('escalations'))}")
    if _count(value.get("updates")):
        notes.append(f"{_count(value.get('updates'))} update(s)")
    if status == "resolved" and value.get("outcome"):
        notes.append(f"outcome {_text(value['outcome'])}")
    if notes:
        summary += f" ({', '.join(notes)})"
    if value.get("reason"):
        summary += f": {_text(value['reason'])}"
    actor = _optional_text(value.get("actor") or value.get(f"{status}_by"))
    return _make(record, at, summary, actor, status)


def _count(raw: Any) -> int:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0 else 0


def _alert_label(value: Mapping[str, Any]) -> str:
    parts = [_text(value[field]) for field in ("kind", "priority") if value.get(field)]
    return f"({', '.join(parts)})" if parts else ""


def _audit_entry(record: SourceRecord, value: Mapping[str, Any]) -> TimelineEntry:
    action = _text(value.get("action"))
    actor = _optional_text(value.get("actor"))
    at = _time(record, ("at",))
    if action not in _AUDIT_ACTIONS:
        kind = action or _text(value.get("type"))
        return _make(record, at, _generic(kind or "audit record", value), actor, kind)
    alert = "alert"
    if value.get("alert_id"):
        alert += f" {_text(value['alert_id'])}"
    label = _alert_label(value)
    if label:
        alert += f" {label}"
    recipient = _text(value.get("recipient") or "")
    if recipient and value.get("role"):
        recipient += f" ({_text(value['role'])})"
    to = f" to {recipient}" if recipient else ""
    phrase = {
        "raised": f"raised {alert}",
        "updated": f"updated {alert}",
        "notified": f"notified {recipient or 'someone'} of {alert}",
        "escalated": f"escalated {alert}{to}",
        "acknowledged": f"acknowledged {alert}",
        "resolved": f"resolved {alert}",
        "digested": f"put {alert} in the digest{to}",
        "ack_rejected": f"acknowledgment of {alert} rejected",
        "sms_opted_out": f"carrier reported an opt-out (code {_text(value.get('code'))})",
        "sms_bad_number": f"carrier reported a bad number (code {_text(value.get('code'))})",
        "viewed": "viewed the patient's record",
    }[action]
    if value.get("via"):
        phrase += f" via {_text(value['via'])}"
    if value.get("outcome"):
        phrase += f": {_text(value['outcome'])}"
    if value.get("detail"):
        phrase += f" ({_text(value['detail'])})"
    return _make(record, at, phrase, actor, action)


_AUDIT_ACTIONS = frozenset(
    {
        "raised",
        "updated",
        "notified",
        "escalated",
        "acknowledged",
        "resolved",
        "digested",
        "ack_rejected",
        "sms_opted_out",
        "sms_bad_number",
        "viewed",
    }
)


# --- helpers -------------------------------------------------------------------------------


def _dedupe_key(record: SourceRecord) -> tuple[str, ...] | None:
    value = record.value
    if value is None:
        return None  # tombstones and unreadable records: each is shown
    event_id = value.get("event_id")
    if isinstance(event_id, str) and event_id:
        return (record.topic, "event_id", event_id)
    if record.topic == ALERTS and value.get("alert_id"):
        # One record per state change; an escalation or an update repeats the status but
        # moves a counter, so the counters (when present) are part of the state change.
        return (
            record.topic,
            "alert",
            _text(value["alert_id"]),
            _text(value.get("status")),
            _text(value.get("escalations")),
            _text(value.get("updates")),
        )
    return (record.topic, "content", json.dumps(value, sort_keys=True, default=str))


def _time(record: SourceRecord, fields: Sequence[str]) -> datetime:
    value = record.value or {}
    for field in fields:
        parsed = _parse_time(value.get(field))
        if parsed is not None:
            return parsed
    return record.timestamp or _NO_TIME


def _parse_time(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _local(at: datetime, zone: tzinfo | None) -> str:
    if at == _NO_TIME:
        return "unknown time"
    return at.astimezone(zone).isoformat(timespec="seconds")


def _is_sensitive(field: str) -> bool:
    lowered = field.lower()
    return lowered in _SENSITIVE_FIELDS or any(part in lowered for part in _SENSITIVE_PARTS)


def _generic(kind: str, value: Mapping[str, Any]) -> str:
    """``kind: field=value, ...`` for a record this module has no words for."""
    fields = [
        f"{field}={_text(raw)}"
        for field, raw in value.items()
        if field not in _GENERIC_SKIP and not _is_sensitive(field) and raw not in (None, "", [])
    ]
    return f"{kind}: {', '.join(fields)}" if fields else kind


def _items(raw: Any) -> str:
    if not isinstance(raw, list):
        return "?"
    return " ".join("-" if item is None else _text(item) for item in raw)


def _optional_text(raw: Any) -> str | None:
    return _text(raw) if raw not in (None, "") else None


def _text(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, list):
        return " ".join("-" if item is None else _text(item) for item in raw)
    if isinstance(raw, dict):
        return json.dumps(_scrub(raw), sort_keys=True, default=str, ensure_ascii=False)
    return "" if raw is None else str(raw)


def _scrub(raw: Any) -> Any:
    """``raw`` without sensitive fields at any depth."""
    if isinstance(raw, dict):
        return {key: _scrub(item) for key, item in raw.items() if not _is_sensitive(str(key))}
    if isinstance(raw, list):
        return [_scrub(item) for item in raw]
    return raw
