"""The status a clinician sees next to a patient's name (docs/rules.md, "Patient status"),
read from the rule engine's own state after the patient's events."""

from __future__ import annotations

from datetime import datetime

from afterglow.core.events import (
    AlertResolved,
    AssessmentCompleted,
    CheckinExpired,
    ClinicalEvent,
    InfusionCompleted,
    PatientEnrolled,
)
from afterglow.core.rules import RuleConfig
from afterglow.core.rules.status import Status, patient_status
from tests.core.builders import at, items_for

LATER = at(400)
DEFAULTS = RuleConfig()


def _score(day: float, total: int, item9: int = 0) -> AssessmentCompleted:
    return AssessmentCompleted("pt-1", at(day), items_for(total, item9))


def _infusion(day: float) -> InfusionCompleted:
    return InfusionCompleted("pt-1", at(day))


def _missed(day: float) -> CheckinExpired:
    return CheckinExpired("pt-1", at(day))


def _status(
    events: list[ClinicalEvent],
    baseline: int | None = 20,
    now: datetime = LATER,
    config: RuleConfig = DEFAULTS,
) -> Status:
    return patient_status("pt-1", events, now, baseline, config).status


def test_without_any_assessment_there_are_no_scores() -> None:
    assert _status([]) is Status.NO_SCORES
    assert _status([_infusion(0), _missed(7)]) is Status.NO_SCORES


def test_scores_before_the_first_infusion_are_not_yet_a_response() -> None:
    result = patient_status("pt-1", [_score(-1, 18), _infusion(0)], LATER)
    assert result.status is Status.NOT_YET_RESPONDING
    assert (result.baseline, result.latest_total, result.change) == (18, 18, 0)


def test_half_the_baseline_after_the_infusion_is_a_response() -> None:
    events = [_infusion(0), _score(7, 10)]
    result = patient_status("pt-1", events, LATER, 20)
    assert result.status is Status.RESPONDER
    assert (result.latest_total, result.latest_at, result.change) == (10, at(7), -10)
    assert _status([_infusion(0), _score(7, 11)]) is Status.NOT_YET_RESPONDING


def test_a_latest_total_under_five_is_a_remitter_and_a_later_rise_stays_a_responder() -> None:
    events: list[ClinicalEvent] = [_infusion(0), _score(7, 4)]
    assert _status(events) is Status.REMITTER
    assert _status([*events, _score(14, 5)]) is Status.RESPONDER
    assert _status([*events, _score(14, 5), _score(21, 2)]) is Status.REMITTER


def test_six_above_the_best_score_is_losing_response_even_when_the_alert_is_suppressed() -> None:
    events: list[ClinicalEvent] = [_infusion(0), _score(7, 3), _score(14, 9)]
    assert _status(events) is Status.LOSING_RESPONSE  # 9 > 20 / 2 is false: no relapse
    resolved = AlertResolved("pt-1", at(15), "losing_response", None, "reviewed")
    assert _status([*events, resolved, _score(21, 9)]) is Status.LOSING_RESPONSE
    assert _status([*events, _score(21, 6)]) is Status.RESPONDER  # 6 - 3 < 6


def test_a_responder_meeting_the_relapse_criterion_is_a_probable_relapse_then_relapsed() -> None:
    events: list[ClinicalEvent] = [_infusion(0), _score(7, 5), _score(20, 14)]
    assert _status(events) is Status.PROBABLE_RELAPSE
    assert _status([*events, _score(24, 15)]) is Status.PROBABLE_RELAPSE  # under 5 days
    assert _status([*events, _score(25, 15)]) is Status.RELAPSED  # 5 days later
    assert _status([*events, _score(25, 15), _score(40, 12)]) is Status.RELAPSED
    assert _status([*events, _score(25, 15), _score(40, 10)]) is Status.RESPONDER


def test_two_missed_check_ins_in_a_row_are_disengaged_as_the_clinic_sets_it() -> None:
    events: list[ClinicalEvent] = [_infusion(0), _score(7, 6), _missed(17), _missed(31)]
    assert _status(events) is Status.DISENGAGED
    assert _status(events, config=RuleConfig(disengaged_streak=3)) is Status.RESPONDER
    assert _status([*events, _score(40, 6)]) is Status.RESPONDER  # an answer ends the streak
    assert patient_status("pt-1", events, LATER, 20).expired_streak == 2


def test_events_after_now_are_not_counted() -> None:
    events: list[ClinicalEvent] = [_infusion(0), _score(7, 6), _score(20, 16)]
    assert _status(events, now=at(10)) is Status.RESPONDER
    assert _status(events, now=at(20)) is Status.PROBABLE_RELAPSE


def test_enrollment_events_do_not_move_the_clock_and_the_given_baseline_is_used() -> None:
    # The read model does not keep an enrollment's baseline; the registration's is passed.
    events: list[ClinicalEvent] = [
        _infusion(0),
        PatientEnrolled("pt-1", at(30), None),
        _score(7, 12),
    ]
    result = patient_status("pt-1", events, LATER, 24)
    assert (result.status, result.baseline, result.change) == (Status.RESPONDER, 24, -12)
