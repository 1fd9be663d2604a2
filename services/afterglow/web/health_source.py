"""The health summary for the operations page and its JSON endpoint: one `collect_health`
at a time per process, in a thread, on one kept `Tallies` (docs/developers.md, "The
operations package"). A summary younger than `max_age_s` is shared: however many
operators' pages poll, the summary is computed at most once per `max_age_s`, the page's
refresh interval; each computation costs the worker CPU time (docs/benchmarks.md,
"Operations page")."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

from afterglow.clock import Clock
from afterglow.operations.model import HealthSummary

Collect = Callable[[datetime], HealthSummary]


class HealthSource:
    def __init__(
        self,
        collect: Collect,
        clock: Clock,
        max_age_s: float = 5.0,
        close: Callable[[], None] | None = None,
    ) -> None:
        """`close` releases what `collect` keeps between calls (its Kafka consumer)."""
        self._collect = collect
        self._close = close
        self._clock = clock
        self._max_age_s = max_age_s
        self._lock = asyncio.Lock()
        self._last: tuple[float, HealthSummary] | None = None

    async def summary(self) -> HealthSummary:
        async with self._lock:  # the Tallies is not safe for two readers at once
            if self._last is not None and time.monotonic() - self._last[0] < self._max_age_s:
                return self._last[1]
            found = await asyncio.to_thread(self._collect, self._clock.now())
            self._last = (time.monotonic(), found)
            return found

    async def close(self) -> None:
        async with self._lock:  # never while a summary is being collected
            if self._close is not None:
                await asyncio.to_thread(self._close)
