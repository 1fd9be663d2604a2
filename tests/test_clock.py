"""The shells' clock: real time, or simulated time for demos (AFTERGLOW_CLOCK_SPEED)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from afterglow.clock import ScaledClock, SystemClock, clock_for

ORIGIN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_a_day_per_second_at_speed_86400() -> None:
    seconds = [100.0]
    clock = ScaledClock(86400, ORIGIN, monotonic=lambda: seconds[0])
    assert clock.now() == ORIGIN
    seconds[0] = 101.5
    assert clock.now() == ORIGIN + timedelta(days=1.5)


def test_speed_1_is_the_system_clock_and_anything_else_is_scaled() -> None:
    assert isinstance(clock_for(1), SystemClock)
    assert isinstance(clock_for(60), ScaledClock)
    assert clock_for(1).now().tzinfo is not None
