"""The whole summary in one call, as a page or `afterglow status` gets it: the projector's
lag comes from the offsets stored in the read model, not from its Kafka group."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata
from sqlalchemy import Engine

from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from afterglow.operations.summary import Tallies, collect_health
from afterglow.readmodel import database
from afterglow.readmodel.projector import group_id
from afterglow.registry.clinics import load_clinics
from afterglow.topics import DEADLETTER, INFUSIONS_COMPLETED, PATIENTS
from afterglow.worker.deadletter import deadletter_record, encode
from tests.support.clinics import write_clinics

pytestmark = pytest.mark.kafka


def test_the_projector_lag_is_counted_from_the_read_models_offsets(
    kafka_settings: Settings, sqlite_readmodel: Engine, tmp_path: Path
) -> None:
    assert ensure_topics(kafka_settings).ok
    topic = kafka_settings.topic(PATIENTS)
    producer = KafkaProducer(bootstrap_servers=kafka_settings.kafka_bootstrap_servers, acks="all")
    try:
        for n in range(3):
            producer.send(topic, key=f"pt-{n}".encode(), value=b"{}", partition=0)
        producer.flush(timeout=30)
    finally:
        producer.close()
    # The database has the first record; the Kafka group, behind it, none.
    database.write_batch(sqlite_readmodel, [], {(topic, 0): 1})
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_settings.kafka_bootstrap_servers, group_id=group_id(kafka_settings)
    )
    try:
        consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(0, "", -1)})
    finally:
        consumer.close(autocommit=False)
    clinics = load_clinics(write_clinics(tmp_path / "clinics.toml", ""))

    summary = collect_health(kafka_settings, sqlite_readmodel, clinics, datetime.now(UTC))

    projector = summary.panel("pipeline").facts.groups[1]
    behind = [(p.topic, p.partition, p.committed, p.lag) for p in projector.partitions if p.lag]
    assert behind == [(PATIENTS, 0, 1, 2)]
    # An empty read model: the read-model panels are green, and the summary is plain JSON.
    assert summary.panel("sms_funnel").verdict.value == "green"
    assert summary.panel("alert_slos").verdict.value == "green"
    as_json = json.loads(json.dumps(summary.to_json()))
    assert [panel["name"] for panel in as_json["panels"]] == [
        "pipeline",
        "ticks",
        "deadletters",
        "sms_funnel",
        "alert_slos",
    ]


def test_a_kept_tally_counts_the_dead_letters_written_between_summaries(
    kafka_settings: Settings, sqlite_readmodel: Engine, tmp_path: Path
) -> None:
    # As the operations page runs it: one Tallies (and its consumer) for every refresh.
    assert ensure_topics(kafka_settings).ok
    clinics = load_clinics(write_clinics(tmp_path / "clinics.toml", ""))
    source = kafka_settings.topic(INFUSIONS_COMPLETED)
    tallies = Tallies.new(kafka_settings)
    try:
        counts = []
        for round_ in range(3):
            _produce_letters(kafka_settings, source, round_ + 1)
            summary = collect_health(
                kafka_settings, sqlite_readmodel, clinics, datetime.now(UTC), tallies=tallies
            )
            facts = summary.panel("deadletters").facts
            assert facts.error is None
            counts.append(facts.total)
    finally:
        tallies.close()
    assert counts == [1, 3, 6]


def _produce_letters(settings: Settings, source: str, count: int) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    try:
        for n in range(count):
            letter = deadletter_record(
                source, "empty record value", None, b"", 0, n, datetime.now(UTC)
            )
            producer.send(settings.topic(DEADLETTER), encode(letter))
        producer.flush(timeout=30)
    finally:
        producer.close()
