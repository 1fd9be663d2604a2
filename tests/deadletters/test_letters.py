"""Dead letters as the browser shows them: ids, redaction, who may reveal, their status."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from afterglow.deadletters.letters import Action, DeadLetter, LetterId, latest_actions, may_reveal

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def letter(payload: str, **value: Any) -> DeadLetter:
    return DeadLetter(LetterId(1, 7), AT, {"payload": payload, **value}, "clinic.patients")


def test_an_id_is_the_place_in_the_dead_letter_topic_and_nothing_else_parses() -> None:
    assert str(LetterId(2, 15)) == "deadletter-2-15"
    assert LetterId.parse("deadletter-2-15") == LetterId(2, 15)
    for text in ("deadletter-2", "alerts-2-15", "deadletter--1-2", "deadletter-2-15/x", ""):
        assert LetterId.parse(text) is None, text


def test_redaction_keeps_the_shape_and_masks_every_text_and_number() -> None:
    payload = {
        "patient_id": "pt-1",
        "phone": "+15555550131",
        "display_name": "Ana Example",
        "baseline_phq9": 18,
        "sms_consent": True,
        "clinician_id": None,
        "items": [1, "two"],
    }
    shown = json.loads(letter(json.dumps(payload)).redacted())
    assert shown == {
        "patient_id": "•••",
        "phone": "•••",
        "display_name": "•••",
        "baseline_phq9": "•••",
        "sms_consent": True,
        "clinician_id": None,
        "items": ["•••", "•••"],
    }


def test_a_payload_that_is_not_json_shows_only_its_size() -> None:
    assert letter("Ana +15555550131", payload_bytes=16).redacted() == "(16 bytes, not JSON)"
    assert letter("QW5h", payload_encoding="base64", payload_bytes=3).redacted() == (
        "(3 bytes, not JSON)"
    )


def test_the_reason_is_masked_like_the_panel() -> None:
    shown = letter("{}", error="record key 'pt-1' differs from '+15555550131'").reason
    assert shown == "record key '…' differs from '…'"


def test_the_clinic_and_patient_a_payload_names() -> None:
    named = letter(json.dumps({"patient_id": "pt-1", "clinic_id": "clinic-a"}))
    assert named.named_clinics() == frozenset({"clinic-a"})
    assert named.named_patient() == "pt-1"
    assert letter("[1]").named_clinics() == frozenset()
    assert letter(json.dumps({"clinic_id": 3})).named_clinics() == frozenset()


def test_a_clinician_of_every_clinic_concerned_may_reveal_an_admin_only_when_none() -> None:
    a, ab = frozenset({"clinic-a"}), frozenset({"clinic-a", "clinic-b"})
    assert may_reveal(a, a, admin=False)
    assert not may_reveal(ab, a, admin=True)  # a payload naming another clinic too
    assert not may_reveal(frozenset(), a, admin=False)
    assert may_reveal(frozenset(), frozenset(), admin=True)


def test_the_status_is_the_last_republish_or_discard() -> None:
    records = [
        {"deadletter_id": "deadletter-1-7", "action": "republished", "actor": "a", "at": "t1"},
        {"deadletter_id": "deadletter-1-7", "action": "revealed", "actor": "b", "at": "t2"},
        {"deadletter_id": "deadletter-1-7", "action": "discarded", "actor": "c", "at": "t3"},
        {"deadletter_id": "deadletter-0-1", "action": "revealed", "actor": "d", "at": "t4"},
        {"deadletter_id": "bogus", "action": "discarded", "actor": "e", "at": "t5"},
    ]
    assert latest_actions(records) == {LetterId(1, 7): Action("discarded", "c", "t3")}
