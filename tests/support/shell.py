"""The worker's shells without a broker: the real agent handlers on in-memory tables, with a
recording publisher whose deliveries complete after seeded random delays.

`Shell` builds the same components as `afterglow worker` and runs each input record through
the same guarded handler an agent runs, so interleavings that Kafka makes rare (an ACK while
an escalation tick awaits its page) can be forced and repeated.
"""

from __future__ import annotations

import asyncio
import random
import zlib
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from afterglow.clock import Clock
from afterglow.config import Settings
from afterglow.registry.clinics import load_clinics
from afterglow.sms.simulator import SimulatorGateway
from afterglow.validation import default_catalog
from afterglow.worker.app import WorkerContext
from afterglow.worker.metrics import WorkerMetrics

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


class MemoryTable(dict[bytes, Any]):
    """A Faust table's mapping interface, in memory; changelog sends go to the broker."""

    def __init__(self, broker: Broker, name: str) -> None:
        super().__init__()
        self.broker = broker
        self.name = name

    @property
    def data(self) -> MemoryTable:
        return self

    def partition_for_key(self, key: bytes) -> int:
        return partition_of(key)

    def send_changelog(self, partition: int, key: bytes, value: Any) -> Awaitable[None]:
        return asyncio.ensure_future(
            self.broker.send(f"{self.name}-changelog", key, orjson.dumps(value), partition)
        )


class FakeApp:
    """The part of `faust.App` the worker's components use."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.tables: dict[str, MemoryTable] = {}
        self.topics: dict[str, RecordingTopic] = {}
        self.agents: dict[str, Callable[[Any], Awaitable[None]]] = {}

    def Table(self, name: str, **_: Any) -> MemoryTable:
        table = self.tables[name] = MemoryTable(self.broker, name)
        return table

    def topic(self, name: str, **_: Any) -> RecordingTopic:
        return self.topics.setdefault(name, RecordingTopic(self.broker, name))

    def agent(self, topic: RecordingTopic, name: str) -> Callable[[Any], Any]:
        def register(process: Callable[[Any], Awaitable[None]]) -> Any:
            self.agents[topic.name] = process
            return process

        return register

    def _decorator(self, *_: Any, **__: Any) -> Callable[[Any], Any]:
        return lambda function: function

    timer = page = table_route = _decorator


class _OneEvent:
    """A stream of one event, for an agent's `async for event in stream.events()`."""

    def __init__(self, event: Event) -> None:
        self._event = event

    async def events(self) -> Any:
        yield self._event


@dataclass
class Shell:
    """The worker's components on a `FakeApp`; `deliver` runs one record through its agent."""

    settings: Settings
    context: WorkerContext
    app: FakeApp
    broker: Broker
    components: dict[str, Any] = field(default_factory=dict)
    _offsets: dict[str, int] = field(default_factory=dict)
    _cursor: int = 0

    async def deliver(
        self,
        topic: str,
        value: dict[str, Any] | bytes | None,
        key: str | bytes | None = None,
        partition: int | None = None,
    ) -> None:
        raw_key = key.encode() if isinstance(key, str) else key
        raw = orjson.dumps(value) if isinstance(value, dict) else value
        offset = self._offsets.get(topic, 0)
        self._offsets[topic] = offset + 1
        where = partition_of(raw_key) if partition is None else partition
        event = Event(raw_key, raw, Message(topic, where, offset))
        await self.app.agents[topic](_OneEvent(event))

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
            if record.topic in self.app.agents:
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

    def table(self, name: str) -> MemoryTable:
        return self.app.tables[name]


def build_shell(
    data_dir: Path, clinics_file: Path | None = None, clock: Clock | None = None, seed: int = 0
) -> Shell:
    """The worker's components, wired as `create_app` wires them, on in-memory tables."""
    from afterglow.worker.alert_agents import register_alerting
    from afterglow.worker.alert_desk import AlertDesk
    from afterglow.worker.api import register_api
    from afterglow.worker.conversation import Conversations
    from afterglow.worker.intake_agents import register_intake
    from afterglow.worker.monitor import Monitor
    from afterglow.worker.notifier import Notifier
    from afterglow.worker.scheduler import Scheduler
    from afterglow.worker.scheduler_agents import register_scheduler
    from afterglow.worker.sms_agents import register_sms
    from afterglow.worker.sms_routing import SmsRouter
    from afterglow.worker.sms_sender import SmsSender
    from afterglow.worker.sms_status import DeliveryTracker

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
    app = FakeApp(broker)
    context = WorkerContext(
        app=app,  # type: ignore[arg-type]
        settings=settings,
        catalog=default_catalog(),
        metrics=WorkerMetrics(),
        clock=clock or _TickClock(),
        deadletter_topic=None,
    )
    context.deadletter_topic = context.raw_topic("deadletter")
    context.clinical_topic = context.raw_topic("afterglow.clinical-events")
    context.clinicians = app.Table("clinicians")
    context.patients = app.Table("patients")
    context.infusions = app.Table("infusions")
    clinics = load_clinics(settings.clinics_file)
    scheduler = Scheduler(context, clinics)
    router = SmsRouter(context, clinics)
    desk = AlertDesk(context, clinics, scheduler.now_for)
    notifier = Notifier(context, clinics)
    deliveries = DeliveryTracker(context)
    sender = SmsSender(context, SimulatorGateway(settings, context.clock), deliveries)
    register_intake(context, scheduler, router)
    register_scheduler(context, scheduler, desk, notifier)
    register_alerting(context, Monitor(context, desk, scheduler, clinics), desk, notifier)
    conversations = Conversations(context, scheduler, clinics)
    register_sms(context, router, conversations, sender, deliveries)
    register_api(context, scheduler, desk)
    shell = Shell(settings, context, app, broker)
    shell.components.update(
        scheduler=scheduler, desk=desk, notifier=notifier, conversations=conversations
    )
    return shell


class _TickClock:
    """A clock that stands still until a test moves it (`set`)."""

    def __init__(self) -> None:
        from datetime import UTC

        self.current = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def set(self, now: datetime) -> None:
        self.current = now


async def run_together(*steps: Awaitable[Any]) -> list[Any]:
    """Run deliveries concurrently, as separate agents would."""
    return list(await asyncio.gather(*steps))


def first_index(records: Iterable[Published], matches: Callable[[dict[str, Any]], bool]) -> int:
    for record in records:
        if record.value is not None and matches(record.json()):
            return record.seq
    return -1
