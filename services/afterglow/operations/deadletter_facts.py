"""Reading the dead-letter topic to its end (without a consumer group) for the counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError

from afterglow.config import Settings
from afterglow.operations.deadletter_counts import DeadLetter, count_deadletters
from afterglow.operations.facts import DeadLetterFacts
from afterglow.topic_reading import KafkaUnreachable, ReadTimeout, one_shot_consumer, read_to_end
from afterglow.topics import DEADLETTER


def read_deadletters(
    settings: Settings, now: datetime, timeout_s: float = 10.0, read_timeout_s: float = 60.0
) -> DeadLetterFacts:
    timeout_ms = int(timeout_s * 1000)
    topic = settings.topic(DEADLETTER)
    try:
        consumer = one_shot_consumer(settings, "status-deadletters", timeout_ms)
    except KafkaUnreachable:
        return DeadLetterFacts((), error="Kafka does not answer")
    try:
        if topic not in consumer.topics():
            return DeadLetterFacts((), error=f"no topic {topic}: run `afterglow topics`")
        numbers = sorted(consumer.partitions_for_topic(topic))
        partitions = [TopicPartition(topic, p) for p in numbers]
        letters = list(_letters(read_to_end(consumer, partitions, timeout_ms, read_timeout_s)))
    except ReadTimeout as exc:
        return DeadLetterFacts((), error=str(exc))
    except KafkaError as exc:
        return DeadLetterFacts((), error=f"could not read {topic} ({type(exc).__name__})")
    finally:
        consumer.close()
    return count_deadletters(letters, settings.topic_prefix, now)


def _letters(records: Iterator[ConsumerRecord]) -> Iterator[DeadLetter]:
    for record in records:
        at = datetime.fromtimestamp(record.timestamp / 1000, UTC)
        try:
            value = orjson.loads(record.value)
            source, error = str(value["source_topic"]), str(value["error"])
        except (orjson.JSONDecodeError, TypeError, KeyError):
            source, error = "?", "not a dead-letter record"
        yield DeadLetter(source, error, at)
