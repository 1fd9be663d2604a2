"""At most one check-in start per patient per local day: the later one moves to the next
free day, and no path (collision, deferral, catch-up) may start two on one local day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from afterglow.core.schedule.plan import OccurrenceKind
from tests.core.schedule.driver import NEW_YORK, Sim, local, local_day, repeated_days, wall

D = date(2026, 3, 2)


def confirmation_meets_late_booster() -> Sim:
    """A probable relapse on 04-01 plans a confirmation on 04-06; then the record of a
    booster given on 03-30 arrives: its D+7 is 04-06 too."""
    sim = Sim(now=local(NEW_YORK, 2026, 3, 2, 12))
    sim.register(NEW_YORK)
    sim.infuse("inf-1")
    sim.advance(local(NEW_YORK, 2026, 4, 1, 12))
    sim.probable_relapse()
    sim.advance(local(NEW_YORK, 2026, 4, 1, 15))
    sim.infuse("inf-2", at=local(NEW_YORK, 2026, 3, 30, 14))
    return sim


def test_a_confirmation_and_a_follow_up_on_the_same_day_start_on_consecutive_days() -> None:
    sim = confirmation_meets_late_booster()
    sim.advance(local(NEW_YORK, 2026, 4, 20))
    days = {
        s.occurrence_id: wall(s.at, NEW_YORK)
        for s in sim.dues
        if s.at > local(NEW_YORK, 2026, 4, 2)
    }
    confirmation = next(k for k in days if k.startswith("confirm:"))
    assert sorted([days[confirmation], days["inf-2:d007"]]) == [
        datetime(2026, 4, 6, 10, 0),
        datetime(2026, 4, 7, 10, 0),
    ]
    assert days["inf-2:d014"] == datetime(2026, 4, 13, 10, 0)  # the rest is not shifted
    assert repeated_days(sim.signals, NEW_YORK) == {}


def enrolled_on_a_follow_up_day(hour: int, minute: int, day_offset: int = 7) -> Sim:
    """Infused on D before the registration arrived; enrolled without a baseline."""
    sim = Sim(now=local(NEW_YORK, 2026, 3, 2, 12))
    sim.infuse("inf-1")  # no time zone yet: nothing planned
    when = D + timedelta(days=day_offset)
    sim.advance(local(NEW_YORK, when.year, when.month, when.day, hour, minute))
    sim.register(NEW_YORK, baseline_known=False)
    sim.tick()
    sim.advance(local(NEW_YORK, 2026, 3, 20))
    return sim


def test_the_baseline_on_the_day_of_a_follow_up_both_start_on_different_days() -> None:
    sim = enrolled_on_a_follow_up_day(9, 30)
    starts = {s.kind: local_day(s.at, NEW_YORK) for s in sim.dues[:2]}
    assert set(starts) == {OccurrenceKind.BASELINE, OccurrenceKind.FOLLOWUP}
    assert sorted(starts.values()) == [D + timedelta(days=7), D + timedelta(days=8)]
    assert local_day(sim.dues[2].at, NEW_YORK) == D + timedelta(days=14)
    assert repeated_days(sim.signals, NEW_YORK) == {}


def test_a_baseline_due_at_the_next_opening_keeps_it_and_the_follow_up_moves() -> None:
    # Enrolled the evening before D+7: the baseline opens D+7 at 09:00, before the 10:00
    # follow-up, so the follow-up is the later one and moves to D+8.
    sim = enrolled_on_a_follow_up_day(21, 0, day_offset=6)
    assert [(s.kind, wall(s.at, NEW_YORK)) for s in sim.dues[:2]] == [
        (OccurrenceKind.BASELINE, datetime(2026, 3, 9, 9, 0)),
        (OccurrenceKind.FOLLOWUP, datetime(2026, 3, 10, 10, 0)),
    ]


def test_a_baseline_due_now_is_sent_now_and_the_later_follow_up_moves() -> None:
    # Enrolled at 09:30 on D+7: the baseline is due at once (in the window), the D+7
    # follow-up at 10:00 is the later of the two and moves to D+8 (docs/rules.md, "Check-in
    # schedule": "send a baseline PHQ-9 in the next send window").
    sim = enrolled_on_a_follow_up_day(9, 30)
    assert [(s.kind, wall(s.at, NEW_YORK)) for s in sim.dues[:2]] == [
        (OccurrenceKind.BASELINE, datetime(2026, 3, 9, 9, 30)),
        (OccurrenceKind.FOLLOWUP, datetime(2026, 3, 10, 10, 0)),
    ]


def test_a_check_in_deferred_overnight_does_not_start_on_a_day_that_has_one() -> None:
    sim = confirmation_meets_late_booster()
    starts = sorted(o.send_at for o in sim.pending())
    first, second = starts[0], starts[1]
    assert local_day(second, NEW_YORK) == local_day(first, NEW_YORK) + timedelta(days=1)
    # The worker is down from 09:30 to 20:30 on the first day: that check-in waits.
    sim.advance(first - timedelta(minutes=30))
    sim.jump(first + timedelta(hours=10, minutes=30))
    sim.tick()
    sim.advance(local(NEW_YORK, 2026, 4, 20))
    assert repeated_days(sim.signals, NEW_YORK) == {}


def test_after_a_long_outage_overdue_check_ins_do_not_all_start_at_once() -> None:
    sim = Sim(now=local(NEW_YORK, 2026, 3, 2, 12))
    sim.register(NEW_YORK)
    sim.infuse("inf-1")
    # The worker is down from D+6 to D+15 10:30; D+7 and D+14 are both overdue.
    sim.advance(local(NEW_YORK, 2026, 3, 8, 12))
    sim.jump(local(NEW_YORK, 2026, 3, 17, 10, 30))
    sim.tick()
    sim.advance(local(NEW_YORK, 2026, 4, 1))
    assert len(sim.dues) >= 2
    assert repeated_days(sim.signals, NEW_YORK) == {}
