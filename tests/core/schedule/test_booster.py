"""A booster re-plans from its own local date; history stays; late records do not re-anchor."""

from __future__ import annotations

from datetime import date, timedelta

from afterglow.core.schedule.plan import OccurrenceStatus
from afterglow.core.schedule.planner import SignalType
from tests.core.schedule.driver import (
    BERLIN,
    EXPECTED_DAYS,
    NEW_YORK,
    Sim,
    days_after,
    followups,
    local,
    local_day,
    ten_local,
)

D = date(2026, 1, 12)
BOOSTER_DAY = D + timedelta(days=35)  # 2026-02-16, between D+28 and D+42


def with_booster(zone: str = NEW_YORK) -> Sim:
    sim = Sim(now=local(zone, 2026, 1, 12, 11))
    sim.register(zone)
    sim.infuse("inf-1")
    sim.advance(local(zone, 2026, 2, 16, 15))
    sim.infuse("inf-2")
    return sim


def test_a_booster_cancels_the_pending_plan_naming_the_infusion() -> None:
    sim = with_booster()
    old_pending = [o for o in sim.schedule.occurrences if o.anchor == "inf-1"]
    cancelled = [o for o in old_pending if o.status is OccurrenceStatus.CANCELLED]
    assert [o.occurrence_id for o in cancelled] == [
        f"inf-1:d{n:03d}" for n in EXPECTED_DAYS if n > 35
    ]
    assert all("inf-2" in (o.reason or "") for o in cancelled)
    assert all(o.closed_at == sim.now for o in cancelled)


def test_a_booster_re_plans_from_its_local_date_and_the_old_plan_is_never_sent() -> None:
    sim = with_booster()
    sim.advance(sim.now + timedelta(days=600))
    old = [s for s in followups(sim.signals) if s.occurrence_id.startswith("inf-1:")]
    new = [s for s in followups(sim.signals) if s.occurrence_id.startswith("inf-2:")]
    assert days_after(old, D, NEW_YORK) == [7, 14, 21, 28]
    assert days_after(new, BOOSTER_DAY, NEW_YORK) == EXPECTED_DAYS
    assert [s.at for s in new] == [
        ten_local(BOOSTER_DAY + timedelta(days=n), NEW_YORK) for n in EXPECTED_DAYS
    ]
    assert len(sim.dues) == 4 + 17


def test_check_ins_already_sent_stay_in_history() -> None:
    sim = with_booster()
    history = {
        o.occurrence_id: o.status
        for o in sim.schedule.occurrences
        if o.status is not OccurrenceStatus.CANCELLED and o.anchor == "inf-1"
    }
    assert history == {f"inf-1:d{n:03d}": OccurrenceStatus.EXPIRED for n in (7, 14, 21, 28)}


def test_a_check_in_open_when_the_booster_arrives_still_runs_to_its_end() -> None:
    zone = BERLIN
    sim = Sim(now=local(zone, 2026, 1, 12, 11))
    sim.register(zone)
    sim.infuse("inf-1")
    sim.advance(local(zone, 2026, 2, 9, 10, 30))  # D+28 was sent at 10:00
    sim.infuse("inf-2")  # a booster the same morning
    sim.advance(sim.now + timedelta(days=4))
    d028 = [s for s in sim.signals if s.occurrence_id == "inf-1:d028"]
    assert [s.type for s in d028] == [
        SignalType.CHECKIN_DUE,
        SignalType.CHECKIN_REMINDER,
        SignalType.CHECKIN_REMINDER,
        SignalType.CHECKIN_EXPIRED,
    ]
    sim.advance(sim.now + timedelta(days=30))
    assert days_after(
        [s for s in sim.dues if s.occurrence_id.startswith("inf-2:")], date(2026, 2, 9), zone
    ) == [7, 14, 21, 28]


def test_a_late_record_of_an_earlier_infusion_does_not_re_anchor() -> None:
    sim = with_booster()
    sim.advance(sim.now + timedelta(days=3))
    snapshot = [(o.occurrence_id, o.status, o.send_at) for o in sim.schedule.occurrences]
    # The clinic records the first infusion again, and an infusion between the two.
    result = sim.infuse("inf-1-again", at=local(NEW_YORK, 2026, 1, 12, 11))
    assert result.index == []
    result = sim.infuse("inf-between", at=local(NEW_YORK, 2026, 2, 1, 11))
    assert result.index == []
    assert [(o.occurrence_id, o.status, o.send_at) for o in sim.schedule.occurrences] == snapshot
    assert sim.schedule.last_infusion_id == "inf-2"
    sim.advance(sim.now + timedelta(days=600))
    new = [s for s in followups(sim.signals) if s.occurrence_id.startswith("inf-2:")]
    assert days_after(new, BOOSTER_DAY, NEW_YORK) == EXPECTED_DAYS
    assert all(s.occurrence_id.startswith(("inf-1:", "inf-2:")) for s in sim.dues)


def test_the_same_infusion_delivered_twice_changes_nothing() -> None:
    sim = with_booster()
    snapshot = sim.schedule.to_dict()
    assert sim.infuse("inf-2", at=local(NEW_YORK, 2026, 2, 16, 15)).index == []
    assert sim.schedule.to_dict() == snapshot


def test_follow_up_ends_365_days_after_the_last_infusion_not_the_first() -> None:
    sim = with_booster()
    sim.advance(sim.now + timedelta(days=600))
    last = sim.dues[-1]
    assert local_day(last.at, NEW_YORK) == BOOSTER_DAY + timedelta(days=354)
    assert (last.at - local(NEW_YORK, 2026, 1, 12, 11)).days > 365
