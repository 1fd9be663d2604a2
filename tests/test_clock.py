"""The shells' clock: real time, or simulated time for demos (AFTERGLOW_CLOCK_SPEED)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from afterglow.clock import AnchoredClock, ScaledClock, SystemClock, clock_for

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


def test_processes_with_the_same_origin_and_anchor_read_the_same_simulated_time() -> None:
    wall = [1000.0]
    worker = clock_for(86400, ORIGIN, 1000.0)
    demo = AnchoredClock(86400, ORIGIN, 1000.0, wall=lambda: wall[0])
    assert isinstance(worker, AnchoredClock)
    wall[0] = 1002.0
    assert demo.now() == ORIGIN + timedelta(days=2)


def test_the_anchored_clock_stands_still_until_its_anchor() -> None:
    wall = [990.0]
    clock = AnchoredClock(86400, ORIGIN, 1000.0, wall=lambda: wall[0])
    assert clock.now() == ORIGIN
    wall[0] = 1000.5
    assert clock.now() == ORIGIN + timedelta(hours=12)
