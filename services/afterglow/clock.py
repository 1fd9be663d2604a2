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


def clock_for(speed: float) -> Clock:
    return SystemClock() if speed == 1 else ScaledClock(speed)
