"""Reading the dead-letter topic to its end (without a consumer group) for the counts;
with a tally kept from an earlier call, only what was written since."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime

import orjson
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError

from afterglow.config import Settings
from afterglow.operations.deadletter_counts import DeadLetter, DeadLetterTally
from afterglow.operations.facts import DeadLetterFacts
from afterglow.topic_reading import ReadTimeout, partitions_of, read_to_end
from afterglow.topics import DEADLETTER


def read_deadletters(
    settings: Settings,
    consumer: KafkaConsumer,
    now: datetime,
    tally: DeadLetterTally | None = None,
    timeout_s: float = 10.0,
    read_timeout_s: float = 60.0,
    known_topics: Mapping[str, Collection[int]] | None = None,
) -> DeadLetterFacts:
    """`tally`: the counts so far, brought up to date here (a new one when None);
    `known_topics`: as `topic_reading.partitions_of`."""
    tally = tally if tally is not None else DeadLetterTally(settings.topic_prefix)
    timeout_ms = int(timeout_s * 1000)
    topic = settings.topic(DEADLETTER)
    try:
        partitions = partitions_of(consumer, topic, known_topics)
        if partitions is None:
            return DeadLetterFacts((), error=f"no topic {topic}: run `afterglow topics`")
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
