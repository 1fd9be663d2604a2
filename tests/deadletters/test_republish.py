"""What re-publishing puts back: the original value and key as received, or a corrected
value that matches the source topic's schema; never onto a topic that is not an input."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from afterglow.deadletters.letters import DeadLetter, LetterId
from afterglow.deadletters.republish import Corrected, Original, Refused, corrected, original
from afterglow.validation import default_catalog

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
INFUSION = {"event_id": "inf-1", "patient_id": "pt-1", "clinic_id": "clinic-a"}


def letter(source: str = "clinic.infusions.completed", **value: Any) -> DeadLetter:
    fields = {"payload": json.dumps(INFUSION), "key": "pt-1", **value}
    return DeadLetter(LetterId(0, 1), AT, fields, source)


def test_the_original_goes_back_with_its_key() -> None:
    assert original(letter()) == Original(
        "clinic.infusions.completed", b"pt-1", json.dumps(INFUSION).encode()
    )
    raw = b"\xff\x00bytes"
    encoded = base64.b64encode(raw).decode()
    assert original(letter(payload=encoded, payload_encoding="base64", key=None)).value == raw


def test_a_cut_original_or_a_source_that_is_no_input_is_refused() -> None:
    with pytest.raises(Refused, match="only the start"):
        original(letter(payload_truncated=True))
    for source in ("deadletter", "afterglow.deadletter-actions", "x.unknown", ""):
        with pytest.raises(Refused, match="not an input topic"):
            original(letter(source))


def test_a_corrected_value_must_match_the_schema() -> None:
    catalog = default_catalog()
    with pytest.raises(Refused, match="completed_at"):
        corrected(letter(), json.dumps(INFUSION), catalog)
    with pytest.raises(Refused, match="not JSON"):
        corrected(letter(), "{", catalog)
    with pytest.raises(Refused, match="JSON object"):
        corrected(letter(), "[]", catalog)
    fixed = {**INFUSION, "completed_at": "2026-12-02T15:00:00+00:00"}
    assert corrected(letter(), json.dumps(fixed), catalog) == Corrected(
        "clinic.infusions.completed", fixed
    )
