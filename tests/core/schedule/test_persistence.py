"""PatientSchedule.to_dict/from_dict: a plan stored mid-way (through JSON) behaves the same."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import cache

import pytest

from afterglow.core.schedule.plan import OccurrenceStatus, PatientSchedule
from afterglow.core.schedule.planner import DueEntry, SignalType
from tests.core.schedule.driver import BERLIN, NEW_YORK, Sim, local

Step = Callable[[Sim], object]


def at(*wall: int) -> datetime:
    return local(NEW_YORK, *wall)


# A busy year: baseline, infusion, a check-in open across the store, a confirmation, STOP and
# START, a booster, a completion, a night-time catch-up and a move to another zone.
SCRIPT: list[tuple[datetime, Step]] = [
    (at(2026, 3, 1, 21), lambda s: s.register(NEW_YORK, baseline_known=False)),
    (at(2026, 3, 2, 12), lambda s: s.infuse("inf-1")),
    (at(2026, 3, 9, 11), lambda s: None),  # D+7 open, reminders pending
    (at(2026, 3, 10, 12), lambda s: s.complete("inf-1:d007")),
    (at(2026, 3, 31, 12), lambda s: s.probable_relapse()),
    (at(2026, 4, 2, 12), lambda s: s.opt_out()),
    (at(2026, 4, 3, 8), lambda s: s.opt_in()),
    (at(2026, 4, 3, 9), lambda s: s.opt_out(at=at(2026, 4, 2, 12))),  # the STOP replayed
    (at(2026, 4, 10, 15), lambda s: s.infuse("inf-2")),
    (at(2026, 4, 17, 9), lambda s: s.jump(at(2026, 4, 17, 21))),  # worker down over 10:00
    (at(2026, 4, 17, 21), lambda s: s.tick()),
    (at(2026, 5, 1, 12), lambda s: s.register(BERLIN)),
    (at(2026, 5, 20, 12), lambda s: s.infuse("late", at=at(2026, 3, 20, 12))),
    (at(2027, 6, 1, 0), lambda s: None),
]


def roundtrip(sim: Sim, *, index_too: bool) -> None:
    stored = json.loads(json.dumps(sim.schedule.to_dict()))
    sim.schedule = PatientSchedule.from_dict(stored)
    if index_too:
        entries = json.loads(json.dumps([e.to_dict() for e in sim.index.values()]))
        sim.index = {e.entry_id: e for e in map(DueEntry.from_dict, entries)}


def run(store_after: set[int], *, index_too: bool = False) -> Sim:
    sim = Sim(now=at(2026, 3, 1, 20))
    for number, (when, step) in enumerate(SCRIPT):
        sim.advance(when)
        step(sim)
        if number in store_after:
            roundtrip(sim, index_too=index_too)
    return sim


def observable(sim: Sim) -> list[tuple[object, ...]]:
    return [
        (s.type, s.entry_id, s.occurrence_id, s.kind, s.planned_at, s.at, s.number)
        for s in sim.signals
    ]


@cache
def reference() -> Sim:
    return run(set())


def test_the_script_exercises_the_planner() -> None:
    sim = reference()
    assert len(sim.dues) >= 20
    assert {s.type for s in sim.signals} == set(SignalType)
    assert sim.occurrence("inf-1:d007").status is OccurrenceStatus.COMPLETED
    assert any(o.status is OccurrenceStatus.CANCELLED for o in sim.schedule.occurrences)


@pytest.mark.parametrize(
    "store_after", [{1}, {2}, {4}, {5}, {6}, {9}, {10}, set(range(len(SCRIPT)))]
)
def test_storing_mid_plan_changes_nothing_that_follows(store_after: set[int]) -> None:
    sim = run(store_after)
    assert observable(sim) == observable(reference())
    assert sim.schedule.to_dict() == reference().schedule.to_dict()


def test_storing_the_due_index_too_changes_nothing() -> None:
    sim = run(set(range(len(SCRIPT))), index_too=True)
    assert observable(sim) == observable(reference())


def test_to_dict_from_dict_is_an_identity_on_the_stored_form() -> None:
    sim = Sim(now=at(2026, 3, 1, 20))
    for when, step in SCRIPT[:8]:
        sim.advance(when)
        step(sim)
        stored = sim.schedule.to_dict()
        again = PatientSchedule.from_dict(json.loads(json.dumps(stored)))
        assert again.to_dict() == stored
        assert again == sim.schedule
