"""The demo's clock across starts (afterglow.demo.launch): a restart continues, a new demo
begins 91 days before today."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from afterglow.demo.launch import DEFAULT_SPEED, demo_clock
from afterglow.demo.state import Progress, save_progress

TODAY = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)


def test_a_new_demo_begins_91_days_before_today_at_midnight_and_waits_for_the_warmup(
    tmp_path: Path,
) -> None:
    clock = demo_clock(tmp_path, 4, None, 30.0, 1000.0, TODAY)
    assert clock.began == datetime(2026, 9, 3, tzinfo=UTC)
    assert clock.origin == clock.began
    assert (clock.seed, clock.speed, clock.anchor) == (4, DEFAULT_SPEED, 1030.0)


def test_a_restart_continues_from_the_latest_simulated_time_with_the_demos_own_seed(
    tmp_path: Path,
) -> None:
    first = demo_clock(tmp_path, 4, 20000.0, 30.0, 1000.0, TODAY)
    seen = first.began + timedelta(days=40, hours=3)
    save_progress(tmp_path / "progress.json", Progress(checkpoint=seen.isoformat()))
    again = demo_clock(tmp_path, 9, None, 30.0, 5000.0, TODAY + timedelta(days=2))
    assert again.origin == seen
    assert again.began == first.began
    assert (again.seed, again.speed, again.anchor) == (4, 20000.0, 5030.0)
