"""What the worker's components need from a stream runtime: tables, topics to publish to,
and agents that run a handler per record. `FaustRuntime` is the real one; the tests' shell
harness runs the same components on an in-memory one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import faust

from afterglow.worker.unit_of_work import StateTable

RecordHandler = Callable[[Any], Awaitable[None]]


class Topic(Protocol):
    async def send(
        self, *, key: bytes | None = None, value: bytes | None = None, partition: int | None = None
    ) -> Awaitable[Any]:
        """Hand a record to the producer; the awaitable completes when the broker has it."""
        ...


class Runtime(Protocol):
    def table(self, name: str, help: str) -> StateTable: ...

    def topic(self, physical_name: str) -> Topic: ...

    def agent(self, physical_topic: str, name: str, handle: RecordHandler) -> None:
        """Run `handle` on every record of the topic, one at a time, in offset order."""
        ...


class FaustRuntime:
    def __init__(self, app: faust.App) -> None:
        self.app = app
        self.tables: dict[str, Any] = {}  # the Faust tables, for `table_route`

    def table(self, name: str, help: str) -> StateTable:
        # Raw keys, JSON values. Passing a faust.Schema would set the write path only: recovery
        # would decode keys as JSON and stall.
        table: Any = self.app.Table(name, default=None, key_type=bytes, help=help)
        self.tables[name] = table

        async def durable_write(key: bytes, value: Any) -> None:
            await _saved(table, key, value)

        return StateTable(name, table, durable_write)

    def topic(self, physical_name: str) -> Topic:
        topic: Topic = self.app.topic(physical_name, value_serializer="raw")
        return topic

    def agent(self, physical_topic: str, name: str, handle: RecordHandler) -> None:
        async def process(stream: Any) -> None:
            async for event in stream.events():
                await handle(event)

        self.app.agent(self.app.topic(physical_topic), name=name)(process)


async def _saved(table: Any, key: bytes, value: Any) -> None:
    """`table[key] = value` (inside stream iteration), returning once the changelog record is
    in Kafka. Faust's own assignment only queues that record; `app.producer.flush()` would
    wait for everything every agent has queued, which under load is seconds. This waits only
    for what was queued before it (the buffer is first in, first out)."""
    # What faust's Table.__setitem__ does (on_key_set, then the store), keeping the future.
    sending = table.send_changelog(table.partition_for_key(key), key, value)
    table.data[key] = value
    await sending
