"""Clinician actions on an alert (docs/rules.md): acknowledge takes ownership and
stops escalation; resolve closes the alert with an outcome. Acknowledge is not resolve.

Both are safe to repeat (a duplicated SMS, a replayed stream): a second call reports what
already happened instead of changing the record.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from afterglow.core.alerting.record import AlertRecord, AlertStatus
from afterglow.core.events import require_aware


class Outcome(StrEnum):
    REACHED_PLAN_MADE = "reached_plan_made"
    UNREACHABLE_WELFARE_CHECK = "unreachable_welfare_check"
    NOT_CLINICALLY_SIGNIFICANT = "not_clinically_significant"
    REFERRED_TO_EMERGENCY_CARE = "referred_to_emergency_care"
    BOOSTER_SCHEDULED = "booster_scheduled"
    OTHER = "other"


class ActionResult(StrEnum):
    APPLIED = "applied"  # the record changed
    ALREADY = "already"  # it was already in that state (e.g. a second ack); unchanged
    CLOSED = "closed"  # the alert is resolved; unchanged


def acknowledge(record: AlertRecord, actor: str, now: datetime) -> ActionResult:
    """OPEN -> ACKNOWLEDGED by `actor` at `now` (escalation stops). An acknowledged alert
    keeps its owner (ALREADY); a resolved one is CLOSED."""
    require_aware(now)
    if record.status == AlertStatus.RESOLVED:
        return ActionResult.CLOSED
    if record.status == AlertStatus.ACKNOWLEDGED:
        return ActionResult.ALREADY
    record.status = AlertStatus.ACKNOWLEDGED
    record.acknowledged_by = actor
    record.acknowledged_at = now
    return ActionResult.APPLIED


def resolve(record: AlertRecord, actor: str, outcome: Outcome, now: datetime) -> ActionResult:
    """OPEN or ACKNOWLEDGED -> RESOLVED by `actor` at `now` with `outcome`. An alert resolved
    without an acknowledgment counts as acknowledged by the same actor at the same time. A
    resolved alert is CLOSED (the first resolution stands)."""
    require_aware(now)
    if record.status == AlertStatus.RESOLVED:
        return ActionResult.CLOSED
    if record.status == AlertStatus.OPEN:
        record.acknowledged_by = actor
        record.acknowledged_at = now
    record.status = AlertStatus.RESOLVED
    record.resolved_by = actor
    record.resolved_at = now
    record.outcome = Outcome(outcome).value
    return ActionResult.APPLIED


_SEPARATORS = re.compile(r"[\s\-]+")


def parse_outcome(text: str) -> Outcome:
    """An Outcome from its value, ignoring case and surrounding space, with spaces or
    hyphens accepted for underscores ("Reached plan made", "booster-scheduled").
    Raises ValueError listing the valid outcomes."""
    key = _SEPARATORS.sub("_", text.strip().casefold())
    try:
        return Outcome(key)
    except ValueError:
        valid = ", ".join(outcome.value for outcome in Outcome)
        raise ValueError(f"unknown outcome {text!r}; valid outcomes: {valid}") from None
