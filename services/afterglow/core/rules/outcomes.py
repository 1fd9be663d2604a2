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
