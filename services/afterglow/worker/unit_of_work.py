"""One input record's effects, saved in the project's one order: publish, await every
delivery, then save the record's table writes.

Faust sends table changelogs and plain records through different buffers, so a crash can
leave a saved "already handled" in Kafka without the records it stands for. Handlers never
order this themselves: every agent handler runs inside a `UnitOfWork`
(`WorkerContext.handle_record`), in three steps.

1. **Handle** (under the partition's lock): writes to a `StateTable` are staged in the unit
   (the handler reads its own writes); records it publishes go to the producer at once.
2. **Expose** (still under the lock): the staged writes become the tables' pending values,
   which every later handler reads. The lock is released: the next record's logic runs
   while this one's records are on their way to the broker.
3. **Save** (in lock order, per partition): once every record of the unit is acknowledged
   and every earlier unit of the partition is saved, the writes go to the tables (and
   their changelogs), and the agent moves on to its next record.

Saved units are therefore always a prefix, in lock order, of the units handled, and each
saved unit's records are in Kafka. A crash replays every unsaved record onto the saved
state, and the replay republishes the same deterministic ids, which readers recognise. A
handler that raises exposes and saves nothing. A record the broker refuses is sent again
until the broker takes it (by then later handlers may have read the unit's writes, so it
cannot be undone): an outage holds the partition's saves, never reorders them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any, Protocol

import orjson

log = logging.getLogger(__name__)

# A table entry is one changelog record; the broker refuses records over 1,000,000 bytes
# and a refused changelog record would stop the worker. An entry that would outgrow this
# fails the handler that writes it, so the record goes to deadletter and the stream goes on
# (docs/operators.md, "Dead letters").
MAX_TABLE_VALUE_BYTES = 512 * 1024


class StateTooLarge(ValueError):
    """A handler tried to store a table entry over MAX_TABLE_VALUE_BYTES."""


_DELETED = object()
_CURRENT: ContextVar[UnitOfWork | None] = ContextVar("afterglow_unit_of_work", default=None)
_RESEND_DELAYS_S = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
_sequence = itertools.count(1)


class Store(Protocol):
    """What a table offers underneath: a Faust table, or a dict in tests."""

    def get(self, key: bytes, default: Any = None) -> Any: ...
    def __setitem__(self, key: bytes, value: Any) -> None: ...
    def __delitem__(self, key: bytes) -> None: ...
    def __contains__(self, key: object) -> bool: ...
    def items(self) -> Any: ...


# Writes `value` under `key` and returns once the broker holds that changelog record.
DurableWrite = Callable[[bytes, Any], Awaitable[None]]
# Hands a record to the producer again; returns its new delivery.
Resend = Callable[[], Awaitable[Awaitable[Any]]]


class UnitOfWork:
    def __init__(self) -> None:
        self.seq = next(_sequence)
        self._deliveries: list[tuple[Awaitable[Any], Resend]] = []
        self._writes: dict[tuple[int, bytes], tuple[StateTable, Any]] = {}

    def track(self, delivery: Awaitable[Any], resend: Resend) -> None:
        """A record handed to the producer; the unit is saved only once the broker has it."""
        self._deliveries.append((delivery, resend))

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

    def expose(self) -> None:
        """Make the writes the tables' pending values (read by every later handler)."""
        for (_, key), (table, value) in self._writes.items():
            table.pend(key, value, self.seq)

    async def delivered(self) -> None:
        """Every record of the unit acknowledged by the broker (re-sent until it is)."""
        for delivery, resend in self._deliveries:
            attempt = 0
            while True:
                try:
                    await delivery
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # noqa: BLE001 - any refusal: send it again
                    delay = _RESEND_DELAYS_S[min(attempt, len(_RESEND_DELAYS_S) - 1)]
                    log.warning(
                        "the broker refused a record (%s); sending it again in %.1f s",
                        type(error).__name__,
                        delay,
                    )
                    attempt += 1
                    await asyncio.sleep(delay)
                    delivery = await resend()
        self._deliveries.clear()

    def save(self) -> None:
        """Apply the writes to the tables (after `delivered`, in lock order)."""
        for (_, key), (table, value) in self._writes.items():
            table.settle(key, value, self.seq)
        self._writes.clear()


