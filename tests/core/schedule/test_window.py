"""window.py: 10:00 local on both sides of DST changes, spring-forward gaps, the send window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from afterglow.core.schedule.config import ScheduleConfig
from afterglow.core.schedule.window import at_local, in_window, next_send_time
from tests.core.schedule.driver import BERLIN, NEW_YORK, SYDNEY, local, wall

CONFIG = ScheduleConfig()
TEN = time(10, 0)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# (zone, local date, the UTC instant of 10:00 that day): the day before, of and after each
# change, with the offsets written out by hand.
TEN_O_CLOCK = [
    # New York: spring forward 2026-03-08 (EST -5 -> EDT -4), fall back 2026-11-01.
    (NEW_YORK, date(2026, 3, 7), utc(2026, 3, 7, 15)),
    (NEW_YORK, date(2026, 3, 8), utc(2026, 3, 8, 14)),
    (NEW_YORK, date(2026, 3, 9), utc(2026, 3, 9, 14)),
    (NEW_YORK, date(2026, 10, 31), utc(2026, 10, 31, 14)),
    (NEW_YORK, date(2026, 11, 1), utc(2026, 11, 1, 15)),
    (NEW_YORK, date(2026, 11, 2), utc(2026, 11, 2, 15)),
    # Berlin: 2026-03-29 (CET +1 -> CEST +2), back 2026-10-25.
    (BERLIN, date(2026, 3, 28), utc(2026, 3, 28, 9)),
    (BERLIN, date(2026, 3, 29), utc(2026, 3, 29, 8)),
    (BERLIN, date(2026, 3, 30), utc(2026, 3, 30, 8)),
    (BERLIN, date(2026, 10, 24), utc(2026, 10, 24, 8)),
    (BERLIN, date(2026, 10, 25), utc(2026, 10, 25, 9)),
    (BERLIN, date(2026, 10, 26), utc(2026, 10, 26, 9)),
    # Sydney: DST ends 2026-04-05 (AEDT +11 -> AEST +10), starts 2026-10-04.
    (SYDNEY, date(2026, 4, 4), utc(2026, 4, 3, 23)),
    (SYDNEY, date(2026, 4, 5), utc(2026, 4, 5, 0)),
    (SYDNEY, date(2026, 4, 6), utc(2026, 4, 6, 0)),
    (SYDNEY, date(2026, 10, 3), utc(2026, 10, 3, 0)),
    (SYDNEY, date(2026, 10, 4), utc(2026, 10, 3, 23)),
    (SYDNEY, date(2026, 10, 5), utc(2026, 10, 4, 23)),
]


@pytest.mark.parametrize(("zone", "day", "expected"), TEN_O_CLOCK)
def test_at_local_is_ten_oclock_local_around_dst_changes(
    zone: str, day: date, expected: datetime
) -> None:
    got = at_local(day, TEN, ZoneInfo(zone))
    assert got == expected
    assert wall(got, zone) == datetime.combine(day, TEN)


@pytest.mark.parametrize(
    ("zone", "day", "gap_wall", "expected_utc", "expected_wall"),
    [
        # 02:30 does not exist in New York on 2026-03-08: read as 02:30 EST = 03:30 EDT.
        (NEW_YORK, date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7, 30), time(3, 30)),
        # 02:30 does not exist in Berlin on 2026-03-29: 02:30 CET = 03:30 CEST.
        (BERLIN, date(2026, 3, 29), time(2, 30), utc(2026, 3, 29, 1, 30), time(3, 30)),
        # 02:15 does not exist in Sydney on 2026-10-04: 02:15 AEST = 03:15 AEDT.
        (SYDNEY, date(2026, 10, 4), time(2, 15), utc(2026, 10, 3, 16, 15), time(3, 15)),
    ],
)
def test_a_wall_time_in_a_spring_forward_gap_resolves_to_just_after_the_gap(
    zone: str, day: date, gap_wall: time, expected_utc: datetime, expected_wall: time
) -> None:
    got = at_local(day, gap_wall, ZoneInfo(zone))
    assert got == expected_utc
    # A real instant on the same local date, after the gap.
    assert wall(got, zone) == datetime.combine(day, expected_wall)


@pytest.mark.parametrize(
    ("now_wall", "expected_wall"),
    [
        ((2026, 6, 10, 0, 30), (2026, 6, 10, 9, 0)),  # after midnight: the same morning
        ((2026, 6, 10, 6, 0), (2026, 6, 10, 9, 0)),
        ((2026, 6, 10, 8, 59), (2026, 6, 10, 9, 0)),
        ((2026, 6, 10, 9, 0), (2026, 6, 10, 9, 0)),  # the opening itself
        ((2026, 6, 10, 13, 17), (2026, 6, 10, 13, 17)),
        ((2026, 6, 10, 19, 59), (2026, 6, 10, 19, 59)),  # last minute of the window
        ((2026, 6, 10, 20, 0), (2026, 6, 11, 9, 0)),  # closed: tomorrow's opening
        ((2026, 6, 10, 23, 30), (2026, 6, 11, 9, 0)),  # late evening, across midnight
        ((2026, 6, 30, 22, 0), (2026, 7, 1, 9, 0)),  # across a month end
        ((2026, 12, 31, 21, 0), (2027, 1, 1, 9, 0)),  # across a year end
    ],
)
def test_next_send_time_new_york(now_wall: tuple[int, ...], expected_wall: tuple[int, ...]) -> None:
    now = local(NEW_YORK, *now_wall)
    got = next_send_time(now, ZoneInfo(NEW_YORK), CONFIG)
    assert got == local(NEW_YORK, *expected_wall)
    assert in_window(got, ZoneInfo(NEW_YORK), CONFIG)


@pytest.mark.parametrize(
    ("zone", "now_wall", "expected_utc"),
    [
        # The evening before spring-forward: the next opening is 09:00 EDT (13:00 UTC).
        (NEW_YORK, (2026, 3, 7, 21, 0), utc(2026, 3, 8, 13)),
        # The evening before fall-back: 09:00 EST (14:00 UTC).
        (NEW_YORK, (2026, 10, 31, 22, 0), utc(2026, 11, 1, 14)),
        (BERLIN, (2026, 3, 28, 20, 0), utc(2026, 3, 29, 7)),
        (BERLIN, (2026, 10, 25, 1, 0), utc(2026, 10, 25, 8)),
        # Sydney, the night DST ends: 09:00 AEST (+10) the next day.
        (SYDNEY, (2026, 4, 4, 22, 0), utc(2026, 4, 4, 23)),
        (SYDNEY, (2026, 10, 3, 23, 0), utc(2026, 10, 3, 22)),
    ],
)
def test_next_send_time_across_dst_changes_opens_at_nine_local(
    zone: str, now_wall: tuple[int, ...], expected_utc: datetime
) -> None:
    got = next_send_time(local(zone, *now_wall), ZoneInfo(zone), CONFIG)
    assert got == expected_utc
    assert wall(got, zone).time() == time(9, 0)


def test_next_send_time_answers_in_the_patients_zone_not_utc() -> None:
    # 19:30 in New York is 23:30 UTC (outside a UTC window) but inside the patient's.
    now = local(NEW_YORK, 2026, 6, 10, 19, 30)
    assert next_send_time(now, ZoneInfo(NEW_YORK), CONFIG) == now
    # 08:00 in Sydney is 22:00 UTC the day before (inside a UTC window) but closed locally.
    early = local(SYDNEY, 2026, 6, 10, 8, 0)
    assert next_send_time(early, ZoneInfo(SYDNEY), CONFIG) == local(SYDNEY, 2026, 6, 10, 9)


@pytest.mark.parametrize(
    ("hour", "minute", "inside"),
    [(8, 59, False), (9, 0, True), (19, 59, True), (20, 0, False), (2, 0, False)],
)
def test_in_window_bounds(hour: int, minute: int, inside: bool) -> None:
    at = local(BERLIN, 2026, 7, 1, hour, minute)
    assert in_window(at, ZoneInfo(BERLIN), CONFIG) is inside
