"""Typed clinical events: what the rule engine consumes, whichever shell produced them.

Every `at` is a timezone-aware datetime. Events are values: nothing mutates them. They are
not `frozen` dataclasses only because frozen construction costs 8x as much (measured: 1.75
vs 0.21 us), and the backtest builds one per line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class NaiveDatetimeError(ValueError):
    """A datetime without a UTC offset reached the core."""


def require_aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise NaiveDatetimeError(f"{at.isoformat()} has no UTC offset")
    return at


@dataclass(slots=True)
class PatientEnrolled:
    patient_id: str
    at: datetime
    baseline_phq9: int | None = None


@dataclass(slots=True)
class InfusionCompleted:
    patient_id: str
    at: datetime


@dataclass(slots=True)
class AssessmentCompleted:
    """A PHQ-9 with items 1-9 answered (0-3 each). `occurrence_id` links it to a partial answer."""

    patient_id: str
    at: datetime
    items: tuple[int, ...]
    difficulty: int | None = None
    occurrence_id: str | None = None

    @property
    def total(self) -> int:
        return sum(self.items)


@dataclass(slots=True)
class SelfHarmItemAnswered:
    """PHQ-9 item 9 answered during a questionnaire that may never be finished (streaming)."""

    patient_id: str
    at: datetime
    value: int
    occurrence_id: str


@dataclass(slots=True)
class CrisisTextReceived:
    """An inbound text matched the crisis lexicon (streaming only)."""

    patient_id: str
    at: datetime


@dataclass(slots=True)
class CheckinExpired:
    """A check-in closed unanswered. From a conversation it names the check-in and keeps
    the items a partial questionnaire had; the backtest's history has neither."""

    patient_id: str
    at: datetime
    occurrence_id: str | None = None
    items: tuple[int | None, ...] | None = None


@dataclass(slots=True)
class OptedOut:
    patient_id: str
    at: datetime


@dataclass(slots=True)
class AlertResolved:
    """A clinician closed an alert. Without `alert_id`, every open alert of `kind` is closed."""

    patient_id: str
    at: datetime
    kind: str
    alert_id: str | None = None
    outcome: str | None = None


ClinicalEvent = (
    PatientEnrolled
    | InfusionCompleted
    | AssessmentCompleted
    | SelfHarmItemAnswered
    | CrisisTextReceived
    | CheckinExpired
    | OptedOut
    | AlertResolved
)