class Journal:
    """The order in which one partition's units save: the order they held its lock."""

    def __init__(self) -> None:
        self._tail: asyncio.Future[None] | None = None

    def enter(self) -> tuple[asyncio.Future[None] | None, asyncio.Future[None]]:
        """Call under the partition's lock: (the previous unit's turn, this unit's turn)."""
        previous = self._tail
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tail = mine
        return previous, mine

    def leave(self, mine: asyncio.Future[None]) -> None:
        if not mine.done():
            mine.set_result(None)
        if self._tail is mine:
            self._tail = None


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
    """A table as the handlers see it: dict-like; a handler's writes are staged in its unit
    of work, pending once exposed, stored once saved. Values are JSON-like; assign them back
    (`t[k] = v`), never mutate in place."""

    def __init__(self, name: str, store: Store, durable_write: DurableWrite) -> None:
        self.name = name
        self.store = store
        self._durable_write = durable_write
        self._pending: dict[bytes, tuple[Any, int]] = {}

    def get(self, key: bytes, default: Any = None) -> Any:
        unit = current_unit()
        if unit is not None:
            try:
                value = unit.staged(self, key)
            except KeyError:
                pass
            else:
                return default if value is _DELETED else value
        pending = self._pending.get(key)
        if pending is not None:
            return default if pending[0] is _DELETED else pending[0]
        return self.store.get(key, default)

    def __getitem__(self, key: bytes) -> Any:
        value = self.get(key, _DELETED)
        if value is _DELETED:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, bytes) and self.get(key, _DELETED) is not _DELETED

    def __setitem__(self, key: bytes, value: Any) -> None:
        if value is not _DELETED:
            _check_size(self.name, value)
        unit = current_unit()
        if unit is None:
            self._pending.pop(key, None)
            self._apply(key, value)
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
        """Every entry as the current handler sees it (its own and pending writes included)."""
        unit = current_unit()
        newer = {key: value for key, (value, _) in self._pending.items()}
        if unit is not None:
            newer.update(unit.staged_items(self))
        for key, value in self.store.items():
            if key not in newer:
                yield key, value
        for key, value in newer.items():
            if value is not _DELETED:
                yield key, value

    async def save_now(self, key: bytes, value: Any) -> None:
        """Write at once and return when the broker holds it, bypassing the unit: for the
        one write that must be durable before a side effect outside Kafka (the sender's
        claim before it calls the SMS provider)."""
        _check_size(self.name, value)
        unit = current_unit()
        if unit is not None:
            unit.forget(self, key)
        self._pending.pop(key, None)
        await self._durable_write(key, value)

    def pend(self, key: bytes, value: Any, seq: int) -> None:
        self._pending[key] = (value, seq)

    def settle(self, key: bytes, value: Any, seq: int) -> None:
        """Store a unit's write; the pending value stays if a later unit has replaced it."""
        self._apply(key, value)
        pending = self._pending.get(key)
        if pending is not None and pending[1] == seq:
            del self._pending[key]

    def _apply(self, key: bytes, value: Any) -> None:
        if value is _DELETED:
            if key in self.store:
                del self.store[key]
        else:
            self.store[key] = value


def _check_size(table: str, value: Any) -> None:
    # Only the size matters here: keys that are not text and values orjson cannot write
    # are measured as the table's serializer would write them, near enough.
    try:
        size = len(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))
    except TypeError:  # an integer over 64 bits, say: the table's own serializer writes it
        size = len(json.dumps(value, default=str))
    if size > MAX_TABLE_VALUE_BYTES:
        raise StateTooLarge(
            f"a {table} entry of {size:,} bytes is over the {MAX_TABLE_VALUE_BYTES:,}-byte limit"
        )
