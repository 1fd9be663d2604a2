"""The baseline check-in for a patient enrolled without a baseline score."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from afterglow.core.schedule.plan import OccurrenceKind, OccurrenceStatus
from afterglow.core.schedule.planner import DueAction, SignalType
from tests.core.schedule.driver import BERLIN, NEW_YORK, Sim, local, wall

MONTH = timedelta(days=30)


def baselines(sim: Sim) -> list[datetime]:
    return [s.at for s in sim.dues if s.kind is OccurrenceKind.BASELINE]


def test_inside_the_window_the_baseline_is_due_immediately() -> None:
    now = local(NEW_YORK, 2026, 5, 4, 14, 7)
    sim = Sim(now=now)
    result = sim.register(NEW_YORK, baseline_known=False)
    assert [(e.action, e.occurrence_id, e.due_at) for e in result.index] == [
        (DueAction.START, "baseline", now)
    ]
    signals = sim.tick()
    assert [(s.type, s.kind, s.at) for s in signals] == [
        (SignalType.CHECKIN_DUE, OccurrenceKind.BASELINE, now)
    ]


@pytest.mark.parametrize(
    ("enrolled", "expected"),
    [
        ((2026, 5, 4, 7, 0), datetime(2026, 5, 4, 9, 0)),  # early morning: this morning
        ((2026, 5, 4, 20, 0), datetime(2026, 5, 5, 9, 0)),  # window just closed
        ((2026, 5, 4, 23, 45), datetime(2026, 5, 5, 9, 0)),  # late evening
        ((2026, 3, 28, 21, 0), datetime(2026, 3, 29, 9, 0)),  # the night clocks change
    ],
)
def test_outside_the_window_the_baseline_waits_for_the_next_opening(
    enrolled: tuple[int, ...], expected: datetime
) -> None:
    sim = Sim(now=local(BERLIN, *enrolled))
    sim.register(BERLIN, baseline_known=False)
    sim.advance(sim.now + MONTH)
    assert [wall(at, BERLIN) for at in baselines(sim)] == [expected]


def test_with_a_baseline_score_there_is_no_baseline_check_in() -> None:
    sim = Sim(now=local(NEW_YORK, 2026, 5, 4, 14))
    result = sim.register(NEW_YORK, baseline_known=True)
    assert result.index == []
    sim.advance(sim.now + MONTH)
    assert sim.signals == []
    assert sim.schedule.occurrences == []


def test_a_baseline_score_arriving_later_cancels_the_pending_baseline() -> None:
    sim = Sim(now=local(NEW_YORK, 2026, 5, 4, 21))
    sim.register(NEW_YORK, baseline_known=False)
    assert [o.occurrence_id for o in sim.pending()] == ["baseline"]
    sim.advance(local(NEW_YORK, 2026, 5, 4, 22, 30))
    sim.register(NEW_YORK, baseline_known=True)
    baseline = sim.occurrence("baseline")
    assert baseline.status is OccurrenceStatus.CANCELLED
    assert baseline.reason
    sim.advance(sim.now + MONTH)
    assert sim.signals == []


def test_a_registration_update_does_not_plan_a_second_baseline() -> None:
    sim = Sim(now=local(NEW_YORK, 2026, 5, 4, 11))
    sim.register(NEW_YORK, baseline_known=False)
    sim.tick()
    assert len(baselines(sim)) == 1
    # Updates still without a score: while it is open, and after it expired unanswered.
    sim.advance(sim.now + timedelta(hours=3))
    assert sim.register(NEW_YORK, baseline_known=False).index == []
    sim.advance(sim.now + timedelta(days=5))
    assert sim.occurrence("baseline").status is OccurrenceStatus.EXPIRED
    assert sim.register(NEW_YORK, baseline_known=False).index == []
    sim.advance(sim.now + MONTH)
    assert len(baselines(sim)) == 1
    assert sim.occurrence("baseline").status is OccurrenceStatus.EXPIRED


def test_a_completed_baseline_is_not_asked_again_after_an_infusion() -> None:
    sim = Sim(now=local(NEW_YORK, 2026, 5, 4, 11))
    sim.register(NEW_YORK, baseline_known=False)
    sim.tick()
    sim.advance(sim.now + timedelta(hours=2))
    sim.complete("baseline")
    sim.advance(local(NEW_YORK, 2026, 5, 6, 12))
    sim.infuse("inf-1")
    sim.register(NEW_YORK, baseline_known=False)
    sim.advance(sim.now + MONTH)
    assert len(baselines(sim)) == 1
    assert [s.kind for s in sim.dues[1:]] == [OccurrenceKind.FOLLOWUP] * 4
