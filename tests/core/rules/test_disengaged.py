"""A9 `disengaged` (P3, docs/rules.md A9): the second consecutive expired check-in;
a completed assessment resets the streak; once per streak."""

from __future__ import annotations

from afterglow.core.rules import AlertAction
from tests.core.builders import Patient, at, of_kind, raised


def test_first_expiry_is_not_disengaged() -> None:
    assert Patient().expire(at(0)) == []


def test_second_consecutive_expiry_is_disengaged_p3() -> None:
    patient = Patient()
    patient.expire(at(0))
    out = patient.expire(at(3))
    assert raised(out) == ["disengaged"]
    assert out[0].priority == "P3"
    assert out[0].at == at(3)


def test_once_per_streak_even_after_resolution() -> None:
    patient = Patient()
    patient.expire(at(0))
    patient.expire(at(3))
    assert of_kind(patient.expire(at(6)), "disengaged") == []
    patient.resolve(at(7), "disengaged")
    # Long after the suppression period, the same streak still does not raise it again.
    for day in (20, 23, 26):
        assert of_kind(patient.expire(at(day)), "disengaged") == []


def test_a_completed_assessment_resets_the_streak() -> None:
    patient = Patient()
    patient.expire(at(0))
    patient.assess(at(2), 3)
    assert patient.expire(at(5)) == []
    assert raised(patient.expire(at(8))) == ["disengaged"]


def test_a_new_streak_raises_again_after_resolution() -> None:
    patient = Patient()
    patient.expire(at(0))
    first = patient.expire(at(3))[0]
    patient.resolve(at(4), "disengaged")
    patient.assess(at(12), 3)
    patient.expire(at(15))
    out = patient.expire(at(18))
    assert raised(out) == ["disengaged"]
    assert out[0].alert_id != first.alert_id


def test_a_new_streak_while_open_is_an_update() -> None:
    patient = Patient()
    patient.expire(at(0))
    first = patient.expire(at(3))[0]
    patient.assess(at(5), 3)
    patient.expire(at(8))
    out = of_kind(patient.expire(at(11)), "disengaged")
    assert [(d.action, d.alert_id) for d in out] == [(AlertAction.ATTACHED, first.alert_id)]


def test_infusions_and_partial_answers_do_not_reset_the_streak() -> None:
    patient = Patient()
    patient.expire(at(0))
    patient.infuse(at(1))
    patient.answer_item9(at(2), 0, occurrence_id="c-1")  # partial questionnaire, then expired
    assert raised(patient.expire(at(5))) == ["disengaged"]
