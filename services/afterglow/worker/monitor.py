"""The monitor: every clinical event through the same rule engine as `afterglow backtest`.

One input topic (`afterglow.clinical-events`, keyed by patient) carries everything the
rules need, in arrival order per patient: conversations publish answers and assessments,
intake publishes enrollments and infusions, the conversation publishes expiries, the
consent agent opt-outs and the alert desk resolutions. One topic keeps each patient's
events in one order, which is what makes the stream raise what the backtest raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from afterglow.core.clinical_records import decode
from afterglow.core.events import ClinicalEvent, PatientEnrolled
from afterglow.core.rules import PatientRuleState, RuleConfig, RuleOutcome, decide
from afterglow.intake.records import parse_datetime
from afterglow.registry.clinics import ClinicDirectory
from afterglow.topics import CLINICAL_EVENTS
from afterglow.worker.alert_desk import AlertDesk
from afterglow.worker.context import WorkerContext
from afterglow.worker.effects import Effects

# Redeliveries after a crash arrive within the uncommitted tail of a partition: the last
# few dozen ids per patient are enough to recognise them.
_REMEMBERED_EVENTS = 64


class Monitor:
    def __init__(
        self,
        context: WorkerContext,
        desk: AlertDesk,
        effects: Effects,
        clinics: ClinicDirectory,
    ) -> None:
        self.context = context
        self.desk = desk
        self.effects = effects
        self.clinics = clinics
        self.states = context.table(
            "rule-state", "patient_id -> rule state and the ids of recent clinical events"
        )

    async def handle(self, event: Any) -> str:
        data = self.context.decode(CLINICAL_EVENTS, event)
        key: bytes = event.key
        stored = self.states.get(key)
        if stored is None:
            state, recent = PatientRuleState(data["patient_id"]), []
        else:
            state, recent = PatientRuleState.from_dict(stored["state"]), stored["recent"]
        if data["event_id"] in recent:
            return "duplicate"
        clinical = decode(data, parse_datetime(data["at"], "at"))
        outcome = "ignored"
        if clinical is not None:
            result, at_text = self._decide(state, clinical, data["at"], self._rules_for(key, data))
            partition = event.message.partition
            await self.desk.apply(partition, key, data, at_text, result.decisions)
            await self.effects.dispatch(partition, key, data["event_id"], result.effects)
            outcome = "accepted"
        self.states[key] = {
            "state": state.to_dict(),
            "recent": [*recent, data["event_id"]][-_REMEMBERED_EVENTS:],
        }
        return outcome

    def _rules_for(self, key: bytes, data: Mapping[str, Any]) -> RuleConfig:
        """The thresholds of the patient's clinic (from the registry, else the event)."""
        registration = self.context.patients.get(key) or {}
        return self.clinics.get(registration.get("clinic_id") or data.get("clinic_id", "")).rules

    def _decide(
        self, state: PatientRuleState, clinical: ClinicalEvent, at_text: str, config: RuleConfig
    ) -> tuple[RuleOutcome, str]:
        latest = state.last_event_at
        if isinstance(clinical, PatientEnrolled):
            # A registration carries no clinical time (intake stamps it with the service
            # clock), so it must not move the patient's clock.
            clinical.at = latest or clinical.at
            result = decide(state, clinical, config)
            state.last_event_at = latest
            return result, at_text
        if latest is not None and clinical.at < latest:
            # A late event (an infusion reported hours later, a delayed webhook) is still
            # clinical information: evaluate it as of the patient's latest time rather than
            # drop it. The backtest rejects such input instead (docs/rules.md).
            clinical.at = latest
            at_text = latest.isoformat()
            self.context.metrics.late_events.inc()
        return decide(state, clinical, config), at_text
