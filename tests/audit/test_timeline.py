"""The pure timeline: summaries per record type, ordering, de-duplication, no PHI printed."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from afterglow.audit.reader import partition_for
from afterglow.audit.timeline import (
    SourceRecord,
    TimelineEntry,
    build_timeline,
    decode_record,
    redact,
    registered_timezone,
    render_json,
    render_text,
)
from tests.support.records import infusion, patient

PHONE = "+12015550123"
OTHER_PHONE = "+12015550187"
_DIGITS = re.compile(r"\d{7,}")


def rec(topic: str, value: dict[str, Any] | None, timestamp: str | None = None) -> SourceRecord:
    stamp = datetime.fromisoformat(timestamp) if timestamp else None
    return SourceRecord(topic, value, stamp)


def one(topic: str, value: dict[str, Any], timestamp: str | None = None) -> TimelineEntry:
    entries = build_timeline([rec(topic, value, timestamp)])
    assert len(entries) == 1
    return entries[0]


def checkin(step: str, at: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"pt-1:occ-1:{step}",
        "type": step,
        "patient_id": "pt-1",
        "clinic_id": "clinic-a",
        "occurrence_id": "occ-1",
        "kind": "followup",
        "planned_at": "2026-01-17T15:00:00+00:00",
        "at": at,
        **extra,
    }


def clinical(event_id: str, event_type: str, at: str, **extra: Any) -> dict[str, Any]:
    return {"event_id": event_id, "type": event_type, "patient_id": "pt-1", "at": at, **extra}


def alert(status: str, changed_at: str, **extra: Any) -> dict[str, Any]:
    return {
        "alert_id": "al-1",
        "patient_id": "pt-1",
        "clinic_id": "clinic-a",
        "kind": "safety",
        "priority": "P1",
        "at": "2026-01-17T15:10:00+00:00",
        "reason": "PHQ-9 item 9 answered 2",
        "status": status,
        "changed_at": changed_at,
        **extra,
    }


def audit(action: str, at: str, actor: str = "system", **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"al-1:{action}:{at}",
        "patient_id": "pt-1",
        "clinic_id": "clinic-a",
        "action": action,
        "actor": actor,
        "at": at,
        "alert_id": "al-1",
        "kind": "safety",
        "priority": "P1",
        **extra,
    }


# --- summaries per record type -------------------------------------------------------------


def test_registration_shows_facts_but_never_the_phone() -> None:
    value = patient("pt-1", phone=PHONE, display_name="Jane Example")
    entry = one("clinic.patients", value, "2026-01-10T12:00:00+00:00")
    assert entry.source == "registration"
    assert entry.at == datetime(2026, 1, 10, 12, tzinfo=UTC)  # the Kafka timestamp
    for fact in ("clinic-a", "clin-1", "America/Chicago", "language en", "SMS consent yes", "18"):
        assert fact in entry.summary
    assert "555" not in entry.summary
    assert "Jane" not in entry.summary


def test_registration_change_lists_what_changed_and_hides_the_new_phone() -> None:
    first = patient("pt-1", phone=PHONE)
    second = patient("pt-1", phone=OTHER_PHONE, clinician_id="clin-2", sms_consent=False)
    entries = build_timeline(
        [
            rec("clinic.patients", first, "2026-01-10T12:00:00+00:00"),
            rec("clinic.patients", second, "2026-01-11T12:00:00+00:00"),
        ]
    )
    update = entries[1].summary
    assert update.startswith("registration updated:")
    assert "clinician clin-1 -> clin-2" in update
    assert "SMS consent yes -> no" in update
    assert "phone changed" in update
    assert "timezone" not in update
    assert "555" not in update


def test_registration_tombstone() -> None:
    entry = one_of([rec("clinic.patients", patient("pt-1")), rec("clinic.patients", None)], index=1)
    assert entry.summary == "registration deleted (tombstone)"


def one_of(records: list[SourceRecord], index: int) -> TimelineEntry:
    return build_timeline(records)[index]


def test_infusion() -> None:
    entry = one(
        "clinic.infusions.completed", infusion("inf-1", "pt-1", "2026-01-16T15:00:00+00:00")
    )
    assert entry.source == "infusion"
    assert entry.at == datetime(2026, 1, 16, 15, tzinfo=UTC)
    assert entry.summary == "infusion completed (event inf-1, clinic clinic-a)"


@pytest.mark.parametrize(
    ("step", "extra", "expected"),
    [
        ("checkin_due", {}, "check-in due: followup occ-1, planned 2026-01-17T15:00:00+00:00"),
        ("checkin_reminder", {"number": 2}, "check-in reminder 2: followup occ-1"),
        ("checkin_expired", {}, "check-in expired: followup occ-1"),
    ],
)
def test_checkin_steps(step: str, extra: dict[str, Any], expected: str) -> None:
    entry = one("afterglow.checkins", checkin(step, "2026-01-17T15:00:00+00:00", **extra))
    assert entry.source == "check-in"
    assert entry.actor == "system"
    assert entry.summary.startswith(expected)


def test_assessment_completed_shows_items_total_and_severity() -> None:
    entry = one(
        "afterglow.clinical-events",
        clinical(
            "sm-1:e0",
            "assessment_completed",
            "2026-01-17T15:05:00+00:00",
            occurrence_id="occ-1",
            items=[1, 2, 2, 1, 0, 0, 1, 0, 0],
            total=7,
            severity="mild",
        ),
    )
    assert entry.actor == "patient"
    assert entry.kind == "assessment_completed"
    assert entry.summary == (
        "PHQ-9 completed: total 7 (mild), items 1 2 2 1 0 0 1 0 0 (check-in occ-1)"
    )


@pytest.mark.parametrize(
    ("kind", "extra", "expected"),
    [
        ("self_harm_item_answered", {"value": 2}, "PHQ-9 item 9 (self-harm) answered 2"),
        ("crisis_text_received", {"occurrence_id": None}, "crisis text received"),
        ("difficulty_answered", {"value": 1}, "difficulty answered 1"),
        (
            "checkin_incomplete",
            {"items": [1, 2, None, None, None, None, None, None, None]},
            "check-in incomplete: 2 of 9 items answered (1 2 - - - - - - -)",
        ),
    ],
)
def test_other_clinical_events(kind: str, extra: dict[str, Any], expected: str) -> None:
    entry = one("afterglow.clinical-events", clinical("e", kind, "2026-01-17T15:05:00Z", **extra))
    assert entry.summary == expected


def test_crisis_text_never_shows_a_body() -> None:
    value = clinical(
        "e", "crisis_text_received", "2026-01-17T15:05:00Z", body="call me 201 555 0123"
    )
    entry = one("afterglow.clinical-events", value)
    assert entry.summary == "crisis text received"


@pytest.mark.parametrize(
    ("kind", "extra", "expected"),
    [
        ("patient_enrolled", {"baseline_phq9": 18}, "patient_enrolled: baseline_phq9=18"),
        ("opted_out", {}, "opted_out"),
        (
            "alert_resolved",
            {"kind": "severe", "alert_id": "al-9", "actor": "clinician:clin-1"},
            "alert_resolved: kind=severe, alert_id=al-9",
        ),
    ],
)
def test_unknown_clinical_types_are_printed_generically(
    kind: str, extra: dict[str, Any], expected: str
) -> None:
    entry = one("afterglow.clinical-events", clinical("e", kind, "2026-01-17T15:05:00Z", **extra))
    assert entry.summary == expected
    assert entry.kind == kind
    assert entry.actor == extra.get("actor")


def test_generic_lines_drop_phone_and_body_fields() -> None:
    value = clinical(
        "e",
        "something_new",
        "2026-01-17T15:05:00Z",
        phone=PHONE,
        body="hello",
        detail={"from_phone": PHONE, "step": 3},
        note=f"texted from {PHONE}",
    )
    entry = one("afterglow.clinical-events", value)
    assert "hello" not in entry.summary
    assert "555" not in entry.summary
    assert "step" in entry.summary
    assert "[redacted]" in entry.summary  # the phone inside free text


@pytest.mark.parametrize(
    ("action", "source", "summary", "actor"),
    [
        ("opt_out", "sms-keyword", "opted out of text messages (source sms-keyword)", "patient"),
        ("opt_in", "clinic", "opted back in to text messages (source clinic)", "clinic"),
    ],
)
def test_consent(action: str, source: str, summary: str, actor: str) -> None:
    value = {
        "event_id": "c-1",
        "patient_id": "pt-1",
        "action": action,
        "at": "2026-01-18T10:00:00+00:00",
        "source": source,
    }
    entry = one("afterglow.consent", value)
    assert entry.summary == summary
    assert entry.actor == actor


def test_alert_states() -> None:
    entries = build_timeline(
        [
            rec("alerts", alert("open", "2026-01-17T15:10:01+00:00")),
            rec("alerts", alert("open", "2026-01-17T15:25:00+00:00", escalations=1)),
            rec(
                "alerts",
                alert(
                    "acknowledged",
                    "2026-01-17T15:30:00+00:00",
                    escalations=1,
                    acknowledged_by="clinician:clin-1",
                ),
            ),
            rec(
                "alerts",
                alert(
                    "resolved",
                    "2026-01-17T16:00:00+00:00",
                    escalations=1,
                    acknowledged_by="clinician:clin-1",
                    resolved_by="clinician:clin-2",
                    outcome="contacted",
                ),
            ),
        ]
    )
    assert [entry.summary for entry in entries] == [
        "alert al-1 (safety, P1) open: PHQ-9 item 9 answered 2",
        "alert al-1 (safety, P1) open (escalation 1): PHQ-9 item 9 answered 2",
        "alert al-1 (safety, P1) acknowledged (escalation 1): PHQ-9 item 9 answered 2",
        "alert al-1 (safety, P1) resolved (escalation 1, outcome contacted): "
        "PHQ-9 item 9 answered 2",
    ]
    assert [entry.actor for entry in entries] == [
        None,
        None,
        "clinician:clin-1",
        "clinician:clin-2",
    ]
    assert entries[2].at == datetime(2026, 1, 17, 15, 30, tzinfo=UTC)  # changed_at, not `at`


@pytest.mark.parametrize(
    ("action", "extra", "expected"),
    [
        ("raised", {"via": "stream"}, "raised alert al-1 (safety, P1) via stream"),
        ("updated", {"via": "stream"}, "updated alert al-1 (safety, P1) via stream"),
        (
            "notified",
            {"recipient": "clinician:clin-1", "role": "primary", "via": "sms", "outcome": "sent"},
            "notified clinician:clin-1 (primary) of alert al-1 (safety, P1) via sms: sent",
        ),
        (
            "escalated",
            {"recipient": "clinician:clin-2", "role": "backup", "via": "timer"},
            "escalated alert al-1 (safety, P1) to clinician:clin-2 (backup) via timer",
        ),
        (
            "acknowledged",
            {"via": "dashboard"},
            "acknowledged alert al-1 (safety, P1) via dashboard",
        ),
        (
            "resolved",
            {"via": "cli", "outcome": "contacted"},
            "resolved alert al-1 (safety, P1) via cli: contacted",
        ),
        (
            "digested",
            {"recipient": "director:clinic-a", "role": "director"},
            "put alert al-1 (safety, P1) in the digest to director:clinic-a (director)",
        ),
        (
            "ack_rejected",
            {"via": "sms", "outcome": "not_recipient", "detail": "ACK from an unknown clinician"},
            "acknowledgment of alert al-1 (safety, P1) rejected via sms: not_recipient "
            "(ACK from an unknown clinician)",
        ),
    ],
)
def test_audit_actions(action: str, extra: dict[str, Any], expected: str) -> None:
    actor = "clinician:clin-1" if action == "acknowledged" else "system"
    entry = one("afterglow.audit", audit(action, "2026-01-17T15:30:00+00:00", actor, **extra))
    assert entry.source == "audit"
    assert entry.summary == expected
    assert entry.actor == actor
    assert entry.kind == action


def test_audit_records_of_other_shapes_are_printed_generically() -> None:
    value = {
        "type": "sms_opted_out",
        "patient_id": "pt-1",
        "code": 21610,
        "reference": "SM0123456789abcdef",
        "at": "2026-01-18T10:00:00+00:00",
    }
    entry = one("afterglow.audit", value)
    assert entry.summary == "sms_opted_out: code=21610, reference=SM0123456789abcdef"
    assert entry.kind == "sms_opted_out"


def test_undecodable_values_are_shown_without_their_content() -> None:
    record = decode_record("afterglow.consent", f"not json {PHONE}".encode(), 1_768_000_000_000)
    assert record.undecodable
    entry = build_timeline([record])[0]
    assert entry.summary == "unreadable record (not a JSON object)"
    assert entry.at == datetime.fromtimestamp(1_768_000_000, tz=UTC)


def test_decode_record() -> None:
    record = decode_record("alerts", b'{"alert_id": "a"}', 0)
    assert record.value == {"alert_id": "a"}
    assert record.timestamp == datetime(1970, 1, 1, tzinfo=UTC)
    assert decode_record("alerts", None, -1) == SourceRecord("alerts", None, None)
    assert decode_record("alerts", b"[1, 2]", None).undecodable


# --- ordering and de-duplication -----------------------------------------------------------


def test_sorted_by_time_and_ties_keep_read_order() -> None:
    same = "2026-01-17T15:10:00+00:00"
    records = [
        rec("clinic.infusions.completed", infusion("inf-2", "pt-1", "2026-01-20T15:00:00Z")),
        rec("clinic.infusions.completed", infusion("inf-1", "pt-1", "2026-01-16T15:00:00Z")),
        rec("afterglow.clinical-events", clinical("e1", "crisis_text_received", same)),
        rec("alerts", alert("open", same)),
        rec("afterglow.audit", audit("raised", same)),
    ]
    entries = build_timeline(records)
    assert [entry.source for entry in entries] == [
        "infusion",
        "clinical",
        "alert",
        "audit",
        "infusion",
    ]
    assert "inf-1" in entries[0].summary
    assert "inf-2" in entries[-1].summary


def test_times_with_other_offsets_compare_as_instants() -> None:
    entries = build_timeline(
        [
            rec(
                "afterglow.consent",
                {"event_id": "a", "action": "opt_in", "at": "2026-01-18T10:00:00-06:00"},
            ),
            rec(
                "afterglow.consent",
                {"event_id": "b", "action": "opt_out", "at": "2026-01-18T15:00:00+00:00"},
            ),
        ]
    )
    assert [entry.kind for entry in entries] == ["opt_out", "opt_in"]


def test_replayed_records_appear_once() -> None:
    due = checkin("checkin_due", "2026-01-17T15:00:00+00:00")
    answer = clinical("sm-1:e0", "difficulty_answered", "2026-01-17T15:05:00Z", value=1)
    records = [
        rec("clinic.patients", patient("pt-1")),
        rec("clinic.patients", patient("pt-1")),  # re-sent registration, unchanged
        rec("clinic.infusions.completed", infusion("inf-1", "pt-1", "2026-01-16T15:00:00Z")),
        rec("clinic.infusions.completed", infusion("inf-1", "pt-1", "2026-01-16T15:00:00Z")),
        rec("afterglow.checkins", due),
        rec("afterglow.checkins", {**due, "at": "2026-01-17T15:00:09+00:00"}),  # same event_id
        rec("afterglow.clinical-events", answer),
        rec("afterglow.clinical-events", answer),
        rec("alerts", alert("open", "2026-01-17T15:10:01+00:00")),
        rec("alerts", alert("open", "2026-01-17T15:10:07+00:00")),  # replay: same state change
        rec("alerts", alert("open", "2026-01-17T15:25:00+00:00", escalations=1)),  # not a replay
        rec("afterglow.audit", audit("raised", "2026-01-17T15:10:01+00:00")),
        rec("afterglow.audit", audit("raised", "2026-01-17T15:10:01+00:00")),
    ]
    entries = build_timeline(records)
    assert [entry.source for entry in entries] == [
        "registration",
        "infusion",
        "check-in",
        "clinical",
        "alert",
        "audit",
        "alert",
    ]
    # The first copy is kept.
    assert entries[2].at == datetime(2026, 1, 17, 15, tzinfo=UTC)


def test_same_event_id_in_two_topics_is_not_a_duplicate() -> None:
    entries = build_timeline(
        [
            rec(
                "afterglow.consent",
                {"event_id": "x", "action": "opt_out", "at": "2026-01-18T10:00:00Z"},
            ),
            rec("afterglow.clinical-events", clinical("x", "opted_out", "2026-01-18T10:00:00Z")),
        ]
    )
    assert len(entries) == 2


# --- rendering ------------------------------------------------------------------------------


def _sample() -> list[SourceRecord]:
    return [
        rec("clinic.patients", patient("pt-1", phone=PHONE), "2026-01-10T12:00:00+00:00"),
        rec("afterglow.audit", audit("acknowledged", "2026-01-17T15:30:00Z", "clinician:clin-1")),
        rec("clinic.infusions.completed", infusion("inf-1", "pt-1", "2026-01-16T15:00:00Z")),
    ]


def test_text_rendering_uses_the_zone_and_one_line_per_entry() -> None:
    records = _sample()
    zone = ZoneInfo(registered_timezone(records) or "UTC")
    text = render_text(build_timeline(records), zone)
    lines = text.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("2026-01-10T06:00:00-06:00  registration  clinic")
    assert lines[1].startswith("2026-01-16T09:00:00-06:00  infusion")
    assert lines[2].startswith("2026-01-17T09:30:00-06:00  audit")
    assert "clinician:clin-1" in lines[2]
    assert not _DIGITS.search(text.replace("2026-01-", ""))


def test_json_rendering_one_object_per_line() -> None:
    records = _sample()
    lines = render_json(build_timeline(records), ZoneInfo("America/Chicago")).splitlines()
    objects = [json.loads(line) for line in lines]
    assert [item["source"] for item in objects] == ["registration", "infusion", "audit"]
    assert objects[2] == {
        "at": "2026-01-17T09:30:00-06:00",
        "source": "audit",
        "topic": "afterglow.audit",
        "kind": "acknowledged",
        "actor": "clinician:clin-1",
        "summary": "acknowledged alert al-1 (safety, P1)",
    }
    assert "555" not in "\n".join(lines)


def test_no_phone_number_is_printed_anywhere() -> None:
    records = [
        rec("clinic.patients", patient("pt-1", phone=PHONE), "2026-01-10T12:00:00+00:00"),
        rec("clinic.patients", patient("pt-1", phone=OTHER_PHONE), "2026-01-11T12:00:00+00:00"),
        rec("afterglow.audit", audit("notified", "2026-01-17T15:30:00Z", recipient=PHONE)),
        rec("alerts", alert("open", "2026-01-17T15:10:01Z", reason=f"call {PHONE}")),
        rec(
            "afterglow.consent",
            {"event_id": "c", "action": "opt_out", "at": "2026-01-18T10:00:00Z", "phone": PHONE},
        ),
    ]
    entries = build_timeline(records)
    output = render_text(entries, UTC) + render_json(entries, UTC)
    assert "5550123" not in output
    assert "5550187" not in output
    assert "555" not in output


@pytest.mark.parametrize(
    "text",
    ["+12015550123", "+1 (201) 555-0123", "12015550123", "201-555-0123", "(201) 555-0123"],
)
def test_redact_phone_like_text(text: str) -> None:
    assert redact(f"call {text} now") == "call [redacted] now"


@pytest.mark.parametrize(
    "text",
    ["2026-01-17T15:30:00-06:00", "pt-1:occ-1:reminder2", "SM0123456789abcdef", "code=21610"],
)
def test_redact_leaves_times_and_ids_alone(text: str) -> None:
    assert redact(text) == text


# --- partitioning ---------------------------------------------------------------------------


def test_partition_matches_the_producers_default_partitioners() -> None:
    from aiokafka.partitioner import DefaultPartitioner as AioPartitioner
    from kafka.partitioner.default import murmur2

    def signed(value: int) -> int:
        return value - (1 << 32) if value >= 1 << 31 else value

    # The Java client's Utils.murmur2 for these keys (its UtilsTest).
    assert signed(murmur2(b"21")) == -973932308
    assert signed(murmur2(b"foobar")) == -790332482
    assert signed(murmur2(b"abc")) == 479470107
    aio = AioPartitioner()
    for index in range(200):
        key = f"pt-{index}".encode()
        for count in (1, 3, 4, 12):
            assert partition_for(key, count) == aio(key, list(range(count)), [])
