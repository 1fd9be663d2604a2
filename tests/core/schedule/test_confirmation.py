"""A probable relapse adds a confirmatory check-in 5 local days later at 10:00."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from afterglow.core.schedule.plan import OccurrenceKind
from tests.core.schedule.driver import NEW_YORK, SYDNEY, Sim, local, local_day, ten_local, wall

D = date(2026, 2, 2)


def plan(zone: str = NEW_YORK) -> Sim:
    """Infused on D at 11:00; the D+28 check-in already sent."""
    sim = Sim(now=local(zone, 2026, 2, 2, 11))
    sim.register(zone)
    sim.infuse("inf-1")
    sim.advance(local(zone, 2026, 3, 3, 8))  # D+29
    return sim


def confirmations(sim: Sim) -> list:
    return [o for o in sim.schedule.occurrences if o.kind is OccurrenceKind.CONFIRMATORY]


def test_a_confirmatory_check_in_five_local_days_later_at_ten() -> None:
    sim = plan()
    probable = local(NEW_YORK, 2026, 3, 4, 16, 20)  # D+30; next follow-up D+42
    result = sim.probable_relapse(probable)
    expected = ten_local(date(2026, 3, 9), NEW_YORK)
    assert [e.due_at for e in result.index] == [expected]
    sim.advance(local(NEW_YORK, 2026, 3, 20))
    assert [(s.kind, s.at) for s in sim.dues[4:]] == [
        (OccurrenceKind.CONFIRMATORY, expected),
        (OccurrenceKind.FOLLOWUP, ten_local(D + timedelta(days=42), NEW_YORK)),
    ]


def test_five_local_days_count_from_the_patients_date_not_utc() -> None:
    # 23:00 on 2026-03-04 in New York is 2026-03-05 in UTC; the check-in is on 03-09.
    sim = plan()
    probable = local(NEW_YORK, 2026, 3, 4, 23, 0)
    assert probable.date() == date(2026, 3, 5)
    sim.probable_relapse(probable)
    (confirmation,) = confirmations(sim)
    assert wall(confirmation.send_at, NEW_YORK) == datetime(2026, 3, 9, 10, 0)


def test_a_confirmation_across_a_dst_change_is_still_ten_local() -> None:
    sim = plan(SYDNEY)  # Sydney leaves DST on 2026-04-05
    sim.advance(local(SYDNEY, 2026, 4, 2, 12))
    sim.probable_relapse()
    (confirmation,) = confirmations(sim)
    assert wall(confirmation.send_at, SYDNEY) == datetime(2026, 4, 7, 10, 0)
    sim.advance(local(SYDNEY, 2026, 4, 8))
    assert [wall(s.at, SYDNEY) for s in sim.dues if s.kind is OccurrenceKind.CONFIRMATORY] == [
        datetime(2026, 4, 7, 10, 0)
    ]


@pytest.mark.parametrize(
    ("days_before_followup", "added"),
    [(3, True), (4, True), (5, False), (6, False), (7, False), (8, True), (9, True)],
)
def test_no_confirmation_when_a_check_in_is_already_planned_5_to_7_days_later(
    days_before_followup: int, added: bool
) -> None:
    sim = plan()
    followup_day = D + timedelta(days=42)
    day = followup_day - timedelta(days=days_before_followup)
    probable = local(NEW_YORK, day.year, day.month, day.day, 13)
    sim.advance(probable)
    sim.probable_relapse()
    got = [local_day(o.send_at, NEW_YORK) for o in confirmations(sim)]
    assert got == ([local_day(probable, NEW_YORK) + timedelta(days=5)] if added else [])
    sim.advance(sim.now + timedelta(days=10))
    kinds = [s.kind for s in sim.dues]
    assert kinds.count(OccurrenceKind.CONFIRMATORY) == (1 if added else 0)


def test_the_same_probable_relapse_twice_adds_one_confirmation() -> None:
    sim = plan()
    probable = local(NEW_YORK, 2026, 3, 4, 16, 20)
    sim.probable_relapse(probable)
    assert sim.probable_relapse(probable).index == []
    # The same instant written in another zone is the same probable relapse.
    assert sim.probable_relapse(probable.astimezone(ZoneInfo(SYDNEY))).index == []
    assert len(confirmations(sim)) == 1
    sim.advance(local(NEW_YORK, 2026, 3, 20))
    assert [s.kind for s in sim.dues].count(OccurrenceKind.CONFIRMATORY) == 1


def test_two_separate_probable_relapses_get_a_confirmation_each() -> None:
    sim = plan()
    sim.advance(local(NEW_YORK, 2026, 3, 4, 12))
    sim.probable_relapse()
    sim.advance(local(NEW_YORK, 2026, 4, 14, 12))  # D+71, next follow-up D+84
    sim.probable_relapse()
    sim.advance(local(NEW_YORK, 2026, 5, 1))
    assert [
        wall(s.at, NEW_YORK).date() for s in sim.dues if s.kind is OccurrenceKind.CONFIRMATORY
    ] == [date(2026, 3, 9), date(2026, 4, 19)]
