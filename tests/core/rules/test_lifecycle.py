"""Alert lifecycle (docs/rules.md): one open alert per (patient, kind), updates,
resolution, the 7-day suppression; plus event order and state persistence."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from afterglow.core.events import (
    AlertResolved,
    AssessmentCompleted,
    CheckinExpired,
    ClinicalEvent,
    CrisisTextReceived,
    InfusionCompleted,
    OptedOut,
    PatientEnrolled,
    SelfHarmItemAnswered,
)
from afterglow.core.rules import AlertAction, PatientRuleState, evaluate
from afterglow.core.rules.engine import EventOrderError
from tests.core.builders import Patient, at, items_for, of_kind, raised

R = at(10)  # resolution time used below


def worsening_open() -> tuple[Patient, str]:
    patient = Patient()
    patient.assess(at(0), 5)
    out = patient.assess(at(1), 10)
    assert raised(out) == ["worsening"]
    return patient, out[0].alert_id


def test_a_new_match_while_open_is_attached_not_raised() -> None:
    patient, alert_id = worsening_open()
    patient.assess(at(2), 5)
    out = patient.assess(at(3), 11)
    assert [(d.action, d.alert_id) for d in out] == [(AlertAction.ATTACHED, alert_id)]
    assert patient.state.open_alerts["worsening"] == [alert_id]


def test_resolving_closes_the_open_alert() -> None:
    patient, alert_id = worsening_open()
    out = patient.resolve(R, "worsening")
    assert [(d.action, d.alert_id, d.kind) for d in out] == [
        (AlertAction.RESOLVED, alert_id, "worsening")
    ]
    assert "worsening" not in patient.open_kinds()


def test_last_minute_of_the_7_day_suppression_is_still_quiet() -> None:
    patient, _ = worsening_open()
    patient.resolve(R, "worsening")
    patient.assess(R + timedelta(days=1), 5)
    out = patient.assess(R + timedelta(days=7) - timedelta(minutes=1), 10)
    assert [d.action for d in of_kind(out, "worsening")] == [AlertAction.SUPPRESSED]
    assert raised(out) == []


def test_exactly_7_days_after_resolution_raises_again() -> None:
    patient, first_id = worsening_open()
    patient.resolve(R, "worsening")
    patient.assess(R + timedelta(days=1), 5)
    out = patient.assess(R + timedelta(days=7), 10)
    assert raised(out) == ["worsening"]
    assert out[0].alert_id != first_id


def test_resolution_with_nothing_open_is_ignored_and_starts_no_suppression() -> None:
    patient = Patient()
    assert patient.resolve(at(0), "worsening") == []
    patient.assess(at(0, minutes=1), 5)
    assert raised(patient.assess(at(0, minutes=2), 10)) == ["worsening"]


def test_suppression_is_per_kind() -> None:
    patient, _ = worsening_open()
    patient.resolve(R, "worsening")
    out = patient.assess(R + timedelta(hours=1), 20)
    assert raised(out) == ["severe"]
    assert [d.action for d in of_kind(out, "worsening")] == [AlertAction.SUPPRESSED]


def test_patients_do_not_share_alerts() -> None:
    first, _ = worsening_open()
    other = Patient("pt-2")
    other.assess(at(0), 5)
    assert raised(other.assess(at(1), 10)) == ["worsening"]
    first.resolve(R, "worsening")
    other.assess(R + timedelta(hours=1), 5)
    # pt-1's resolution suppresses nothing for pt-2, whose own alert is still open.
    out = other.assess(R + timedelta(hours=2), 10)
    assert [d.action for d in of_kind(out, "worsening")] == [AlertAction.ATTACHED]


# ---------------------------------------------------------------------------- ordering


def test_an_event_going_back_in_time_is_rejected() -> None:
    patient = Patient()
    patient.assess(at(1), 5)
    before = patient.state.to_dict()
    with pytest.raises(EventOrderError):
        patient.assess(at(1) - timedelta(microseconds=1), 20)
    assert patient.state.to_dict() == before  # nothing changed


@pytest.mark.parametrize(
    "event",
    [
        PatientEnrolled("pt-1", at(0), 10),
        InfusionCompleted("pt-1", at(0)),
        CheckinExpired("pt-1", at(0)),
        OptedOut("pt-1", at(0)),
        AlertResolved("pt-1", at(0), "severe"),
        SelfHarmItemAnswered("pt-1", at(0), 1, "c-1"),
        CrisisTextReceived("pt-1", at(0)),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_event_type_is_order_checked(event: ClinicalEvent) -> None:
    state = PatientRuleState("pt-1")
    evaluate(state, CheckinExpired("pt-1", at(1)))
    with pytest.raises(EventOrderError):
        evaluate(state, event)


def test_equal_times_and_the_same_instant_in_another_offset_are_in_order() -> None:
    patient = Patient()
    patient.assess(at(1), 5)
    patient.assess(at(1), 6)
    east = at(1).astimezone(timezone(timedelta(hours=9)))  # later wall clock, same instant
    patient.expire(east)
    west = at(1).astimezone(timezone(timedelta(hours=-8)))  # earlier wall clock, same instant
    patient.expire(west)


def test_an_earlier_wall_clock_in_another_offset_can_be_later() -> None:
    patient = Patient()
    patient.expire(datetime(2024, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=2))))  # 08:00Z
    patient.expire(datetime(2024, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=0))))  # 09:00Z
    with pytest.raises(EventOrderError):
        patient.expire(datetime(2024, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=5))))


# ------------------------------------------------------------------ state persistence


def rich_history() -> list[ClinicalEvent]:
    """Exercises baseline, responder, probable relapse, open and resolved alerts,
    suppression, safety check-ins and expiry streaks."""
    p = "pt-1"
    minus4 = timezone(timedelta(hours=-4))
    return [
        PatientEnrolled(p, at(-2)),
        AssessmentCompleted(p, at(-1), items_for(18)),
        InfusionCompleted(p, at(0)),
        AssessmentCompleted(p, at(7), items_for(4)),
        SelfHarmItemAnswered(p, at(14), 1, "c-1"),
        AssessmentCompleted(p, at(14, minutes=5), items_for(21, 1), 2, "c-1"),
        AlertResolved(p, at(15), "severe"),
        CheckinExpired(p, at(16).astimezone(minus4)),
        CheckinExpired(p, at(18)),
        # --- the state is persisted around here in the split test
        AssessmentCompleted(p, at(19), items_for(20, 1), None, "c-1"),  # same check-in id
        AssessmentCompleted(p, at(20), items_for(12)),
        AssessmentCompleted(p, at(21), items_for(20)),  # severe suppressed
        AlertResolved(p, at(22), "probable_relapse"),
        CheckinExpired(p, at(23)),
        CheckinExpired(p, at(26)),
        AssessmentCompleted(p, at(40), items_for(13)),
        InfusionCompleted(p, at(41)),
        AssessmentCompleted(p, at(46), items_for(14)),
        CrisisTextReceived(p, at(47)),
        OptedOut(p, at(48).astimezone(minus4)),
    ]


def run(state: PatientRuleState, events: list[ClinicalEvent]) -> list[tuple]:
    return [
        (d.action, d.alert_id, d.kind, d.priority, d.at, d.reason)
        for event in events
        for d in evaluate(state, event)
    ]


@pytest.mark.parametrize("split", [1, 5, 9, 12, 16])
def test_state_json_round_trip_does_not_change_behaviour(split: int) -> None:
    events = rich_history()
    uninterrupted = PatientRuleState("pt-1")
    expected = run(uninterrupted, events)
    assert {d[0] for d in expected} >= {
        AlertAction.RAISED,
        AlertAction.ATTACHED,
        AlertAction.SUPPRESSED,
        AlertAction.RESOLVED,
    }

    first = PatientRuleState("pt-1")
    got = run(first, events[:split])
    restored = PatientRuleState.from_dict(json.loads(json.dumps(first.to_dict())))
    got += run(restored, events[split:])
    assert got == expected
    assert restored.to_dict() == uninterrupted.to_dict()


def test_round_trip_keeps_the_safety_checkin_memory() -> None:
    state = PatientRuleState("pt-1")
    evaluate(state, SelfHarmItemAnswered("pt-1", at(0), 2, "c-9"))
    restored = PatientRuleState.from_dict(json.loads(json.dumps(state.to_dict())))
    out = evaluate(restored, AssessmentCompleted("pt-1", at(1), items_for(5, 2), None, "c-9"))
    assert raised(out) == []


def test_alert_ids_are_deterministic() -> None:
    first = run(PatientRuleState("pt-1"), rich_history())
    second = run(PatientRuleState("pt-1"), rich_history())
    assert [d[1] for d in first] == [d[1] for d in second]
    raised_ids = [d[1] for d in first if d[0] is AlertAction.RAISED]
    assert len(raised_ids) == len(set(raised_ids))


def test_a_rule_state_saved_before_occurrence_ids_still_knows_its_safety_checkins() -> None:
    state = PatientRuleState("clinic-a:42", safety_checkins=["inf:1:d007"])
    legacy = state.to_dict()
    del legacy["format"]
    legacy["safety_checkins"] = ["clinic-a:42:inf:1:d007"]
    assert PatientRuleState.from_dict(legacy) == state
    assert PatientRuleState.from_dict(state.to_dict()) == state
