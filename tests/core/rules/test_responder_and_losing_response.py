"""Baseline, responder (remission / >= 50 % response) and A4 `losing_response`
(docs/rules.md Baseline, After the first infusion, Responder, Nadir; A4)."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from afterglow.core.rules import AlertAction, RuleConfig
from tests.core.builders import Patient, at, of_kind, raised, responder

PLUS_TWO = timezone(timedelta(hours=2))


# --------------------------------------------------------------------------- baseline


def test_enrollment_baseline_wins_over_a_pre_treatment_assessment() -> None:
    patient = Patient()
    patient.enroll(at(-3), 20)
    patient.assess(at(-1), 6)  # would make 10 a non-response if it were the baseline
    patient.infuse(at(0))
    patient.assess(at(7), 10)
    assert patient.state.responder  # 10 <= 20 / 2


def test_later_enrollment_without_baseline_keeps_the_given_one() -> None:
    patient = Patient()
    patient.enroll(at(-3), 20)
    patient.enroll(at(-2))
    patient.infuse(at(0))
    patient.assess(at(7), 10)
    assert patient.state.responder


def test_without_enrollment_baseline_the_latest_pre_treatment_assessment_is_used() -> None:
    patient = Patient()
    patient.enroll(at(-5))
    patient.assess(at(-4), 12)
    patient.assess(at(-1), 20)  # latest before the first infusion: the baseline
    patient.infuse(at(0))
    patient.assess(at(7), 10)
    assert patient.state.responder  # 10 <= 20 / 2 (with 12 it would not be)


def test_the_latest_pre_treatment_assessment_not_the_highest() -> None:
    patient = Patient()
    patient.assess(at(-4), 20)
    patient.assess(at(-1), 12)
    patient.infuse(at(0))
    patient.assess(at(7), 10)
    assert not patient.state.responder  # 10 > 12 / 2 and 10 > 4


def test_assessments_between_infusions_are_not_baselines() -> None:
    patient = Patient()
    patient.assess(at(-1), 20)
    patient.infuse(at(0))
    patient.assess(at(2), 12)  # after the first infusion: not a baseline
    patient.infuse(at(4))
    patient.assess(at(11), 10)
    assert patient.state.responder  # baseline stays 20


def test_assessment_at_exactly_the_first_infusion_time_is_pre_treatment() -> None:
    patient = Patient()
    patient.infuse(at(0))
    # Same instant, written in another offset, and after the infusion in the stream:
    # pre-treatment, so a total of 2 is not a remission.
    assert patient.assess(at(0).astimezone(PLUS_TWO), 2) == []
    assert not patient.state.responder


def test_assessment_at_exactly_the_first_infusion_time_is_the_baseline() -> None:
    patient = Patient()
    patient.infuse(at(0))
    patient.assess(at(0), 16)
    patient.assess(at(7), 8)
    assert patient.state.responder  # 8 <= 16 / 2; without that baseline 8 is no response


def test_one_second_after_the_first_infusion_is_post_treatment() -> None:
    patient = Patient()
    patient.infuse(at(0))
    patient.assess(at(0, seconds=1), 3)
    assert patient.state.responder


def test_assessment_at_infusion_time_is_not_part_of_the_nadir() -> None:
    patient = Patient()
    patient.infuse(at(0))
    patient.assess(at(0), 16)  # pre-treatment baseline
    patient.assess(at(7), 4)  # responder, nadir 4
    out = patient.assess(at(14), 10)
    assert raised(out) == ["worsening", "losing_response", "probable_relapse"]


# -------------------------------------------------------------------------- responder


def test_remission_makes_a_responder_without_any_baseline() -> None:
    patient = Patient()
    patient.infuse(at(0))
    patient.assess(at(7), 5)
    assert not patient.state.responder
    patient.assess(at(14), 4)
    assert patient.state.responder


@pytest.mark.parametrize(
    ("baseline", "total", "responds"),
    [
        (15, 7, True),  # 7 <= 7.5
        (15, 8, False),  # 8 > 7.5
        (10, 5, True),
        (11, 5, True),
        (11, 6, False),
        (27, 13, True),
        (27, 14, False),
        (8, 4, True),  # remission, baseline below 10
        (8, 5, False),
    ],
)
def test_response_is_a_50_percent_reduction_from_a_baseline_of_10_or_more(
    baseline: int, total: int, responds: bool
) -> None:
    patient = Patient()
    patient.enroll(at(-1), baseline)
    patient.infuse(at(0))
    patient.assess(at(7), total)
    assert patient.state.responder is responds


def test_the_50_percent_path_needs_a_baseline_of_at_least_10() -> None:
    # With remission at <= 2, a baseline of 9 and a total of 4 (< half) is not a response.
    config = RuleConfig(remission_max=2)
    low = Patient(config=config)
    low.enroll(at(-1), 9)
    low.infuse(at(0))
    low.assess(at(7), 4)
    assert not low.state.responder
    high = Patient("pt-2", config=config)
    high.enroll(at(-1), 10)
    high.infuse(at(0))
    high.assess(at(7), 5)
    assert high.state.responder


def test_no_responder_before_any_infusion() -> None:
    patient = Patient()
    patient.enroll(at(0), 20)
    patient.assess(at(7), 2)
    patient.assess(at(14), 20)
    assert not patient.state.responder
    assert patient.raised() == ["severe", "worsening"]  # no losing_response / relapse


def test_responder_stays_a_responder() -> None:
    patient, _ = responder()
    patient.assess(at(14), 24)
    patient.assess(at(60), 24)
    assert patient.state.responder


# --------------------------------------------------------------------- losing response


def test_losing_response_at_six_above_the_nadir() -> None:
    patient, _ = responder(baseline=None, nadir=3)
    assert patient.assess(at(14), 6) == []
    assert patient.assess(at(21), 8) == []  # +5 above the nadir: nothing
    out = patient.assess(at(28), 9)  # +6 above the nadir 3
    assert raised(out) == ["losing_response"]
    assert out[0].priority == "P2"


def test_nadir_is_the_lowest_earlier_post_treatment_total() -> None:
    patient, _ = responder(baseline=None, nadir=3)
    patient.assess(at(14), 6)
    patient.assess(at(21), 2)
    out = patient.assess(at(28), 8)  # 8 - 2 = 6, from the lowest, not the first
    assert of_kind(out, "losing_response")[0].action is AlertAction.RAISED


def test_pre_treatment_totals_are_not_the_nadir() -> None:
    patient = Patient()
    patient.assess(at(-1), 0)
    patient.infuse(at(0))
    patient.assess(at(7), 4)  # responder (remission), nadir 4
    out = patient.assess(at(14), 9)  # 9 - 4 = 5; 9 - 0 would be 9
    assert of_kind(out, "losing_response") == []


def test_non_responders_never_get_losing_response() -> None:
    patient = Patient()
    patient.enroll(at(-1), 20)
    patient.infuse(at(0))
    patient.assess(at(7), 12)  # not a response (12 > 10)
    out = patient.assess(at(14), 19)  # +7 above 12
    assert raised(out) == ["worsening"]
    assert not patient.state.responder


def test_a_second_loss_while_open_is_an_update() -> None:
    patient, _ = responder(baseline=None, nadir=2)
    patient.assess(at(14), 5)
    (first,) = patient.assess(at(21), 8)
    assert (first.kind, first.action) == ("losing_response", AlertAction.RAISED)
    patient.assess(at(28), 5)
    out = patient.assess(at(35), 8)
    (update,) = of_kind(out, "losing_response")
    assert update.action is AlertAction.ATTACHED
    assert update.alert_id == first.alert_id
