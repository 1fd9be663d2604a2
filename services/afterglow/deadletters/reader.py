"""Reading dead letters and the actions on them from Kafka (blocking: run in a thread).

The list shows the newest records of each partition only: the topic keeps 30 days and may
hold far more than a page can show (docs/operators.md, "Dead letters on the operations
page")."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import orjson
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from afterglow.config import Settings
from afterglow.deadletters.letters import Action, DeadLetter, LetterId, latest_actions
from afterglow.topic_reading import one_shot_consumer, read_to_end
from afterglow.topics import CATALOG, DEADLETTER, DEADLETTER_ACTIONS


def recent_letters(
    settings: Settings, per_partition: int, timeout_s: float = 5.0
) -> tuple[list[DeadLetter], dict[LetterId, Action]]:
    """The newest `per_partition` dead letters of each partition, newest first, and the
    last republish or discard of each dead letter."""
    timeout_ms = int(timeout_s * 1000)
    consumer = one_shot_consumer(settings, "deadletter-browser", timeout_ms)
    try:
        partitions = _partitions(consumer, settings.topic(DEADLETTER))
        letters = []
        if partitions:
            end = consumer.end_offsets(partitions, timeout_ms=timeout_ms)
            start = {tp: max(0, offset - per_partition) for tp, offset in end.items()}
            read = read_to_end(consumer, partitions, timeout_ms, timeout_s, start=start)
            letters = [_letter(settings, record) for record in read]
        actions = _actions(settings, consumer, timeout_ms, timeout_s)
    finally:
        consumer.close()
    return sorted(letters, key=lambda letter: (letter.at, letter.id), reverse=True), actions


def find_letter(settings: Settings, letter: LetterId, timeout_s: float = 5.0) -> DeadLetter | None:
    """The dead letter at that place, or None when the topic has no such record (any more)."""
    timeout_ms = int(timeout_s * 1000)
    consumer = one_shot_consumer(settings, "deadletter-browser", timeout_ms)
    try:
        topic = settings.topic(DEADLETTER)
        tp = TopicPartition(topic, letter.partition)
        if tp not in _partitions(consumer, topic):
            return None
        consumer.assign([tp])
        first = consumer.beginning_offsets([tp], timeout_ms=timeout_ms)[tp]
        end = consumer.end_offsets([tp], timeout_ms=timeout_ms)[tp]
        if not first <= letter.offset < end:
            return None
        consumer.seek(tp, letter.offset)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for record in consumer.poll(timeout_ms=500).get(tp, []):
                if record.offset == letter.offset:
                    return _letter(settings, record)
                if record.offset > letter.offset:  # compacted away (never, with retention)
                    return None
        raise TimeoutError(f"could not read {letter} in {timeout_s:.0f} s")
    finally:
        consumer.close()


def letter_actions(settings: Settings, timeout_s: float = 5.0) -> dict[LetterId, Action]:
    timeout_ms = int(timeout_s * 1000)
    consumer = one_shot_consumer(settings, "deadletter-browser", timeout_ms)
    try:
        return _actions(settings, consumer, timeout_ms, timeout_s)
    finally:
        consumer.close()


def _actions(
    settings: Settings, consumer: KafkaConsumer, timeout_ms: int, timeout_s: float
) -> dict[LetterId, Action]:
    partitions = _partitions(consumer, settings.topic(DEADLETTER_ACTIONS))
    if not partitions:
        return {}
    records = (
        _json(record.value) for record in read_to_end(consumer, partitions, timeout_ms, timeout_s)
    )
    return latest_actions(record for record in records if record is not None)


def _partitions(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    numbers = consumer.partitions_for_topic(topic) or set()
    return [TopicPartition(topic, p) for p in sorted(numbers)]


def _letter(settings: Settings, record: ConsumerRecord) -> DeadLetter:
    value = _json(record.value) or {}
    physical = str(value.get("source_topic", ""))
    names = {settings.topic(spec.name): spec.name for spec in CATALOG}
    return DeadLetter(
        LetterId(record.partition, record.offset),
        datetime.fromtimestamp(record.timestamp / 1000, UTC),
        value,
        names.get(physical, physical),
    )


def _json(value: bytes | None) -> dict[str, Any] | None:
    try:
        parsed = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None
