"""Reading one patient's records from Kafka for ``afterglow audit``.

Every timeline topic is keyed by patient_id, so a patient's records are all in the one
partition the key hashes to. That partition is read from its beginning to the end offset
snapshotted at the start (so the command ends even while producers keep writing), without a
consumer group (nothing is committed, no other consumer is disturbed), and only records
whose key is the patient's id are kept.

The partition is the one every producer of this project picks: Faust (aiokafka's
``DefaultPartitioner``) and kafka-python's ``DefaultPartitioner`` both implement the Java
client's default, ``toPositive(murmur2(key)) % partitions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import TopicPartition
from kafka.errors import KafkaError
from kafka.partitioner.default import murmur2

from afterglow.audit.timeline import TIMELINE_TOPICS, SourceRecord, decode_record
from afterglow.config import Settings
from afterglow.topic_reading import KafkaUnreachable, ReadTimeout, one_shot_consumer, read_to_end

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 120.0


class AuditReadError(RuntimeError):
    """The broker could not be reached, or the topics could not be read to their end."""


@dataclass
class ReadResult:
    records: list[SourceRecord] = field(default_factory=list)  # read order: topic, offset
    missing_topics: list[str] = field(default_factory=list)  # contract names


def partition_for(key: bytes, partitions: int) -> int:
    """The partition the Java-compatible default partitioner sends ``key`` to."""
    return (int(murmur2(key)) & 0x7FFFFFFF) % partitions


def read_patient_records(
    settings: Settings,
    patient_id: str,
    topics: Sequence[str] = TIMELINE_TOPICS,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
    read_timeout_s: float = READ_TIMEOUT_S,
) -> ReadResult:
    """Every record keyed by ``patient_id`` in ``topics`` (contract names), as of now."""
    timeout_ms = int(connect_timeout_s * 1000)
    try:
        consumer = one_shot_consumer(settings, "audit", timeout_ms)
    except KafkaUnreachable as exc:
        raise AuditReadError(str(exc)) from exc
    try:
        return _read(consumer, settings, patient_id, topics, timeout_ms, read_timeout_s)
    except KafkaError as exc:
        raise AuditReadError(
            f"could not read the topics from {settings.kafka_bootstrap_servers} "
            f"({type(exc).__name__})"
        ) from exc
    finally:
        consumer.close()


def _read(
    consumer: Any,
    settings: Settings,
    patient_id: str,
    topics: Sequence[str],
    timeout_ms: int,
    read_timeout_s: float,
) -> ReadResult:
    result = ReadResult()
    key = patient_id.encode()
    # The full topic list: asking about a missing topic by name could auto-create it.
    existing = consumer.topics()
    names: dict[TopicPartition, str] = {}
    for name in topics:
        physical = settings.topic(name)
        partitions = sorted(consumer.partitions_for_topic(physical)) if physical in existing else []
        if not partitions:
            result.missing_topics.append(name)
            continue
        names[TopicPartition(physical, partitions[partition_for(key, len(partitions))])] = name
    if not names:
        return result
    assigned = list(names)
    collected: dict[TopicPartition, list[SourceRecord]] = {tp: [] for tp in assigned}
    try:
        for record in read_to_end(consumer, assigned, timeout_ms, read_timeout_s):
            if record.key != key:
                continue
            tp = TopicPartition(record.topic, record.partition)
            decoded = decode_record(names[tp], record.value, record.timestamp)
            if _belongs_to(decoded, patient_id):
                collected[tp].append(decoded)
    except ReadTimeout as exc:
        raise AuditReadError(str(exc)) from exc
    for tp in assigned:
        result.records.extend(collected[tp])
    return result


def _belongs_to(record: SourceRecord, patient_id: str) -> bool:
    """A record keyed by the patient but about someone else (a producer bug) is left out."""
    if record.value is None:
        return True
    other = record.value.get("patient_id")
    return other is None or other == patient_id
