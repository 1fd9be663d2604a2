"""A consumer for the commands that read topics once and exit (`afterglow audit`,
`afterglow warnings`): no consumer group, from the beginning, never creating a topic."""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator, Mapping

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError

from afterglow.config import Settings


class KafkaUnreachable(RuntimeError):
    """No broker answered; the message says where it looked and what to do."""


def one_shot_consumer(
    settings: Settings,
    purpose: str,
    timeout_ms: int,
    check_crcs: bool = True,
    max_partition_fetch_bytes: int = 1024 * 1024,
) -> KafkaConsumer:
    """`check_crcs=False` for reads that only count: kafka-python checks CRC32C in pure
    Python without the `crc32c` package, two thirds of the time of reading a large topic.
    A small `max_partition_fetch_bytes` for reads that want one record per partition
    (the broker still sends at least one whole batch)."""
    try:
        return KafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"{settings.app_id}-{purpose}",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            allow_auto_create_topics=False,
            bootstrap_timeout_ms=timeout_ms,
            request_timeout_ms=timeout_ms,
            check_crcs=check_crcs,
            max_partition_fetch_bytes=max_partition_fetch_bytes,
            # These readers stop at the end offsets. At the end the broker holds a fetch
            # open until this wait passes, and every later request on the connection (the
            # next call's offsets, on a kept consumer) queues behind it: 500 ms by default.
            fetch_max_wait_ms=50,
        )
    except KafkaError as exc:
        raise KafkaUnreachable(
            f"cannot reach Kafka at {settings.kafka_bootstrap_servers} ({type(exc).__name__}): "
            "start the local one with `afterglow broker start` or set KAFKA_BOOTSTRAP_SERVERS"
        ) from exc


def partitions_of(
    consumer: KafkaConsumer, topic: str, known: Mapping[str, Collection[int]] | None = None
) -> list[TopicPartition] | None:
    """The partitions of `topic`, None when it does not exist. `known` (topic -> partition
    numbers, as an admin client just described them) saves the consumer a metadata
    request for every topic in the cluster, about 100 ms each."""
    if known is None:
        # The full topic list: asking about a missing topic by name could auto-create it.
        if topic not in consumer.topics():
            return None
        numbers: Collection[int] = consumer.partitions_for_topic(topic) or ()
    elif topic in known:
        numbers = known[topic]
    else:
        return None
    return [TopicPartition(topic, p) for p in sorted(numbers)]


class ReadTimeout(RuntimeError):
    """Some partitions were not read to their end in time; the message names them."""


def read_to_end(
    consumer: KafkaConsumer,
    partitions: list[TopicPartition],
    timeout_ms: int,
    read_timeout_s: float,
    poll_ms: int = 500,
    start: Mapping[TopicPartition, int] | None = None,
) -> Iterator[ConsumerRecord]:
    """Every record of `partitions`, from the beginning (or from `start`, when it is still
    in the log) to their end offsets as of now, in offset order per partition."""
    consumer.assign(partitions)
    consumer.resume(*partitions)  # a kept consumer may have paused them in an earlier read
    end = consumer.end_offsets(partitions, timeout_ms=timeout_ms)
    consumer.seek_to_beginning(*partitions)
    if start:
        first = consumer.beginning_offsets(partitions, timeout_ms=timeout_ms)
        for tp in partitions:
            if tp in start:
                consumer.seek(tp, min(max(start[tp], first[tp]), end[tp]))
    pending = set(partitions)
    deadline = time.monotonic() + read_timeout_s
    while True:
        for tp in list(pending):
            position = consumer.position(tp, timeout_ms=timeout_ms)
            if position is not None and position >= end[tp]:
                pending.discard(tp)
                consumer.pause(tp)
        if not pending:
            return
        if time.monotonic() > deadline:
            unread = ", ".join(sorted(f"{tp.topic}[{tp.partition}]" for tp in pending))
            raise ReadTimeout(f"could not read {unread} to its end in {read_timeout_s:.0f} s")
        for tp, batch in consumer.poll(timeout_ms=poll_ms).items():
            yield from (record for record in batch if record.offset < end[tp])
