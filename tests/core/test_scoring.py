"""Totals and severity bands (docs/rules.md; Kroenke 2001, Spitzer 2006)."""

from __future__ import annotations

import pytest

from afterglow.core.events import AssessmentCompleted
from afterglow.core.instruments import GAD7, PHQ9
from afterglow.core.scoring import ScoringError, score, severity
from tests.core.builders import Patient, at, items_for


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_severity_band_boundaries(total: int, band: str) -> None:
    assert severity(PHQ9, total) == band
    result = score(list(items_for(total, item9=max(0, total - 24))))
    assert result is not None
    assert result.total == total
    assert result.severity == band
    assert result.instrument == "phq9"


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_severity_band_boundaries(total: int, band: str) -> None:
    assert severity(GAD7, total) == band
    answers = [min(3, max(0, total - 3 * i)) for i in range(7)]
    assert sum(answers) == total
    result = score(answers, GAD7)
    assert result is not None
    assert (result.total, result.severity, result.instrument) == (total, band, "gad7")


@pytest.mark.parametrize(("instrument", "total"), [(PHQ9, 28), (PHQ9, -1), (GAD7, 22)])
def test_totals_outside_the_scale_have_no_band(instrument, total: int) -> None:
    with pytest.raises(ScoringError):
        severity(instrument, total)


@pytest.mark.parametrize("missing", range(9))
def test_no_total_while_any_item_is_unanswered(missing: int) -> None:
    answers: list[int | None] = [3] * 9
    answers[missing] = None
    assert score(answers) is None


def test_no_total_when_nothing_is_answered() -> None:
    assert score([None] * 9) is None
    assert score([None] * 7, GAD7) is None


@pytest.mark.parametrize("bad", [4, -1, 10, 1.5, "1"])
def test_answers_off_the_0_to_3_scale_are_rejected(bad) -> None:
    answers = [0] * 9
    answers[4] = bad
    with pytest.raises(ScoringError):
        score(answers)


def test_out_of_range_is_rejected_even_when_another_item_is_unanswered() -> None:
    answers: list[int | None] = [0] * 9
    answers[0] = None
    answers[8] = 4
    with pytest.raises(ScoringError):
        score(answers)


@pytest.mark.parametrize("count", [8, 10])
def test_phq9_needs_exactly_nine_scored_answers(count: int) -> None:
    # Ten answers would mean item 10 (difficulty) was passed in and summed.
    with pytest.raises(ScoringError):
        score([1] * count)


def test_gad7_needs_exactly_seven_answers() -> None:
    with pytest.raises(ScoringError):
        score([1] * 9, GAD7)


def test_item_10_never_reaches_the_total() -> None:
    assessment = AssessmentCompleted("pt-1", at(0), items_for(19), difficulty=3)
    assert assessment.total == 19
    # 19 + difficulty 3 would be "severe" (>= 20): no severe alert may fire.
    patient = Patient()
    assert patient.assess(at(0), 19, difficulty=3) == []


def test_all_items_at_maximum_is_27_severe() -> None:
    result = score([3] * 9)
    assert result is not None
    assert (result.total, result.severity) == (27, "severe")
