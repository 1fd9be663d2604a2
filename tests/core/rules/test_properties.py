"""Property tests over generated histories: safety, the one-open-alert rule, agreement with
the independent oracle (tests/reference_rules.py), determinism and state persistence."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from afterglow.core.events import AssessmentCompleted, ClinicalEvent, SelfHarmItemAnswered
from afterglow.core.rules import AlertAction, AlertDecision, PatientRuleState, evaluate
from tests.core.builders import to_history_dict
from tests.core.rules.strategies import cohort_history, focused_history, patient_history
from tests.reference_rules import reference_alerts

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SUPPRESSION = timedelta(days=7)


def replay(events: list[ClinicalEvent]) -> list[list[AlertDecision]]:
    """Decisions per event, with one state per patient."""
    states: dict[str, PatientRuleState] = {}
    out = []
    for event in events:
        state = states.setdefault(event.patient_id, PatientRuleState(event.patient_id))
        out.append(evaluate(state, event))
    return out


@PROPERTY_SETTINGS
@given(patient_history())
def test_safety_raised_for_an_assessment_iff_item_9_is_positive(
    events: list[ClinicalEvent],
) -> None:
    for event, decisions in zip(events, replay(events), strict=True):
        if not isinstance(event, AssessmentCompleted):
            continue
        safety = [d for d in decisions if d.kind == "safety"]
        if event.items[8] >= 1:
            assert [d.action for d in safety] == [AlertAction.RAISED]
            assert safety[0].priority == "P1"
            assert safety[0].at == event.at
        else:
            assert safety == []


@st.composite
def checkins(draw: st.DrawFn) -> tuple[list[ClinicalEvent], dict[str, int]]:
    """Check-ins with unique ids: item 9 maybe answered early (streaming), then maybe
    completed with the same item 9; other events in between."""
    background = draw(patient_history(max_size=12))
    events: list[ClinicalEvent] = []
    item9_of: dict[str, int] = {}
    moment = background[-1].at
    for number in range(draw(st.integers(1, 12))):
        checkin = f"c-{number}"
        value = draw(st.sampled_from((0, 0, 1, 2, 3)))
        early, completes = draw(st.sampled_from(((True, False), (True, True), (False, True))))
        item9_of[checkin] = value
        moment += timedelta(days=draw(st.integers(1, 20)))
        if early:
            events.append(SelfHarmItemAnswered("pt-1", moment, value, checkin))
        if completes:
            moment += timedelta(minutes=draw(st.integers(0, 90)))
            items = (*draw(st.lists(st.integers(0, 3), min_size=8, max_size=8)), value)
            events.append(AssessmentCompleted("pt-1", moment, items, None, checkin))
    return [*background, *events], item9_of


@PROPERTY_SETTINGS
@given(checkins())
def test_one_safety_alert_per_positive_item_9_answer_however_it_arrives(
    case: tuple[list[ClinicalEvent], dict[str, int]],
) -> None:
    events, item9_of = case
    raised_per_checkin: dict[str, int] = dict.fromkeys(item9_of, 0)
    for event, decisions in zip(events, replay(events), strict=True):
        checkin = getattr(event, "occurrence_id", None)
        for d in decisions:
            if d.kind == "safety" and d.action is AlertAction.RAISED and checkin is not None:
                raised_per_checkin[checkin] += 1
    for checkin, value in item9_of.items():
        assert raised_per_checkin[checkin] == (1 if value >= 1 else 0), checkin


@PROPERTY_SETTINGS
@given(cohort_history(streaming=True))
def test_at_most_one_open_alert_per_patient_and_non_safety_kind(
    events: list[ClinicalEvent],
) -> None:
    states: dict[str, PatientRuleState] = {}
    resolved: dict[tuple[str, str], object] = {}
    for event in events:
        state = states.setdefault(event.patient_id, PatientRuleState(event.patient_id))
        open_before = {kind for kind, ids in state.open_alerts.items() if ids}
        decisions = evaluate(state, event)
        raised_now = [d for d in decisions if d.action is AlertAction.RAISED]
        for d in decisions:
            if d.kind == "safety":
                assert d.action in (AlertAction.RAISED, AlertAction.RESOLVED)
        for d in raised_now:
            if d.kind == "safety":
                continue
            assert d.kind not in open_before, f"{d.kind} raised while one was open"
            resolved_at = resolved.get((d.patient_id, d.kind))
            if resolved_at is not None:
                assert d.at >= resolved_at + SUPPRESSION, f"{d.kind} raised while suppressed"
            assert d.alert_id in state.open_alerts[d.kind]
        non_safety_raised = [d.kind for d in raised_now if d.kind != "safety"]
        assert len(non_safety_raised) == len(set(non_safety_raised))
        for d in decisions:
            if d.action is AlertAction.RESOLVED:
                resolved[(d.patient_id, d.kind)] = d.at
        for kind, ids in state.open_alerts.items():
            if kind != "safety":
                assert len(ids) <= 1, f"{kind} open {len(ids)} times"


def engine_alerts(events: list[ClinicalEvent]) -> list[dict[str, str]]:
    return [
        {
            "patient_id": d.patient_id,
            "kind": d.kind.value,
            "priority": d.priority,
            "at": event.at.isoformat(),
        }
        for event, decisions in zip(events, replay(events), strict=True)
        for d in decisions
        if d.action is AlertAction.RAISED
    ]


@PROPERTY_SETTINGS
@given(cohort_history())
def test_engine_agrees_with_the_reference_oracle(events: list[ClinicalEvent]) -> None:
    expected = reference_alerts([to_history_dict(event) for event in events])
    assert engine_alerts(events) == expected


def fingerprint(decisions: list[list[AlertDecision]]) -> list[tuple]:
    return [
        (d.action, d.alert_id, d.patient_id, d.kind, d.priority, d.at, d.reason)
        for batch in decisions
        for d in batch
    ]


@PROPERTY_SETTINGS
@given(cohort_history(streaming=True))
def test_replaying_twice_gives_identical_alert_ids(events: list[ClinicalEvent]) -> None:
    first = fingerprint(replay(events))
    second = fingerprint(replay(events))
    assert first == second
    raised_ids = [row[1] for row in first if row[0] is AlertAction.RAISED]
    assert len(raised_ids) == len(set(raised_ids))


@PROPERTY_SETTINGS
@given(patient_history(streaming=True), st.data())
def test_persisting_the_state_mid_history_changes_nothing(
    events: list[ClinicalEvent], data: st.DataObject
) -> None:
    split = data.draw(st.integers(0, len(events)))
    uninterrupted = PatientRuleState("pt-1")
    expected = fingerprint([evaluate(uninterrupted, e) for e in events])
    first = PatientRuleState("pt-1")
    got = [evaluate(first, e) for e in events[:split]]
    restored = PatientRuleState.from_dict(json.loads(json.dumps(first.to_dict())))
    got += [evaluate(restored, e) for e in events[split:]]
    assert fingerprint(got) == expected
    assert restored.to_dict() == uninterrupted.to_dict()


@PROPERTY_SETTINGS
@given(focused_history())
def test_engine_agrees_with_the_reference_oracle_at_the_boundaries(
    events: list[ClinicalEvent],
) -> None:
    expected = reference_alerts([to_history_dict(event) for event in events])
    assert engine_alerts(events) == expected
