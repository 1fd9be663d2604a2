"""`afterglow audit PATIENT_ID` on the real local Kafka (the real command, as a child process),
and what it prints from hostile records (in process, the reader replaced)."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from typer.testing import CliRunner

from afterglow.audit.reader import ReadResult, partition_for
from afterglow.audit.timeline import SourceRecord
from afterglow.broker.topics import ensure_topics
from afterglow.cli import audit_cmd
from afterglow.cli.main import app
from afterglow.config import Settings
from tests.support.processes import AFTERGLOW, free_port
from tests.support.records import infusion, patient

PHONE_A = "+12015550123"
PHONE_A_NEW = "+12015550145"
PHONE_B = "+12015550187"


def run_audit(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "AFTERGLOW_TOPIC_PREFIX": settings.topic_prefix,
    }
    return subprocess.run(
        [AFTERGLOW, "audit", *args], env=env, capture_output=True, text=True, timeout=120
    )


def two_patients_on_different_partitions(partitions: int) -> tuple[str, str]:
    first = "pt-audit-a"
    for index in range(100):
        other = f"pt-audit-b{index}"
        if partition_for(other.encode(), partitions) != partition_for(first.encode(), partitions):
            return first, other
    raise AssertionError("no second patient id on another partition")


def millis(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


class Producer:
    """kafka-python's producer (default partitioner), checking where every record lands."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.producer = KafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers, acks="all"
        )
        self.partitions: set[tuple[str, int]] = set()

    def send(self, topic: str, key: str, value: dict[str, Any], at: str | None = None) -> None:
        metadata = self.producer.send(
            self.settings.topic(topic),
            key=key.encode(),
            value=json.dumps(value).encode(),
            timestamp_ms=millis(at) if at else None,
        ).get(timeout=30)
        # The command reads only the partition it computes: it must be where the record is.
        assert metadata.partition == partition_for(key.encode(), self.settings.topic_partitions)
        self.partitions.add((key, metadata.partition))

    def close(self) -> None:
        self.producer.flush(timeout=30)
        self.producer.close()


def checkin(pid: str, step: str, at: str) -> dict[str, Any]:
    return {
        "event_id": f"{pid}:occ-1:{step}",
        "type": step,
        "patient_id": pid,
        "clinic_id": "clinic-a",
        "occurrence_id": "occ-1",
        "kind": "followup",
        "planned_at": "2026-01-17T14:00:00+00:00",
        "at": at,
    }


def clinical(pid: str, event_id: str, event_type: str, at: str, **extra: Any) -> dict[str, Any]:
    return {"event_id": event_id, "type": event_type, "patient_id": pid, "at": at, **extra}


def alert(pid: str, alert_id: str, status: str, changed_at: str, **extra: Any) -> dict[str, Any]:
    return {
        "alert_id": alert_id,
        "patient_id": pid,
        "clinic_id": "clinic-a",
        "kind": "safety",
        "priority": "P1",
        "at": "2026-01-17T14:05:00+00:00",
        "reason": "PHQ-9 item 9 answered 2",
        "status": status,
        "raised_at": "2026-01-17T14:05:01+00:00",
        "changed_at": changed_at,
        **extra,
    }


def audit(
    pid: str, alert_id: str, action: str, actor: str, at: str, **extra: Any
) -> dict[str, Any]:
    return {
        "event_id": f"{alert_id}:{action}:{at}",
        "patient_id": pid,
        "clinic_id": "clinic-a",
        "action": action,
        "actor": actor,
        "at": at,
        "alert_id": alert_id,
        "kind": "safety",
        "priority": "P1",
        **extra,
    }


