"""Replays a history through the rule engine: the same `evaluate` the stream processors call."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from afterglow.backtest.exposure import FollowUpExposure
from afterglow.backtest.history import HistoryError, HistoryLine
from afterglow.core.events import ClinicalEvent, InfusionCompleted
from afterglow.core.rules import (
    AlertAction,
    AlertDecision,
    AlertKind,
    PatientRuleState,
    RuleConfig,
    evaluate,
)
from afterglow.core.rules.engine import EventOrderError


class RaisedAlert(NamedTuple):
    decision: AlertDecision
    at_text: str

    def to_json(self) -> dict[str, str]:
        d = self.decision
        return {
            "patient_id": d.patient_id,
            "kind": d.kind.value,
            "priority": d.priority,
            "at": self.at_text,
            "alert_id": d.alert_id,
            "reason": d.reason,
        }


@dataclass(slots=True)
class Backtest:
    config: RuleConfig = field(default_factory=RuleConfig)
    states: dict[str, PatientRuleState] = field(default_factory=dict)
    exposure: FollowUpExposure = field(default_factory=FollowUpExposure)
    counts: Counter[str] = field(default_factory=Counter)
    events: int = 0

    def __post_init__(self) -> None:
        self.exposure = FollowUpExposure(self.config.follow_up)

    def run(self, lines: Iterable[HistoryLine]) -> Iterator[RaisedAlert]:
        for line in lines:
            yield from self.replay(line)

    def replay(self, line: HistoryLine) -> list[RaisedAlert]:
        return self.replay_event(line.number, line.at_text, line.event)

    def replay_event(self, number: int, at_text: str, event: ClinicalEvent) -> list[RaisedAlert]:
        state = self.states.get(event.patient_id)
        if state is None:
            state = self.states[event.patient_id] = PatientRuleState(event.patient_id)
        try:
            decisions = evaluate(state, event, self.config)
            if isinstance(event, InfusionCompleted):
                self.exposure.infusion(event.patient_id, event.at)
        except EventOrderError as error:
            raise HistoryError(number, str(error)) from None
        except OverflowError:
            # An infusion in year 9999: its follow-up would end after the last datetime.
            raise HistoryError(number, "at is too far in the future") from None
        self.events += 1
        if not decisions:
            return []
        raised = [RaisedAlert(d, at_text) for d in decisions if d.action is AlertAction.RAISED]
        for alert in raised:
            self.counts[alert.decision.kind.value] += 1
        return raised

    def summary(self) -> dict[str, Any]:
        ends = [s.last_event_at for s in self.states.values() if s.last_event_at is not None]
        months = self.exposure.patient_months(max(ends, default=None))
        per_kind = {
            kind.value: {
                "count": self.counts[kind.value],
                "per_100_patient_months": _rate(self.counts[kind.value], months),
            }
            for kind in AlertKind
        }
        total = sum(self.counts.values())
        return {
            "events": self.events,
            "patients": len(self.states),
            "patient_months": round(months, 2),
            "alerts": total,
            "alerts_per_100_patient_months": _rate(total, months),
            "by_kind": per_kind,
        }


def _rate(count: int, months: float) -> float | None:
    return None if months == 0 else round(count * 100 / months, 2)
