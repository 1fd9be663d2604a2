"""Small event builders for rule tests: one patient, tz-aware times, readable scenarios."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

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
    AlertAction,
    AlertDecision,
    PatientRuleState,
    RuleConfig,
    evaluate,
)

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def at(days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
    """A moment relative to T0 (UTC)."""
    return T0 + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def items_for(total: int, item9: int = 0) -> tuple[int, ...]:
    """Nine PHQ-9 answers (0-3) with item 9 = `item9` and items 1-9 summing to `total`."""
    rest = total - item9
    if not 0 <= item9 <= 3 or not 0 <= rest <= 24:
        raise ValueError(f"cannot build items for total {total} with item 9 = {item9}")
    first_eight = []
    for _ in range(8):
        value = min(3, rest)
        first_eight.append(value)
        rest -= value
    return (*first_eight, item9)


def raised(decisions: list[AlertDecision]) -> list[str]:
    """Kinds of the alerts actually raised (what a clinician sees as new alerts), in order."""
    return [d.kind.value for d in decisions if d.action is AlertAction.RAISED]


def of_kind(decisions: list[AlertDecision], kind: str) -> list[AlertDecision]:
    return [d for d in decisions if d.kind.value == kind]


@dataclass
class Patient:
    """One patient's rule state plus helpers that feed it events and return the decisions."""

    patient_id: str = "pt-1"
    config: RuleConfig = field(default_factory=RuleConfig)
    state: PatientRuleState = field(init=False)
    log: list[AlertDecision] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.state = PatientRuleState(self.patient_id)

    def feed(self, event: ClinicalEvent) -> list[AlertDecision]:
        out = evaluate(self.state, event, self.config)
        self.log.extend(out)
        return out

    def enroll(self, when: datetime, baseline: int | None = None) -> list[AlertDecision]:
        return self.feed(PatientEnrolled(self.patient_id, when, baseline))

    def infuse(self, when: datetime) -> list[AlertDecision]:
        return self.feed(InfusionCompleted(self.patient_id, when))

    def assess(
        self,
        when: datetime,
        total: int,
        item9: int = 0,
        occurrence_id: str | None = None,
        difficulty: int | None = None,
    ) -> list[AlertDecision]:
        return self.feed(
            AssessmentCompleted(
                self.patient_id, when, items_for(total, item9), difficulty, occurrence_id
            )
        )

    def answer_item9(self, when: datetime, value: int, occurrence_id: str) -> list[AlertDecision]:
        return self.feed(SelfHarmItemAnswered(self.patient_id, when, value, occurrence_id))

    def crisis_text(self, when: datetime) -> list[AlertDecision]:
        return self.feed(CrisisTextReceived(self.patient_id, when))

    def expire(self, when: datetime) -> list[AlertDecision]:
        return self.feed(CheckinExpired(self.patient_id, when))

    def opt_out(self, when: datetime) -> list[AlertDecision]:
        return self.feed(OptedOut(self.patient_id, when))

    def resolve(
        self, when: datetime, kind: str, alert_id: str | None = None
    ) -> list[AlertDecision]:
        return self.feed(AlertResolved(self.patient_id, when, kind, alert_id, "reviewed"))

    def raised(self) -> list[str]:
        return raised(self.log)

    def open_kinds(self) -> set[str]:
        return {str(kind) for kind, ids in self.state.open_alerts.items() if ids}


def responder(
    baseline: int | None = 20, nadir: int = 4, patient_id: str = "pt-1"
) -> tuple[Patient, datetime]:
    """A patient who responded to treatment: infusion at T0, an assessment of `nadir`
    at T0 + 7 days (nothing raised). Returns the patient and the time of that assessment."""
    patient = Patient(patient_id)
    patient.enroll(at(-1), baseline)
    patient.infuse(at(0))
    when = at(7)
    out = patient.assess(when, nadir)
    assert raised(out) == []
    assert patient.state.responder
    return patient, when


def to_history_dict(event: ClinicalEvent) -> dict[str, Any]:
    """The backtest JSON Lines form (docs/clinics.md) of a backtest-capable event."""
    base: dict[str, Any] = {"patient_id": event.patient_id, "at": event.at.isoformat()}
    if isinstance(event, PatientEnrolled):
        base["type"] = "patient_enrolled"
        if event.baseline_phq9 is not None:
            base["baseline_phq9"] = event.baseline_phq9
    elif isinstance(event, InfusionCompleted):
        base["type"] = "infusion_completed"
    elif isinstance(event, AssessmentCompleted):
        base["type"] = "assessment_completed"
        base["items"] = list(event.items)
        if event.difficulty is not None:
            base["difficulty"] = event.difficulty
    elif isinstance(event, CheckinExpired):
        base["type"] = "checkin_expired"
    elif isinstance(event, OptedOut):
        base["type"] = "opted_out"
    elif isinstance(event, AlertResolved):
        base["type"] = "alert_resolved"
        base["kind"] = event.kind
    else:
        raise TypeError(f"{type(event).__name__} has no backtest form")
    return base
