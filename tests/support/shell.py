"""The worker's shells without a broker: the real agent handlers on in-memory tables, with a
recording publisher whose deliveries complete after seeded random delays.

`Shell` builds the same components as `afterglow worker` and runs each input record through
the same `WorkerContext.handle_record` an agent runs, so interleavings that Kafka makes rare
(an ACK while an escalation tick awaits its page) can be forced and repeated.
"""

from __future__ import annotations

import asyncio
import random
import zlib
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from afterglow.clock import Clock
from afterglow.config import Settings
from afterglow.registry.clinics import load_clinics
from afterglow.sms.simulator import SimulatorGateway
from afterglow.validation import default_catalog
from afterglow.worker.components import Components, build_components
from afterglow.worker.context import WorkerContext
from afterglow.worker.metrics import WorkerMetrics
from afterglow.worker.runtime import RecordHandler, Topic
from afterglow.worker.unit_of_work import StateTable

PARTITIONS = 4


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Event:
    key: bytes | None
    value: bytes | None
    message: Message


@dataclass(frozen=True)
class Published:
    """One record handed to the publisher, in the order of `send` calls."""

    seq: int
    topic: str
    key: bytes | None
    value: bytes | None
    partition: int

    def json(self) -> dict[str, Any]:
        assert self.value is not None
        data: dict[str, Any] = orjson.loads(self.value)
        return data


class Delays:
    """Broker acknowledgment delays: seeded random in [low, high] seconds."""

    def __init__(self, seed: int = 0, low: float = 0.001, high: float = 0.02) -> None:
        self._random = random.Random(seed)
        self.low, self.high = low, high

    def next(self) -> float:
        return self._random.uniform(self.low, self.high)


def partition_of(key: bytes | None) -> int:
    return 0 if key is None else zlib.crc32(key) % PARTITIONS


class Broker:
    """Topics as lists: `send` records at once and acknowledges after a delay."""

    def __init__(self, delays: Delays) -> None:
        self.delays = delays
        self.log: list[Published] = []
        self.failing: set[str] = set()  # topics whose sends fail (a broker refusal)

    async def send(
        self, topic: str, key: bytes | None, value: bytes | None, partition: int | None
    ) -> asyncio.Future[None]:
        await asyncio.sleep(0)  # the producer buffer may make the caller wait a turn
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if topic in self.failing:
            future.set_exception(ConnectionError(f"broker refused a record for {topic}"))
            return future
        where = partition_of(key) if partition is None else partition
        self.log.append(Published(len(self.log), topic, key, value, where))
        loop.call_later(self.delays.next(), _resolve, future)
        return future


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class RecordingTopic:
    def __init__(self, broker: Broker, name: str) -> None:
        self.broker = broker
        self.name = name

    async def send(
        self, key: bytes | None = None, value: bytes | None = None, partition: int | None = None
    ) -> asyncio.Future[None]:
        return await self.broker.send(self.name, key, value, partition)


class MemoryRuntime:
    """The worker's runtime in memory: dict tables whose durable writes go to the broker's
    log, recording topics, and agents kept by topic to be called one record at a time."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.tables: dict[str, StateTable] = {}
        self.agents: dict[str, RecordHandler] = {}

    def table(self, name: str, help: str) -> StateTable:
        store: dict[bytes, Any] = {}

        async def durable_write(key: bytes, value: Any) -> None:
            store[key] = value
            changelog = f"{name}-changelog"
            await (await self.broker.send(changelog, key, orjson.dumps(value), partition_of(key)))

        table = self.tables[name] = StateTable(name, store, durable_write)
        return table

    def topic(self, physical_name: str) -> Topic:
        return RecordingTopic(self.broker, physical_name)

    def agent(self, physical_topic: str, name: str, handle: RecordHandler) -> None:
        self.agents[physical_topic] = handle


@dataclass
class Shell:
    """The worker's components in memory; `deliver` runs one record through its agent."""

    settings: Settings
    context: WorkerContext
    runtime: MemoryRuntime
    broker: Broker
    components: Components
    _offsets: dict[str, int] = field(default_factory=dict)
    _cursor: int = 0

    async def deliver(
        self,
        topic: str,
        value: dict[str, Any] | bytes | None,
        key: str | bytes | None = None,
        partition: int | None = None,
    ) -> int:
        """Returns the record's offset in its topic."""
        raw_key = key.encode() if isinstance(key, str) else key
        raw = orjson.dumps(value) if isinstance(value, dict) else value
        offset = self._offsets.get(topic, 0)
        self._offsets[topic] = offset + 1
        where = partition_of(raw_key) if partition is None else partition
        event = Event(raw_key, raw, Message(topic, where, offset))
        await self.runtime.agents[topic](event)
        return offset

    async def tick(self, now: datetime) -> None:
        """A clock tick on every partition, as the leader's timer sends them."""
        value = {"now": now.isoformat()}
        for partition in range(PARTITIONS):
            await self.deliver("afterglow.ticks", value, partition=partition)

    async def pump(self, limit: int = 10_000) -> int:
        """Deliver every published record to its topic's agent, oldest first, until nothing
        new is published (what the broker and the other agents would do). Returns how many."""
        handled = 0
        while self._cursor < len(self.broker.log):
            record = self.broker.log[self._cursor]
            self._cursor += 1
            if record.topic in self.runtime.agents:
                await self.deliver(record.topic, record.value, record.key, record.partition)
                handled += 1
                if handled > limit:
                    raise RuntimeError("the shell keeps publishing: a loop between agents?")
        return handled

    def skip_pending(self) -> None:
        """Forget what is published so far (records a test does not want delivered)."""
        self._cursor = len(self.broker.log)

    def published(self, topic: str) -> list[dict[str, Any]]:
        return [p.json() for p in self.broker.log if p.topic == topic and p.value is not None]

    def records(self, topic: str) -> Iterator[Published]:
        return (p for p in self.broker.log if p.topic == topic)

    def table(self, name: str) -> StateTable:
        return self.runtime.tables[name]


def build_shell(
    data_dir: Path, clinics_file: Path | None = None, clock: Clock | None = None, seed: int = 0
) -> Shell:
    """The worker's components, wired as `create_app` wires them, on in-memory tables."""
    extra: dict[str, Any] = {} if clinics_file is None else {"clinics_file": clinics_file}
    settings = Settings(
        data_dir=data_dir,
        topic_prefix="",
        topic_partitions=PARTITIONS,
        tick_interval=0,
        operator_token="shell-operator-token",
        twilio_account_sid=None,
        twilio_auth_token=None,
        **extra,
    )
    broker = Broker(Delays(seed))
    runtime = MemoryRuntime(broker)
    context = WorkerContext(
        settings=settings,
        catalog=default_catalog(),
        metrics=WorkerMetrics(),
        clock=clock or _TickClock(),
        runtime=runtime,
    )
    clinics = load_clinics(settings.clinics_file)
    components = build_components(context, clinics, SimulatorGateway(settings, context.clock))
    return Shell(settings, context, runtime, broker, components)


class _TickClock:
    """A clock that stands still until a test moves it (`set`)."""

    def __init__(self) -> None:
        self.current = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def set(self, now: datetime) -> None:
        self.current = now


async def run_together(*steps: Awaitable[Any]) -> list[Any]:
    """Run deliveries concurrently, as separate agents would."""
    return list(await asyncio.gather(*steps))
