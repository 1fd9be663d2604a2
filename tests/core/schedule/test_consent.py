"""Consent and STOP: nothing without consent, opt-out cancels and stops, opt-in resumes only
the future."""

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
    local,
)

D = date(2026, 4, 6)
YEAR = timedelta(days=400)


def infused(zone: str = NEW_YORK, consent: bool = True) -> Sim:
    sim = Sim(now=local(zone, 2026, 4, 6, 12))
    sim.register(zone, consent=consent)
    sim.infuse("inf-1")
    return sim


def test_without_consent_nothing_is_planned_or_sent() -> None:
    sim = Sim(now=local(NEW_YORK, 2026, 4, 6, 12))
    assert sim.register(NEW_YORK, consent=False, baseline_known=False).index == []
    assert sim.infuse("inf-1").index == []
    assert sim.probable_relapse().index == []
    assert sim.opt_in().index == []  # START without a consent record is not consent
    assert sim.pending() == []
    sim.advance(sim.now + YEAR)
    assert sim.signals == []


def test_without_a_registration_nothing_is_planned_or_sent() -> None:
    sim = Sim(now=local(NEW_YORK, 2026, 4, 6, 12))
    assert sim.infuse("inf-1").index == []
    sim.advance(sim.now + YEAR)
    assert sim.signals == []


def test_consent_arriving_later_plans_only_the_future() -> None:
    sim = infused(consent=False)
    sim.advance(local(NEW_YORK, 2026, 4, 26, 12))  # D+20
    result = sim.register(NEW_YORK, consent=True)
    assert len(result.index) == 15
    sim.advance(sim.now + YEAR)
    assert days_after(sim.dues, D, NEW_YORK) == EXPECTED_DAYS[2:]


def test_revoking_consent_cancels_the_plan_and_silences_an_open_check_in() -> None:
    sim = infused()
    sim.advance(local(NEW_YORK, 2026, 4, 13, 12))  # D+7 sent at 10:00
    sim.register(NEW_YORK, consent=False)
    assert sim.pending() == []
    sim.advance(sim.now + YEAR)
    assert [s.type for s in sim.signals if s.type is not SignalType.CHECKIN_EXPIRED] == [
        SignalType.CHECKIN_DUE
    ]


def test_opt_out_cancels_everything_pending() -> None:
    sim = infused()
    sim.advance(local(NEW_YORK, 2026, 4, 20, 15))  # after D+14
    assert sim.opt_out().index == []
    cancelled = sim.with_status(OccurrenceStatus.CANCELLED)
    assert len(cancelled) == 15
    assert all(o.reason and "opt" in o.reason for o in cancelled)
    assert sim.pending() == []
    sim.advance(sim.now + YEAR)
    assert days_after(sim.dues, D, NEW_YORK) == [7, 14]


def test_removal_from_the_registry_cancels_the_plan_and_stops_the_open_check_in() -> None:
    sim = infused()
    sim.advance(local(NEW_YORK, 2026, 4, 13, 12))  # D+7 sent at 10:00, still open
    sim.remove()
    assert sim.pending() == []
    assert sim.occurrence("inf-1:d007").status is OccurrenceStatus.STOPPED
    assert sim.probable_relapse().index == []
    sim.advance(sim.now + YEAR)
    assert [s.type for s in sim.signals] == [SignalType.CHECKIN_DUE]


def test_opt_out_stops_an_open_check_in_no_reminder_no_expiry() -> None:
    sim = infused(BERLIN)
    sim.advance(local(BERLIN, 2026, 4, 13, 12))  # D+7 sent at 10:00
    sim.opt_out()
    assert sim.occurrence("inf-1:d007").status is OccurrenceStatus.STOPPED
    # Even opting back in before the reminders were due does not revive it.
    sim.advance(local(BERLIN, 2026, 4, 13, 18))
    sim.opt_in()
    sim.advance(local(BERLIN, 2026, 4, 19))
    assert [(s.type, s.occurrence_id) for s in sim.signals] == [
        (SignalType.CHECKIN_DUE, "inf-1:d007")
    ]
    assert sim.occurrence("inf-1:d007").status is OccurrenceStatus.STOPPED


def test_nothing_is_sent_while_opted_out_even_a_new_booster_or_confirmation() -> None:
    sim = infused()
    sim.advance(local(NEW_YORK, 2026, 4, 14, 12))
    sim.opt_out()
    sim.advance(sim.now + timedelta(days=20))
    assert sim.infuse("inf-2").index == []
    assert sim.probable_relapse().index == []
    assert sim.register(NEW_YORK, baseline_known=False).index == []
    sim.advance(sim.now + YEAR)
    assert days_after(sim.dues, D, NEW_YORK) == [7]


def test_opt_in_resumes_only_check_ins_still_in_the_future() -> None:
    sim = infused()
    sim.advance(local(NEW_YORK, 2026, 4, 16, 12))  # D+10
    sim.opt_out()
    sim.advance(local(NEW_YORK, 2026, 4, 27, 11))  # D+21, one hour after its 10:00
    result = sim.opt_in()
    assert len(result.index) == 14  # D+28 ... D+354
    sim.advance(sim.now + YEAR)
    assert days_after(sim.dues, D, NEW_YORK) == [7, *EXPECTED_DAYS[3:]]
    for occurrence_id in ("inf-1:d014", "inf-1:d021"):
        assert sim.occurrence(occurrence_id).status is OccurrenceStatus.CANCELLED


def test_opt_in_before_ten_resumes_that_days_check_in_on_time() -> None:
    sim = infused()
    sim.advance(local(NEW_YORK, 2026, 4, 16, 12))
    sim.opt_out()
    sim.advance(local(NEW_YORK, 2026, 4, 27, 9, 59))  # D+21 at 09:59
    sim.opt_in()
    sim.advance(sim.now + timedelta(days=10))
    assert days_after(sim.dues, D, NEW_YORK) == [7, 21, 28]
    assert sim.dues[1].at == local(NEW_YORK, 2026, 4, 27, 10)


def test_a_start_older_than_the_stop_does_not_resume_texting() -> None:
    # STOP at 12:00, then a START texted at 11:00 that arrives late: still opted out.
    sim = infused()
    sim.advance(local(NEW_YORK, 2026, 4, 16, 12))
    sim.opt_out()
    sim.advance(local(NEW_YORK, 2026, 4, 16, 13))
    assert sim.opt_in(at=local(NEW_YORK, 2026, 4, 16, 11)).index == []
    sim.advance(sim.now + YEAR)
    assert days_after(sim.dues, D, NEW_YORK) == [7]


def test_a_replayed_stop_older_than_the_start_does_not_cancel_again() -> None:
    sim = infused()
    sim.advance(local(NEW_YORK, 2026, 4, 16, 12))
    stop_at = sim.now
    sim.opt_out()
    sim.advance(local(NEW_YORK, 2026, 4, 17, 12))
    sim.opt_in()
    sim.advance(local(NEW_YORK, 2026, 4, 17, 13))
    sim.opt_out(at=stop_at)  # the same STOP delivered again
    sim.advance(sim.now + YEAR)
    assert days_after(sim.dues, D, NEW_YORK) == [7, *EXPECTED_DAYS[1:]]
