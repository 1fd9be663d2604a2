"""Reading and writing real Kafka topics from tests with kafka-python."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

T = TypeVar("T")


def produce(bootstrap: str, topic: str, records: list[tuple[str | None, bytes | None]]) -> None:
    """Send (key, value) pairs in order and wait until the broker has them all."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for key, value in records:
            producer.send(topic, key=None if key is None else key.encode(), value=value)
        producer.flush(timeout=30)
    finally:
        producer.close()


def as_json(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()


def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    """Every record currently in `topic` (all partitions, each in offset order)."""
    return [(key, value) for _, key, value in read_partitions(bootstrap, topic)]


def read_partitions(bootstrap: str, topic: str) -> list[tuple[int, bytes | None, bytes | None]]:
    """Every record currently in `topic` as (partition, key, value), each partition in
    offset order."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=1000
    )
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not assigned:
            return []
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        end = consumer.end_offsets(assigned)
        records: list[tuple[int, bytes | None, bytes | None]] = []
        deadline = time.monotonic() + 30
        while any(consumer.position(tp) < end[tp] for tp in assigned):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end")
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend((record.partition, record.key, record.value) for record in batch)
        return records
    finally:
        consumer.close()


def table_state(bootstrap: str, changelog_topic: str) -> dict[str, Any]:
    """The latest value per key of a Faust table, as its changelog holds it."""
    state: dict[str, Any] = {}
    for key, value in read_topic(bootstrap, changelog_topic):
        name = (key or b"").decode()
        if value is None:
            state.pop(name, None)
        else:
            state[name] = json.loads(value)
    return state


def wait_for(check: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll `check` until it returns something truthy; fail with `what` otherwise."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last: {last!r}")


def wait_while_progressing(
    count: Callable[[], int], target: int, stall: float, what: str, limit: float = 1200
) -> None:
    """Poll until `count()` reaches `target`; fail when it has not grown for `stall` seconds
    (or after `limit`). A slow machine is then not mistaken for a lost record."""
    start = last_change = time.monotonic()
    best = -1
    while True:
        now = time.monotonic()
        found = count()
        if found >= target:
            return
        if found > best:
            best, last_change = found, now
        if now - last_change > stall or now - start > limit:
            raise AssertionError(
                f"waiting for {what}: {found} of {target} after {now - start:.0f} s, "
                f"no progress for {now - last_change:.0f} s"
            )
        time.sleep(0.5)


def committed_to_end(bootstrap: str, group: str, topic: str) -> bool:
    """Whether consumer `group` has committed every partition of `topic` to its end: all
    that was in the topic has been handled (and everything it produced flushed first)."""
    offsets = committed_and_end(bootstrap, group, topic)
    return bool(offsets) and all(
        committed is not None and committed >= end for committed, end in offsets.values()
    )


def committed_and_end(bootstrap: str, group: str, topic: str) -> dict[int, tuple[int | None, int]]:
    """Per partition of `topic`: consumer `group`'s committed offset (None: nothing
    committed) and the end offset."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="afterglow-tests")
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        try:
            committed = admin.list_group_offsets({group: partitions}).get(group, {})
        except KafkaError:  # the group has not committed anything yet
            committed = {}
        ends = consumer.end_offsets(partitions)
        return {
            tp.partition: (committed[tp].offset if tp in committed else None, ends[tp])
            for tp in partitions
        }
    finally:
        consumer.close()
        admin.close()
