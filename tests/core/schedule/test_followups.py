"""One infusion: the follow-up check-ins D+7 ... D+354 at 10:00 local, nothing after D+365."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from afterglow.core.schedule.config import DEFAULT_FOLLOWUP_DAYS, ScheduleConfig
from afterglow.core.schedule.plan import OccurrenceKind
from afterglow.core.schedule.planner import DueAction, SignalType
from tests.core.schedule.driver import (
    BERLIN,
    EXPECTED_DAYS,
    NEW_YORK,
    SYDNEY,
    Sim,
    days_after,
    followups,
    local,
    local_day,
    ten_local,
    wall,
)


def test_the_default_plan_is_the_clinical_schedule() -> None:
    assert list(DEFAULT_FOLLOWUP_DAYS) == EXPECTED_DAYS
    assert len(EXPECTED_DAYS) == 17
    assert EXPECTED_DAYS[-1] == 354


def run_one_infusion(zone: str, infusion: datetime) -> Sim:
    sim = Sim(now=infusion - timedelta(days=2))
    sim.register(zone)
    sim.advance(infusion)
    sim.infuse("inf-1")
    sim.advance(infusion + timedelta(days=500))
    return sim


# Infusions placed so that the first weeks of follow-up cross a DST change.
DST_CASES = [
    (NEW_YORK, (2026, 2, 20, 13, 0)),  # spring forward on D+16
    (NEW_YORK, (2026, 10, 15, 9, 0)),  # fall back on D+17
    (BERLIN, (2026, 3, 15, 16, 0)),  # spring forward on D+14
    (SYDNEY, (2026, 3, 20, 11, 0)),  # DST ends on D+16
    (SYDNEY, (2026, 9, 20, 15, 0)),  # DST starts on D+14
]


@pytest.mark.parametrize(("zone", "infusion_wall"), DST_CASES)
def test_one_infusion_gives_exactly_the_17_follow_ups_at_ten_local(
    zone: str, infusion_wall: tuple[int, ...]
) -> None:
    infusion = local(zone, *infusion_wall)
    d = local_day(infusion, zone)
    sim = run_one_infusion(zone, infusion)

    dues = sim.dues
    assert days_after(dues, d, zone) == EXPECTED_DAYS
    assert [s.at for s in dues] == [ten_local(d + timedelta(days=n), zone) for n in EXPECTED_DAYS]
    assert all(wall(s.at, zone).time() == time(10, 0) for s in dues)
    assert all(s.kind is OccurrenceKind.FOLLOWUP for s in dues)
    assert len({s.occurrence_id for s in dues}) == 17
    # Nothing at all once follow-up has ended.
    assert all(s.at <= infusion + timedelta(days=365) for s in sim.signals)


@pytest.mark.parametrize(("zone", "infusion_wall"), DST_CASES)
def test_the_plan_is_in_the_index_as_soon_as_the_infusion_arrives(
    zone: str, infusion_wall: tuple[int, ...]
) -> None:
    infusion = local(zone, *infusion_wall)
    d = local_day(infusion, zone)
    sim = Sim(now=infusion)
    sim.register(zone)
    result = sim.infuse("inf-1")
    assert [e.action for e in result.index] == [DueAction.START] * 17
    assert sorted(e.due_at for e in result.index) == [
        ten_local(d + timedelta(days=n), zone) for n in EXPECTED_DAYS
    ]


def test_two_patients_in_different_zones_get_ten_oclock_in_their_own_zone() -> None:
    # The same instant: 2026-03-20 12:00 UTC is 08:00 in New York, 13:00 in Berlin.
    infusion = datetime.fromisoformat("2026-03-20T12:00:00+00:00")
    ny = run_one_infusion(NEW_YORK, infusion)
    berlin = run_one_infusion(BERLIN, infusion)
    assert days_after(ny.dues, date(2026, 3, 20), NEW_YORK) == EXPECTED_DAYS
    assert days_after(berlin.dues, date(2026, 3, 20), BERLIN) == EXPECTED_DAYS
    assert {wall(s.at, NEW_YORK).time() for s in ny.dues} == {time(10, 0)}
    assert {wall(s.at, BERLIN).time() for s in berlin.dues} == {time(10, 0)}
    # D+7 (2026-03-27) is 10:00 EDT (14:00 UTC) and 10:00 CET (09:00 UTC).
    assert ny.dues[0].at == datetime.fromisoformat("2026-03-27T14:00:00+00:00")
    assert berlin.dues[0].at == datetime.fromisoformat("2026-03-27T09:00:00+00:00")


@pytest.mark.parametrize(
    ("zone", "infusion_wall", "utc_day"),
    [
        # 23:30 in New York is already the next day in UTC.
        (NEW_YORK, (2026, 6, 10, 23, 30), date(2026, 6, 11)),
        # 07:00 in Sydney is still the previous day in UTC.
        (SYDNEY, (2026, 6, 10, 7, 0), date(2026, 6, 9)),
    ],
)
def test_d_is_the_local_date_of_the_infusion(
    zone: str, infusion_wall: tuple[int, ...], utc_day: date
) -> None:
    infusion = local(zone, *infusion_wall)
    assert infusion.date() == utc_day  # the trap this test is about
    sim = run_one_infusion(zone, infusion)
    assert days_after(sim.dues, date(2026, 6, 10), zone) == EXPECTED_DAYS


def test_no_check_in_after_the_last_follow_up() -> None:
    infusion = local(BERLIN, 2026, 1, 5, 14, 0)
    sim = run_one_infusion(BERLIN, infusion)
    last = sim.dues[-1]
    assert local_day(last.at, BERLIN) == date(2026, 1, 5) + timedelta(days=354)
    assert sim.signals[-1].type is SignalType.CHECKIN_EXPIRED
    assert sim.signals[-1].occurrence_id == last.occurrence_id
    assert sim.index == {}  # nothing left to do
    assert len(followups(sim.signals)) == 17


@pytest.mark.parametrize("hour", [9, 11])
def test_a_clinic_schedule_never_reaches_past_365_days(hour: int) -> None:
    config = ScheduleConfig(followup_days=(7, 364, 366, 400))
    infusion = local(NEW_YORK, 2026, 5, 5, hour)
    sim = Sim(now=infusion, config=config)
    sim.register(NEW_YORK)
    sim.infuse("inf-1")
    sim.advance(infusion + timedelta(days=500))
    assert days_after(sim.dues, date(2026, 5, 5), NEW_YORK) == [7, 364]
