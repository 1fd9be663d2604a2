"""The projector: Kafka records into the read model, each batch's rows and the offsets after
it in one database transaction (docs/developers.md, "Read model").

The database, not Kafka, says where to go on: when partitions are assigned, the consumer
seeks to the offsets stored in ``projector_offsets`` (the beginning when there are none),
so a crash between the database commit and anything else neither loses nor repeats a row.
The offsets are committed to Kafka afterwards only so that consumer-group lag shows how far
behind the read model is. A record that cannot be decoded or projected goes to the
dead-letter topic with the reason (``worker/deadletter.py``) and the projector goes on.

``rebuild`` empties the database and reads every projected topic from its beginning to the
end offsets seen at the start, with the same code.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError

from afterglow.config import Settings
from afterglow.readmodel import database
from afterglow.readmodel.projection import (
    PROJECTED_TOPICS,
    Position,
    ProjectionError,
    decode,
    project,
)
from afterglow.readmodel.projector_metrics import ProjectorMetrics, serve
from afterglow.readmodel.upserts import Upsert, apply
from afterglow.topics import DEADLETTER
from afterglow.validation import InvalidEvent, SchemaCatalog, default_catalog
from afterglow.worker.deadletter import deadletter_record, encode

log = logging.getLogger("afterglow.projector")

_POLL_MS = 500
_MAX_POLL_RECORDS = 2000
_REPORT_EVERY_S = 30.0
_REFRESH_EVERY_S = 60.0
_CONNECT_TIMEOUT_MS = 10_000
_LAG_EVERY_S = 5.0
_WORKER_LAG_EVERY_S = 15.0
_REBUILD_READ_TIMEOUT_S = 600.0


def group_id(settings: Settings) -> str:
    return f"{settings.app_id}-projector"


@dataclass
class Counts:
    records: int = 0
    rows: int = 0
    deadletters: int = 0
    started: float = field(default_factory=time.monotonic)

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.records / elapsed if elapsed > 0 else 0.0


DeadLetterSink = Callable[[Sequence[dict[str, Any]]], None]


class KafkaDeadLetters:
    """Writes dead letters to the catalog's dead-letter topic and waits until Kafka has
    them (before the batch's database commit: a crash then repeats a dead letter at worst,
    it never loses one)."""

    def __init__(self, settings: Settings) -> None:
        self.topic = settings.topic(DEADLETTER)
        self.producer = KafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"{settings.app_id}-projector-deadletters",
            acks="all",
        )

    def __call__(self, records: Sequence[dict[str, Any]]) -> None:
        futures = [self.producer.send(self.topic, value=encode(record)) for record in records]
        self.producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)  # raises if Kafka refused it: the batch is not committed

    def close(self) -> None:
        self.producer.close(timeout=5)


class Projector:
    """Turns polled batches into database transactions."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        deadletters: DeadLetterSink | None,
        catalog: SchemaCatalog | None = None,
    ) -> None:
        self.engine = engine
        self.deadletters = deadletters
        self.catalog = catalog or default_catalog()
        self.names = {settings.topic(name): name for name in PROJECTED_TOPICS}
        self.counts = Counts()

    @property
    def topics(self) -> list[str]:
        """The physical names of the projected topics."""
        return list(self.names)

    def handle(self, batch: Mapping[TopicPartition, Sequence[Any]]) -> dict[TopicPartition, int]:
        """Project a polled batch and commit its rows with its offsets; returns the next
        offset of every partition in it."""
        projected: list[tuple[TopicPartition, Any, list[Upsert]]] = []
        dead: list[dict[str, Any]] = []
        offsets: dict[TopicPartition, int] = {}
        for tp, records in batch.items():
            for record in records:
                upserts, failure = self._project(tp, record)
                if failure is None:
                    projected.append((tp, record, upserts))
                else:
                    dead.append(self._dead_letter(tp, record, failure))
                offsets[tp] = record.offset + 1
            self.counts.records += len(records)
        stored = database.offset_upserts(
            {(tp.topic, tp.partition): offset for tp, offset in offsets.items()}
        )
        try:
            with self.engine.begin() as connection:
                rows = apply(connection, (u for _, _, upserts in projected for u in upserts))
                self._send(dead)
                apply(connection, stored)
        except (DataError, IntegrityError):
            # A value the database refuses (PostgreSQL takes no NUL character in text) must
            # not stop the projector on the same batch forever: record by record instead.
            rows = self._one_by_one(projected, dead, stored)
        self.counts.rows += rows
        return offsets

    def _one_by_one(
        self,
        projected: Sequence[tuple[TopicPartition, Any, list[Upsert]]],
        dead: list[dict[str, Any]],
        stored: Sequence[Upsert],
    ) -> int:
        rows = 0
        with self.engine.begin() as connection:
            for tp, record, upserts in projected:
                try:
                    with connection.begin_nested():
                        rows += apply(connection, upserts)
                except (DataError, IntegrityError) as error:
                    reason = f"database refused it: {type(error.orig).__name__}"
                    dead.append(self._dead_letter(tp, record, reason))
            self._send(dead)
            apply(connection, stored)
        return rows

    def _send(self, dead: Sequence[dict[str, Any]]) -> None:
        """Dead letters go out before the batch's transaction commits: a crash in between
        sends one again at worst, it never loses one."""
        if not dead:
            return
        log.warning("%d record(s) could not be projected; sent to deadletter", len(dead))
        if self.deadletters is not None:
            self.deadletters(dead)
        self.counts.deadletters += len(dead)

    def _dead_letter(self, tp: TopicPartition, record: Any, reason: str) -> dict[str, Any]:
        return deadletter_record(
            tp.topic,
            f"read model: {reason}",
            record.key,
            record.value,
            tp.partition,
            record.offset,
            datetime.now(UTC),
        )

    def _project(self, tp: TopicPartition, record: Any) -> tuple[list[Upsert], str | None]:
        """The record's upserts, or why it cannot be projected."""
        name = self.names[tp.topic]
        try:
            value = decode(self.catalog, name, record.key, record.value)
            position = Position(tp.topic, tp.partition, record.offset)
            return project(name, record.key, value, position), None
        except (InvalidEvent, ProjectionError) as error:
            return [], str(error)
        except Exception as error:  # noqa: BLE001 - a record must never stop the projector
            # The exception's text may quote the payload: only its type is kept.
            return [], f"internal error: {type(error).__name__}"

    def stored_positions(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        wanted = list(partitions)
        with self.engine.connect() as connection:
            stored = database.stored_offsets(connection, {tp.topic for tp in wanted})
        return {
            tp: stored[(tp.topic, tp.partition)]
            for tp in wanted
            if (tp.topic, tp.partition) in stored
        }


class _Assignment:
    """Every partition of the projected topics, each read from the offset stored in the
    database (its beginning when there is none). Partitions are assigned, not balanced by
    the group: a projector started again after a crash goes on at once instead of waiting
    for the dead member's session to expire; the group only receives the commits."""

    def __init__(self, consumer: KafkaConsumer, projector: Projector) -> None:
        self.consumer = consumer
        self.projector = projector
        self.partitions: set[TopicPartition] = set()
        self.checked = 0.0

    def refresh(self) -> None:
        """Assign what exists now (topics created after the start are picked up here)."""
        self.checked = time.monotonic()
        existing = self.consumer.topics()
        found = {
            TopicPartition(topic, partition)
            for topic in self.projector.topics
            if topic in existing
            for partition in self.consumer.partitions_for_topic(topic) or ()
        }
        new = found - self.partitions
        if not new:
            return
        self.partitions |= new
        self.consumer.assign(sorted(self.partitions))
        stored = self.projector.stored_positions(new)
        for tp in new:
            if tp in stored:
                self.consumer.seek(tp, stored[tp])
            else:
                self.consumer.seek_to_beginning(tp)
        missing = [topic for topic in self.projector.topics if topic not in existing]
        log.info(
            "reading %d partition(s), %d from offsets stored in the database; topics missing: %s",
            len(self.partitions),
            len(stored),
            ", ".join(missing) or "none",
        )


def run(settings: Settings, stop: threading.Event) -> Counts:
    """The projector's loop, until ``stop`` is set."""
    engine = database.create_readmodel_engine(settings.database_url)
    database.upgrade(engine)
    deadletters = KafkaDeadLetters(settings)
    projector = Projector(settings, engine, deadletters)
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.app_id}-projector",
        group_id=group_id(settings),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=_MAX_POLL_RECORDS,
        allow_auto_create_topics=False,
    )
    assignment = _Assignment(consumer, projector)
    assignment.refresh()
    log.info("projecting %d topics into %s", len(projector.topics), _safe_url(engine))
    metrics = ProjectorMetrics()
    server = serve(metrics, settings.worker_web_host, settings.projector_metrics_port)
    admin = _admin(settings) if server is not None else None
    reported = observed = time.monotonic()
    worker_observed = 0.0
    try:
        while not stop.is_set():
            if not assignment.partitions:
                stop.wait(_POLL_MS / 1000)
            else:
                batch = consumer.poll(timeout_ms=_POLL_MS)
                if batch:
                    dead_before = projector.counts.deadletters
                    offsets = projector.handle(batch)
                    _commit_to_kafka(consumer, offsets)
                    read = sum(len(records) for records in batch.values())
                    metrics.batch(read, projector.counts.deadletters - dead_before)
            now = time.monotonic()
            if now - observed >= _LAG_EVERY_S:
                observed = now
                metrics.observe_lag(consumer, assignment.partitions, settings.topic_prefix)
            if admin is not None and now - worker_observed >= _WORKER_LAG_EVERY_S:
                worker_observed = now
                metrics.observe_worker_lag(admin, settings.app_id, settings.topic_prefix)
            if now - assignment.checked >= _REFRESH_EVERY_S:
                assignment.refresh()
            if now - reported >= _REPORT_EVERY_S:
                reported = now
                _report(projector.counts)
    finally:
        if server is not None:
            server[0].shutdown()
            server[0].server_close()
        if admin is not None:
            admin.close()
        _report(projector.counts)
        consumer.close(autocommit=False)
        deadletters.close()
        engine.dispose()
    return projector.counts


