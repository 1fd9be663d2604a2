"""Alert lifecycle inside the rule state (docs/rules.md): one open alert per
(patient, kind), a quiet period after resolution, and safety alerts that are never
deduplicated or suppressed."""

from __future__ import annotations

import hashlib
from datetime import datetime

from afterglow.core.rules.config import RuleConfig
from afterglow.core.rules.kinds import NEVER_SUPPRESSED, PRIORITY, AlertKind
from afterglow.core.rules.outcomes import AlertAction, AlertDecision
from afterglow.core.rules.state import PatientRuleState

_PAGING_PRIORITIES = frozenset({"P1", "P2"})


def alert_id_for(patient_id: str, kind: AlertKind, at: datetime, sequence: int) -> str:
    """Deterministic, so a replayed stream and the backtest name the same alert the same way."""
    seed = f"{patient_id}|{kind.value}|{at.isoformat()}|{sequence}".encode()
    return hashlib.blake2b(seed, digest_size=8).hexdigest()


def match(
    state: PatientRuleState,
    kind: AlertKind,
    at: datetime,
    reason: str,
    config: RuleConfig,
) -> AlertDecision:
    """A rule matched: raise a new alert, attach to the open one, or stay quiet."""
    priority = PRIORITY[kind]
    if kind not in NEVER_SUPPRESSED:
        open_ids = state.open_alerts.get(kind)
        if open_ids:
            return AlertDecision(
                AlertAction.ATTACHED, open_ids[0], state.patient_id, kind, priority, at, reason
            )
        resolved = state.resolved_at.get(kind)
        if resolved is not None and at < resolved + config.suppression:
            return AlertDecision(
                AlertAction.SUPPRESSED, "", state.patient_id, kind, priority, at, reason
            )
    state.alert_seq += 1
    alert_id = alert_id_for(state.patient_id, kind, at, state.alert_seq)
    state.open_alerts[kind] = [*state.open_alerts.get(kind, ()), alert_id]
    if priority in _PAGING_PRIORITIES:
        state.last_p1p2_raised_at = at
    return AlertDecision(AlertAction.RAISED, alert_id, state.patient_id, kind, priority, at, reason)


def resolve(
    state: PatientRuleState,
    kind: AlertKind,
    at: datetime,
    alert_id: str | None,
    outcome: str | None,
) -> list[AlertDecision]:
    """Close the open alert(s) of `kind`; nothing happens when none is open."""
    open_ids = state.open_alerts.get(kind, [])
    closing = [i for i in open_ids if alert_id is None or i == alert_id]
    if not closing:
        return []
    remaining = [i for i in open_ids if i not in closing]
    if remaining:
        state.open_alerts[kind] = remaining
    else:
        del state.open_alerts[kind]
    if kind not in NEVER_SUPPRESSED:
        state.resolved_at[kind] = at
    reason = f"resolved: {outcome}" if outcome else "resolved"
    priority = PRIORITY[kind]
    return [
        AlertDecision(AlertAction.RESOLVED, i, state.patient_id, kind, priority, at, reason)
        for i in closing
    ]
