"""The topic catalog applied to the real local broker, each test under its own topic prefix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from afterglow.broker.topics import Mismatch, ensure_topics
from afterglow.config import Settings
from afterglow.topics import (
    ALERT_ACTIONS,
    ALERT_NOTIFICATIONS,
    ALERTS,
    AUDIT,
    CATALOG,
    CHECKINS,
    CLINICAL_EVENTS,
    CLINICIAN_REFERENCES,
    CLINICIANS,
    CONSENT,
    DEADLETTER,
    DEADLETTER_ACTIONS,
    INFUSIONS_COMPLETED,
    OPERATOR_WARNINGS,
    PATIENTS,
    PHONE_DIRECTORY,
    PHONE_VERDICTS,
    SMS_CLINICIAN_INBOUND,
    SMS_INBOUND,
    SMS_OUTBOUND,
    SMS_OUTBOUND_URGENT,
    SMS_PATIENT_INBOUND,
    SMS_STATUS,
    TICKS,
)

pytestmark = pytest.mark.kafka

_DAY_MS = 86_400_000
COMPACTED = {PATIENTS, CLINICIANS, PHONE_DIRECTORY, PHONE_VERDICTS, OPERATOR_WARNINGS}
RETENTION_DAYS = {
    INFUSIONS_COMPLETED: 30,
    ALERTS: 365,
    DEADLETTER: 30,
    DEADLETTER_ACTIONS: 365,
    AUDIT: 2557,
    TICKS: 1,
    CHECKINS: 30,
    CONSENT: 365,
    SMS_INBOUND: 30,
    SMS_STATUS: 30,
    SMS_PATIENT_INBOUND: 30,
    SMS_OUTBOUND: 30,
    SMS_OUTBOUND_URGENT: 30,
    CLINICAL_EVENTS: 2557,
    ALERT_ACTIONS: 30,
    ALERT_NOTIFICATIONS: 30,
    SMS_CLINICIAN_INBOUND: 30,
    CLINICIAN_REFERENCES: 30,
}


@pytest.fixture
def admin(kafka_broker: str) -> Iterator[Any]:
    client = KafkaAdminClient(bootstrap_servers=kafka_broker, client_id="afterglow-tests")
    yield client
    client.close()


def _physical(settings: Settings) -> list[str]:
    return [settings.topic(spec.name) for spec in CATALOG]


def _topic_ids(admin: Any, names: list[str]) -> dict[str, str]:
    return {topic["name"]: topic["topic_id"] for topic in admin.describe_topics(names)}


def test_catalog_names_the_contract_topics() -> None:
    assert {spec.name for spec in CATALOG} == COMPACTED | set(RETENTION_DAYS)


def test_creates_the_catalog_with_partitions_and_cleanup_policy(
    kafka_settings: Settings, admin: Any
) -> None:
    names = _physical(kafka_settings)

    report = ensure_topics(kafka_settings, admin)

    assert sorted(report.created) == sorted(names)
    assert report.unchanged == []
    assert report.mismatched == []
    partitions = {t["name"]: len(t["partitions"]) for t in admin.describe_topics(names)}
    assert partitions == dict.fromkeys(names, kafka_settings.topic_partitions)
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    configs = admin.describe_configs(resources, config_filter="all")["topic"]
    for name in COMPACTED:
        assert configs[kafka_settings.topic(name)]["cleanup.policy"]["value"] == "compact"
    for name, days in RETENTION_DAYS.items():
        topic = configs[kafka_settings.topic(name)]
        assert topic["cleanup.policy"]["value"] == "delete"
        assert topic["retention.ms"]["value"] == str(days * _DAY_MS)


def test_second_run_is_a_no_op(kafka_settings: Settings, admin: Any) -> None:
    names = _physical(kafka_settings)
    ensure_topics(kafka_settings, admin)
    ids_before = _topic_ids(admin, names)

    report = ensure_topics(kafka_settings)  # its own client, as `afterglow topics` does

    assert report.created == []
    assert sorted(report.unchanged) == sorted(names)
    assert report.ok
    assert _topic_ids(admin, names) == ids_before


def test_partition_count_mismatch_is_reported_not_changed(
    kafka_settings: Settings, admin: Any
) -> None:
    patients = kafka_settings.topic(PATIENTS)
    admin.create_topics(
        {patients: {"num_partitions": 2, "replication_factor": 1, "configs": _COMPACT}}
    )

    report = ensure_topics(kafka_settings, admin)

    expected = str(kafka_settings.topic_partitions)
    assert report.mismatched == [Mismatch(patients, "partitions", expected, "2")]
    assert not report.ok
    assert report.problems() == [
        f"topic {patients} has 2 partitions, the catalog expects {expected}: "
        "recreate it or set AFTERGLOW_TOPIC_PARTITIONS=2"
    ]
    assert sorted(report.created) == sorted(set(_physical(kafka_settings)) - {patients})
    assert [len(t["partitions"]) for t in admin.describe_topics([patients])] == [2]


def test_cleanup_policy_mismatch_is_reported(kafka_settings: Settings, admin: Any) -> None:
    clinicians = kafka_settings.topic(CLINICIANS)
    partitions = kafka_settings.topic_partitions
    admin.create_topics({clinicians: {"num_partitions": partitions, "replication_factor": 1}})

    report = ensure_topics(kafka_settings, admin)

    assert report.mismatched == [Mismatch(clinicians, "cleanup.policy", "compact", "delete")]
    assert report.problems() == [
        f"topic {clinicians} has cleanup.policy=delete, the catalog expects "
        "cleanup.policy=compact: recreate it or alter its config"
    ]


_COMPACT = {"cleanup.policy": "compact"}
