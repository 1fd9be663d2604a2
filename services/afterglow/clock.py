"""The one source of "now" for the shells. The core never reads a clock: `now` is data."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ScaledClock:
    """Simulated time for demos: `speed` simulated seconds pass per real second, from the
    moment the clock was made (AFTERGLOW_CLOCK_SPEED=86400 runs a day per second)."""

    def __init__(
        self,
        speed: float,
        origin: datetime | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._speed = speed
        self._origin = origin or datetime.now(UTC)
        self._monotonic = monotonic
        self._started = monotonic()

    def now(self) -> datetime:
        elapsed = (self._monotonic() - self._started) * self._speed
        return self._origin + timedelta(seconds=elapsed)


class AnchoredClock:
    """Simulated time several processes share (the demo, docs/operators.md "Demo"): at the
    wall-clock instant `anchor` (Unix seconds) it was `origin`, and `speed` simulated seconds
    pass per real second; before `anchor` the clock stands still at `origin` (the processes
    start while it does). Wall time, not a monotonic clock, so that every process -- and a
    restarted one -- reads the same simulated now."""

    def __init__(
        self,
        speed: float,
        origin: datetime,
        anchor: float,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._speed = speed
        self._origin = origin
        self._anchor = anchor
        self._wall = wall

    def now(self) -> datetime:
        elapsed = max(0.0, self._wall() - self._anchor) * self._speed
        return self._origin + timedelta(seconds=elapsed)


def clock_for(speed: float, origin: datetime | None = None, anchor: float | None = None) -> Clock:
    """Real time at speed 1; simulated time otherwise, shared between processes when an
    origin and its anchor are given (AFTERGLOW_CLOCK_ORIGIN, AFTERGLOW_CLOCK_ANCHOR)."""
    if speed == 1:
        return SystemClock()
    if origin is not None and anchor is not None:
        return AnchoredClock(speed, origin, anchor)
    return ScaledClock(speed)
