"""Every schema under schemas/ is a valid draft 2020-12 schema, and the compiled validators
(`afterglow.validation`, fastjsonschema) accept and reject exactly what the reference
`jsonschema` library does on a corpus of valid and invalid documents."""

from __future__ import annotations

import copy
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from afterglow.resources import schemas_dir
from afterglow.validation import InvalidEvent, check, default_catalog

SCHEMAS_DIR = schemas_dir()
SCHEMA_FILES = sorted(SCHEMAS_DIR.rglob("*.json"))
RFC3339_CHECKS = importlib.util.find_spec("rfc3339_validator") is not None
AT = "2024-03-01T09:00:00-05:00"
ITEMS = [1, 2, 0, 3, 1, 0, 2, 1, 0]


def name_of(path: Path) -> str:
    return path.relative_to(SCHEMAS_DIR).with_suffix("").as_posix()


# A valid example of each schema; invalid ones are derived from it below.
VALID: dict[str, dict[str, Any]] = {
    "alerts": {
        "alert_id": "a1b2c3",
        "patient_id": "pt-000001",
        "clinic_id": "clinic-1",
        "kind": "probable_relapse",
        "priority": "P2",
        "at": AT,
        "reason": "responder's PHQ-9 total 11 is 10 or more",
        "status": "open",
    },
    "clinic.clinicians": {
        "clinician_id": "dr-1",
        "clinic_id": "clinic-1",
        "name": "Dr. Rivera",
        "phone": "+15555550123",
        "backup_clinician_id": "dr-2",
    },
    "clinic.infusions.completed": {
        "event_id": "ev-1",
        "patient_id": "pt-000001",
        "clinic_id": "clinic-1",
        "completed_at": AT,
    },
    "clinic.patients": {
        "patient_id": "pt-000001",
        "clinic_id": "clinic-1",
        "phone": "+34600123456",
        "timezone": "Europe/Madrid",
        "language": "es",
        "clinician_id": "dr-1",
        "sms_consent": True,
        "baseline_phq9": 18,
    },
    "deadletter": {
        "source_topic": "clinic.patients",
        "error": "phone: must match pattern",
        "payload": '{"patient_id": "x"}',
        "payload_encoding": "utf-8",
        "key": "x",
        "partition": 0,
        "offset": 42,
        "at": AT,
    },
    "afterglow.checkins": {
        "event_id": "pt-1:occ-3:due",
        "type": "checkin_due",
        "patient_id": "pt-1",
        "clinic_id": "clinic-1",
        "occurrence_id": "occ-3",
        "kind": "followup",
        "planned_at": AT,
        "local_day": "2024-03-01",
        "timezone": "America/New_York",
        "language": "en",
        "number": 0,
        "at": AT,
    },
    "afterglow.consent": {
        "event_id": "ev-9",
        "patient_id": "pt-1",
        "action": "opt_out",
        "at": AT,
        "source": "sms-keyword",
    },
    "afterglow.ticks": {"now": AT, "sent_by": "worker-1"},
    "afterglow.audit": {
        "event_id": "a1b2c3:acknowledged:2024-03-01T10:00:00+00:00",
        "patient_id": "pt-1",
        "clinic_id": "clinic-1",
        "action": "acknowledged",
        "actor": "clinician:c-1",
        "at": AT,
        "alert_id": "a1b2c3",
        "kind": "safety",
        "priority": "P1",
        "via": "sms",
    },
    "afterglow.alert-actions": {
        "action_id": "sms:SM0001",
        "type": "resolve",
        "alert_id": "a1b2c3",
        "patient_id": "pt-1",
        "actor": "clinician:c-1",
        "via": "dashboard",
        "outcome": "reached_plan_made",
        "at": AT,
    },
    "afterglow.alert-notifications": {
        "notification_id": "page:a1b2c3:0:primary",
        "type": "page",
        "recipient": "c-1",
        "role": "primary",
        "step": 0,
        "alert_id": "a1b2c3",
        "patient_id": "pt-1",
        "clinic_id": "clinic-1",
        "priority": "P1",
        "kind": "safety",
        "at": AT,
    },
    "afterglow.sms.clinician-inbound": {
        "message_sid": "SM0002",
        "recipient": "c-1",
        "body": "ACK 4821",
        "received_at": AT,
    },
    "afterglow.sms.inbound": {
        "message_sid": "SM0001",
        "from": "+15555550101",
        "to": "+15005550006",
        "body": "2",
        "received_at": AT,
    },
    "afterglow.sms.status": {"message_sid": "SM0001", "status": "delivered", "received_at": AT},
    "afterglow.sms.patient-inbound": {
        "message_sid": "SM0001",
        "patient_id": "pt-1",
        "body": "2",
        "received_at": AT,
    },
    "afterglow.sms.outbound": {
        "send_key": "pt-1:occ-3:item-1",
        "patient_id": "pt-1",
        "to": "+15555550101",
        "body": "Over the last 2 weeks...",
        "category": "questionnaire",
        "at": AT,
    },
    "afterglow.phone-directory": {
        "phone": "+15555550101",
        "role": "patient",
        "owner_id": "pt-1",
    },
    "afterglow.phone-verdicts": {
        "patient_id": "pt-2",
        "phone": "+15555550101",
        "verdict": "refused",
        "reason": "phone is already registered to another patient",
    },
    "afterglow.clinician-references": {
        "clinician_id": "clin-9",
        "clinic_id": "clinic-a",
        "patient_id": "pt-1",
        "at": "2026-03-02T15:00:00+00:00",
    },
    "afterglow.operator-warnings": {
        "warning_id": "unknown_clinician:clinic-a:clin-9",
        "kind": "unknown_clinician",
        "clinic_id": "clinic-a",
        "subject": "clin-9",
        "message": "registrations name this clinician, who has no record in clinic.clinicians",
        "at": "2026-03-02T15:00:00+00:00",
        "source_topic": "clinic.patients",
    },
    "afterglow.deadletter-actions": {
        "action_id": "deadletter-0-17:discarded:1",
        "deadletter_id": "deadletter-0-17",
        "action": "discarded",
        "actor": "ops@clinic-a.example",
        "at": "2026-03-02T15:00:00+00:00",
        "source_topic": "clinic.infusions.completed",
    },
    "afterglow.clinical-events": {
        "event_id": "pt-1:occ-3:assessment",
        "type": "assessment_completed",
        "patient_id": "pt-1",
        "occurrence_id": "occ-3",
        "at": AT,
        "items": [1, 1, 0, 0, 2, 0, 1, 0, 0],
        "total": 5,
        "severity": "mild",
    },
    "clinic-settings": {
        "defaults": {
            "display_name": "Lakeside Clinic",
            "send_time": "10:00",
            "send_window": {"start": "09:00", "end": "20:00"},
            "followup_days": [7, 14, 21, 28],
            "contact_phone": "+15555550111",
            "medical_director": {"name": "Dr. Okafor", "phone": "+15555550122"},
        },
        "clinics": {"clinic-1": {"display_name": "Lakeside North", "send_time": "09:30"}},
    },
    "history/alert_resolved": {
        "type": "alert_resolved",
        "patient_id": "p",
        "at": AT,
        "kind": "severe",
    },
    "history/assessment_completed": {
        "type": "assessment_completed",
        "patient_id": "p",
        "at": AT,
        "items": ITEMS,
        "difficulty": 2,
    },
    "history/checkin_expired": {"type": "checkin_expired", "patient_id": "p", "at": AT},
    "history/infusion_completed": {"type": "infusion_completed", "patient_id": "p", "at": AT},
    "history/opted_out": {"type": "opted_out", "patient_id": "p", "at": AT},
    "history/patient_enrolled": {
        "type": "patient_enrolled",
        "patient_id": "p",
        "at": AT,
        "baseline_phq9": 0,
    },
}


