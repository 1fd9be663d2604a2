"""Clinician actions (docs/rules.md): acknowledge takes ownership and stops
escalation, resolve closes with an outcome; repeats report what already happened."""

from __future__ import annotations

from datetime import datetime

import pytest

from afterglow.core.alerting import (
    ActionResult,
    AlertStatus,
    EscalationPolicy,
    Outcome,
    acknowledge,
    mark_escalated,
    parse_outcome,
    resolve,
)
from afterglow.core.events import NaiveDatetimeError
from tests.core.alerting.builders import after, alert


def test_acknowledging_an_open_alert_records_the_owner_and_time() -> None:
    record = alert()
    assert acknowledge(record, "dr-ana", after(minutes=3)) is ActionResult.APPLIED
    assert record.status is AlertStatus.ACKNOWLEDGED
    assert (record.acknowledged_by, record.acknowledged_at) == ("dr-ana", after(minutes=3))
    assert record.resolved_at is None


def test_a_second_acknowledgment_keeps_the_first_owner() -> None:
    record = alert()
    acknowledge(record, "dr-ana", after(minutes=3))
    assert acknowledge(record, "dr-ben", after(minutes=4)) is ActionResult.ALREADY
    assert acknowledge(record, "dr-ana", after(minutes=5)) is ActionResult.ALREADY
    assert (record.acknowledged_by, record.acknowledged_at) == ("dr-ana", after(minutes=3))


def test_acknowledging_stops_escalation() -> None:
    record = alert("P1")
    acknowledge(record, "dr-ana", after(minutes=1))
    assert mark_escalated(record, after(hours=2), EscalationPolicy()) == []


def test_resolving_an_acknowledged_alert_keeps_the_acknowledgment() -> None:
    record = alert()
    acknowledge(record, "dr-ana", after(minutes=3))
    result = resolve(record, "dr-ben", Outcome.BOOSTER_SCHEDULED, after(minutes=40))
    assert result is ActionResult.APPLIED
    assert record.status is AlertStatus.RESOLVED
    assert (record.acknowledged_by, record.acknowledged_at) == ("dr-ana", after(minutes=3))
    assert (record.resolved_by, record.resolved_at) == ("dr-ben", after(minutes=40))
    assert record.outcome == "booster_scheduled"


def test_resolving_an_open_alert_counts_as_acknowledged_by_the_same_actor() -> None:
    record = alert()
    assert resolve(record, "dr-ana", Outcome.NOT_CLINICALLY_SIGNIFICANT, after(5)) is (
        ActionResult.APPLIED
    )
    assert record.status is AlertStatus.RESOLVED
    assert (record.acknowledged_by, record.acknowledged_at) == ("dr-ana", after(5))
    assert (record.resolved_by, record.resolved_at) == ("dr-ana", after(5))
    assert record.outcome == Outcome.NOT_CLINICALLY_SIGNIFICANT.value


def test_a_resolved_alert_is_closed_to_further_actions() -> None:
    record = alert()
    resolve(record, "dr-ana", Outcome.REACHED_PLAN_MADE, after(minutes=10))
    stored = record.to_dict()
    assert acknowledge(record, "dr-ben", after(minutes=11)) is ActionResult.CLOSED
    assert resolve(record, "dr-ben", Outcome.OTHER, after(minutes=12)) is ActionResult.CLOSED
    assert record.to_dict() == stored


def test_the_outcome_is_stored_as_its_json_value() -> None:
    record = alert()
    resolve(record, "dr-ana", Outcome.UNREACHABLE_WELFARE_CHECK, after(minutes=10))
    assert record.to_dict()["outcome"] == "unreachable_welfare_check"


def test_naive_times_are_refused() -> None:
    with pytest.raises(NaiveDatetimeError):
        acknowledge(alert(), "dr-ana", datetime(2026, 3, 2, 15))
    with pytest.raises(NaiveDatetimeError):
        resolve(alert(), "dr-ana", Outcome.OTHER, datetime(2026, 3, 2, 15))


@pytest.mark.parametrize("outcome", list(Outcome))
def test_every_outcome_parses_from_its_value(outcome: Outcome) -> None:
    assert parse_outcome(outcome.value) is outcome


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("  REACHED_PLAN_MADE ", Outcome.REACHED_PLAN_MADE),
        ("Reached plan made", Outcome.REACHED_PLAN_MADE),
        ("booster-scheduled", Outcome.BOOSTER_SCHEDULED),
        ("referred to emergency care", Outcome.REFERRED_TO_EMERGENCY_CARE),
        ("Other", Outcome.OTHER),
    ],
)
def test_outcomes_parse_ignoring_case_and_separators(text: str, outcome: Outcome) -> None:
    assert parse_outcome(text) is outcome


@pytest.mark.parametrize("text", ["", "done", "reached", "plan_made"])
def test_an_unknown_outcome_lists_the_valid_ones(text: str) -> None:
    with pytest.raises(ValueError, match="valid outcomes") as caught:
        parse_outcome(text)
    for outcome in Outcome:
        assert outcome.value in str(caught.value)
