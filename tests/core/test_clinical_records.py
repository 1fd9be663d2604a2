"""One format for clinical events: what the conversation, intake and the desk write is what
the monitor and the backtest read back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from afterglow.core.clinical_records import RecordedEvent, decode, encode
from afterglow.core.conversation import CheckinIncomplete, DifficultyAnswered
from afterglow.core.events import (
    AlertResolved,
    AssessmentCompleted,
    CheckinExpired,
    CrisisTextReceived,
    InfusionCompleted,
    OptedOut,
    PatientEnrolled,
    SelfHarmItemAnswered,
)
from afterglow.validation import default_catalog

AT = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
PID = "clinic-a:42/Ana María"  # ids travel as fields, never joined and split again

RULE_EVENTS: list[RecordedEvent] = [
    PatientEnrolled(PID, AT, 18),
    PatientEnrolled(PID, AT, None),
    InfusionCompleted(PID, AT),
    AssessmentCompleted(PID, AT, (1, 2, 0, 1, 0, 0, 1, 0, 1), None, "inf:1:d007"),
    SelfHarmItemAnswered(PID, AT, 2, "inf:1:d007"),
    CrisisTextReceived(PID, AT),
    CheckinExpired(PID, AT, "inf:1:d014", (1, 1, None, None, None, None, None, None, None)),
    CheckinExpired(PID, AT, "inf:1:d021", None),
    OptedOut(PID, AT),
    AlertResolved(PID, AT, "worsening", "a1b2", "booster_scheduled"),
]


@pytest.mark.parametrize("event", RULE_EVENTS, ids=lambda e: type(e).__name__)
def test_a_rule_event_survives_the_topic(event: RecordedEvent) -> None:
    record = encode(event, "src:e0", clinic_id="clinic-a")
    default_catalog().validate("afterglow.clinical-events", record)
    assert decode(record, AT) == event


@pytest.mark.parametrize(
    "event",
    [
        DifficultyAnswered(PID, AT, "inf:1:d007", 2),
        CheckinIncomplete(PID, AT, "inf:1:d007", (1, None, 0, 0, 0, 0, 0, 0, 0)),
    ],
    ids=lambda e: type(e).__name__,
)
def test_answers_the_rules_do_not_read_are_recorded_and_ignored(event: RecordedEvent) -> None:
    record = encode(event, "src:e1")
    default_catalog().validate("afterglow.clinical-events", record)
    assert decode(record, AT) is None


def test_an_assessment_record_carries_its_score() -> None:
    record = encode(RULE_EVENTS[3], "src:e0")
    assert (record["total"], record["severity"]) == (6, "mild")
