"""Escalation of unacknowledged alerts (docs/rules.md).

Defaults: P1 unacknowledged after 15 min -> backup clinician, after 30 min -> medical
director, "repeat once" -- read here as the same backup -> director sequence paged a second
time, at 45 and 60 min; P2 unacknowledged after 4 hours -> backup; P3 is never paged (it
goes to the daily digest). Every step counts from `raised_at` and stops as soon as the alert
is acknowledged or resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from afterglow.core.alerting.record import AlertRecord, AlertStatus, Role
from afterglow.core.events import require_aware


@dataclass(frozen=True, slots=True)
class EscalationStep:
    after: timedelta  # since the alert was raised
    role: Role


_P1_DEFAULT = (
    EscalationStep(timedelta(minutes=15), Role.BACKUP),
    EscalationStep(timedelta(minutes=30), Role.DIRECTOR),
    EscalationStep(timedelta(minutes=45), Role.BACKUP),
    EscalationStep(timedelta(minutes=60), Role.DIRECTOR),
)
_P2_DEFAULT = (EscalationStep(timedelta(hours=4), Role.BACKUP),)


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """Escalation steps per priority, each in order of `after`. A clinic may override them."""

    p1: tuple[EscalationStep, ...] = _P1_DEFAULT
    p2: tuple[EscalationStep, ...] = _P2_DEFAULT
    p3: tuple[EscalationStep, ...] = ()  # digest only, never paged

    def __post_init__(self) -> None:
        for priority in ("P1", "P2", "P3"):
            steps = self.steps_for(priority)
            if any(step.after < timedelta(0) for step in steps):
                raise ValueError(f"{priority} escalation step before the alert was raised")
            if any(a.after > b.after for a, b in pairwise(steps)):
                raise ValueError(f"{priority} escalation steps must be in order of time")

    @classmethod
    def from_timings(
        cls,
        p1_backup: timedelta = timedelta(minutes=15),
        p1_director: timedelta = timedelta(minutes=30),
        p1_repeats: int = 1,
        p2_backup: timedelta = timedelta(hours=4),
    ) -> EscalationPolicy:
        """A clinic's policy from its timings: P1 backup then director, the sequence run
        `p1_repeats` more times one `p1_director` later each; P2 backup once."""
        if not timedelta(0) < p1_backup < p1_director:
            raise ValueError("the P1 backup must be paged before the director")
        p1 = tuple(
            step
            for cycle in range(p1_repeats + 1)
            for step in (
                EscalationStep(cycle * p1_director + p1_backup, Role.BACKUP),
                EscalationStep((cycle + 1) * p1_director, Role.DIRECTOR),
            )
        )
        return cls(p1=p1, p2=(EscalationStep(p2_backup, Role.BACKUP),))

    def steps_for(self, priority: str) -> tuple[EscalationStep, ...]:
        """The steps for "P1", "P2" or "P3"; any other priority is a ValueError (an alert
        that silently never escalates is worse than a loud failure)."""
        if priority == "P1":
            return self.p1
        if priority == "P2":
            return self.p2
        if priority == "P3":
            return self.p3
        raise ValueError(f"unknown alert priority {priority!r}; expected P1, P2 or P3")


def next_escalation_at(record: AlertRecord, policy: EscalationPolicy) -> datetime | None:
    """When the next step fires: None once acknowledged or resolved, or when none remain."""
    if record.status != AlertStatus.OPEN:
        return None
    return next_step_at(record.priority, record.raised_at, record.escalations_sent, policy)


def next_step_at(
    priority: str, raised_at: datetime, sent: int, policy: EscalationPolicy
) -> datetime | None:
    """When the step after the `sent` ones fires for an open alert; None when none remain."""
    steps = policy.steps_for(priority)
    sent = max(sent, 0)
    if sent >= len(steps):
        return None
    return raised_at + steps[sent].after


def _overdue(
    record: AlertRecord, now: datetime, policy: EscalationPolicy
) -> list[tuple[int, EscalationStep]]:
    require_aware(now)
    if record.status != AlertStatus.OPEN:
        return []
    steps = policy.steps_for(record.priority)
    return [
        (index, step)
        for index, step in enumerate(steps)
        if index >= record.escalations_sent and record.raised_at + step.after <= now
    ]


def _one_per_role(overdue: list[tuple[int, EscalationStep]]) -> list[EscalationStep]:
    """Keep each role's latest overdue step, in step order: a backlog (the worker was down)
    pages each person once, not the same person several times in a row."""
    latest = {step.role: index for index, step in overdue}
    return [step for index, step in overdue if latest[step.role] == index]


def due_escalations(
    record: AlertRecord, now: datetime, policy: EscalationPolicy
) -> list[EscalationStep]:
    """The steps to page at `now` (a step fires at exactly raised_at + after), for an open
    alert only, each role at most once. Changes nothing; see `mark_escalated`."""
    return _one_per_role(_overdue(record, now, policy))


def mark_escalated(
    record: AlertRecord, now: datetime, policy: EscalationPolicy
) -> list[EscalationStep]:
    """`due_escalations`, and advance `record.escalations_sent` past every overdue step
    (including those dropped as repeats of a role). Idempotent: a second call with the same
    `now` pages nothing. Does nothing and returns [] when no step is due."""
    overdue = _overdue(record, now, policy)
    if not overdue:
        return []
    record.escalations_sent = overdue[-1][0] + 1
    return _one_per_role(overdue)