def _admin(settings: Settings) -> KafkaAdminClient | None:
    """For the worker's lag metric only: without it the projector still projects."""
    try:
        return KafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"{settings.app_id}-projector-metrics",
        )
    except KafkaError as error:
        log.warning("no worker lag metric: %s", type(error).__name__)
        return None


def _commit_to_kafka(consumer: KafkaConsumer, offsets: Mapping[TopicPartition, int]) -> None:
    """For lag monitoring only: the database has the offsets that count."""
    try:
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in offsets.items()})
    except KafkaError as error:
        log.warning("could not commit offsets to Kafka (%s); the database has them", error)


def _report(counts: Counts) -> None:
    log.info(
        "%d records projected (%.0f/s), %d rows written, %d dead-lettered",
        counts.records,
        counts.rate(),
        counts.rows,
        counts.deadletters,
    )


def _safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@dataclass(frozen=True)
class RebuildResult:
    counts: Counts
    seconds: float
    missing_topics: list[str]


def rebuild(settings: Settings, read_timeout_s: float = _REBUILD_READ_TIMEOUT_S) -> RebuildResult:
    """Empty the read model, then project every projected topic from its beginning to the
    end offsets seen at the start. Records that cannot be projected are counted, not
    dead-lettered again (the live projector sent them when it met them)."""
    started = time.monotonic()
    engine = database.create_readmodel_engine(settings.database_url)
    try:
        database.reset(engine)
        projector = Projector(settings, engine, deadletters=None)
        consumer = KafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"{settings.app_id}-projector-rebuild",
            group_id=None,
            enable_auto_commit=False,
            max_poll_records=_MAX_POLL_RECORDS,
            allow_auto_create_topics=False,
            request_timeout_ms=_CONNECT_TIMEOUT_MS,
        )
        try:
            missing = _replay(consumer, projector, read_timeout_s)
        finally:
            consumer.close()
        _commit_rebuilt_offsets(settings, projector)
        return RebuildResult(projector.counts, time.monotonic() - started, missing)
    finally:
        engine.dispose()


