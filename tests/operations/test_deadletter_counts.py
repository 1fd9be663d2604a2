"""Dead letters counted by source topic and masked reason, with their windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from afterglow.operations.deadletter_counts import DeadLetter, count_deadletters, reason_class

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_quoted_values_and_numbers_are_masked_so_no_record_data_shows() -> None:
    assert reason_class("record key 'pt-17' differs from patient_id \"pt-9\" (+15555550123)") == (
        "record key '…' differs from patient_id '…' (+N)"
    )
    assert reason_class("value is not JSON (Expecting value at position 12)") == (
        "value is not JSON (Expecting value at position N)"
    )
    assert reason_class("bad\x1b") == "bad\\x1b"


def test_letters_are_grouped_by_topic_and_reason_with_recent_counts() -> None:
    def letter(topic: str, error: str, minutes_ago: float) -> DeadLetter:
        return DeadLetter(topic, error, NOW - timedelta(minutes=minutes_ago))

    facts = count_deadletters(
        [
            letter("t1.clinic.patients", "phone '+15555550101' is not E.164", 30),
            letter("t1.clinic.patients", "phone '+15555550102' is not E.164", 90),
            letter("t1.clinic.patients", "phone '+15555550103' is not E.164", 2 * 24 * 60),
            letter("t1.alerts", "internal error: KeyError", 5),
        ],
        "t1.",
        NOW,
    )
    assert [(g.source_topic, g.reason, g.count, g.last_hour, g.last_24h) for g in facts.groups] == [
        ("alerts", "internal error: KeyError", 1, 1, 1),
        ("clinic.patients", "phone '…' is not E.164", 3, 1, 2),
    ]
    assert facts.total == 4
    assert facts.oldest_at == NOW - timedelta(days=2)
