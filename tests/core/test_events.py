"""Event types: every `at` must carry a UTC offset (every schema: all times have one)."""

from __future__ import annotations

from datetime import datetime

import pytest

from afterglow.core.events import (
    AlertResolved,
    AssessmentCompleted,
    CheckinExpired,
    CrisisTextReceived,
    InfusionCompleted,
    NaiveDatetimeError,
    OptedOut,
    PatientEnrolled,
    SelfHarmItemAnswered,
    require_aware,
)
from afterglow.core.rules import PatientRuleState, evaluate
from tests.core.builders import at

NAIVE = datetime(2024, 3, 1, 9, 0)


def test_require_aware() -> None:
    assert require_aware(at(0)) == at(0)
    with pytest.raises(NaiveDatetimeError):
        require_aware(NAIVE)


BUILDERS = {
    "PatientEnrolled": lambda when: PatientEnrolled("p", when),
    "InfusionCompleted": lambda when: InfusionCompleted("p", when),
    "AssessmentCompleted": lambda when: AssessmentCompleted("p", when, (0,) * 9),
    "SelfHarmItemAnswered": lambda when: SelfHarmItemAnswered("p", when, 1, "c"),
    "CrisisTextReceived": lambda when: CrisisTextReceived("p", when),
    "CheckinExpired": lambda when: CheckinExpired("p", when),
    "OptedOut": lambda when: OptedOut("p", when),
    "AlertResolved": lambda when: AlertResolved("p", when, "severe"),
}


def test_the_engine_refuses_every_event_without_a_utc_offset() -> None:
    # A naive time would be compared with aware ones or, worse, read as local time.
    accepted = []
    for name, build in BUILDERS.items():
        state = PatientRuleState("p")
        evaluate(state, build(at(0)))
        try:
            evaluate(PatientRuleState("p"), build(NAIVE))
        except NaiveDatetimeError:
            continue
        accepted.append(name)
    assert accepted == [], f"evaluated with a naive datetime: {', '.join(accepted)}"