def _replay(consumer: KafkaConsumer, projector: Projector, read_timeout_s: float) -> list[str]:
    existing = consumer.topics()
    missing = [topic for topic in projector.topics if topic not in existing]
    assigned = [
        TopicPartition(topic, partition)
        for topic in projector.topics
        if topic in existing
        for partition in sorted(consumer.partitions_for_topic(topic) or ())
    ]
    if not assigned:
        return missing
    consumer.assign(assigned)
    consumer.seek_to_beginning(*assigned)
    end = consumer.end_offsets(assigned)
    pending = {tp for tp in assigned if end[tp] > 0}
    deadline = time.monotonic() + read_timeout_s
    while pending:
        if time.monotonic() > deadline:
            unread = ", ".join(sorted(f"{tp.topic}[{tp.partition}]" for tp in pending))
            raise TimeoutError(f"could not read {unread} to its end in {read_timeout_s:.0f} s")
        batch = {
            tp: [record for record in records if record.offset < end[tp]]
            for tp, records in consumer.poll(timeout_ms=_POLL_MS).items()
        }
        batch = {tp: records for tp, records in batch.items() if records}
        if batch:
            projector.handle(batch)
        for tp in list(pending):
            if consumer.position(tp) >= end[tp]:
                pending.discard(tp)
                consumer.pause(tp)
    return missing


def _commit_rebuilt_offsets(settings: Settings, projector: Projector) -> None:
    """Tell the group where the rebuilt database stands (lag monitoring); refused while a
    projector is running, which then commits its own."""
    with projector.engine.connect() as connection:
        stored = database.stored_offsets(connection, projector.topics)
    if not stored:
        return
    try:
        consumer = KafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=group_id(settings),
            enable_auto_commit=False,
        )
    except KafkaError:
        return
    try:
        consumer.commit(
            {
                TopicPartition(topic, partition): OffsetAndMetadata(offset, "", -1)
                for (topic, partition), offset in stored.items()
            }
        )
    except KafkaError as error:
        log.info("offsets not committed to Kafka (%s); the projector commits its own", error)
    finally:
        consumer.close(autocommit=False)