def produce_timelines(settings: Settings, a: str, b: str) -> None:
    producer = Producer(settings)
    try:
        send = producer.send
        # Patient A, topic by topic (not in time order across topics).
        send(
            "clinic.patients",
            a,
            patient(a, phone=PHONE_A, timezone="America/New_York"),
            at="2026-01-10T15:00:00+00:00",
        )
        send(
            "clinic.patients",
            a,
            patient(a, phone=PHONE_A_NEW, timezone="America/New_York", clinician_id="clin-2"),
            at="2026-01-20T15:00:00+00:00",
        )
        send("clinic.infusions.completed", a, infusion("inf-a1", a, "2026-01-16T15:00:00+00:00"))
        send("afterglow.checkins", a, checkin(a, "checkin_due", "2026-01-17T14:00:00+00:00"))
        answers = [2, 2, 3, 1, 1, 2, 1, 1, 2]
        send(
            "afterglow.clinical-events",
            a,
            clinical(
                a,
                "sm-a1:e0",
                "self_harm_item_answered",
                "2026-01-17T14:04:00+00:00",
                occurrence_id="occ-1",
                value=2,
            ),
        )
        send(
            "afterglow.clinical-events",
            a,
            clinical(
                a,
                "sm-a1:e1",
                "assessment_completed",
                "2026-01-17T14:05:00+00:00",
                occurrence_id="occ-1",
                items=answers,
                total=15,
                severity="moderately severe",
            ),
        )
        send(
            "afterglow.clinical-events",
            a,
            clinical(
                a,
                "al-a1:resolved",
                "alert_resolved",
                "2026-01-17T15:00:00+00:00",
                kind="safety",
                alert_id="al-a1",
                actor="clinician:clin-1",
            ),
        )
        send("alerts", a, alert(a, "al-a1", "open", "2026-01-17T14:05:01+00:00"))
        send(
            "alerts",
            a,
            alert(
                a,
                "al-a1",
                "acknowledged",
                "2026-01-17T14:20:00+00:00",
                acknowledged_by="clinician:clin-1",
            ),
        )
        send(
            "alerts",
            a,
            alert(
                a,
                "al-a1",
                "acknowledged",
                "2026-01-17T14:20:03+00:00",
                acknowledged_by="clinician:clin-1",
            ),
        )  # replayed state change
        send(
            "alerts",
            a,
            alert(
                a,
                "al-a1",
                "resolved",
                "2026-01-17T15:00:00+00:00",
                acknowledged_by="clinician:clin-1",
                resolved_by="clinician:clin-1",
                outcome="contacted",
            ),
        )
        send(
            "afterglow.audit",
            a,
            audit(a, "al-a1", "raised", "system", "2026-01-17T14:05:01+00:00", via="stream"),
        )
        notified = audit(
            a,
            "al-a1",
            "notified",
            "system",
            "2026-01-17T14:05:02+00:00",
            via="sms",
            recipient="clinician:clin-1",
            role="primary",
            outcome="sent",
        )
        send("afterglow.audit", a, notified)
        send("afterglow.audit", a, notified)  # replay: same event_id
        send(
            "afterglow.audit",
            a,
            audit(
                a,
                "al-a1",
                "acknowledged",
                "clinician:clin-1",
                "2026-01-17T14:20:00+00:00",
                via="sms",
            ),
        )
        send(
            "afterglow.audit",
            a,
            audit(
                a,
                "al-a1",
                "resolved",
                "clinician:clin-1",
                "2026-01-17T15:00:00+00:00",
                via="dashboard",
                outcome="contacted",
            ),
        )
        send(
            "afterglow.consent",
            a,
            {
                "event_id": "sm-a9:consent",
                "patient_id": a,
                "action": "opt_out",
                "at": "2026-01-18T01:00:00+00:00",
                "source": "sms-keyword",
            },
        )
        # Patient B: same topics, another partition.
        send("clinic.patients", b, patient(b, phone=PHONE_B), at="2026-01-11T15:00:00+00:00")
        send("clinic.infusions.completed", b, infusion("inf-b1", b, "2026-01-16T16:00:00+00:00"))
        send(
            "afterglow.clinical-events",
            b,
            clinical(b, "sm-b1:e0", "difficulty_answered", "2026-01-17T14:06:00+00:00", value=1),
        )
        send("alerts", b, alert(b, "al-b1", "open", "2026-01-17T14:10:00+00:00"))
        send(
            "afterglow.audit",
            b,
            audit(
                b,
                "al-b1",
                "acknowledged",
                "clinician:clin-9",
                "2026-01-17T14:30:00+00:00",
                via="dashboard",
            ),
        )
    finally:
        producer.close()
    partitions = {partition for _, partition in producer.partitions}
    assert len(partitions) == 2, producer.partitions


EXPECTED_A = [  # (source, actor, summary fragment), in time order
    ("registration", "clinic", "registered: clinic clinic-a, clinician clin-1"),
    ("infusion", "clinic", "infusion completed (event inf-a1"),
    ("check-in", "system", "check-in due: followup occ-1"),
    ("clinical", "patient", "PHQ-9 item 9 (self-harm) answered 2"),
    ("clinical", "patient", "PHQ-9 completed: total 15 (moderately severe), items 2 2 3 1 1 2"),
    ("alert", "-", "alert al-a1 (safety, P1) open"),
    ("audit", "system", "raised alert al-a1 (safety, P1) via stream"),
    ("audit", "system", "notified clinician:clin-1 (primary) of alert al-a1"),
    ("alert", "clinician:clin-1", "alert al-a1 (safety, P1) acknowledged"),
    ("audit", "clinician:clin-1", "acknowledged alert al-a1 (safety, P1) via sms"),
    ("clinical", "clinician:clin-1", "alert_resolved: kind=safety, alert_id=al-a1"),
    ("alert", "clinician:clin-1", "alert al-a1 (safety, P1) resolved (outcome contacted)"),
    ("audit", "clinician:clin-1", "resolved alert al-a1 (safety, P1) via dashboard: contacted"),
    ("consent", "patient", "opted out of text messages (source sms-keyword)"),
    ("registration", "clinic", "registration updated: clinician clin-1 -> clin-2; phone changed"),
]


