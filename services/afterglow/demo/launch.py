"""What `afterglow up --demo` sets up before the stack starts: the demo's own data
directory, the shared simulated clock (a restart continues where the demo stopped) and
the environment every child inherits."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from afterglow.demo.state import (
    ClockFile,
    demo_data_dir,
    load_clock,
    load_progress,
    save_clock,
)

# About 3 months in 10 minutes.
DEFAULT_SPEED = 91 * 86400 / 600
DEFAULT_SEED = 1
DEMO_DAYS = 91
# The processes start while the clock stands still (clock.py, `AnchoredClock`): at full
# speed 30 s would otherwise be 4.5 simulated days of nobody listening.
DEFAULT_WARMUP_SECONDS = 30.0
# Ticks four times a second: at the default speed one tick is 54 simulated minutes.
DEMO_TICK_INTERVAL = "0.25"


def demo_clock(
    data_dir: Path, seed: int, speed: float | None, warmup: float, wall: float, today: datetime
) -> ClockFile:
    """The clock for this start: a new demo begins 91 days before `today` (midnight UTC), so
    the dashboards, on real time, show its end as "now"; an existing one continues from
    the latest simulated time its demo process saw, with its own seed."""
    path = data_dir / "clock.json"
    previous = load_clock(path)
    if previous is None:
        began = today.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        began -= timedelta(days=DEMO_DAYS)
        clock = ClockFile(seed, speed or DEFAULT_SPEED, began, began, wall + warmup)
    else:
        checkpoint = load_progress(data_dir / "progress.json").checkpoint
        origin = datetime.fromisoformat(checkpoint) if checkpoint else previous.origin
        clock = ClockFile(
            previous.seed, speed or previous.speed, previous.began, origin, wall + warmup
        )
    save_clock(path, clock)
    return clock


def prepare_demo(base_data_dir: Path, seed: int, speed: float | None) -> ClockFile:
    """Point this process's environment (and so every child's) at the demo."""
    data_dir = demo_data_dir(base_data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    warmup = float(os.environ.get("AFTERGLOW_DEMO_WARMUP", DEFAULT_WARMUP_SECONDS))
    clock = demo_clock(data_dir, seed, speed, warmup, time.time(), datetime.now(UTC))
    os.environ["AFTERGLOW_DATA_DIR"] = str(data_dir)
    os.environ["AFTERGLOW_CLOCK_SPEED"] = repr(clock.speed)
    os.environ["AFTERGLOW_CLOCK_ORIGIN"] = clock.origin.isoformat()
    os.environ["AFTERGLOW_CLOCK_ANCHOR"] = repr(clock.anchor)
    os.environ.setdefault("AFTERGLOW_TICK_INTERVAL", DEMO_TICK_INTERVAL)
    return clock
