"""The rule engine: one event in, alert decisions out (docs/rules.md).

`evaluate` is deterministic and does no I/O; time comes only from the events. It updates
the patient's `PatientRuleState` in place (the caller owns it: a Faust table value or a
backtest dictionary) because copying the state for every event would halve backtest speed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from afterglow.core.events import (
    AlertResolved,
    AssessmentCompleted,
    CheckinExpired,
    ClinicalEvent,
    CrisisTextReceived,
    InfusionCompleted,
    NaiveDatetimeError,
    OptedOut,
    PatientEnrolled,
    SelfHarmItemAnswered,
)
from afterglow.core.instruments import PHQ9_SELF_HARM_INDEX
from afterglow.core.rules.config import RuleConfig
from afterglow.core.rules.kinds import AlertKind
from afterglow.core.rules.lifecycle import match, resolve
from afterglow.core.rules.outcomes import (
    AlertDecision,
    ProbableRelapseEntered,
    RuleEffect,
    RuleOutcome,
)
from afterglow.core.rules.state import PatientRuleState, RelapsePhase

DEFAULT_CONFIG = RuleConfig()


class EventOrderError(ValueError):
    """An event older than the last one seen for the same patient."""


def evaluate(
    state: PatientRuleState, event: ClinicalEvent, config: RuleConfig = DEFAULT_CONFIG
) -> list[AlertDecision]:
    """The alert decisions for one event (what the backtest prints)."""
    return decide(state, event, config).decisions


def decide(
    state: PatientRuleState, event: ClinicalEvent, config: RuleConfig = DEFAULT_CONFIG
) -> RuleOutcome:
    """The alert decisions for one event, and its effects elsewhere (what the stream does)."""
    if event.at.tzinfo is None:
        # Compared with aware times it would fail later, or worse, be read as local time.
        raise NaiveDatetimeError(f"{event.at.isoformat()} has no UTC offset")
    if state.last_event_at is not None and event.at < state.last_event_at:
        raise EventOrderError(
            f"time goes backwards for patient {event.patient_id}: {event.at.isoformat()} "
            f"is before {state.last_event_at.isoformat()}"
        )
    state.last_event_at = event.at
    outcome = RuleOutcome([], [])
    _HANDLERS[type(event)](state, event, config, outcome.decisions, outcome.effects)
    return outcome


def meets_response(total: int, baseline: int | None, config: RuleConfig) -> bool:
    if total <= config.remission_max:
        return True
    return (
        baseline is not None and baseline >= config.response_baseline_min and 2 * total <= baseline
    )


def meets_relapse_criterion(total: int, baseline: int | None, config: RuleConfig) -> bool:
    return total >= config.relapse_min_total and (baseline is None or 2 * total > baseline)


def _on_enrolled(
    state: PatientRuleState,
    event: PatientEnrolled,
    config: RuleConfig,
    out: list[AlertDecision],
    effects: list[RuleEffect],
) -> None:
    if event.baseline_phq9 is not None:
        state.enrolled_baseline = event.baseline_phq9


def _on_infusion(
    state: PatientRuleState,
    event: InfusionCompleted,
    config: RuleConfig,
    out: list[AlertDecision],
    effects: list[RuleEffect],
) -> None:
    # Infusions re-plan check-ins but never change the relapse phase (docs/rules.md).
    if state.first_infusion_at is None:
        state.first_infusion_at = event.at
    state.last_infusion_at = event.at


def _on_assessment(
    state: PatientRuleState,
    event: AssessmentCompleted,
    config: RuleConfig,
    out: list[AlertDecision],
    effects: list[RuleEffect],
) -> None:
    total = event.total
    at = event.at
    self_harm = event.items[PHQ9_SELF_HARM_INDEX]
    if self_harm >= config.self_harm_min and (
        event.occurrence_id is None or event.occurrence_id not in state.safety_checkins
    ):
        out.append(_safety_for_item(state, event.occurrence_id, self_harm, event, config))

    previous = state.previous_total
    if total >= config.severe_total and (previous is None or previous < config.severe_total):
        out.append(
            match(
                state, AlertKind.SEVERE, at, f"PHQ-9 total {total} is in the severe range", config
            )
        )
    if previous is not None and total - previous >= config.worsening_delta:
        out.append(
            match(
                state,
                AlertKind.WORSENING,
                at,
                f"PHQ-9 total rose from {previous} to {total} (+{total - previous})",
                config,
            )
        )

    first_infusion = state.first_infusion_at
    if first_infusion is not None and at > first_infusion:
        _after_treatment(state, total, event, config, out, effects)
        state.nadir = total if state.nadir is None else min(state.nadir, total)
    else:
        state.pretreatment_total = total
    state.previous_total = total
    state.expired_streak = 0


def _after_treatment(
    state: PatientRuleState,
    total: int,
    event: AssessmentCompleted,
    config: RuleConfig,
    out: list[AlertDecision],
    effects: list[RuleEffect],
) -> None:
    baseline = state.baseline
    responds = meets_response(total, baseline, config)
    if responds and not state.responder:
        state.responder = True
        state.phase = RelapsePhase.RESPONDER
    if not state.responder:
        return
    nadir = state.nadir
    if nadir is not None and total - nadir >= config.losing_response_delta:
        out.append(
            match(
                state,
                AlertKind.LOSING_RESPONSE,
                event.at,
                f"PHQ-9 total {total} is {total - nadir} above the best score since treatment "
                f"({nadir})",
                config,
            )
        )
    _advance_relapse_phase(state, total, responds, event, config, out, effects)


def _advance_relapse_phase(
    state: PatientRuleState,
    total: int,
    responds: bool,
    event: AssessmentCompleted,
    config: RuleConfig,
    out: list[AlertDecision],
    effects: list[RuleEffect],
) -> None:
    at = event.at
    relapsing = meets_relapse_criterion(total, state.baseline, config)
    phase = state.phase
    if phase is RelapsePhase.RESPONDER:
        if relapsing:
            _enter_probable_relapse(state, total, event, config, out, effects)
    elif phase is RelapsePhase.PROBABLE:
        assert state.probable_since is not None
        if not relapsing:
            state.phase = RelapsePhase.RESPONDER
            state.probable_since = None
            return
        elapsed = at - state.probable_since
        if elapsed < config.relapse_confirm_min:
            return
        if elapsed <= config.relapse_confirm_max:
            state.phase = RelapsePhase.RELAPSED
            state.probable_since = None
            out.append(
                match(
                    state,
                    AlertKind.RELAPSE,
                    at,
                    f"relapse confirmed: criterion met again {_days(elapsed)} after the "
                    "probable relapse",
                    config,
                )
            )
        else:
            _enter_probable_relapse(state, total, event, config, out, effects)
    elif phase is RelapsePhase.RELAPSED and responds:
        state.phase = RelapsePhase.RESPONDER


def _enter_probable_relapse(
    state: PatientRuleState,
    total: int,
    event: AssessmentCompleted,
    config: RuleConfig,
    out: list[AlertDecision],
    effects: list[RuleEffect],
) -> None:
    state.phase = RelapsePhase.PROBABLE
    state.probable_since = event.at
    effects.append(ProbableRelapseEntered(state.patient_id, event.at))
    baseline = state.baseline
    against = "" if baseline is None else f" and above half the baseline {baseline}"
    out.append(
        match(
            state,
            AlertKind.PROBABLE_RELAPSE,
            event.at,
            f"responder's PHQ-9 total {total} is {config.relapse_min_total} or more{against}",
            config,
        )
    )


def _safety_for_item(
    state: PatientRuleState,
    occurrence_id: str | None,
    value: int,
    event: AssessmentCompleted | SelfHarmItemAnswered,
    config: RuleConfig,
) -> AlertDecision:
    if occurrence_id is not None:
        state.remember_safety_checkin(occurrence_id)
    return match(
        state,
        AlertKind.SAFETY,
        event.at,
        f"PHQ-9 item 9 (thoughts of self-harm) answered {value}",
        config,
    )


def _on_self_harm_item(
    state: PatientRuleState,
    event: SelfHarmItemAnswered,
    config: RuleConfig,
    out: list[AlertDecision],
    effects: list[RuleEffect],
) -> None:
    # A1 fires the moment item 9 is answered; the completed questionnaire must not repeat it.
    if event.value >= config.self_harm_min and event.occurrence_id not in state.safety_checkins:
        out.append(_safety_for_item(state, event.occurrence_id, event.value, event, config))


def _on_crisis_text(
    state: PatientRuleState,
    event: CrisisTextReceived,
    config: RuleConfig,
    out: list[AlertDecision],
    effects: list[RuleEffect],
) -> None:
    out.append(
        match(
            state,
            AlertKind.SAFETY,
            event.at,
            "an inbound text matched the crisis lexicon",
            config,
        )
    )


def _on_expired(
    state: PatientRuleState,
    event: CheckinExpired,
    config: RuleConfig,
    out: list[AlertDecision],
    effects: list[RuleEffect],
) -> None:
    at = event.at
    state.expired_streak += 1
    last_alert = state.last_p1p2_raised_at
    if state.phase is RelapsePhase.PROBABLE:
        out.append(
            match(
                state,
                AlertKind.MISSED_HIGH_RISK,
                at,
                "a check-in expired unanswered during a probable relapse",
                config,
            )
        )
    elif last_alert is not None and at - last_alert <= config.missed_high_risk_window:
        out.append(
            match(
                state,
                AlertKind.MISSED_HIGH_RISK,
                at,
                f"a check-in expired unanswered {_days(at - last_alert)} after an urgent alert",
                config,
            )
        )
    if state.expired_streak == config.disengaged_streak:
        out.append(
            match(
                state,
                AlertKind.DISENGAGED,
                at,
                f"{state.expired_streak} check-ins in a row expired unanswered",
                config,
            )
        )


def _on_opted_out(
    state: PatientRuleState,
    event: OptedOut,
    config: RuleConfig,
    out: list[AlertDecision],
    effects: list[RuleEffect],
) -> None:
    last_infusion = state.last_infusion_at
    if last_infusion is None:
        return
    since = event.at - last_infusion
    if timedelta(0) <= since <= config.follow_up:
        out.append(
            match(
                state,
                AlertKind.MONITORING_STOPPED,
                event.at,
                f"the patient opted out of text check-ins {_days(since)} after the last infusion",
                config,
            )
        )


def _on_resolved(
    state: PatientRuleState,
    event: AlertResolved,
    config: RuleConfig,
    out: list[AlertDecision],
    effects: list[RuleEffect],
) -> None:
    out.extend(resolve(state, AlertKind(event.kind), event.at, event.alert_id, event.outcome))


def _days(delta: timedelta) -> str:
    days = delta.total_seconds() / 86400
    return f"{days:.1f} days"


_Handler = Callable[
    [PatientRuleState, Any, RuleConfig, list[AlertDecision], list[RuleEffect]], None
]

_HANDLERS: dict[type, _Handler] = {
    PatientEnrolled: _on_enrolled,
    InfusionCompleted: _on_infusion,
    AssessmentCompleted: _on_assessment,
    SelfHarmItemAnswered: _on_self_harm_item,
    CrisisTextReceived: _on_crisis_text,
    CheckinExpired: _on_expired,
    OptedOut: _on_opted_out,
    AlertResolved: _on_resolved,
}
