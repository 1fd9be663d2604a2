"""AlertRecord.to_dict/from_dict: JSON-safe, and a stored record comes back identical."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from afterglow.core.alerting import AlertRecord, AlertStatus, Outcome
from tests.core.alerting.builders import OFFSETS, RAISED, alert

MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(OFFSETS),
)
OPTIONAL_MOMENTS = st.none() | MOMENTS
OPTIONAL_TEXT = st.none() | st.text(max_size=20)


@st.composite
def records(draw: st.DrawFn) -> AlertRecord:
    return AlertRecord(
        alert_id=draw(st.text(min_size=1, max_size=20)),
        patient_id=draw(st.text(min_size=1, max_size=20)),
        clinic_id=draw(st.text(min_size=1, max_size=20)),
        kind=draw(st.sampled_from(["safety", "worsening", "disengaged"]) | st.text(max_size=20)),
        priority=draw(st.sampled_from(["P1", "P2", "P3"])),
        at=draw(MOMENTS),
        reason=draw(st.text(max_size=60)),
        raised_at=draw(MOMENTS),
        status=draw(st.sampled_from(AlertStatus)),
        ack_code=draw(st.none() | st.integers(1000, 9999).map(str)),
        acknowledged_by=draw(OPTIONAL_TEXT),
        acknowledged_at=draw(OPTIONAL_MOMENTS),
        resolved_by=draw(OPTIONAL_TEXT),
        resolved_at=draw(OPTIONAL_MOMENTS),
        outcome=draw(st.none() | st.sampled_from([o.value for o in Outcome])),
        escalations_sent=draw(st.integers(0, 10)),
        updates=draw(st.integers(0, 10_000)),
        digested=draw(st.booleans()),
    )


def _instants_and_offsets(record: AlertRecord) -> list[object]:
    moments = [
        record.at,
        record.raised_at,
        record.acknowledged_at,
        record.resolved_at,
    ]
    return [None if m is None else (m, m.utcoffset()) for m in moments]


@settings(max_examples=300, deadline=None, database=None)
@given(records())
def test_a_record_survives_json_storage_unchanged(record: AlertRecord) -> None:
    stored = json.loads(json.dumps(record.to_dict()))
    back = AlertRecord.from_dict(stored)
    assert back == record
    # Same instant is not enough: the offset is kept too (clinic-local times stay local).
    assert _instants_and_offsets(back) == _instants_and_offsets(record)
    assert isinstance(back.status, AlertStatus)
    assert back.to_dict() == stored


def test_the_stored_form_is_plain_json_with_iso_datetimes_and_offsets() -> None:
    record = alert()
    record.acknowledged_at = RAISED.astimezone(OFFSETS[1])
    data = record.to_dict()
    assert data["raised_at"] == "2026-03-02T14:00:00+00:00"
    assert data["acknowledged_at"] == "2026-03-02T09:00:00-05:00"
    assert data["status"] == "open"
    assert data["resolved_at"] is None
    assert json.loads(json.dumps(data)) == data


def test_a_new_record_is_open_and_unescalated() -> None:
    record = alert()
    assert record.status is AlertStatus.OPEN
    assert (record.escalations_sent, record.updates, record.digested) == (0, 0, False)
    assert record.ack_code is None
    assert record.acknowledged_by is None
    assert record.resolved_by is None


def test_optional_fields_may_be_missing_from_stored_data() -> None:
    minimal = {
        "alert_id": "a-1",
        "patient_id": "pt-1",
        "clinic_id": "clinic-1",
        "kind": "worsening",
        "priority": "P2",
        "at": "2026-03-02T13:59:57+00:00",
        "reason": "total rose by 6",
        "raised_at": "2026-03-02T14:00:00+00:00",
    }
    record = AlertRecord.from_dict(minimal)
    assert record.status is AlertStatus.OPEN
    assert record.raised_at == datetime(2026, 3, 2, 14, tzinfo=UTC)
    assert record.escalations_sent == 0
    assert record.digested is False
