"""A7 `missed_high_risk` (docs/rules.md A7): a check-in expires during a probable
relapse, or at most 14 days after the last P1/P2 alert actually raised."""

from __future__ import annotations

from datetime import timedelta

from afterglow.core.rules import AlertAction
from tests.core.builders import Patient, at, of_kind, raised, responder


def severe_at_t0() -> Patient:
    patient = Patient()
    out = patient.assess(at(0), 20)
    assert raised(out) == ["severe"]
    return patient


def test_expiry_exactly_14_days_after_a_raised_p2_is_missed_high_risk() -> None:
    patient = severe_at_t0()
    out = patient.expire(at(14))
    assert raised(out) == ["missed_high_risk"]
    assert out[0].priority == "P2"
    assert out[0].at == at(14)


def test_expiry_14_days_and_1_second_after_is_not() -> None:
    patient = severe_at_t0()
    assert of_kind(patient.expire(at(14, seconds=1)), "missed_high_risk") == []


def test_expiry_within_14_days_of_a_safety_alert() -> None:
    patient = Patient()
    patient.assess(at(0), 1, item9=1)
    assert raised(patient.expire(at(2))) == ["missed_high_risk"]


def test_an_update_to_an_open_alert_does_not_restart_the_window() -> None:
    patient = severe_at_t0()
    patient.assess(at(10), 16)
    out = patient.assess(at(11), 20)
    assert [d.action for d in of_kind(out, "severe")] == [AlertAction.ATTACHED]
    # 3 days after the update, but 14 days + 1 s after the last alert actually raised.
    assert of_kind(patient.expire(at(14, seconds=1)), "missed_high_risk") == []


def test_a_suppressed_match_does_not_restart_the_window() -> None:
    patient = severe_at_t0()
    patient.resolve(at(1), "severe")
    patient.assess(at(2), 16)
    out = patient.assess(at(3), 20)
    assert [d.action for d in of_kind(out, "severe")] == [AlertAction.SUPPRESSED]
    assert of_kind(patient.expire(at(15)), "missed_high_risk") == []


def test_a_p3_alert_does_not_count() -> None:
    patient = Patient()
    patient.expire(at(0))
    assert raised(patient.expire(at(3))) == ["disengaged"]
    assert raised(patient.expire(at(6))) == []


def test_no_urgent_alert_no_missed_high_risk() -> None:
    patient, _ = responder()
    assert patient.expire(at(10)) == []


def test_expiry_during_probable_relapse_long_after_the_last_alert() -> None:
    patient, _ = responder(baseline=20, nadir=8)
    out = patient.assess(at(14), 11)
    assert raised(out) == ["probable_relapse"]
    # 20 days later, still in probable relapse (no assessment since): A7 regardless.
    out = patient.expire(at(34))
    assert raised(out) == ["missed_high_risk"]


def test_no_missed_high_risk_once_back_to_responder() -> None:
    patient, _ = responder(baseline=20, nadir=8)
    patient.assess(at(14), 11)
    patient.assess(at(17), 8)  # back to responder
    assert patient.expire(at(31, seconds=1)) == []


def test_a_second_expiry_while_open_is_an_update() -> None:
    patient = severe_at_t0()
    first = patient.expire(at(2))[0]
    out = patient.expire(at(5))
    updates = of_kind(out, "missed_high_risk")
    assert [(d.action, d.alert_id) for d in updates] == [(AlertAction.ATTACHED, first.alert_id)]


def test_missed_high_risk_itself_extends_the_window() -> None:
    # A7 is a P2 that was actually raised: a later expiry within 14 days of it matches.
    patient = severe_at_t0()
    patient.expire(at(10))  # A7 raised at day 10
    patient.resolve(at(11), "missed_high_risk")
    patient.assess(at(12), 1)  # an answer resets the disengagement streak
    out = patient.expire(at(24))  # 24 days after severe, 14 after the A7
    assert raised(out) == ["missed_high_risk"]


def test_missed_high_risk_comes_before_disengaged() -> None:
    patient = severe_at_t0()
    patient.expire(at(1))
    patient.resolve(at(1, hours=1), "missed_high_risk")
    out = patient.expire(at(1) + timedelta(days=8))
    assert raised(out) == ["missed_high_risk", "disengaged"]