@pytest.fixture
def timelines(kafka_settings: Settings) -> tuple[Settings, str, str]:
    assert ensure_topics(kafka_settings).ok
    a, b = two_patients_on_different_partitions(kafka_settings.topic_partitions)
    produce_timelines(kafka_settings, a, b)
    return kafka_settings, a, b


@pytest.mark.kafka
def test_audit_prints_one_patients_timeline_in_time_order(
    timelines: tuple[Settings, str, str],
) -> None:
    settings, a, b = timelines
    result = run_audit(settings, a)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"patient {a}: {len(EXPECTED_A)} entries, times in America/New_York"
    body = lines[1:]
    assert len(body) == len(EXPECTED_A), result.stdout
    for line, (source, actor, fragment) in zip(body, EXPECTED_A, strict=True):
        time_text, shown_source, shown_actor, summary = line.split(maxsplit=3)
        assert (shown_source, shown_actor) == (source, actor), line
        assert fragment.format(a=a) in summary, line
        assert time_text.endswith("-05:00"), line  # the patient's zone, New York in January
    times = [datetime.fromisoformat(line.split()[0]) for line in body]
    assert times == sorted(times)
    assert body[0].startswith("2026-01-10T10:00:00-05:00")
    # Nothing of patient B's, and never a phone number.
    for marker in (b, "inf-b1", "al-b1", "clin-9", "sm-b1"):
        assert marker not in result.stdout
    output = result.stdout + result.stderr
    for phone in (PHONE_A, PHONE_A_NEW, PHONE_B):
        assert phone not in output
        assert phone[2:] not in output
    assert "555" not in output


@pytest.mark.kafka
def test_audit_json_has_one_object_per_entry(timelines: tuple[Settings, str, str]) -> None:
    settings, a, b = timelines
    result = run_audit(settings, b, "--json")
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(item["source"], item["actor"]) for item in objects] == [
        ("registration", "clinic"),
        ("infusion", "clinic"),
        ("clinical", "patient"),
        ("alert", None),
        ("audit", "clinician:clin-9"),
    ]
    assert objects[-1]["summary"] == "acknowledged alert al-b1 (safety, P1) via dashboard"
    assert objects[-1]["at"] == "2026-01-17T08:30:00-06:00"  # Chicago, b's registered zone
    assert a not in result.stdout
    assert "555" not in result.stdout


@pytest.mark.kafka
def test_audit_of_an_unknown_patient_exits_1(timelines: tuple[Settings, str, str]) -> None:
    settings, _, _ = timelines
    result = run_audit(settings, "pt-nobody")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "nothing found for patient pt-nobody" in result.stderr


@pytest.mark.kafka
def test_missing_topics_are_empty_and_not_created(kafka_settings: Settings) -> None:
    result = run_audit(kafka_settings, "pt-1")
    assert result.returncode == 1
    assert f"topic {kafka_settings.topic('alerts')} not found" in result.stderr
    assert "nothing found for patient pt-1" in result.stderr
    admin = KafkaAdminClient(bootstrap_servers=kafka_settings.kafka_bootstrap_servers)
    try:
        assert not [t for t in admin.list_topics() if t.startswith(kafka_settings.topic_prefix)]
    finally:
        admin.close()


def test_unreachable_broker_exits_2() -> None:
    settings = Settings(kafka_bootstrap_servers=f"127.0.0.1:{free_port()}", topic_prefix="x.")
    result = run_audit(settings, "pt-1")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "cannot reach Kafka at 127.0.0.1:" in result.stderr


def test_control_characters_in_records_never_reach_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What the reader returns is what the topics hold: an actor carrying a forged line
    # and an ANSI escape, published before the API refused such actors.
    forged = "clinician:clin-1\n2026-01-17T08:30:00-06:00  audit  clinician:clin-2  resolved"
    records = [
        SourceRecord("clinic.patients", patient("pt-1", timezone="America/Chicago")),
        SourceRecord(
            "afterglow.audit",
            audit("pt-1", "al-1", "acknowledged", forged, "2026-01-17T14:20:00+00:00"),
        ),
        SourceRecord(
            "afterglow.audit",
            audit(
                "pt-1",
                "al-1",
                "resolved",
                "clinician:\x1b[2Kclin-3",
                "2026-01-17T14:30:00+00:00",
                outcome="other",
            ),
        ),
    ]

    def read(settings: Settings, patient_id: str) -> ReadResult:
        return ReadResult(records=records)

    monkeypatch.setattr(audit_cmd, "read_patient_records", read)
    result = CliRunner().invoke(app, ["audit", "pt-1\x1b[8m"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 + len(records)  # the header, then one line per entry
    for line in lines:
        assert line.isprintable(), ascii(line)
    assert lines[0].startswith("patient pt-1\\x1b[8m: 3 entries")
    assert "clinician:clin-1\\n2026-01-17T08:30:00-06:00" in lines[2]
    assert "clinician:\\x1b[2Kclin-3" in lines[3]
