"""Reading the dead-letter topic to its end (without a consumer group) for the counts;
with a tally kept from an earlier call, only what was written since."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError

from afterglow.config import Settings
from afterglow.operations.deadletter_counts import DeadLetter, DeadLetterTally
from afterglow.operations.facts import DeadLetterFacts
from afterglow.topic_reading import ReadTimeout, read_to_end
from afterglow.topics import DEADLETTER


def read_deadletters(
    settings: Settings,
    consumer: KafkaConsumer,
    now: datetime,
    tally: DeadLetterTally | None = None,
    timeout_s: float = 10.0,
    read_timeout_s: float = 60.0,
) -> DeadLetterFacts:
    """`tally`: the counts so far, brought up to date here (a new one when None)."""
    tally = tally if tally is not None else DeadLetterTally(settings.topic_prefix)
    timeout_ms = int(timeout_s * 1000)
    topic = settings.topic(DEADLETTER)
    try:
        if topic not in consumer.topics():
            return DeadLetterFacts((), error=f"no topic {topic}: run `afterglow topics`")
        numbers = sorted(consumer.partitions_for_topic(topic))
        partitions = [TopicPartition(topic, p) for p in numbers]
        start = {TopicPartition(topic, p): o for p, o in tally.positions.items()}
        for record in read_to_end(consumer, partitions, timeout_ms, read_timeout_s, start=start):
            tally.add(_letter(record))
            tally.positions[record.partition] = record.offset + 1
    except ReadTimeout as exc:
        return DeadLetterFacts((), error=str(exc))
    except KafkaError as exc:
        return DeadLetterFacts((), error=f"could not read {topic} ({type(exc).__name__})")
    return tally.facts(now)


def _letter(record: ConsumerRecord) -> DeadLetter:
    at = datetime.fromtimestamp(record.timestamp / 1000, UTC)
    try:
        value = orjson.loads(record.value)
        return DeadLetter(str(value["source_topic"]), str(value["error"]), at)
    except (orjson.JSONDecodeError, TypeError, KeyError):
        return DeadLetter("?", "not a dead-letter record", at)
