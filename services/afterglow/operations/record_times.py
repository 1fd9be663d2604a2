"""The timestamp of the first record at or after an offset, per partition, with one
consumer outside any group (the lag in seconds and the last tick handled)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime

from kafka import KafkaConsumer, TopicPartition


def record_times(
    consumer: KafkaConsumer,
    offsets: Mapping[TopicPartition, int],
    read_timeout_s: float,
    poll_ms: int = 200,
) -> dict[TopicPartition, datetime]:
    """Partitions whose record was not read in time are left out (the caller then knows the
    lag in records but not its age)."""
    if not offsets:
        return {}
    consumer.assign(list(offsets))
    consumer.resume(*offsets)  # the consumer may have paused some in an earlier call
    for tp, offset in offsets.items():
        consumer.seek(tp, offset)
    found: dict[TopicPartition, datetime] = {}
    deadline = time.monotonic() + read_timeout_s
    while len(found) < len(offsets) and time.monotonic() < deadline:
        for tp, batch in consumer.poll(timeout_ms=poll_ms, max_records=500).items():
            if tp in found:
                continue
            first = next((r for r in batch if r.offset >= offsets[tp]), None)
            if first is not None:
                found[tp] = datetime.fromtimestamp(first.timestamp / 1000, UTC)
                consumer.pause(tp)
    return found
