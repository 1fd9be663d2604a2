"""`afterglow warnings` on the real local Kafka (the real command, as a child process): the
latest record per key, tombstones clearing, ids escaped, and `--clear`."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from kafka import KafkaProducer

from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from afterglow.operator_warnings.records import WarningKind, warning_id, warning_record
from tests.support.processes import AFTERGLOW

pytestmark = pytest.mark.kafka

AT = "2026-03-02T15:00:00+00:00"


def run_warnings(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "AFTERGLOW_TOPIC_PREFIX": settings.topic_prefix,
    }
    return subprocess.run(
        [AFTERGLOW, "warnings", *args], env=env, capture_output=True, text=True, timeout=120
    )


def publish(settings: Settings, *records: tuple[str, dict[str, object] | None]) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    topic = settings.topic("afterglow.operator-warnings")
    try:
        for key, value in records:
            raw = None if value is None else json.dumps(value).encode()
            producer.send(topic, key=key.encode(), value=raw)
        producer.flush(timeout=30)
    finally:
        producer.close()


def test_warnings_lists_the_current_ones_and_clear_dismisses_one(
    kafka_settings: Settings,
) -> None:
    assert ensure_topics(kafka_settings).ok
    clinician = warning_record(
        WarningKind.UNKNOWN_CLINICIAN, "clinic-a", "clin-9", at=AT, source_topic="clinic.patients"
    )
    hostile = warning_record(
        WarningKind.UNREGISTERED_PATIENT,
        "clinic-b",
        "p-1\x1b[2J",
        at=AT,
        source_topic="clinic.infusions.completed",
    )
    gone = warning_record(
        WarningKind.UNREGISTERED_PATIENT, "clinic-a", "p-2", at=AT, source_topic="x"
    )
    publish(
        kafka_settings,
        (gone["warning_id"], gone),
        (clinician["warning_id"], clinician),
        (hostile["warning_id"], hostile),
        (gone["warning_id"], None),  # the registration arrived
    )

    listed = run_warnings(kafka_settings)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0] == "2 operator warning(s)"
    assert lines[1].startswith(f"{AT}  unknown_clinician  clinic-a  clin-9  registrations name")
    assert lines[2].startswith(f"{AT}  unregistered_patient  clinic-b  p-1\\x1b[2J  an infusion")
    assert "\x1b" not in listed.stdout

    as_json = run_warnings(kafka_settings, "--json")
    assert [json.loads(line) for line in as_json.stdout.splitlines()] == [clinician, hostile]

    key = warning_id(WarningKind.UNKNOWN_CLINICIAN, "clinic-a", "clin-9")
    cleared = run_warnings(kafka_settings, "--clear", key)
    assert cleared.returncode == 0, cleared.stderr
    assert cleared.stdout == f"cleared {key}\n"
    again = run_warnings(kafka_settings, "--clear", key)
    assert again.returncode == 1
    assert "no current warning" in again.stderr
    left = run_warnings(kafka_settings, "--json")
    assert [json.loads(line) for line in left.stdout.splitlines()] == [hostile]


def test_no_warnings_and_a_missing_topic(kafka_settings: Settings) -> None:
    missing = run_warnings(kafka_settings)
    assert missing.returncode == 2
    assert "not found" in missing.stderr
    assert ensure_topics(kafka_settings).ok
    empty = run_warnings(kafka_settings)
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout == "no operator warnings\n"
