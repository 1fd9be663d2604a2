"""What every component of the worker shares, and the one place where an input record is
handled: decoded, run under its partition's lock inside a unit of work, saved in order, or
sent to the dead-letter topic.

The rule (docs/developers.md, "One writer at a time"): every agent that changes state runs
each record's logic while holding the lock of the record's partition. Inputs are keyed by
patient (or by clinician, for pages), every catalog topic has the same number of
partitions, and a table's changelog partition is the partition of the record being
processed, so the lock of partition p covers every table entry that partition p's records
can touch. An agent can no longer read an entry, await the broker, and save what it read
over another agent's change. The lock is released while the record's outputs travel to
the broker; the partition's journal then saves units in the order they held the lock. The
senders are the exception: they alone write the send ledger, and they must not hold a
partition while the SMS provider answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from afterglow.clock import Clock
from afterglow.config import Settings
from afterglow.intake.records import decode_catalog_record
from afterglow.topics import CLINICAL_EVENTS, DEADLETTER
from afterglow.validation import InvalidEvent, SchemaCatalog
from afterglow.worker.deadletter import deadletter_record, encode
from afterglow.worker.metrics import WorkerMetrics
from afterglow.worker.readiness import TickWatch
from afterglow.worker.runtime import Runtime, Topic
from afterglow.worker.unit_of_work import (
    Journal,
    StateTable,
    StateTooLarge,
    UnitOfWork,
    current_unit,
    running,
)

log = logging.getLogger(__name__)

# The broker refuses records over 1,000,000 bytes by default (message.max.bytes); a record
# that could never be delivered must fail its handler (and go to deadletter), not stall
# its partition's saves forever.
MAX_RECORD_BYTES = 900_000
# A dead letter the broker refuses is tried again after these pauses, then counted as lost.
_DEADLETTER_RETRY_DELAYS_S = (0.5, 2.0, 5.0)


class RecordTooLarge(ValueError):
    """A handler tried to publish a record over MAX_RECORD_BYTES."""


# A handler returns the outcome it counts under (`afterglow_records_total{outcome=...}`).
Handler = Callable[[Any], Awaitable[str]]


@dataclass
class WorkerContext:
    settings: Settings
    catalog: SchemaCatalog
    metrics: WorkerMetrics
    clock: Clock
    runtime: Runtime
    ticks: TickWatch = field(default_factory=lambda: TickWatch(started_at=time.monotonic()))
    _topics: dict[str, Topic] = field(default_factory=dict)
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict)
    _journals: dict[int, Journal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The clinic's registry, read by most components and written by intake only.
        self.clinicians = self.table("clinicians", "clinician_id -> latest valid record")
        self.patients = self.table("patients", "patient_id -> latest valid registration")
        self.infusions = self.table(
            "infusions", "patient_id -> infusion history, ordered, unique by event_id"
        )

    # -- state and topics ------------------------------------------------------------------

    def table(self, name: str, help: str) -> StateTable:
        return self.runtime.table(name, help)

    def topic(self, name: str) -> Topic:
        """A catalog topic by its contract name (the physical name carries the prefix)."""
        topic = self._topics.get(name)
        if topic is None:
            topic = self._topics[name] = self.runtime.topic(self.settings.topic(name))
        return topic

    async def publish(
        self,
        name: str,
        record: Mapping[str, Any] | None,
        key: bytes | None = None,
        partition: int | None = None,
    ) -> None:
        """Send a record (None: a tombstone). Inside a handler, the handler's table writes
        are saved only once the broker has it. Outside one (a timer), it is awaited here."""
        value = None if record is None else orjson.dumps(record)
        if value is not None and len(value) > MAX_RECORD_BYTES:
            raise RecordTooLarge(
                f"a {name} record of {len(value):,} bytes is over the broker's limit"
            )
        topic = self.topic(name)

        async def send() -> Any:
            return await topic.send(key=key, value=value, partition=partition)

        delivery = await send()
        unit = current_unit()
        if unit is None:
            await delivery
        else:
            unit.track(delivery, send)

    async def publish_clinical(self, record: Mapping[str, Any]) -> None:
        """Into the monitor's input, keyed by patient."""
        self.metrics.clinical_events.labels(record["type"]).inc()
        await self.publish(CLINICAL_EVENTS, record, record["patient_id"].encode())

    def decode(self, name: str, event: Any) -> Mapping[str, Any]:
        """A record of topic `name`, validated against its schema, its key checked."""
        return decode_catalog_record(self.catalog, name, event.key, event.value)

    # -- agents ----------------------------------------------------------------------------

    def agent_for(
        self, name: str, agent_name: str, handle: Handler, *, exclusive: bool = True
    ) -> None:
        """An agent that runs `handle` on every record of catalog topic `name`
        (`exclusive=False` only for agents that own all the state they write)."""

        async def process(event: Any) -> None:
            await self.handle_record(event, handle, exclusive=exclusive)

        self.runtime.agent(self.settings.topic(name), agent_name, process)

    async def handle_record(self, event: Any, handle: Handler, *, exclusive: bool = True) -> None:
        """One record: its logic under its partition's lock, inside a unit of work; then its
        writes saved in the partition's order once its records are in Kafka. Any failure of
        the logic goes to deadletter and the stream goes on (an exception escaping a Faust
        agent would ack and skip the record silently)."""
        partition = event.message.partition
        unit = UnitOfWork()
        failure: Exception | None = None
        lock = self._lock(partition) if exclusive else contextlib.nullcontext()
        async with lock:
            try:
                with running(unit):
                    outcome = await handle(event)
            except Exception as error:  # noqa: BLE001 - any failure must reach deadletter
                failure = error
            else:
                unit.expose()
                previous, mine = self._journal(partition).enter() if exclusive else (None, None)
        if failure is not None:
            await self._failed(event, failure)
            return
        try:
            await unit.delivered()
            if previous is not None:
                await previous
            unit.save()
        finally:
            if mine is not None:
                self._journal(partition).leave(mine)
        self.metrics.records.labels(event.message.topic, outcome).inc()

    def _lock(self, partition: int) -> asyncio.Lock:
        return self._locks.setdefault(partition, asyncio.Lock())

    def _journal(self, partition: int) -> Journal:
        return self._journals.setdefault(partition, Journal())

    # -- failures --------------------------------------------------------------------------

    async def _failed(self, event: Any, error: Exception) -> None:
        if isinstance(error, InvalidEvent | StateTooLarge | RecordTooLarge):
            await self.deadletter(event, str(error))
        else:
            await self.internal_error(event, error)

    async def deadletter(self, event: Any, error: str) -> None:
        """Write the record and the reason to deadletter. Never raises: a dead letter the
        broker keeps refusing is counted and logged with the record's place, and the stream
        goes on (the record itself is still in its source topic at that offset)."""
        message = event.message
        self.metrics.records.labels(message.topic, "deadletter").inc()
        try:
            value = encode(
                deadletter_record(
                    source_topic=message.topic,
                    error=error,
                    key=event.key,
                    value=event.value,
                    partition=message.partition,
                    offset=message.offset,
                    at=self.clock.now(),
                )
            )
        except Exception as failure:  # noqa: BLE001 - a dead letter must never stop the stream
            self._deadletter_lost(message, failure)
            return
        for delay in (*_DEADLETTER_RETRY_DELAYS_S, None):
            try:
                delivery = await self.topic(DEADLETTER).send(value=value)
                await delivery
            except asyncio.CancelledError:
                raise
            except Exception as failure:  # noqa: BLE001 - retried, then counted
                if delay is None:
                    self._deadletter_lost(message, failure)
                    return
                await asyncio.sleep(delay)
            else:
                self.metrics.deadletters.labels(message.topic, "written").inc()
                return

    def _deadletter_lost(self, message: Any, failure: Exception) -> None:
        self.metrics.deadletters.labels(message.topic, "failed").inc()
        log.error(
            "could not write the dead letter for %s[%s]@%s (%s); the record stays in its "
            "source topic at that offset",
            message.topic,
            message.partition,
            message.offset,
            type(failure).__name__,
        )

    async def internal_error(self, event: Any, error: Exception) -> None:
        # The exception text may quote patient data: log only its type and the record's place.
        message = event.message
        log.error(
            "internal error %s on %s[%s]@%s; record sent to deadletter",
            type(error).__name__,
            message.topic,
            message.partition,
            message.offset,
        )
        await self.deadletter(event, f"internal error: {type(error).__name__}")

    # -- time ------------------------------------------------------------------------------

    def arrival_time(self, stamped: str) -> str:
        """When something from outside the worker (a text, a dashboard click) happened, on
        the worker's clock: the stamp itself in real time. Under AFTERGLOW_CLOCK_SPEED the
        web process, which stamped it, does not share the worker's simulated clock, so the
        worker's own simulated now is used instead."""
        if self.settings.clock_speed == 1:
            return stamped
        return self.clock.now().isoformat()
