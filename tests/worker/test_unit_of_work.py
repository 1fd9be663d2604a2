"""The unit of work: a handler reads its own writes, nothing is saved before every record
it published is in Kafka, and a handler that fails saves nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from afterglow.worker.unit_of_work import StateTable, UnitOfWork, running


async def _commit(unit: UnitOfWork) -> None:
    """What `WorkerContext.handle_record` does after a handler: expose, deliver, save."""
    unit.expose()
    await unit.delivered()
    unit.save()


async def _no_resend() -> Any:
    raise AssertionError("nothing is refused here")


def _table() -> tuple[StateTable, dict[bytes, Any], list[tuple[bytes, Any]]]:
    store: dict[bytes, Any] = {b"k": 1}
    durable: list[tuple[bytes, Any]] = []

    async def durable_write(key: bytes, value: Any) -> None:
        durable.append((key, value))
        store[key] = value

    return StateTable("t", store, durable_write), store, durable


def test_writes_are_staged_read_back_and_applied_only_after_every_delivery() -> None:
    async def scenario() -> None:
        table, store, _ = _table()
        delivery: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        unit = UnitOfWork()
        with running(unit):
            table[b"k"] = 2
            table[b"new"] = "x"
            del table[b"k"]
            table[b"k"] = 3
            unit.track(delivery, _no_resend)
            assert (table.get(b"k"), table[b"new"], b"new" in table) == (3, "x", True)
            assert dict(table.items()) == {b"k": 3, b"new": "x"}
            committing = asyncio.ensure_future(_commit(unit))
            await asyncio.sleep(0.01)
            assert store == {b"k": 1}, "saved before the broker had the records"
            delivery.set_result(None)
            await committing
        assert store == {b"k": 3, b"new": "x"}

    asyncio.run(scenario())


def test_another_task_does_not_see_uncommitted_writes() -> None:
    async def scenario() -> None:
        table, _, _ = _table()

        async def writer(seen: asyncio.Event, done: asyncio.Event) -> None:
            with running(UnitOfWork()):
                table[b"k"] = 99
                seen.set()
                await done.wait()

        seen, done = asyncio.Event(), asyncio.Event()
        task = asyncio.ensure_future(writer(seen, done))
        await seen.wait()
        assert table.get(b"k") == 1
        done.set()
        await task

    asyncio.run(scenario())


def test_a_unit_that_is_never_committed_saves_nothing() -> None:
    table, store, _ = _table()
    with running(UnitOfWork()):
        table[b"k"] = 2
        table.pop(b"k")
    assert store == {b"k": 1}


def test_a_durable_write_is_in_the_broker_at_once_and_not_written_twice() -> None:
    async def scenario() -> None:
        table, store, durable = _table()
        unit = UnitOfWork()
        with running(unit):
            table[b"claim"] = "old"
            await table.save_now(b"claim", "claimed")
            assert durable == [(b"claim", "claimed")]
            assert table.get(b"claim") == "claimed"
            await _commit(unit)
        assert store[b"claim"] == "claimed"

    asyncio.run(scenario())


def test_writes_exposed_by_a_unit_are_read_by_the_next_before_they_are_saved() -> None:
    async def scenario() -> None:
        table, store, _ = _table()
        first = UnitOfWork()
        with running(first):
            table[b"k"] = 2
        first.expose()
        second = UnitOfWork()
        with running(second):
            assert table.get(b"k") == 2  # the next handler sees it at once
            table[b"k"] = table[b"k"] + 1
        second.expose()
        assert store == {b"k": 1}  # nothing saved yet
        first.save()
        assert store == {b"k": 2}
        assert table.get(b"k") == 3  # the later write still pends
        second.save()
        assert store == {b"k": 3}

    asyncio.run(scenario())


def test_a_refused_record_is_sent_again_until_the_broker_takes_it() -> None:
    async def scenario() -> int:
        loop = asyncio.get_running_loop()
        refused: asyncio.Future[None] = loop.create_future()
        refused.set_exception(ConnectionError("broker down"))
        sent: list[int] = []

        async def resend() -> Any:
            sent.append(1)
            accepted: asyncio.Future[None] = loop.create_future()
            accepted.set_result(None)
            return accepted

        unit = UnitOfWork()
        unit.track(refused, resend)
        await unit.delivered()
        return len(sent)

    assert asyncio.run(scenario()) == 1
