"""The send-ledger entries marked `unknown` (maybe sent: a person must check before anything
is resent, sms/ledger.py), read from the worker's table changelog: the read model does not
have them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from kafka import TopicPartition
from kafka.errors import KafkaError

from afterglow.config import Settings
from afterglow.sms.ledger import LedgerStatus
from afterglow.topic_reading import KafkaUnreachable, ReadTimeout, one_shot_consumer, read_to_end

LEDGER_TABLE = "sms-ledger"  # worker/sms_sender.py


class LedgerUnread(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class UnknownSend:
    send_key: str
    claimed_at: datetime


def changelog_topic(settings: Settings) -> str:
    # Faust names a table's changelog after the app and the table.
    return f"{settings.app_id}-{LEDGER_TABLE}-changelog"


def read_unknown_sends(
    settings: Settings, timeout_s: float = 10.0, read_timeout_s: float = 60.0
) -> list[UnknownSend]:
    timeout_ms = int(timeout_s * 1000)
    topic = changelog_topic(settings)
    try:
        consumer = one_shot_consumer(settings, "status-ledger", timeout_ms)
    except KafkaUnreachable as exc:
        raise LedgerUnread("Kafka does not answer") from exc
    latest: dict[bytes, bytes | None] = {}
    try:
        if topic not in consumer.topics():
            return []  # no text was ever sent by this app
        numbers = sorted(consumer.partitions_for_topic(topic))
        partitions = [TopicPartition(topic, p) for p in numbers]
        for record in read_to_end(consumer, partitions, timeout_ms, read_timeout_s):
            latest[record.key] = record.value
    except (ReadTimeout, KafkaError) as exc:
        raise LedgerUnread(f"could not read {topic} ({type(exc).__name__})") from exc
    finally:
        consumer.close()
    return [send for value in latest.values() if (send := _unknown(value)) is not None]


def _unknown(value: bytes | None) -> UnknownSend | None:
    if value is None:
        return None
    try:
        entry = orjson.loads(value)
        if entry["status"] != LedgerStatus.UNKNOWN.value:
            return None
        return UnknownSend(str(entry["send_key"]), datetime.fromisoformat(entry["claimed_at"]))
    except (orjson.JSONDecodeError, TypeError, KeyError, ValueError):
        return None
