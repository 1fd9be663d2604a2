"""A2 `severe` and A3 `worsening` (docs/rules.md)."""

from __future__ import annotations

from afterglow.core.rules import AlertAction
from tests.core.builders import Patient, at, of_kind, raised


def test_first_assessment_in_the_severe_range_raises_severe() -> None:
    patient = Patient()
    out = patient.assess(at(0), 20)
    assert raised(out) == ["severe"]
    assert out[0].priority == "P2"
    assert out[0].at == at(0)


def test_19_is_not_severe() -> None:
    assert Patient().assess(at(0), 19) == []


def test_crossing_into_severe_from_19_raises() -> None:
    patient = Patient()
    patient.assess(at(0), 19)
    assert raised(patient.assess(at(7), 20)) == ["severe"]


def test_staying_severe_does_not_raise_again() -> None:
    patient = Patient()
    patient.assess(at(0), 20)
    patient.resolve(at(1), "severe")
    # Previous total 20 is already severe: no new match at all, even after suppression ends.
    out = patient.assess(at(30), 24)
    assert of_kind(out, "severe") == []


def test_reentering_severe_while_the_first_is_open_is_an_update() -> None:
    patient = Patient()
    first = patient.assess(at(0), 21)[0]
    patient.assess(at(7), 17)
    out = patient.assess(at(14), 20)
    assert raised(out) == []
    (update,) = of_kind(out, "severe")
    assert update.action is AlertAction.ATTACHED
    assert update.alert_id == first.alert_id


def test_worsening_needs_a_rise_of_five() -> None:
    patient = Patient()
    patient.assess(at(0), 6)
    assert patient.assess(at(7), 10) == []  # +4
    out = patient.assess(at(14), 15)  # +5 from the previous (10), not from the first
    assert raised(out) == ["worsening"]
    assert out[0].priority == "P2"


def test_worsening_compares_with_the_previous_not_the_best() -> None:
    patient = Patient()
    patient.assess(at(0), 2)
    patient.assess(at(7), 5)
    assert patient.assess(at(14), 9) == []  # +4 from 5, although +7 from 2


def test_no_worsening_on_the_first_assessment_or_on_improvement() -> None:
    patient = Patient()
    assert patient.assess(at(0), 15) == []
    assert patient.assess(at(7), 3) == []


def test_previous_includes_pre_treatment_assessments() -> None:
    patient = Patient()
    patient.assess(at(-2), 5)
    patient.infuse(at(0))
    assert raised(patient.assess(at(7), 10)) == ["worsening"]


def test_one_assessment_raises_safety_severe_and_worsening_in_table_order() -> None:
    patient = Patient()
    patient.assess(at(0), 10)
    out = patient.assess(at(7), 25, item9=2)
    assert raised(out) == ["safety", "severe", "worsening"]
    assert [d.priority for d in out] == ["P1", "P2", "P2"]
    assert {d.at for d in out} == {at(7)}


def test_all_clinical_change_kinds_from_one_assessment_come_in_table_order() -> None:
    # Responder (baseline 24, nadir 4) jumps to 22 with item 9 = 1.
    patient = Patient()
    patient.enroll(at(-1), 24)
    patient.infuse(at(0))
    patient.assess(at(7), 4)
    out = patient.assess(at(14), 22, item9=1)
    assert raised(out) == ["safety", "severe", "worsening", "losing_response", "probable_relapse"]
