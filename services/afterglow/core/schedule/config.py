"""Schedule defaults (docs/rules.md); a clinic may override them in its settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta

# D+7, 14, 21, 28, then every 14 days to D+84, then every 30 days while within D+365.
DEFAULT_FOLLOWUP_DAYS: tuple[int, ...] = (
    7,
    14,
    21,
    28,
    *range(42, 85, 14),
    *range(84 + 30, 366, 30),
)


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    followup_days: tuple[int, ...] = DEFAULT_FOLLOWUP_DAYS
    send_time: time = time(10, 0)
    # The send window, patient local time: [window_start, window_end).
    window_start: time = time(9, 0)
    window_end: time = time(20, 0)
    follow_up: timedelta = timedelta(days=365)
    confirm_after_days: int = 5
    # A planned check-in this many local days after a probable relapse makes a
    # confirmatory one unnecessary (inclusive).
    confirm_covered_days: tuple[int, int] = (5, 7)
    reminders_after: tuple[timedelta, ...] = field(
        default=(timedelta(hours=24), timedelta(hours=48))
    )
    expire_after: timedelta = timedelta(hours=72)