def edit(schema: str, /, **changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(VALID[schema])
    doc.update(changes)
    return doc


def drop(name: str, *keys: str) -> dict[str, Any]:
    return {k: v for k, v in VALID[name].items() if k not in keys}


# A resolution on the monitor's input: valid only with one of the desk's outcomes.
RESOLUTION = {
    "event_id": "resolved:al-1",
    "type": "alert_resolved",
    "patient_id": "pt-1",
    "at": AT,
    "kind": "severe",
    "alert_id": "al-1",
}


CLOSED_SCHEMAS = {"clinic-settings"}  # a configuration file, not an event


def settings_with(**defaults: Any) -> dict[str, Any]:
    doc = copy.deepcopy(VALID["clinic-settings"])
    doc["defaults"].update(defaults)
    return doc


# Hand-labelled documents beyond the valid example: (schema, document, valid?).
LABELLED: list[tuple[str, Any, bool]] = [
    # extra fields are allowed in every event (schemas/, docs/developers.md)
    *[
        (name, {**doc, "extra_field": {"any": 1}}, name not in CLOSED_SCHEMAS)
        for name, doc in VALID.items()
    ],
    # not objects
    *[(name, doc, False) for name in VALID for doc in ([], "text", None, 3)],
    ("alerts", edit("alerts", kind="sadness"), False),
    ("alerts", edit("alerts", priority="P4"), False),
    ("alerts", edit("alerts", status="closed"), False),
    ("alerts", edit("alerts", alert_id=""), False),
    ("alerts", edit("alerts", patient_id="p" * 128), True),
    ("alerts", edit("alerts", patient_id="p" * 129), False),
    ("alerts", edit("alerts", priority="P3", kind="disengaged", status="resolved"), True),
    ("clinic.clinicians", drop("clinic.clinicians", "backup_clinician_id"), True),
    ("clinic.clinicians", edit("clinic.clinicians", backup_clinician_id=None), True),
    ("clinic.clinicians", edit("clinic.clinicians", phone="5551234567"), False),
    ("clinic.clinicians", edit("clinic.clinicians", phone="+05551234567"), False),
    ("clinic.clinicians", edit("clinic.clinicians", phone="+1555555012389012"), False),
    ("clinic.clinicians", edit("clinic.clinicians", phone="+1 555 123 4567"), False),
    ("clinic.clinicians", edit("clinic.clinicians", name=""), False),
    ("clinic.infusions.completed", edit("clinic.infusions.completed", event_id=""), False),
    ("clinic.infusions.completed", edit("clinic.infusions.completed", completed_at=1), False),
    ("clinic.patients", drop("clinic.patients", "baseline_phq9"), True),
    ("clinic.patients", edit("clinic.patients", baseline_phq9=None), True),
    ("clinic.patients", edit("clinic.patients", baseline_phq9=27), True),
    ("clinic.patients", edit("clinic.patients", baseline_phq9=28), False),
    ("clinic.patients", edit("clinic.patients", baseline_phq9=-1), False),
    ("clinic.patients", edit("clinic.patients", baseline_phq9=12.5), False),
    ("clinic.patients", edit("clinic.patients", baseline_phq9="12"), False),
    ("clinic.patients", edit("clinic.patients", language="fr"), False),
    ("clinic.patients", edit("clinic.patients", sms_consent="yes"), False),
    ("clinic.patients", edit("clinic.patients", sms_consent=1), False),
    ("clinic.patients", edit("clinic.patients", timezone=""), False),
    ("clinic.patients", edit("clinic.patients", phone="+44 20 7946 0958"), False),
    ("deadletter", drop("deadletter", "payload_encoding", "key", "partition", "offset"), True),
    ("deadletter", edit("deadletter", key=None, partition=None, offset=None), True),
    ("deadletter", edit("deadletter", payload_encoding="hex"), False),
    ("deadletter", edit("deadletter", partition="1"), False),
    ("deadletter", edit("deadletter", payload={"patient_id": "x"}), False),
    ("history/assessment_completed", drop("history/assessment_completed", "difficulty"), True),
    ("history/assessment_completed", edit("history/assessment_completed", items=[3] * 9), True),
    ("history/assessment_completed", edit("history/assessment_completed", items=[0] * 9), True),
    ("history/assessment_completed", edit("history/assessment_completed", items=ITEMS[:8]), False),
    (
        "history/assessment_completed",
        edit("history/assessment_completed", items=[*ITEMS, 0]),
        False,
    ),
    ("history/assessment_completed", edit("history/assessment_completed", items=[]), False),
    (
        "history/assessment_completed",
        edit("history/assessment_completed", items=[4, 0, 0, 0, 0, 0, 0, 0, 0]),
        False,
    ),
    (
        "history/assessment_completed",
        edit("history/assessment_completed", items=[0, 0, 0, 0, 0, 0, 0, 0, -1]),
        False,
    ),
    (
        "history/assessment_completed",
        edit("history/assessment_completed", items=[0, 0, 0, "1", 0, 0, 0, 0, 0]),
        False,
    ),
    (
        "history/assessment_completed",
        edit("history/assessment_completed", items=[0, 0, 0, 1.5, 0, 0, 0, 0, 0]),
        False,
    ),
    (
        "history/assessment_completed",
        edit("history/assessment_completed", items=[0, 0, 0, True, 0, 0, 0, 0, 0]),
        False,
    ),
    (
        "history/assessment_completed",
        edit("history/assessment_completed", items=[0, 0, 0, None, 0, 0, 0, 0, 0]),
        False,
    ),
    ("history/assessment_completed", edit("history/assessment_completed", difficulty=4), False),
    ("history/assessment_completed", edit("history/assessment_completed", difficulty=None), False),
    (
        "history/assessment_completed",
        edit("history/assessment_completed", type="assessment"),
        False,
    ),
    ("history/patient_enrolled", drop("history/patient_enrolled", "baseline_phq9"), True),
    ("history/patient_enrolled", edit("history/patient_enrolled", baseline_phq9=27), True),
    ("history/patient_enrolled", edit("history/patient_enrolled", baseline_phq9=28), False),
    ("history/patient_enrolled", edit("history/patient_enrolled", baseline_phq9="20"), False),
    ("history/alert_resolved", edit("history/alert_resolved", kind="everything"), False),
    ("history/alert_resolved", drop("history/alert_resolved", "kind"), False),
    ("history/checkin_expired", edit("history/checkin_expired", type="opted_out"), False),
    ("history/checkin_expired", edit("history/checkin_expired", patient_id=""), False),
    ("history/checkin_expired", edit("history/checkin_expired", patient_id=12), False),
    ("history/opted_out", edit("history/opted_out", at=None), False),
    ("afterglow.checkins", edit("afterglow.checkins", type="checkin_sent"), False),
    ("afterglow.checkins", edit("afterglow.checkins", kind="monthly"), False),
    ("afterglow.checkins", edit("afterglow.checkins", number=-1), False),
    ("afterglow.checkins", edit("afterglow.checkins", local_day="2024-02-29"), True),
    ("afterglow.checkins", edit("afterglow.checkins", local_day="2023-02-29"), False),
    ("afterglow.checkins", edit("afterglow.checkins", local_day="2024-13-01"), False),
    ("afterglow.checkins", edit("afterglow.checkins", local_day="2024-3-1"), False),
    ("afterglow.checkins", edit("afterglow.checkins", local_day="2024-03-01T00:00:00Z"), False),
    ("afterglow.checkins", drop("afterglow.checkins", "local_day", "timezone", "language"), True),
    ("afterglow.consent", edit("afterglow.consent", action="stop"), False),
    ("afterglow.consent", drop("afterglow.consent", "source"), True),
    ("afterglow.alert-actions", drop("afterglow.alert-actions", "outcome"), False),
    ("afterglow.alert-actions", edit("afterglow.alert-actions", type="acknowledge"), True),
    ("afterglow.audit", edit("afterglow.audit", action="deleted"), False),
    ("afterglow.alert-notifications", edit("afterglow.alert-notifications", type="call"), False),
    (
        "afterglow.alert-notifications",
        edit("afterglow.alert-notifications", type="alert_status", status="resolved"),
        True,
    ),
    (
        "afterglow.alert-notifications",
        edit("afterglow.alert-notifications", type="alert_status"),
        False,
    ),
    (
        "afterglow.clinical-events",
        RESOLUTION | {"outcome": "reached_plan_made"},
        True,
    ),
    ("afterglow.clinical-events", RESOLUTION, False),
    ("afterglow.clinical-events", RESOLUTION | {"outcome": None}, False),
    ("afterglow.clinical-events", RESOLUTION | {"outcome": "fine"}, False),
    ("afterglow.ticks", drop("afterglow.ticks", "sent_by"), True),
    ("afterglow.ticks", {}, False),
    ("clinic-settings", drop("clinic-settings", "clinics"), True),
    ("clinic-settings", drop("clinic-settings", "defaults"), False),
    ("clinic-settings", settings_with(send_time="24:00"), False),
    ("clinic-settings", settings_with(send_time="9:00"), False),
    ("clinic-settings", settings_with(send_window={"start": "09:00"}), False),
    ("clinic-settings", settings_with(followup_days=[]), False),
    ("clinic-settings", settings_with(followup_days=[0]), False),
    ("clinic-settings", settings_with(followup_days=[365]), True),
    ("clinic-settings", settings_with(followup_days=[366]), False),
    ("clinic-settings", settings_with(display_name="x" * 41), False),
    ("clinic-settings", settings_with(contact_phone="555-0100"), False),
    ("clinic-settings", settings_with(medical_director={"name": "Dr. A"}), False),
    ("clinic-settings", settings_with(extra=1), False),
    (
        "clinic-settings",
        {
            **VALID["clinic-settings"],
            "clinics": {"c2": {"send_window": {"start": "9", "end": "20"}}},
        },
        False,
    ),
]


def mutations() -> Iterator[tuple[str, Any]]:
    """Unlabelled variants for agreement only: each required field dropped, each property
    replaced by values of every JSON type."""
    catalog = default_catalog()
    for name, doc in VALID.items():
        schema = catalog.schemas[name]
        for key in schema.get("required", []):
            yield name, {k: v for k, v in doc.items() if k != key}
        for key, spec in schema.get("properties", {}).items():
            for value in (None, True, 0, -1, 7, 1.0, 2.5, "", "x", [], [0], {}):
                if isinstance(value, str) and not date_time_checked(spec):
                    continue
                yield name, {**doc, key: value}


def date_time_checked(spec: dict[str, Any]) -> bool:
    """False for date-time strings when jsonschema cannot check that format."""
    return RFC3339_CHECKS or spec.get("format") != "date-time"


def validators(name: str) -> tuple[Draft202012Validator, Any]:
    catalog = default_catalog()
    reference = Draft202012Validator(
        catalog.schemas[name], format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    return reference, catalog.validator(name)


def compiled_accepts(compiled: Any, doc: Any) -> bool:
    try:
        check(compiled, doc)
    except InvalidEvent:
        return False
    return True


# --------------------------------------------------------------------------- schemas


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=name_of)
def test_file_is_a_valid_draft_2020_12_schema(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_the_catalog_holds_every_file_and_the_corpus_covers_every_schema() -> None:
    names = {name_of(path) for path in SCHEMA_FILES}
    assert set(default_catalog().names()) == names
    assert set(VALID) == names


def test_every_backtest_event_type_has_a_schema() -> None:
    types = {
        "patient_enrolled",
        "infusion_completed",
        "assessment_completed",
        "checkin_expired",
        "opted_out",
        "alert_resolved",
    }
    assert {f"history/{t}" for t in types} <= set(default_catalog().names())


def test_every_date_time_field_declares_the_format() -> None:
    for path in SCHEMA_FILES:
        schema = json.loads(path.read_text(encoding="utf-8"))
        for key, spec in schema.get("properties", {}).items():
            if key in ("at", "completed_at"):
                assert spec.get("format") == "date-time", (path.name, key)


# --------------------------------------------------------------------------- corpus


@pytest.mark.parametrize("name", list(VALID))
def test_valid_example_is_accepted_by_both(name: str) -> None:
    reference, compiled = validators(name)
    assert reference.is_valid(VALID[name]), list(reference.iter_errors(VALID[name]))
    assert compiled_accepts(compiled, VALID[name])


@pytest.mark.parametrize(
    ("name", "doc", "valid"),
    LABELLED,
    ids=[f"{name}-{index}" for index, (name, _, _) in enumerate(LABELLED)],
)
def test_labelled_documents(name: str, doc: Any, valid: bool) -> None:
    reference, compiled = validators(name)
    assert reference.is_valid(doc) is valid
    assert compiled_accepts(compiled, doc) is valid


def test_compiled_validators_agree_with_jsonschema_on_mutations() -> None:
    disagreements = []
    count = 0
    for name, doc in mutations():
        reference, compiled = validators(name)
        count += 1
        if reference.is_valid(doc) != compiled_accepts(compiled, doc):
            disagreements.append((name, doc, reference.is_valid(doc)))
    assert count > 500
    assert disagreements == []


# ------------------------------------------------------------------------- date-time

DATE_TIMES: list[tuple[str, bool]] = [
    ("2024-03-01T09:00:00Z", True),
    ("2024-03-01T09:00:00+00:00", True),
    ("2024-03-01T09:00:00-05:00", True),
    ("2024-03-01T09:00:00.123456+05:30", True),
    ("2024-02-29T23:59:59-08:00", True),
    ("2024-03-01T09:00:00", False),  # no offset
    ("2024-03-01", False),
    ("09:00:00Z", False),
    ("2024-03-01T09:00Z", False),  # seconds are required
    ("2024-03-01T25:00:00Z", False),
    ("2024-13-01T09:00:00Z", False),
    ("2023-02-29T09:00:00Z", False),  # not a leap year
    ("2024-03-01T09:00:00+0500", False),  # RFC 3339 offsets have a colon
    ("2024-03-01T09:00:00 +05:00", False),
    ("not a date", False),
]


@pytest.mark.parametrize(("text", "valid"), DATE_TIMES, ids=[t for t, _ in DATE_TIMES])
def test_date_time_format_agreement(text: str, valid: bool) -> None:
    # Without rfc3339-validator (a dev dependency) jsonschema would not check date-time at
    # all, and this comparison would pass for nothing: fail instead.
    assert RFC3339_CHECKS, "rfc3339-validator is not installed"
    name = "history/checkin_expired"
    doc = edit(name, at=text)
    reference, compiled = validators(name)
    assert reference.is_valid(doc) is valid
    assert compiled_accepts(compiled, doc) is valid


@pytest.mark.parametrize(
    "text",
    ["2024-03-01T09:00:00", "2024-03-01", "2024-03-01T09:00:00.5", "1709283600"],
)
def test_times_without_an_offset_are_rejected(text: str) -> None:
    # Every schema: all times are ISO-8601 with a UTC offset.
    for name, key in [
        ("history/checkin_expired", "at"),
        ("alerts", "at"),
        ("deadletter", "at"),
        ("clinic.infusions.completed", "completed_at"),
    ]:
        _, compiled = validators(name)
        assert not compiled_accepts(compiled, edit(name, **{key: text})), (name, text)


def _unbounded(node: Any, path: str) -> Iterator[str]:
    """Every string without a maximum length and every array without a maximum size."""
    if isinstance(node, dict):
        kinds = node.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if "string" in kinds and not {"maxLength", "enum", "const"} & node.keys():
            yield f"{path} (string)"
        if "array" in kinds and "maxItems" not in node:
            yield f"{path} (array)"
        for key, child in node.items():
            yield from _unbounded(child, f"{path}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _unbounded(child, f"{path}/{index}")


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=name_of)
def test_every_text_field_and_list_has_a_size_limit(path: Path) -> None:
    # An unbounded field let a 1 MB display name through validation and into a table entry
    # the broker refused (docs/operators.md, "Dead letters").
    assert list(_unbounded(json.loads(path.read_text()), "")) == []


def test_a_registration_with_an_oversized_display_name_is_invalid() -> None:
    registration = {
        "patient_id": "p-1",
        "clinic_id": "clinic-a",
        "phone": "+15555550101",
        "timezone": "America/New_York",
        "language": "en",
        "clinician_id": "clin-1",
        "sms_consent": True,
        "display_name": "A" * 1_000_000,
    }
    with pytest.raises(InvalidEvent, match="display_name"):
        check(default_catalog().validator("clinic.patients"), registration)
