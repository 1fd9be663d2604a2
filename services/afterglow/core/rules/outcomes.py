"""What the rule engine decides about alerts; the shells publish, print or count these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from afterglow.core.rules.kinds import AlertKind


class AlertAction(StrEnum):
    RAISED = "raised"  # a new open alert: published, printed by backtest, counted
    ATTACHED = "attached"  # a new match while one is open: an update to that alert
    SUPPRESSED = "suppressed"  # a match inside the post-resolution quiet period
    RESOLVED = "resolved"  # a clinician closed it


@dataclass(slots=True)  # a value; not frozen for speed, like the events
class AlertDecision:
    action: AlertAction
    alert_id: str
    patient_id: str
    kind: AlertKind
    priority: str
    at: datetime
    reason: str


@dataclass(slots=True)
class ProbableRelapseEntered:
    """The patient entered probable relapse (A5, raised or not): the plan adds a
    confirmatory check-in (docs/rules.md, "Check-in schedule")."""

    patient_id: str
    at: datetime


RuleEffect = ProbableRelapseEntered


@dataclass(slots=True)
class RuleOutcome:
    """What one event changed: alert decisions, and effects on other parts of the service."""

    decisions: list[AlertDecision]
    effects: list[RuleEffect]
