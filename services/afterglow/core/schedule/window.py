"""Local-time arithmetic for sending: due dates, the send window, daylight-saving changes.

All instants are timezone-aware; local dates and wall-clock times are computed with
zoneinfo, so 10:00 stays 10:00 local on both sides of a DST change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from afterglow.core.schedule.config import ScheduleConfig


def local_date(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def at_local(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local date.

    A wall time skipped by a spring-forward gap resolves to the instant after the gap
    (zoneinfo's fold=0 reading), which is what a person would expect of "10:00".
    """
    local = datetime.combine(day, wall, tzinfo=zone)
    # Round-trip through UTC to normalise a non-existent wall time.
    return local.astimezone(UTC).astimezone(zone).astimezone(UTC)


def in_window(at: datetime, zone: ZoneInfo, config: ScheduleConfig) -> bool:
    wall = at.astimezone(zone).time()
    return config.window_start <= wall < config.window_end


def next_send_time(at: datetime, zone: ZoneInfo, config: ScheduleConfig) -> datetime:
    """`at` itself when inside the send window, else the window's next opening."""
    if in_window(at, zone, config):
        return at
    day = local_date(at, zone)
    if at.astimezone(zone).time() >= config.window_end:
        day += timedelta(days=1)
    return at_local(day, config.window_start, zone)
