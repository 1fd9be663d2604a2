"""Waiting for Kafka before saving: the shells publish, await delivery, then save state.

Faust sends table changelogs and plain records through different buffers, so a crash can
deliver a saved "already handled" without the records it stands for. Awaiting the records
first turns that into a replay with the same deterministic ids, which readers recognise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import Any


async def delivered(sending: Iterable[Awaitable[Any]]) -> None:
    """Wait until every record handed to the producer is acknowledged by the broker."""
    for future in sending:
        await future


async def saved(table: Any, key: bytes, value: Any) -> None:
    """`table[key] = value` (inside stream iteration), returning once the changelog record is
    in Kafka. Faust's own assignment only queues that record; `app.producer.flush()` would
    wait for everything every agent has queued, which under load is seconds. This waits
    only for what was queued before it (the buffer is first in, first out)."""
    # What faust's Table.__setitem__ does (on_key_set, then the store), keeping the future.
    sending = table.send_changelog(table.partition_for_key(key), key, value)
    table.data[key] = value
    await sending
