"""`afterglow phone enroll`: a fictional patient registered the way a clinic's system does."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from tests.support.kafka_io import read_topic
from tests.support.processes import AFTERGLOW

pytestmark = pytest.mark.kafka


def _enroll(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "AFTERGLOW_TOPIC_PREFIX": settings.topic_prefix,
    }
    return subprocess.run(
        [AFTERGLOW, "phone", "enroll", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_enroll_registers_a_consenting_patient_without_a_baseline(
    kafka_settings: Settings,
) -> None:
    assert ensure_topics(kafka_settings).ok
    done = _enroll(kafka_settings, "+15555550107", "--timezone", "Europe/Berlin")
    bad = _enroll(kafka_settings, "+15555550108", "--timezone", "Mars/Olympus")
    records = read_topic(
        kafka_settings.kafka_bootstrap_servers, kafka_settings.topic("clinic.patients")
    )
    assert done.returncode == 0, done.stderr
    assert [(key, json.loads(value or b"")) for key, value in records] == [
        (
            b"demo-0107",
            {
                "patient_id": "demo-0107",
                "clinic_id": "clinic-a",
                "phone": "+15555550107",
                "timezone": "Europe/Berlin",
                "language": "en",
                "clinician_id": "demo-clinician",
                "sms_consent": True,
            },
        )
    ]
    assert bad.returncode == 2
    assert "Mars/Olympus" in bad.stderr
