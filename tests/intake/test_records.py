"""Inputs are refused before parsing when too big, and infusions outside a sane window."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from afterglow.intake.records import (
    MAX_INPUT_VALUE_BYTES,
    decode_json_object,
    parse_infusion,
    require_key,
)
from afterglow.validation import InvalidEvent, default_catalog

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _infusion(completed_at: str) -> bytes:
    return orjson.dumps(
        {
            "event_id": "inf-1",
            "patient_id": "p-1",
            "clinic_id": "clinic-a",
            "completed_at": completed_at,
        }
    )


def test_a_record_over_the_input_limit_is_refused_before_parsing() -> None:
    value = b'{"a":"' + b"x" * MAX_INPUT_VALUE_BYTES + b'"}'
    with pytest.raises(InvalidEvent, match="over the 65,536-byte limit"):
        decode_json_object(value)


def test_deep_nesting_is_an_invalid_record_not_a_crash() -> None:
    with pytest.raises(InvalidEvent, match="nested too deeply"):
        decode_json_object(b"[" * 30_000 + b"]" * 30_000)


def test_an_oversized_key_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="record key of 5,000 bytes"):
        require_key(b"k" * 5000, "k" * 5000, "patient_id")


@pytest.mark.parametrize(
    "completed_at", ["9999-12-31T23:59:59Z", "1999-12-31T23:00:00Z", "2026-03-03T16:00:00Z"]
)
def test_an_infusion_outside_the_window_is_invalid(completed_at: str) -> None:
    with pytest.raises(InvalidEvent, match="outside the accepted window"):
        parse_infusion(default_catalog(), b"p-1", _infusion(completed_at), NOW)


@pytest.mark.parametrize("completed_at", ["2000-01-01T00:00:00Z", "2026-03-03T14:00:00Z"])
def test_an_infusion_inside_the_window_is_accepted(completed_at: str) -> None:
    infusion = parse_infusion(default_catalog(), b"p-1", _infusion(completed_at), NOW)
    assert infusion.completed_at == datetime.fromisoformat(completed_at)
