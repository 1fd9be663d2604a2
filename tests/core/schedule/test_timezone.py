"""A registered patient's time zone changes: pending check-ins move to 10:00 in the new zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from afterglow.core.schedule.plan import OccurrenceStatus
from afterglow.core.schedule.planner import SignalType
from tests.core.schedule.driver import (
    BERLIN,
    EXPECTED_DAYS,
    LOS_ANGELES,
    NEW_YORK,
    Sim,
    days_after,
    local,
    repeated_days,
    ten_local,
    wall,
)

D = date(2026, 5, 1)


def test_pending_check_ins_move_to_ten_in_the_new_zone() -> None:
    sim = Sim(now=local(NEW_YORK, 2026, 5, 1, 12))  # 18:00 in Berlin: the same date
    sim.register(NEW_YORK)
    sim.infuse("inf-1")
    sim.advance(local(NEW_YORK, 2026, 5, 11, 12))  # D+10: D+7 sent in New York
    result = sim.register(BERLIN)
    assert sorted(e.due_at for e in result.index) == [
        ten_local(D + timedelta(days=n), BERLIN) for n in EXPECTED_DAYS[1:]
    ]
    assert all(o.send_at.astimezone(ZoneInfo(BERLIN)).time() == time(10) for o in sim.pending())
    sim.advance(sim.now + timedelta(days=400))
    first, *rest = sim.dues
    assert wall(first.at, NEW_YORK) == datetime(2026, 5, 8, 10, 0)
    assert days_after(rest, D, BERLIN) == EXPECTED_DAYS[1:]
    assert [s.at for s in rest] == [
        ten_local(D + timedelta(days=n), BERLIN) for n in EXPECTED_DAYS[1:]
    ]


def test_an_open_check_in_keeps_its_times_but_reminders_follow_the_new_window() -> None:
    sim = Sim(now=local(NEW_YORK, 2026, 5, 1, 12))
    sim.register(NEW_YORK)
    sim.infuse("inf-1")
    sim.advance(local(NEW_YORK, 2026, 5, 8, 11))  # D+7 sent at 10:00 New York
    sim.register(LOS_ANGELES)
    sim.advance(local(NEW_YORK, 2026, 5, 12))
    d007 = [(s.type, s.at) for s in sim.signals if s.occurrence_id == "inf-1:d007"]
    t = local(NEW_YORK, 2026, 5, 8, 10)
    # +24 h is 07:00 in Los Angeles: the reminders wait for 09:00 there.
    assert d007 == [
        (SignalType.CHECKIN_DUE, t),
        (SignalType.CHECKIN_REMINDER, local(LOS_ANGELES, 2026, 5, 9, 9)),
        (SignalType.CHECKIN_REMINDER, local(LOS_ANGELES, 2026, 5, 10, 9)),
        (SignalType.CHECKIN_EXPIRED, t + timedelta(hours=72)),
    ]
    assert sim.occurrence("inf-1:d007").status is OccurrenceStatus.EXPIRED


def test_a_zone_change_on_a_check_in_day_does_not_lose_that_check_in() -> None:
    # Pending today at 10:00 Los Angeles (13:00 New York). At 11:00 New York the patient
    # moves to New York: 10:00 New York has just passed, but the check-in was never sent.
    sim = Sim(now=local(LOS_ANGELES, 2026, 5, 1, 12))
    sim.register(LOS_ANGELES)
    sim.infuse("inf-1")
    sim.advance(local(NEW_YORK, 2026, 5, 8, 11))
    assert sim.occurrence("inf-1:d007").status is OccurrenceStatus.PENDING
    sim.register(NEW_YORK)
    sim.advance(local(NEW_YORK, 2026, 5, 20))
    d007 = [s for s in sim.dues if s.occurrence_id == "inf-1:d007"]
    assert len(d007) == 1, "the D+7 check-in was silently dropped"
    assert time(9) <= wall(d007[0].at, NEW_YORK).time() < time(20)
    assert repeated_days(sim.signals, NEW_YORK) == {}
