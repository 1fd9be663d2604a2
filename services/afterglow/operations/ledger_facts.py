"""The send-ledger entries marked `unknown` (maybe sent: a person must check before anything
is resent, sms/ledger.py), read from the worker's table changelog: the read model does not
have them. The changelog holds an entry per text ever sent; a `LedgerTally` kept by a
long-lived caller makes each later read start where the last one ended."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from afterglow.config import Settings
from afterglow.sms.ledger import LedgerStatus
from afterglow.topic_reading import ReadTimeout, partitions_of, read_to_end

LEDGER_TABLE = "sms-ledger"  # worker/sms_sender.py


class LedgerUnread(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class UnknownSend:
    send_key: str
    claimed_at: datetime


@dataclass
class LedgerTally:
    # Next offset to read per partition of the changelog.
    positions: dict[int, int] = field(default_factory=dict)
    # The entries whose latest record says unknown, by key.
    unknown: dict[bytes, UnknownSend] = field(default_factory=dict)

    def add(self, key: bytes, value: bytes | None) -> None:
        send = _unknown(value)
        if send is None:
            self.unknown.pop(key, None)  # resolved (sent, failed) or removed
        else:
            self.unknown[key] = send


def changelog_topic(settings: Settings) -> str:
    # Faust names a table's changelog after the app and the table.
    return f"{settings.app_id}-{LEDGER_TABLE}-changelog"


def read_unknown_sends(
    settings: Settings,
    consumer: KafkaConsumer,
    tally: LedgerTally | None = None,
    timeout_s: float = 10.0,
    read_timeout_s: float = 60.0,
    known_topics: Mapping[str, Collection[int]] | None = None,
) -> list[UnknownSend]:
    """`tally`: what earlier reads found, brought up to date here (a new one when None);
    `known_topics`: as `topic_reading.partitions_of`."""
    tally = tally if tally is not None else LedgerTally()
    timeout_ms = int(timeout_s * 1000)
    topic = changelog_topic(settings)
    try:
        partitions = partitions_of(consumer, topic, known_topics)
        if partitions is None:
            return []  # no text was ever sent by this app
        start = {TopicPartition(topic, p): o for p, o in tally.positions.items()}
        for record in read_to_end(consumer, partitions, timeout_ms, read_timeout_s, start=start):
            tally.add(record.key, record.value)
            tally.positions[record.partition] = record.offset + 1
    except (ReadTimeout, KafkaError) as exc:
        raise LedgerUnread(f"could not read {topic} ({type(exc).__name__})") from exc
    return sorted(tally.unknown.values(), key=lambda send: send.send_key)


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
