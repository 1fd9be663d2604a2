"""One input record's effects, committed in the project's one order: publish, await every
delivery, then save the record's table writes.

Faust sends table changelogs and plain records through different buffers, so a crash can
leave a saved "already handled" in Kafka without the records it stands for. Handlers never
order this themselves: every agent handler runs inside a `UnitOfWork`
(`WorkerContext.handle_record`). While it runs, writes to a `StateTable` are staged (the
handler reads its own writes); records it publishes go out at once. `commit` awaits the
deliveries and only then applies the writes, so a crash replays the record onto the old
state and republishes the same deterministic ids, which readers recognise. A handler that
raises commits nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any, Protocol

_DELETED = object()
_CURRENT: ContextVar[UnitOfWork | None] = ContextVar("afterglow_unit_of_work", default=None)


class Store(Protocol):
    """What a table offers underneath: a Faust table, or a dict in tests."""

    def get(self, key: bytes, default: Any = None) -> Any: ...
    def __setitem__(self, key: bytes, value: Any) -> None: ...
    def __delitem__(self, key: bytes) -> None: ...
    def __contains__(self, key: object) -> bool: ...
    def items(self) -> Any: ...


# Writes `value` under `key` and returns once the broker holds that changelog record.
DurableWrite = Callable[[bytes, Any], Awaitable[None]]


class UnitOfWork:
    def __init__(self) -> None:
        self._deliveries: list[Awaitable[Any]] = []
        self._writes: dict[tuple[int, bytes], tuple[StateTable, Any]] = {}

    def track(self, delivery: Awaitable[Any]) -> None:
        """A record handed to the producer; `commit` waits for the broker's acknowledgment."""
        self._deliveries.append(delivery)

    def stage(self, table: StateTable, key: bytes, value: Any) -> None:
        self._writes[(id(table), key)] = (table, value)

    def forget(self, table: StateTable, key: bytes) -> None:
        self._writes.pop((id(table), key), None)

    def staged(self, table: StateTable, key: bytes) -> Any:
        """The value this unit wrote (`_DELETED` for a deletion), or KeyError."""
        return self._writes[(id(table), key)][1]

    def staged_items(self, table: StateTable) -> Iterator[tuple[bytes, Any]]:
        for (table_id, key), (_, value) in self._writes.items():
            if table_id == id(table):
                yield key, value

    async def commit(self) -> None:
        for delivery in self._deliveries:
            await delivery
        self._deliveries.clear()
        for (_, key), (table, value) in self._writes.items():
            table.apply(key, value)
        self._writes.clear()


def current_unit() -> UnitOfWork | None:
    return _CURRENT.get()


class running:
    """`with running(unit):` makes `unit` the current one (contexts are per task)."""

    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit
        self._token: Any = None

    def __enter__(self) -> UnitOfWork:
        self._token = _CURRENT.set(self._unit)
        return self._unit

    def __exit__(self, *_: object) -> None:
        _CURRENT.reset(self._token)


class StateTable:
    """A table as the handlers see it: dict-like, with writes staged in the current unit of
    work. Values are JSON-like; assign them back (`t[k] = v`), never mutate in place."""

    def __init__(self, name: str, store: Store, durable_write: DurableWrite) -> None:
        self.name = name
        self.store = store
        self._durable_write = durable_write

    def get(self, key: bytes, default: Any = None) -> Any:
        unit = current_unit()
        if unit is not None:
            try:
                value = unit.staged(self, key)
            except KeyError:
                pass
            else:
                return default if value is _DELETED else value
        return self.store.get(key, default)

    def __getitem__(self, key: bytes) -> Any:
        value = self.get(key, _DELETED)
        if value is _DELETED:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, bytes) and self.get(key, _DELETED) is not _DELETED

    def __setitem__(self, key: bytes, value: Any) -> None:
        unit = current_unit()
        if unit is None:
            self.apply(key, value)
        else:
            unit.stage(self, key, value)

    def __delitem__(self, key: bytes) -> None:
        self[key] = _DELETED

    def pop(self, key: bytes, default: Any = None) -> Any:
        value = self.get(key, _DELETED)
        if value is _DELETED:
            return default
        del self[key]
        return value

    def items(self) -> Iterator[tuple[bytes, Any]]:
        """Every entry, this unit's writes included."""
        unit = current_unit()
        staged = dict(unit.staged_items(self)) if unit is not None else {}
        for key, value in self.store.items():
            if key not in staged:
                yield key, value
        for key, value in staged.items():
            if value is not _DELETED:
                yield key, value

    async def save_now(self, key: bytes, value: Any) -> None:
        """Write at once and return when the broker holds it, bypassing the unit: for the
        one write that must be durable before a side effect outside Kafka (the sender's
        claim before it calls the SMS provider)."""
        unit = current_unit()
        if unit is not None:
            unit.forget(self, key)
        await self._durable_write(key, value)

    def apply(self, key: bytes, value: Any) -> None:
        if value is _DELETED:
            if key in self.store:
                del self.store[key]
        else:
            self.store[key] = value
