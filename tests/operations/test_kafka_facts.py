"""The Kafka readers on the real local broker: a group's lag in records and seconds, the
last tick handled per partition, dead letters by reason, and send-ledger entries marked
unknown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.structs import OffsetAndMetadata

from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from afterglow.operations.deadletter_counts import DeadLetterTally
from afterglow.operations.deadletter_facts import read_deadletters
from afterglow.operations.kafka_facts import read_kafka
from afterglow.operations.ledger_facts import UnknownSend, changelog_topic, read_unknown_sends
from afterglow.operations.model import Verdict
from afterglow.operations.pipeline_verdicts import pipeline_panel, ticks_panel
from afterglow.operations.thresholds import Thresholds
from afterglow.topic_reading import one_shot_consumer
from afterglow.topics import ALERTS, DEADLETTER, INFUSIONS_COMPLETED, SMS_OUTBOUND, TICKS
from afterglow.worker.deadletter import deadletter_record, encode

pytestmark = pytest.mark.kafka


def with_app(settings: Settings) -> Settings:
    """An app id (the worker's group) of the test's own."""
    return settings.model_copy(update={"app_id": f"{settings.topic_prefix}afterglow"})


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def produce(settings: Settings, topic: str, partition: int, times_ms: list[int]) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    try:
        for at in times_ms:
            producer.send(topic, b'{"now": "x"}', partition=partition, timestamp_ms=at)
        producer.flush(timeout=30)
    finally:
        producer.close()


def commit(settings: Settings, group: str, offsets: dict[TopicPartition, int]) -> None:
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
    )
    try:
        consumer.commit({tp: OffsetAndMetadata(o, "", -1) for tp, o in offsets.items()})
    finally:
        consumer.close(autocommit=False)


@contextmanager
def counting_consumer(settings: Settings) -> Iterator[KafkaConsumer]:
    consumer = one_shot_consumer(settings, "tests", 10_000, check_crcs=False)
    try:
        yield consumer
    finally:
        consumer.close()


def produce_letters(settings: Settings, letters: list[dict[str, Any]]) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    try:
        for letter in letters:
            producer.send(settings.topic(DEADLETTER), encode(letter))
        producer.flush(timeout=30)
    finally:
        producer.close()


def test_a_group_behind_the_end_has_lag_in_records_and_seconds(kafka_settings: Settings) -> None:
    settings = with_app(kafka_settings)
    assert ensure_topics(settings).ok
    now = datetime.now(UTC)
    ten_min_ago = ms(now - timedelta(minutes=10))
    infusions = TopicPartition(settings.topic(INFUSIONS_COMPLETED), 0)
    ticks = TopicPartition(settings.topic(TICKS), 0)
    produce(settings, infusions.topic, 0, [ten_min_ago + 1000 * n for n in range(5)])
    produce(settings, ticks.topic, 0, [ms(now) - 90_000, ms(now) - 60_000])
    commit(settings, settings.app_id, {infusions: 2, ticks: 2})

    facts = read_kafka(settings, projector_offsets={})

    worker, projector = facts.pipeline.groups
    assert worker.group == settings.app_id
    assert worker.members == ()  # nobody runs the worker
    lagging = [p for p in worker.partitions if p.lag]
    assert [(p.topic, p.partition, p.committed, p.lag) for p in lagging] == [
        (INFUSIONS_COMPLETED, 0, 2, 3)
    ]
    assert lagging[0].oldest_unconsumed_at == datetime.fromtimestamp(
        (ten_min_ago + 2000) / 1000, UTC
    )
    # The projector has read nothing: every record of its topics is behind.
    assert projector.lag == 5
    assert facts.pipeline.broker.reachable
    assert facts.pipeline.broker.brokers == 1

    panel = pipeline_panel(facts.pipeline, Thresholds(), now)
    assert panel.verdict is Verdict.RED
    assert f"worker group {settings.app_id} is 598 s behind (3 record(s))" in panel.reasons
    assert f"worker group {settings.app_id} has no live member: nothing consumes" in panel.reasons

    handled = {p.partition: p.last_handled_at for p in facts.ticks.partitions}
    assert handled[0] == datetime.fromtimestamp((ms(now) - 60_000) / 1000, UTC)
    assert handled[1] is None  # no tick ever handled there
    assert ticks_panel(facts.ticks, Thresholds(), now).verdict is Verdict.RED


def test_records_written_in_the_last_5_minutes_and_24_hours_are_counted_per_topic(
    kafka_settings: Settings,
) -> None:
    settings = with_app(kafka_settings)
    assert ensure_topics(settings).ok
    now = datetime.now(UTC)
    infusions, alerts = settings.topic(INFUSIONS_COMPLETED), settings.topic(ALERTS)
    two_days, two_hours, one_min = (
        ms(now - delta) for delta in (timedelta(days=2), timedelta(hours=2), timedelta(minutes=1))
    )
    # Both partitions count: 3 records in 5 min, 3 + 4 in 24 h, none older.
    produce(settings, infusions, 0, [two_days, two_hours, two_hours, one_min, one_min])
    produce(settings, infusions, 1, [two_hours, two_hours, one_min])
    produce(settings, alerts, 1, [two_days, two_days])

    rates = {r.topic: r for r in read_kafka(settings, projector_offsets={}, now=now).pipeline.rates}

    infused = rates[INFUSIONS_COMPLETED]
    assert (infused.direction, infused.last_5m, infused.last_24h) == ("input", 3, 7)
    assert infused.per_min_5m == pytest.approx(3 / 5)
    assert infused.per_min_24h == pytest.approx(7 / 1440)
    assert (rates[ALERTS].direction, rates[ALERTS].last_5m, rates[ALERTS].last_24h) == (
        "output",
        0,
        0,
    )
    assert rates[SMS_OUTBOUND].last_24h == 0
    # Seen from two days ago minus a minute, the alerts fall into the last 5 minutes.
    earlier = now - timedelta(days=2) + timedelta(minutes=1)
    then = read_kafka(settings, projector_offsets={}, now=earlier).pipeline.rates
    assert {r.topic: r.last_5m for r in then}[ALERTS] == 2


def test_an_unreachable_broker_is_reported_not_raised(kafka_settings: Settings) -> None:
    settings = kafka_settings.model_copy(update={"kafka_bootstrap_servers": "127.0.0.1:9"})
    facts = read_kafka(settings, projector_offsets=None, timeout_s=2)
    assert not facts.pipeline.broker.reachable
    assert facts.ticks.error == "Kafka does not answer"


def test_dead_letters_are_counted_by_source_topic_and_reason(kafka_settings: Settings) -> None:
    assert ensure_topics(kafka_settings).ok
    now = datetime.now(UTC)
    source = kafka_settings.topic(INFUSIONS_COMPLETED)
    letters = [
        deadletter_record(source, "value is not JSON (at position 3)", b"pt-1", b"{x", 0, n, now)
        for n in range(2)
    ]
    letters.append(deadletter_record(source, "empty record value", None, b"", 1, 9, now))
    produce_letters(kafka_settings, letters)

    tally = DeadLetterTally(kafka_settings.topic_prefix)
    with counting_consumer(kafka_settings) as consumer:
        facts = read_deadletters(kafka_settings, consumer, now + timedelta(seconds=5), tally)

    counted = [(g.source_topic, g.reason, g.count, g.last_hour) for g in facts.groups]
    assert counted == [
        (INFUSIONS_COMPLETED, "empty record value", 1, 1),
        (INFUSIONS_COMPLETED, "value is not JSON (at position N)", 2, 2),
    ]
    assert facts.oldest_at is not None
    assert facts.oldest_at <= now + timedelta(seconds=5)

    # A tally kept from the last read reads only the new dead letter, and counts on.
    produce_letters(kafka_settings, letters[-1:])
    with counting_consumer(kafka_settings) as consumer:
        later = read_deadletters(kafka_settings, consumer, now + timedelta(hours=2), tally)
    assert [(g.count, g.last_24h) for g in later.groups] == [(2, 2), (2, 2)]
    # Day-old dead letters stay counted but no longer colour the panel.
    with counting_consumer(kafka_settings) as consumer:
        next_day = read_deadletters(kafka_settings, consumer, now + timedelta(days=2), tally)
    assert [(g.count, g.last_24h) for g in next_day.groups] == [(2, 0), (2, 0)]


def test_only_the_latest_ledger_entry_of_a_send_key_counts(kafka_settings: Settings) -> None:
    settings = with_app(kafka_settings)
    topic = changelog_topic(settings)
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    try:
        admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        admin.close()
    claimed = "2026-03-02T15:00:00+00:00"

    def entry(key: str, status: str) -> bytes:
        return json.dumps({"send_key": key, "status": status, "claimed_at": claimed}).encode()

    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    try:
        for key, value in [
            ("k-1", entry("k-1", "claimed")),
            ("k-1", entry("k-1", "unknown")),
            ("k-2", entry("k-2", "unknown")),
            ("k-2", entry("k-2", "sent")),  # reconciled by a person
            ("k-3", entry("k-3", "unknown")),
            ("k-3", None),
        ]:
            producer.send(topic, key=key.encode(), value=value)
        producer.flush(timeout=30)
    finally:
        producer.close()

    with counting_consumer(settings) as consumer:
        unknown = read_unknown_sends(settings, consumer)
    assert unknown == [UnknownSend("k-1", datetime.fromisoformat(claimed))]
