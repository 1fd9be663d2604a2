"""Operator warning records: one kind list in code and schema, keys that hold the ids whole,
records that the topic's schema accepts."""

from __future__ import annotations

import pytest

from afterglow.operator_warnings.records import WarningKind, warning_id, warning_record
from afterglow.validation import default_catalog

SCHEMA = "afterglow.operator-warnings"


def test_the_schema_lists_exactly_the_warning_kinds() -> None:
    schema = default_catalog().schemas[SCHEMA]
    assert sorted(schema["properties"]["kind"]["enum"]) == sorted(k.value for k in WarningKind)


@pytest.mark.parametrize("kind", list(WarningKind))
def test_every_kind_builds_a_valid_record_of_ids_only(kind: WarningKind) -> None:
    subject = "clinic-a:42/Ana María"  # ids may hold any character (docs/developers.md)
    record = warning_record(
        kind, "clinic-a", subject, at="2026-03-02T15:00:00+00:00", source_topic="clinic.patients"
    )
    assert default_catalog().validate(SCHEMA, record) == record
    assert record["warning_id"] == f"{kind.value}:clinic-a:{subject}"
    assert record["warning_id"] == warning_id(kind, "clinic-a", subject)
    assert subject not in record["message"]  # the message is a fixed text per kind
