"""The monitor: every clinical event through the same rule engine as `afterglow backtest`.

One input topic (`afterglow.clinical-events`, keyed by patient) carries everything the
rules need, in arrival order per patient: conversations publish answers and assessments,
intake publishes enrollments and infusions, the conversation publishes expiries, the
consent agent opt-outs and the alert desk resolutions. One topic keeps each patient's
events in one order, which is what makes the stream raise what the backtest raises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from afterglow.core.events import (
    AlertResolved,
    AssessmentCompleted,
    CheckinExpired,
    ClinicalEvent,
    CrisisTextReceived,
    InfusionCompleted,
    OptedOut,
    PatientEnrolled,
    SelfHarmItemAnswered,
)
from afterglow.core.rules import (
    AlertDecision,
    PatientRuleState,
    RelapsePhase,
    RuleConfig,
    evaluate,
)
from afterglow.intake.records import decode_json_object, parse_datetime, require_key
from afterglow.registry.clinics import ClinicDirectory

if TYPE_CHECKING:
    from afterglow.worker.alert_desk import AlertDesk
    from afterglow.worker.app import WorkerContext
    from afterglow.worker.scheduler import Scheduler

CLINICAL_SCHEMA = "afterglow.clinical-events"
# Redeliveries after a crash arrive within the uncommitted tail of a partition: the last
# few dozen ids per patient are enough to recognise them.
_REMEMBERED_EVENTS = 64

_Builder = Callable[[Mapping[str, Any], str, datetime], ClinicalEvent]

_BUILDERS: dict[str, _Builder] = {
    "patient_enrolled": lambda d, p, at: PatientEnrolled(p, at, d.get("baseline_phq9")),
    "infusion_completed": lambda d, p, at: InfusionCompleted(p, at),
    "assessment_completed": lambda d, p, at: AssessmentCompleted(
        p, at, tuple(d["items"]), d.get("difficulty"), d.get("checkin_id")
    ),
    "self_harm_item_answered": lambda d, p, at: SelfHarmItemAnswered(
        p, at, d["value"], d["checkin_id"]
    ),
    "crisis_text_received": lambda d, p, at: CrisisTextReceived(p, at),
    "checkin_expired": lambda d, p, at: CheckinExpired(p, at),
    "opted_out": lambda d, p, at: OptedOut(p, at),
    "alert_resolved": lambda d, p, at: AlertResolved(
        p, at, d["kind"], d.get("alert_id"), d.get("outcome")
    ),
}


def clinical_event(data: Mapping[str, Any]) -> ClinicalEvent | None:
    """The rule-engine event for a validated record; None for types the rules ignore
    (difficulty answers, incomplete check-ins)."""
    build = _BUILDERS.get(data["type"])
    if build is None:
        return None
    return build(data, data["patient_id"], parse_datetime(data["at"], "at"))


class Monitor:
    def __init__(
        self,
        context: WorkerContext,
        desk: AlertDesk,
        scheduler: Scheduler,
        clinics: ClinicDirectory,
    ) -> None:
        self.context = context
        self.desk = desk
        self.scheduler = scheduler
        self.clinics = clinics
        self.states = context.app.Table(
            "rule-state",
            default=None,
            key_type=bytes,
            help="patient_id -> rule state and the ids of recent clinical events",
        )

    async def handle(self, event: Any) -> str:
        data = self.context.catalog.validate(CLINICAL_SCHEMA, decode_json_object(event.value))
        require_key(event.key, data["patient_id"], "patient_id")
        key: bytes = event.key
        stored = self.states.get(key)
        if stored is None:
            state, recent = PatientRuleState(data["patient_id"]), []
        else:
            state, recent = PatientRuleState.from_dict(stored["state"]), stored["recent"]
        if data["event_id"] in recent:
            return "duplicate"
        clinical = clinical_event(data)
        outcome = "ignored"
        if clinical is not None:
            probable_since = state.probable_since
            config = self._rules_for(key, data)
            decisions, at_text = self._evaluate(state, clinical, data["at"], config)
            # Publish before the state is saved: after a crash the event is replayed on the
            # old state and raises the same alert ids again, which downstream recognises.
            await self.desk.apply(event.message.partition, key, data, at_text, decisions)
            if state.phase is RelapsePhase.PROBABLE and state.probable_since != probable_since:
                # Whether or not A5 was raised (it may be attached or suppressed), the
                # relapse can only be confirmed by another check-in (§5).
                assert state.probable_since is not None
                self.scheduler.on_probable_relapse(
                    event.message.partition, key, state.probable_since
                )
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

    def _evaluate(
        self, state: PatientRuleState, clinical: ClinicalEvent, at_text: str, config: RuleConfig
    ) -> tuple[list[AlertDecision], str]:
        latest = state.last_event_at
        if isinstance(clinical, PatientEnrolled):
            # A registration carries no clinical time (intake stamps it with the service
            # clock), so it must not move the patient's clock.
            clinical.at = latest or clinical.at
            decisions = evaluate(state, clinical, config)
            state.last_event_at = latest
            return decisions, at_text
        if latest is not None and clinical.at < latest:
            # A late event (an infusion reported hours later, a delayed webhook) is still
            # clinical information: evaluate it as of the patient's latest time rather than
            # drop it. The backtest rejects such input instead (contract §1).
            clinical.at = latest
            at_text = latest.isoformat()
            self.context.metrics.late_events.inc()
        return evaluate(state, clinical, config), at_text
