"""A1 `safety` (P1): every positive item-9 answer, never deduplicated or suppressed
(docs/rules.md A1, "Alert lifecycle and paging")."""

from __future__ import annotations

import pytest

from afterglow.core.rules import AlertAction
from tests.core.builders import Patient, at, of_kind, raised


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_positive_item_9_raises_a_p1_safety_alert(item9: int) -> None:
    patient = Patient()
    when = at(0)
    out = patient.assess(when, total=item9, item9=item9)
    assert raised(out) == ["safety"]
    (alert,) = out
    assert alert.priority == "P1"
    assert alert.at == when
    assert alert.patient_id == "pt-1"
    assert alert.alert_id
    assert "9" in alert.reason


def test_item_9_zero_raises_nothing_even_with_a_high_total() -> None:
    patient = Patient()
    out = patient.assess(at(0), total=19, item9=0)
    assert of_kind(out, "safety") == []


def test_every_positive_answer_raises_a_new_alert_while_others_are_open() -> None:
    patient = Patient()
    ids = []
    for day in range(3):
        out = patient.assess(at(day), total=1, item9=1)
        assert [d.action for d in out] == [AlertAction.RAISED]
        ids.append(out[0].alert_id)
    assert len(set(ids)) == 3
    assert sorted(patient.state.open_alerts["safety"]) == sorted(ids)


def test_safety_is_never_suppressed_after_a_resolution() -> None:
    patient = Patient()
    patient.assess(at(0), total=2, item9=2)
    closed = patient.resolve(at(0, hours=1), "safety")
    assert [d.action for d in closed] == [AlertAction.RESOLVED]
    # One minute after the resolution: still a brand-new alert, not suppressed.
    out = patient.assess(at(0, hours=1, minutes=1), total=1, item9=1)
    assert raised(out) == ["safety"]
    assert [d.action for d in out] == [AlertAction.RAISED]


def test_resolving_one_safety_alert_by_id_leaves_the_others_open() -> None:
    patient = Patient()
    first = patient.assess(at(0), total=1, item9=1)[0].alert_id
    second = patient.assess(at(1), total=1, item9=1)[0].alert_id
    out = patient.resolve(at(2), "safety", alert_id=first)
    assert [(d.action, d.alert_id) for d in out] == [(AlertAction.RESOLVED, first)]
    assert patient.state.open_alerts["safety"] == [second]


def test_item_9_answered_mid_questionnaire_raises_at_once() -> None:
    patient = Patient()
    when = at(0, minutes=3)
    out = patient.answer_item9(when, 1, occurrence_id="c-1")
    assert raised(out) == ["safety"]
    assert out[0].at == when
    assert out[0].priority == "P1"


def test_a_questionnaire_never_finished_still_raised_safety() -> None:
    patient = Patient()
    assert raised(patient.answer_item9(at(0), 3, occurrence_id="c-1")) == ["safety"]
    # The partial check-in expires: no second safety alert (missed_high_risk may follow).
    assert of_kind(patient.expire(at(3)), "safety") == []
    assert patient.raised().count("safety") == 1


def test_completion_of_the_same_checkin_does_not_raise_safety_again() -> None:
    patient = Patient()
    patient.answer_item9(at(0), 2, occurrence_id="c-1")
    # Item 9 answered 2, total 21: the completion raises severe but no second safety.
    out = patient.assess(at(0, minutes=5), total=21, item9=2, occurrence_id="c-1")
    assert raised(out) == ["severe"]
    assert of_kind(out, "safety") == []
    assert len(patient.state.open_alerts["safety"]) == 1


def test_completion_of_a_different_checkin_raises_safety_again() -> None:
    patient = Patient()
    patient.answer_item9(at(0), 1, occurrence_id="c-1")
    out = patient.assess(at(1), total=3, item9=1, occurrence_id="c-2")
    assert raised(out) == ["safety"]
    assert len(patient.state.open_alerts["safety"]) == 2


def test_a_negative_item_9_answer_does_not_mask_the_completion() -> None:
    patient = Patient()
    assert patient.answer_item9(at(0), 0, occurrence_id="c-1") == []
    out = patient.assess(at(0, minutes=5), total=5, item9=1, occurrence_id="c-1")
    assert raised(out) == ["safety"]


def test_assessments_without_occurrence_id_each_raise() -> None:
    # Backtest histories carry no check-in id: every positive assessment is its own answer.
    patient = Patient()
    assert raised(patient.assess(at(0), total=1, item9=1)) == ["safety"]
    assert raised(patient.assess(at(0, minutes=1), total=1, item9=1)) == ["safety"]


def test_crisis_text_raises_safety_every_time() -> None:
    patient = Patient()
    first = patient.crisis_text(at(0))
    assert raised(first) == ["safety"]
    assert first[0].priority == "P1"
    second = patient.crisis_text(at(0, minutes=1))
    assert raised(second) == ["safety"]
    patient.resolve(at(0, minutes=2), "safety")
    assert raised(patient.crisis_text(at(0, minutes=3))) == ["safety"]
    assert len({d.alert_id for d in patient.log if d.action is AlertAction.RAISED}) == 3


def test_safety_counts_as_an_urgent_alert_for_missed_check_ins() -> None:
    patient = Patient()
    patient.answer_item9(at(0), 1, occurrence_id="c-1")
    assert raised(patient.expire(at(3))) == ["missed_high_risk"]
