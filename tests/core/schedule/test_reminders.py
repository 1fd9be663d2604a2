"""Reminders at +24 h and +48 h, expiry at +72 h, completion, the window, entry ids."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from afterglow.core.schedule.plan import OccurrenceKind, OccurrenceStatus
from afterglow.core.schedule.planner import DueAction, DueEntry, SignalType
from tests.core.schedule.driver import NEW_YORK, SYDNEY, Sim, local, wall

H = timedelta(hours=1)


def started(zone: str = NEW_YORK) -> tuple[Sim, str, datetime]:
    """A patient whose D+7 check-in was just dispatched at 10:00 local."""
    sim = Sim(now=local(zone, 2026, 6, 1, 12))
    sim.register(zone)
    sim.infuse("inf-1")
    due = local(zone, 2026, 6, 8, 10)
    sim.advance(due)
    assert [(s.type, s.at) for s in sim.signals] == [(SignalType.CHECKIN_DUE, due)]
    return sim, "inf-1:d007", due


def steps(sim: Sim, occurrence_id: str) -> list[tuple[SignalType, int, datetime]]:
    return [(s.type, s.number, s.at) for s in sim.signals if s.occurrence_id == occurrence_id]


def test_an_unanswered_check_in_gets_two_reminders_then_expires() -> None:
    sim, occ, t = started()
    sim.advance(t + 5 * 24 * H)
    assert steps(sim, occ) == [
        (SignalType.CHECKIN_DUE, 0, t),
        (SignalType.CHECKIN_REMINDER, 1, t + 24 * H),
        (SignalType.CHECKIN_REMINDER, 2, t + 48 * H),
        (SignalType.CHECKIN_EXPIRED, 0, t + 72 * H),
    ]
    assert sim.occurrence(occ).status is OccurrenceStatus.EXPIRED
    reminder = next(s for s in sim.signals if s.type is SignalType.CHECKIN_REMINDER)
    assert reminder.kind is OccurrenceKind.FOLLOWUP
    assert reminder.planned_at == t


def test_dispatch_indexes_the_reminders_and_the_expiry() -> None:
    sim, occ, t = started()
    follow = sorted(
        (e for e in sim.index.values() if e.occurrence_id == occ), key=lambda e: e.due_at
    )
    assert [(e.action, e.number, e.due_at) for e in follow] == [
        (DueAction.REMINDER, 1, t + 24 * H),
        (DueAction.REMINDER, 2, t + 48 * H),
        (DueAction.EXPIRE, 0, t + 72 * H),
    ]


def test_completed_after_the_first_reminder_no_second_reminder_and_no_expiry() -> None:
    sim, occ, t = started()
    sim.advance(t + 30 * H)
    assert sim.complete(occ) is True
    sim.advance(t + 10 * 24 * H)
    assert steps(sim, occ) == [
        (SignalType.CHECKIN_DUE, 0, t),
        (SignalType.CHECKIN_REMINDER, 1, t + 24 * H),
    ]
    assert sim.occurrence(occ).status is OccurrenceStatus.COMPLETED


def test_completed_before_the_first_reminder_gets_no_reminder() -> None:
    sim, occ, t = started()
    sim.advance(t + 2 * H)
    sim.complete(occ)
    sim.advance(t + 10 * 24 * H)
    assert steps(sim, occ) == [(SignalType.CHECKIN_DUE, 0, t)]


def test_completing_twice_or_an_unknown_check_in_changes_nothing() -> None:
    sim, occ, t = started()
    sim.advance(t + H)
    assert sim.complete(occ) is True
    assert sim.complete(occ) is False
    assert sim.complete("no-such-occurrence") is False
    # A pending (not yet sent) check-in cannot be completed.
    assert sim.complete("inf-1:d014") is False
    assert sim.occurrence("inf-1:d014").status is OccurrenceStatus.PENDING


def test_a_reminder_falling_in_the_evening_moves_to_the_next_opening() -> None:
    # Enrolled without a baseline at 19:30 on the Saturday before spring-forward: the
    # baseline goes out at once. 24 h later it is 20:30 EDT, after the window closes.
    zone = NEW_YORK
    sim = Sim(now=local(zone, 2026, 3, 7, 19, 30))
    sim.register(zone, baseline_known=False)
    sim.tick()
    sim.advance(local(zone, 2026, 3, 14))
    got = [(s.type, s.number, wall(s.at, zone)) for s in sim.signals]
    assert got == [
        (SignalType.CHECKIN_DUE, 0, datetime(2026, 3, 7, 19, 30)),
        (SignalType.CHECKIN_REMINDER, 1, datetime(2026, 3, 9, 9, 0)),
        (SignalType.CHECKIN_REMINDER, 2, datetime(2026, 3, 10, 9, 0)),
        # The expiry is not a text: exactly 72 h after the start, whatever the hour.
        (SignalType.CHECKIN_EXPIRED, 0, datetime(2026, 3, 10, 20, 30)),
    ]


def test_a_reminder_reached_late_by_the_worker_waits_for_the_next_opening() -> None:
    zone = SYDNEY
    sim = Sim(now=local(zone, 2026, 7, 1, 19, 45))
    sim.register(zone, baseline_known=False)
    sim.tick()  # the baseline starts at 19:45
    sim.jump(local(zone, 2026, 7, 2, 21, 0))  # the worker was down 19:30-21:00
    sim.tick()
    assert [s.type for s in sim.signals] == [SignalType.CHECKIN_DUE]
    sim.advance(local(zone, 2026, 7, 8), step=timedelta(minutes=5))
    reminders = [s for s in sim.signals if s.type is SignalType.CHECKIN_REMINDER]
    assert [(s.number, wall(s.at, zone)) for s in reminders] == [
        (1, datetime(2026, 7, 3, 9, 0)),
        (2, datetime(2026, 7, 3, 19, 45)),
    ]
    for s in sim.signals:
        if s.type is not SignalType.CHECKIN_EXPIRED:
            assert time(9) <= wall(s.at, zone).time() < time(20)


def full_year(patient_id: str) -> Sim:
    sim = Sim(now=local(NEW_YORK, 2026, 2, 1, 8), patient_id=patient_id)
    sim.register(NEW_YORK, baseline_known=False)
    sim.advance(local(NEW_YORK, 2026, 2, 3, 12))
    sim.infuse("inf-1")
    sim.advance(local(NEW_YORK, 2026, 3, 9, 12))
    sim.probable_relapse()
    sim.advance(local(NEW_YORK, 2027, 3, 1))
    return sim


def test_entry_ids_are_deterministic_and_unique() -> None:
    one, two = full_year("pt-1"), full_year("pt-1")
    ids = [s.entry_id for s in one.signals]
    assert ids == [s.entry_id for s in two.signals]
    assert len(ids) == len(set(ids))
    # 17 follow-ups + baseline + confirmation, each: start, 2 reminders, expiry.
    assert len(ids) == 19 * 4
    # The same step of the same check-in has the same id whenever it is due...
    first = DueEntry("pt-1", "inf-1:d007", DueAction.REMINDER, local(NEW_YORK, 2026, 3, 1), 1)
    moved = DueEntry("pt-1", "inf-1:d007", DueAction.REMINDER, local(NEW_YORK, 2026, 3, 2), 1)
    assert first.entry_id == moved.entry_id
    # ...and differs between steps, check-ins and patients.
    other = full_year("pt-2")
    assert not set(ids) & {s.entry_id for s in other.signals}
    per_step = {
        DueEntry("pt-1", "inf-1:d007", action, first.due_at, n).entry_id
        for action, n in [
            (DueAction.START, 0),
            (DueAction.REMINDER, 1),
            (DueAction.REMINDER, 2),
            (DueAction.EXPIRE, 0),
        ]
    }
    assert len(per_step) == 4
