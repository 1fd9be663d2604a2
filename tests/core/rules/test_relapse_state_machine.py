"""Relapse state machine: A5 `probable_relapse`, A6 `relapse` (docs/rules.md Relapse
criterion, A5/A6 and "Relapse state machine")."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from afterglow.core.events import AssessmentCompleted
from afterglow.core.rules import (
    AlertAction,
    AlertDecision,
    ProbableRelapseEntered,
    RelapsePhase,
    decide,
)
from tests.core.builders import Patient, at, items_for, raised, responder

MINUS_FIVE = timezone(timedelta(hours=-5))
RELAPSE_KINDS = ("probable_relapse", "relapse")


def relapse_decisions(out: list[AlertDecision]) -> list[tuple[str, AlertAction]]:
    return [(d.kind.value, d.action) for d in out if d.kind.value in RELAPSE_KINDS]


def probable(baseline: int | None = 20, nadir: int = 4) -> tuple[Patient, datetime, str]:
    """A responder who entered probable relapse at T0 + 14 days; returns the A5 id too."""
    patient, _ = responder(baseline=baseline, nadir=nadir)
    when = at(14)
    out = patient.assess(when, 11)
    assert relapse_decisions(out) == [("probable_relapse", AlertAction.RAISED)]
    (a5,) = [d for d in out if d.kind == "probable_relapse"]
    return patient, when, a5.alert_id


def test_a_responder_meeting_the_criterion_is_a_probable_relapse() -> None:
    patient, when, _ = probable()
    (a5,) = [d for d in patient.log if d.kind == "probable_relapse"]
    assert a5.priority == "P2"
    assert a5.at == when
    assert patient.state.phase is RelapsePhase.PROBABLE
    assert patient.state.probable_since == when


@pytest.mark.parametrize(
    ("baseline", "total", "relapses"),
    [
        (20, 10, False),  # 10 is not above 20 / 2
        (20, 11, True),
        (25, 12, False),  # 12 <= 12.5
        (25, 13, True),
        (12, 9, False),  # above half the baseline, but below 10
        (12, 10, True),
        (None, 9, False),
        (None, 10, True),  # no baseline: total >= 10 is enough
    ],
)
def test_relapse_criterion(baseline: int | None, total: int, relapses: bool) -> None:
    patient, _ = responder(baseline=baseline, nadir=4)
    out = patient.assess(at(14), total)
    expected = [("probable_relapse", AlertAction.RAISED)] if relapses else []
    assert relapse_decisions(out) == expected
    assert patient.state.phase is (RelapsePhase.PROBABLE if relapses else RelapsePhase.RESPONDER)


def test_non_responders_have_no_probable_relapse() -> None:
    patient = Patient()
    patient.enroll(at(-1), 20)
    patient.infuse(at(0))
    patient.assess(at(7), 12)  # no response
    out = patient.assess(at(14), 15)
    assert relapse_decisions(out) == []
    assert patient.state.phase is RelapsePhase.NONE


def test_confirmation_at_4_days_23_hours_is_too_early() -> None:
    patient, start, _ = probable()
    out = patient.assess(start + timedelta(days=4, hours=23), 12)
    assert relapse_decisions(out) == []
    assert patient.state.phase is RelapsePhase.PROBABLE
    assert patient.state.probable_since == start  # the clock is not restarted
    # ... so exactly 5 days after the original probable relapse confirms it.
    out = patient.assess(start + timedelta(days=5), 12)
    assert relapse_decisions(out) == [("relapse", AlertAction.RAISED)]


def test_confirmation_at_exactly_5_days_is_a_relapse() -> None:
    patient, start, _ = probable()
    # The same instant written with another UTC offset.
    out = patient.assess((start + timedelta(days=5)).astimezone(MINUS_FIVE), 12)
    assert relapse_decisions(out) == [("relapse", AlertAction.RAISED)]
    (a6,) = [d for d in out if d.kind == "relapse"]
    assert a6.priority == "P2"
    assert patient.state.phase is RelapsePhase.RELAPSED


def test_confirmation_at_exactly_15_days_is_a_relapse() -> None:
    patient, start, _ = probable()
    out = patient.assess(start + timedelta(days=15), 12)
    assert relapse_decisions(out) == [("relapse", AlertAction.RAISED)]
    assert patient.state.phase is RelapsePhase.RELAPSED


def test_15_days_and_1_hour_restarts_probable_relapse_as_an_update_of_the_open_one() -> None:
    patient, start, first_id = probable()
    restart = start + timedelta(days=15, hours=1)
    out = patient.assess(restart, 12)
    assert relapse_decisions(out) == [("probable_relapse", AlertAction.ATTACHED)]
    (update,) = [d for d in out if d.kind == "probable_relapse"]
    assert update.alert_id == first_id
    assert raised(out).count("probable_relapse") == 0
    assert patient.state.phase is RelapsePhase.PROBABLE
    assert patient.state.probable_since == restart
    # The confirmation window now counts from the restart.
    assert relapse_decisions(patient.assess(restart + timedelta(days=4), 12)) == []
    out = patient.assess(restart + timedelta(days=5), 12)
    assert relapse_decisions(out) == [("relapse", AlertAction.RAISED)]


def test_restart_raises_a_new_alert_when_the_first_was_resolved_over_7_days_before() -> None:
    patient, start, first_id = probable()
    patient.resolve(start + timedelta(days=1), "probable_relapse")
    out = patient.assess(start + timedelta(days=15, hours=1), 12)
    assert relapse_decisions(out) == [("probable_relapse", AlertAction.RAISED)]
    (a5,) = [d for d in out if d.kind == "probable_relapse"]
    assert a5.alert_id != first_id


def test_restart_within_7_days_of_a_resolution_is_suppressed_but_still_restarts() -> None:
    patient, start, _ = probable()
    patient.resolve(start + timedelta(days=9), "probable_relapse")
    restart = start + timedelta(days=15, hours=1)  # 6 days 1 hour after the resolution
    out = patient.assess(restart, 12)
    assert relapse_decisions(out) == [("probable_relapse", AlertAction.SUPPRESSED)]
    assert patient.state.probable_since == restart
    out = patient.assess(restart + timedelta(days=5), 12)
    assert relapse_decisions(out) == [("relapse", AlertAction.RAISED)]


def test_an_assessment_not_meeting_the_criterion_returns_to_responder() -> None:
    patient, start, _ = probable()
    patient.assess(start + timedelta(days=3), 6)
    assert patient.state.phase is RelapsePhase.RESPONDER
    assert patient.state.probable_since is None
    again = start + timedelta(days=4)
    out = patient.assess(again, 11)
    # A new probable relapse, attached to the still-open A5.
    assert relapse_decisions(out) == [("probable_relapse", AlertAction.ATTACHED)]
    assert patient.state.probable_since == again
    # 8 days after the first probable relapse but only 4 after the new one: no relapse yet.
    assert relapse_decisions(patient.assess(start + timedelta(days=8), 11)) == []
    out = patient.assess(start + timedelta(days=9), 11)
    assert relapse_decisions(out) == [("relapse", AlertAction.RAISED)]


def test_confirming_assessment_raises_losing_response_before_relapse() -> None:
    patient, start, _ = probable(baseline=20, nadir=8)
    out = patient.assess(start + timedelta(days=5), 15)  # 7 above the nadir 8
    assert raised(out) == ["losing_response", "relapse"]


def relapsed_without_baseline() -> tuple[Patient, datetime]:
    """No baseline: criterion is total >= 10, response is total <= 4 (5-9 is neither)."""
    patient, _ = responder(baseline=None, nadir=3)
    patient.assess(at(14), 12)
    confirmed = at(19)
    out = patient.assess(confirmed, 12)
    assert relapse_decisions(out) == [("relapse", AlertAction.RAISED)]
    patient.resolve(at(19, hours=1), "probable_relapse")
    patient.resolve(at(19, hours=1), "relapse")
    return patient, confirmed


def test_relapsed_patients_get_no_new_probable_relapse_or_relapse() -> None:
    patient, confirmed = relapsed_without_baseline()
    for day in (1, 6, 20, 40):
        out = patient.assess(confirmed + timedelta(days=day), 14)
        assert relapse_decisions(out) == []
    assert patient.state.phase is RelapsePhase.RELAPSED


def test_relapsed_clears_only_on_an_assessment_meeting_response() -> None:
    patient, confirmed = relapsed_without_baseline()
    patient.assess(confirmed + timedelta(days=10), 7)  # neither criterion nor response
    assert patient.state.phase is RelapsePhase.RELAPSED
    assert relapse_decisions(patient.assess(confirmed + timedelta(days=20), 12)) == []
    patient.assess(confirmed + timedelta(days=30), 4)  # meets response
    assert patient.state.phase is RelapsePhase.RESPONDER
    out = patient.assess(confirmed + timedelta(days=40), 12)
    assert relapse_decisions(out) == [("probable_relapse", AlertAction.RAISED)]


def test_infusions_do_not_change_probable_relapse() -> None:
    patient, start, _ = probable()
    patient.infuse(start + timedelta(days=1))
    assert patient.state.phase is RelapsePhase.PROBABLE
    assert patient.state.probable_since == start
    out = patient.assess(start + timedelta(days=5), 12)
    assert relapse_decisions(out) == [("relapse", AlertAction.RAISED)]


def test_infusions_do_not_clear_relapsed() -> None:
    patient, confirmed = relapsed_without_baseline()
    patient.infuse(confirmed + timedelta(days=2))
    assert patient.state.phase is RelapsePhase.RELAPSED
    out = patient.assess(confirmed + timedelta(days=30), 12)
    assert relapse_decisions(out) == []


def test_infusions_do_not_change_responder() -> None:
    patient, _ = responder()
    patient.infuse(at(10))
    assert patient.state.phase is RelapsePhase.RESPONDER
    assert patient.state.responder


def _entered(patient: Patient, when: datetime, total: int) -> list[ProbableRelapseEntered]:
    effects = decide(patient.state, AssessmentCompleted("pt-1", when, items_for(total))).effects
    return [e for e in effects if isinstance(e, ProbableRelapseEntered)]


def test_entering_probable_relapse_asks_for_a_confirmation_whatever_the_alert_did() -> None:
    patient, first = responder(baseline=20, nadir=4)[0], at(14)
    assert _entered(patient, first, 11) == [ProbableRelapseEntered("pt-1", first)]
    # Under 5 days: still probable, nothing new to confirm.
    assert _entered(patient, at(16), 12) == []
    # Over 15 days: probable relapse restarts (the open A5 gets an update, not a new alert),
    # and the restarted one needs its own confirmation.
    restarted = at(14 + 16)
    assert _entered(patient, restarted, 12) == [ProbableRelapseEntered("pt-1", restarted)]


def test_no_confirmation_is_asked_for_a_confirmed_relapse_or_a_recovery() -> None:
    patient = probable()[0]
    assert _entered(patient, at(14 + 6), 12) == []  # relapse confirmed
    assert _entered(patient, at(14 + 12), 3) == []  # response again
