"""A patient's treatment status, as the rule engine sees it (docs/rules.md, "Patient status").

The status is not a second reading of the thresholds: the patient's clinical events are
folded through `decide` on a fresh `PatientRuleState`, and the status is read from that
state (the relapse phase, responder, the expired streak) and from what the engine decided
about the latest assessment (A4). Pure: `now` is a parameter, nothing is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from afterglow.core.events import AssessmentCompleted, ClinicalEvent, PatientEnrolled
from afterglow.core.rules.config import RuleConfig
from afterglow.core.rules.engine import DEFAULT_CONFIG, decide
from afterglow.core.rules.kinds import AlertKind
from afterglow.core.rules.state import PatientRuleState, RelapsePhase


class Status(StrEnum):
    """In order of precedence: a patient shows the first that applies."""

    RELAPSED = "relapsed"
    PROBABLE_RELAPSE = "probable relapse"
    LOSING_RESPONSE = "losing response"
    DISENGAGED = "disengaged"
    REMITTER = "remitter"
    RESPONDER = "responder"
    NOT_YET_RESPONDING = "not yet responding"
    NO_SCORES = "no scores"


@dataclass(frozen=True, slots=True)
class PatientStatus:
    status: Status
    baseline: int | None
    latest_total: int | None
    latest_at: datetime | None
    expired_streak: int  # check-ins missed in a row since the last completed one

    @property
    def change(self) -> int | None:
        """Latest total minus the baseline (negative is better)."""
        if self.baseline is None or self.latest_total is None:
            return None
        return self.latest_total - self.baseline


def patient_status(
    patient_id: str,
    events: Iterable[ClinicalEvent],
    now: datetime,
    enrolled_baseline: int | None = None,
    config: RuleConfig = DEFAULT_CONFIG,
) -> PatientStatus:
    """The status after the patient's events up to `now`, oldest first.

    `enrolled_baseline` is the registration's `baseline_phq9`. Enrollment events are
    skipped: on the stream a registration carries no clinical time (docs/rules.md, "On the
    stream"), and its baseline is the one given here. An event older than the previous one
    is evaluated as of the previous one's time, as the monitor does."""
    state = PatientRuleState(patient_id, enrolled_baseline=enrolled_baseline)
    latest: AssessmentCompleted | None = None
    losing = False
    for event in events:
        if event.at > now or isinstance(event, PatientEnrolled):
            continue
        if state.last_event_at is not None and event.at < state.last_event_at:
            event = replace(event, at=state.last_event_at)
        outcome = decide(state, event, config)
        if isinstance(event, AssessmentCompleted):
            latest = event
            # Any A4 match counts, raised or not: the alert lifecycle (an open alert, a
            # suppression) decides about paging, not about the patient's state.
            losing = any(d.kind is AlertKind.LOSING_RESPONSE for d in outcome.decisions)
    return PatientStatus(
        status=_status(state, latest, losing, config),
        baseline=state.baseline,
        latest_total=None if latest is None else latest.total,
        latest_at=None if latest is None else latest.at,
        expired_streak=state.expired_streak,
    )


def _status(
    state: PatientRuleState,
    latest: AssessmentCompleted | None,
    losing: bool,
    config: RuleConfig,
) -> Status:
    if state.phase is RelapsePhase.RELAPSED:
        return Status.RELAPSED
    if state.phase is RelapsePhase.PROBABLE:
        return Status.PROBABLE_RELAPSE
    if losing:
        return Status.LOSING_RESPONSE
    if state.expired_streak >= config.disengaged_streak:
        return Status.DISENGAGED
    if latest is None:
        return Status.NO_SCORES
    if state.responder:
        return Status.REMITTER if latest.total <= config.remission_max else Status.RESPONDER
    return Status.NOT_YET_RESPONDING
