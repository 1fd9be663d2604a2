"""The one source of "now" for the shells. The core never reads a clock: `now` is data."""

from __future__ import annotations

import time
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

    def __init__(self, speed: float, origin: datetime | None = None) -> None:
        self._speed = speed
        self._origin = origin or datetime.now(UTC)
        self._started = time.monotonic()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._started) * self._speed
        return self._origin + timedelta(seconds=elapsed)


def clock_for(speed: float) -> Clock:
    return SystemClock() if speed == 1 else ScaledClock(speed)
