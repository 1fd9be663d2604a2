"""Escalation (docs/rules.md): P1 backup at 15 min, director at 30, the pair again at
45 and 60; P2 backup at 4 h; P3 never paged; acknowledgment or resolution stops it; a
backlog pages each role once; repeating a tick pages nobody twice."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from afterglow.core.alerting import (
    AlertStatus,
    EscalationPolicy,
    EscalationStep,
    Outcome,
    Role,
    acknowledge,
    due_escalations,
    mark_escalated,
    next_escalation_at,
    resolve,
)
from afterglow.core.events import NaiveDatetimeError
from tests.core.alerting.builders import OFFSETS, RAISED, after, alert

POLICY = EscalationPolicy()
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, database=None)


def pages_over(priority: str, ticks: list[datetime]) -> list[tuple[datetime, Role]]:
    record = alert(priority)
    return [(now, step.role) for now in ticks for step in mark_escalated(record, now, POLICY)]


def test_the_defaults_are_the_clinical_rules() -> None:
    assert POLICY.steps_for("P1") == (
        EscalationStep(timedelta(minutes=15), Role.BACKUP),
        EscalationStep(timedelta(minutes=30), Role.DIRECTOR),
        EscalationStep(timedelta(minutes=45), Role.BACKUP),
        EscalationStep(timedelta(minutes=60), Role.DIRECTOR),
    )
    assert POLICY.steps_for("P2") == (EscalationStep(timedelta(hours=4), Role.BACKUP),)
    assert POLICY.steps_for("P3") == ()


def test_p1_unacknowledged_escalates_backup_director_backup_director_then_stops() -> None:
    ticks = [after(minutes=m, seconds=s) for m in range(0, 180) for s in (0, 59)]
    assert pages_over("P1", ticks) == [
        (after(minutes=15), Role.BACKUP),
        (after(minutes=30), Role.DIRECTOR),
        (after(minutes=45), Role.BACKUP),
        (after(minutes=60), Role.DIRECTOR),
    ]


def test_p1_backup_is_paged_at_exactly_15_minutes_not_a_second_before() -> None:
    record = alert("P1")
    assert mark_escalated(record, after(minutes=14, seconds=59), POLICY) == []
    assert mark_escalated(record, after(minutes=15) - timedelta(microseconds=1), POLICY) == []
    assert [s.role for s in mark_escalated(record, after(minutes=15), POLICY)] == [Role.BACKUP]
    assert record.escalations_sent == 1


def test_next_escalation_at_follows_the_steps_then_ends() -> None:
    record = alert("P1")
    expected = [after(minutes=m) for m in (15, 30, 45, 60)]
    seen = []
    while (when := next_escalation_at(record, POLICY)) is not None:
        seen.append(when)
        mark_escalated(record, when, POLICY)
    assert seen == expected
    assert record.escalations_sent == 4


def test_acknowledged_at_20_minutes_nothing_more_is_paged() -> None:
    record = alert("P1")
    assert [s.role for s in mark_escalated(record, after(minutes=15), POLICY)] == [Role.BACKUP]
    acknowledge(record, "dr-backup", after(minutes=20))
    assert next_escalation_at(record, POLICY) is None
    for minutes in (30, 45, 60, 600):
        assert due_escalations(record, after(minutes=minutes), POLICY) == []
        assert mark_escalated(record, after(minutes=minutes), POLICY) == []
    assert record.escalations_sent == 1


def test_a_resolved_alert_is_never_escalated() -> None:
    record = alert("P1")
    resolve(record, "dr-primary", Outcome.REACHED_PLAN_MADE, after(minutes=5))
    assert record.status is AlertStatus.RESOLVED
    assert next_escalation_at(record, POLICY) is None
    assert mark_escalated(record, after(hours=5), POLICY) == []


def test_p2_pages_the_backup_at_4_hours_only() -> None:
    ticks = [after(minutes=m) for m in range(0, 24 * 60, 5)]
    assert pages_over("P2", ticks) == [(after(hours=4), Role.BACKUP)]
    record = alert("P2")
    assert next_escalation_at(record, POLICY) == after(hours=4)
    assert mark_escalated(record, after(hours=4) - timedelta(seconds=1), POLICY) == []


def test_p3_is_never_paged() -> None:
    ticks = [after(hours=h) for h in range(0, 24 * 30)]
    assert pages_over("P3", ticks) == []
    assert next_escalation_at(alert("P3"), POLICY) is None


def test_a_backlog_pages_each_role_once_keeping_the_latest_steps() -> None:
    # Worker down from raise until 50 min: steps at 15 (backup), 30 (director) and 45
    # (backup) are overdue; the backup is paged once, after the director, as in the chain.
    record = alert("P1")
    due = mark_escalated(record, after(minutes=50), POLICY)
    assert [(s.after, s.role) for s in due] == [
        (timedelta(minutes=30), Role.DIRECTOR),
        (timedelta(minutes=45), Role.BACKUP),
    ]
    assert record.escalations_sent == 3
    assert next_escalation_at(record, POLICY) == after(minutes=60)
    # Down for two hours: the director and the backup once each, then nothing remains.
    record = alert("P1")
    due = mark_escalated(record, after(hours=2), POLICY)
    assert [s.role for s in due] == [Role.BACKUP, Role.DIRECTOR]
    assert [s.after for s in due] == [timedelta(minutes=45), timedelta(minutes=60)]
    assert next_escalation_at(record, POLICY) is None


def test_marking_is_idempotent_for_the_same_now() -> None:
    record = alert("P1")
    first = mark_escalated(record, after(minutes=31), POLICY)
    assert len(first) == 2
    sent = record.escalations_sent
    assert mark_escalated(record, after(minutes=31), POLICY) == []
    assert due_escalations(record, after(minutes=31), POLICY) == []
    assert record.escalations_sent == sent


def test_due_escalations_changes_nothing() -> None:
    record = alert("P1")
    before = record.to_dict()
    assert [s.role for s in due_escalations(record, after(minutes=30), POLICY)] == [
        Role.BACKUP,
        Role.DIRECTOR,
    ]
    assert record.to_dict() == before


def test_times_are_compared_as_instants_whatever_the_offset() -> None:
    record = alert("P1")
    record.raised_at = RAISED.astimezone(OFFSETS[3])
    assert mark_escalated(record, after(minutes=15).astimezone(OFFSETS[2]), POLICY) != []


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(NaiveDatetimeError):
        due_escalations(alert("P1"), datetime(2026, 3, 2, 15), POLICY)


def test_an_unknown_priority_is_an_error_not_silence() -> None:
    with pytest.raises(ValueError, match="P4"):
        next_escalation_at(alert("P4"), POLICY)


def test_a_clinic_policy_may_change_the_steps() -> None:
    policy = EscalationPolicy(p2=(EscalationStep(timedelta(hours=1), Role.DIRECTOR),), p3=())
    record = alert("P2")
    assert [s.role for s in mark_escalated(record, after(hours=1), policy)] == [Role.DIRECTOR]


@pytest.mark.parametrize(
    "steps",
    [
        (
            EscalationStep(timedelta(minutes=30), Role.BACKUP),
            EscalationStep(timedelta(minutes=15), Role.DIRECTOR),
        ),
        (EscalationStep(timedelta(minutes=-1), Role.BACKUP),),
    ],
)
def test_steps_out_of_order_or_before_the_raise_are_refused(
    steps: tuple[EscalationStep, ...],
) -> None:
    with pytest.raises(ValueError, match="P1"):
        EscalationPolicy(p1=steps)


# --- properties ----------------------------------------------------------------------

# Offsets from the raise: whole minutes, often exactly on or next to a step.
SPECIAL = [
    timedelta(minutes=m) + d
    for m in (15, 30, 45, 60, 240)
    for d in (
        timedelta(0),
        timedelta(seconds=-1),
        timedelta(seconds=1),
    )
]
OFFSETS_FROM_RAISE = st.sampled_from(SPECIAL) | st.integers(0, 6 * 3600).map(
    lambda s: timedelta(seconds=s)
)


@st.composite
def tick_times(draw: st.DrawFn) -> list[datetime]:
    """An increasing sequence of worker ticks, in assorted offsets."""
    offsets = sorted(set(draw(st.lists(OFFSETS_FROM_RAISE, min_size=1, max_size=25))))
    return [(RAISED + o).astimezone(draw(st.sampled_from(OFFSETS))) for o in offsets]


@PROPERTY_SETTINGS
@given(st.sampled_from(["P1", "P2", "P3"]), tick_times())
def test_any_tick_sequence_pages_each_step_at_most_once_and_never_early(
    priority: str, ticks: list[datetime]
) -> None:
    record = alert(priority)
    steps = POLICY.steps_for(priority)
    fired: list[EscalationStep] = []
    for now in ticks:
        sent_before = record.escalations_sent
        due = mark_escalated(record, now, POLICY)
        overdue = steps[sent_before : record.escalations_sent]
        # Each overdue step is paged, or a later overdue step pages the same role now.
        for index, step in enumerate(overdue):
            later_same_role = any(s.role == step.role for s in overdue[index + 1 :])
            assert (step in due) != later_same_role
        for step in due:
            assert record.raised_at + step.after <= now  # never early
        roles = [s.role for s in due]
        assert len(roles) == len(set(roles))  # nobody paged twice in one go
        assert mark_escalated(record, now, POLICY) == []  # idempotent
        fired += due
    assert len(fired) == len(set(fired))  # each step at most once
    assert len(fired) <= len(steps)
    if priority == "P1":
        assert len(fired) <= 4
    if priority == "P3":
        assert fired == []
    # Nothing left behind: every step due by the last tick is accounted for, and the next
    # one is in the future.
    assert record.escalations_sent == sum(
        1 for s in steps if record.raised_at + s.after <= ticks[-1]
    )
    upcoming = next_escalation_at(record, POLICY)
    assert upcoming is None or upcoming > ticks[-1]


@PROPERTY_SETTINGS
@given(tick_times(), OFFSETS_FROM_RAISE)
def test_nothing_is_paged_once_acknowledged(ticks: list[datetime], ack_after: timedelta) -> None:
    record = alert("P1")
    acked_at = RAISED + ack_after
    for now in ticks:
        if now >= acked_at and record.status is AlertStatus.OPEN:
            acknowledge(record, "dr-primary", acked_at)
        due = mark_escalated(record, now, POLICY)
        if now >= acked_at:
            assert due == []
