"""Events the conversation emits besides the clinical ones in `afterglow.core.events`.

Completed questionnaires, positive item-9 answers and crisis texts are clinical events the
rule engine already knows (`AssessmentCompleted`, `SelfHarmItemAnswered`,
`CrisisTextReceived`); these are the rest, for the planner and the patient record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from afterglow.core.events import AssessmentCompleted, CrisisTextReceived, SelfHarmItemAnswered


@dataclass(slots=True)
class OptOutRequested:
    """The patient texted an opt-out keyword: the planner cancels every pending send."""

    patient_id: str
    at: datetime


@dataclass(slots=True)
class OptInRequested:
    """The patient texted START (or YES, UNSTOP): the plan resumes future check-ins."""

    patient_id: str
    at: datetime


@dataclass(slots=True)
class DifficultyAnswered:
    """PHQ-9 item 10 (unscored), answered after the assessment was already completed."""

    patient_id: str
    at: datetime
    checkin_id: str
    value: int


@dataclass(slots=True)
class CheckinIncomplete:
    """The patient went through item 9 but left some items unanswered: no total exists, yet
    the answers given are clinical information worth keeping."""

    patient_id: str
    at: datetime
    checkin_id: str
    answers: tuple[int | None, ...]


ConversationEvent = (
    AssessmentCompleted
    | SelfHarmItemAnswered
    | CrisisTextReceived
    | OptOutRequested
    | OptInRequested
    | DifficultyAnswered
    | CheckinIncomplete
)
