"""Reading the current operator warnings from their compacted topic, and an operator's
dismissal of one, for `afterglow warnings`.

Every partition is read from its beginning to the end offsets taken at the start (the
command ends even while the worker keeps writing), without a consumer group. The latest
record of a key is the warning; a tombstone (or nothing) means none.
"""

from __future__ import annotations

import json
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from afterglow.config import Settings
from afterglow.topic_reading import (
    KafkaUnreachable,
    ReadTimeout,
    one_shot_consumer,
    partitions_of,
    read_to_end,
)
from afterglow.topics import OPERATOR_WARNINGS

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 120.0


class WarningsReadError(RuntimeError):
    """The broker could not be reached, the topic not read to its end, or a dismissal not
    written."""


def read_warnings(
    settings: Settings,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
    read_timeout_s: float = READ_TIMEOUT_S,
) -> list[dict[str, Any]] | None:
    """The current warnings, sorted by clinic, kind and subject; None: no such topic."""
    timeout_ms = int(connect_timeout_s * 1000)
    try:
        consumer = one_shot_consumer(settings, "warnings", timeout_ms)
    except KafkaUnreachable as exc:
        raise WarningsReadError(str(exc)) from exc
    try:
        latest = _read(consumer, settings.topic(OPERATOR_WARNINGS), timeout_ms, read_timeout_s)
    except KafkaError as exc:
        raise WarningsReadError(
            f"could not read the warnings from {settings.kafka_bootstrap_servers} "
            f"({type(exc).__name__})"
        ) from exc
    finally:
        consumer.close()
    if latest is None:
        return None
    current = [warning for warning in latest.values() if warning is not None]
    return sorted(current, key=lambda w: (w["clinic_id"], w["kind"], w["subject"]))


def clear_warning(settings: Settings, key: str) -> None:
    """Publish the tombstone of one warning (an operator's dismissal)."""
    try:
        producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
        try:
            producer.send(settings.topic(OPERATOR_WARNINGS), key=key.encode(), value=None)
            producer.flush(timeout=30)
        finally:
            producer.close()
    except KafkaError as exc:
        raise WarningsReadError(
            f"could not clear the warning at {settings.kafka_bootstrap_servers} "
            f"({type(exc).__name__})"
        ) from exc


def _read(
    consumer: Any, topic: str, timeout_ms: int, read_timeout_s: float
) -> dict[bytes, dict[str, Any] | None] | None:
    assigned = partitions_of(consumer, topic)
    if assigned is None:
        return None
    latest: dict[bytes, dict[str, Any] | None] = {}
    try:
        for record in read_to_end(consumer, assigned, timeout_ms, read_timeout_s):
            if record.key is not None:
                latest[record.key] = _decoded(record.value)
    except ReadTimeout as exc:
        raise WarningsReadError(str(exc)) from exc
    return latest


def _decoded(value: bytes | None) -> dict[str, Any] | None:
    """A warning, or None for a tombstone or a record that is not one (never written by
    Afterglow; left out rather than stopping the listing)."""
    if value is None:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    fields = ("kind", "clinic_id", "subject", "message", "at")
    if not isinstance(data, dict) or not all(isinstance(data.get(f), str) for f in fields):
        return None
    return data
