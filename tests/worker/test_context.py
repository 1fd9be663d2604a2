"""`WorkerContext.handle_record`: a record whose processing fails anywhere (validation, an
oversized table entry or record) is dead-lettered with the reason, nothing of it is saved,
and the stream goes on; the dead-letter writer itself never raises."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest

from afterglow.worker import context as context_module
from afterglow.worker.context import Handler
from afterglow.worker.unit_of_work import MAX_TABLE_VALUE_BYTES
from tests.support.shell import Event, Message, Shell, build_shell

TOPIC = "clinic.patients"


def _event(offset: int, value: bytes | None = b"{}") -> Event:
    return Event(b"p-1", value, Message(TOPIC, 1, offset))


def _counter(shell: Shell, name: str, **labels: str) -> float:
    value = shell.context.metrics.registry.get_sample_value(name, labels)
    return value or 0.0


def test_an_oversized_table_entry_dead_letters_its_record_and_saves_nothing(
    tmp_path: Path,
) -> None:
    shell = build_shell(tmp_path)
    table = shell.context.table("scratch", "for this test")
    big = {"notes": "x" * (MAX_TABLE_VALUE_BYTES + 1)}

    def writes(value: Any) -> Handler:
        async def handle(event: Any) -> str:
            table[b"a"] = {"before": True}
            table[b"b"] = value
            return "accepted"

        return handle

    async def scenario() -> None:
        await shell.context.handle_record(_event(0), writes(big))
        await shell.context.handle_record(_event(1), writes({"small": 1}))

    asyncio.run(scenario())
    letters = shell.published("deadletter")
    assert [(d["offset"], d["error"]) for d in letters] == [
        (
            0,
            f"a scratch entry of {len(orjson.dumps(big)):,} bytes is over the "
            f"{MAX_TABLE_VALUE_BYTES:,}-byte limit",
        )
    ]
    assert table.get(b"b") == {"small": 1}, "the next record was not handled"
    assert _counter(shell, "afterglow_deadletters_total", topic=TOPIC, result="written") == 1


def test_an_oversized_record_to_publish_dead_letters_its_input(tmp_path: Path) -> None:
    shell = build_shell(tmp_path)

    async def handle(event: Any) -> str:
        await shell.context.publish("alerts", {"reason": "x" * 1_000_000}, b"p-1")
        return "accepted"

    asyncio.run(shell.context.handle_record(_event(0), handle))
    assert shell.published("alerts") == []
    [letter] = shell.published("deadletter")
    assert "over the broker's limit" in letter["error"]


def test_a_refused_dead_letter_is_counted_and_the_stream_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context_module, "_DEADLETTER_RETRY_DELAYS_S", (0.0, 0.0))
    shell = build_shell(tmp_path)
    shell.broker.failing.add("deadletter")
    handler = shell.runtime.agents[TOPIC]

    async def scenario() -> None:
        await handler(_event(0, b"\xff not json"))  # must return, not raise

    asyncio.run(scenario())
    assert _counter(shell, "afterglow_deadletters_total", topic=TOPIC, result="failed") == 1
    assert _counter(shell, "afterglow_records_total", topic=TOPIC, outcome="deadletter") == 1
