"""Due entries reached late or outside the window, and stale entries."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from afterglow.core.schedule.plan import OccurrenceStatus
from afterglow.core.schedule.planner import (
    DueAction,
    DueEntry,
    PlannerResult,
    SignalType,
    on_due,
)
from tests.core.schedule.driver import BERLIN, NEW_YORK, Sim, local, wall

D = date(2026, 6, 1)


def infused(zone: str = NEW_YORK, year: int = 2026, month: int = 6, day: int = 1) -> Sim:
    sim = Sim(now=local(zone, year, month, day, 12))
    sim.register(zone)
    sim.infuse("inf-1")
    return sim


def assert_nothing(result: PlannerResult) -> None:
    assert result.signals == []
    assert result.index == []


def start_entry(sim: Sim, occurrence_id: str) -> DueEntry:
    return sim.index[f"{sim.patient_id}:{occurrence_id}:start"]


@pytest.mark.parametrize(
    "back_at",
    [(2026, 6, 8, 22, 0), (2026, 6, 8, 23, 59), (2026, 6, 9, 3, 0), (2026, 6, 9, 8, 45)],
)
def test_a_check_in_reached_at_night_waits_for_the_next_opening(back_at: tuple[int, ...]) -> None:
    sim = infused()
    sim.advance(local(NEW_YORK, 2026, 6, 8, 9))
    sim.jump(local(NEW_YORK, *back_at))  # the worker was down over 10:00
    assert sim.tick() == []
    assert start_entry(sim, "inf-1:d007").due_at == local(NEW_YORK, 2026, 6, 9, 9)
    sim.advance(local(NEW_YORK, 2026, 6, 12))
    assert [(s.occurrence_id, wall(s.at, NEW_YORK)) for s in sim.dues] == [
        ("inf-1:d007", datetime(2026, 6, 9, 9, 0))
    ]


def test_a_deferral_across_the_spring_forward_night_opens_at_nine_local() -> None:
    sim = infused(BERLIN, 2026, 3, 21)  # D+7 is Saturday 03-28, clocks change that night
    sim.advance(local(BERLIN, 2026, 3, 28, 9))
    sim.jump(local(BERLIN, 2026, 3, 28, 23, 30))
    sim.tick()
    sim.advance(local(BERLIN, 2026, 3, 30))
    assert [wall(s.at, BERLIN) for s in sim.dues] == [datetime(2026, 3, 29, 9, 0)]


def test_a_check_in_reached_late_but_inside_the_window_goes_out_at_once() -> None:
    sim = infused()
    sim.advance(local(NEW_YORK, 2026, 6, 8, 9))
    sim.jump(local(NEW_YORK, 2026, 6, 8, 15, 10))
    assert [wall(s.at, NEW_YORK) for s in sim.tick()] == [datetime(2026, 6, 8, 15, 10)]


def test_a_stale_entry_of_a_cancelled_check_in_does_nothing() -> None:
    sim = infused()
    entry = start_entry(sim, "inf-1:d014")
    sim.advance(local(NEW_YORK, 2026, 6, 10, 12))
    sim.opt_out()
    result = on_due(sim.schedule, entry, entry.due_at, sim.config)
    assert_nothing(result)
    assert sim.occurrence("inf-1:d014").status is OccurrenceStatus.CANCELLED


def test_a_stale_entry_of_a_check_in_replanned_to_another_time_does_nothing() -> None:
    sim = infused()
    old = start_entry(sim, "inf-1:d014")
    sim.advance(local(NEW_YORK, 2026, 6, 10, 12))
    sim.register(BERLIN)  # d014 now at 10:00 Berlin, 6 hours earlier
    new = start_entry(sim, "inf-1:d014")
    assert new.due_at == local(BERLIN, 2026, 6, 15, 10) != old.due_at
    sim.advance(sim.now + timedelta(days=6))
    assert [s.at for s in sim.dues] == [local(NEW_YORK, 2026, 6, 8, 10), new.due_at]
    # The old entry, still lying around in some index, is reached: nothing happens.
    result = on_due(sim.schedule, old, old.due_at, sim.config)
    assert_nothing(result)
    assert sim.occurrence("inf-1:d014").dispatched_at == new.due_at


def test_a_stale_entry_of_the_plan_before_a_booster_does_nothing() -> None:
    sim = infused()
    old = start_entry(sim, "inf-1:d042")
    sim.advance(local(NEW_YORK, 2026, 7, 1, 12))
    sim.infuse("inf-2")
    result = on_due(sim.schedule, old, old.due_at, sim.config)
    assert_nothing(result)
    assert sim.occurrence("inf-1:d042").status is OccurrenceStatus.CANCELLED


def test_the_original_entry_of_a_deferred_check_in_does_nothing() -> None:
    sim = infused()
    original = start_entry(sim, "inf-1:d007")
    sim.advance(local(NEW_YORK, 2026, 6, 8, 9))
    sim.jump(local(NEW_YORK, 2026, 6, 8, 21))
    sim.tick()  # deferred to 09:00 tomorrow
    morning = local(NEW_YORK, 2026, 6, 9, 9, 30)
    result = on_due(sim.schedule, original, morning, sim.config)
    assert_nothing(result)
    assert sim.occurrence("inf-1:d007").status is OccurrenceStatus.PENDING


def test_entries_of_a_completed_check_in_start_nothing_new() -> None:
    sim = infused()
    start = start_entry(sim, "inf-1:d007")
    sim.advance(local(NEW_YORK, 2026, 6, 8, 11))
    (due,) = sim.dues
    sim.complete("inf-1:d007")
    later = local(NEW_YORK, 2026, 6, 9, 10)
    for entry in (
        DueEntry(sim.patient_id, "inf-1:d007", DueAction.REMINDER, later, 1),
        DueEntry(sim.patient_id, "inf-1:d007", DueAction.EXPIRE, later),
    ):
        result = on_due(sim.schedule, entry, later, sim.config)
        assert_nothing(result)
    # Reaching the start entry again (a replay) may repeat the very same signal, for
    # consumers to dedupe, but never starts the check-in anew.
    result = on_due(sim.schedule, start, later, sim.config)
    assert all(
        (s.type, s.entry_id, s.at) == (due.type, due.entry_id, due.at) for s in result.signals
    )
    sim.apply(result)
    sim.advance(local(NEW_YORK, 2026, 6, 13))
    assert not [s for s in sim.signals if s.type is not SignalType.CHECKIN_DUE]
    assert sim.occurrence("inf-1:d007").status is OccurrenceStatus.COMPLETED


def test_an_entry_for_an_unknown_check_in_or_patient_state_does_nothing() -> None:
    sim = infused()
    ghost = DueEntry(sim.patient_id, "inf-9:d007", DueAction.START, sim.now)
    result = on_due(sim.schedule, ghost, sim.now, sim.config)
    assert_nothing(result)
