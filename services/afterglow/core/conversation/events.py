"""Events the conversation emits besides the clinical ones in `afterglow.core.events`.

Completed questionnaires, positive item-9 answers, crisis texts and truly expired check-ins
are clinical events the rule engine already knows (`AssessmentCompleted`,
`SelfHarmItemAnswered`, `CrisisTextReceived`, `CheckinExpired`); these are the rest, for the
planner and the patient record. The conversation decides each of them; the shell only
carries them out (docs/developers.md, "Effects").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from afterglow.core.events import (
    AssessmentCompleted,
    CheckinExpired,
    CrisisTextReceived,
    SelfHarmItemAnswered,
)


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
    occurrence_id: str
    value: int


@dataclass(slots=True)
class CheckinIncomplete:
    """The patient went through item 9 but left some items unanswered: no total exists, yet
    the answers given are clinical information worth keeping."""

    patient_id: str
    at: datetime
    occurrence_id: str
    answers: tuple[int | None, ...]


@dataclass(slots=True)
class CheckinCompleted:
    """Items 1-9 are answered: the plan sends no reminder and no expiry for this check-in."""

    patient_id: str
    at: datetime
    occurrence_id: str


ConversationEvent = (
    AssessmentCompleted
    | CheckinCompleted
    | CheckinExpired
    | SelfHarmItemAnswered
    | CrisisTextReceived
    | OptOutRequested
    | OptInRequested
    | DifficultyAnswered
    | CheckinIncomplete
)
