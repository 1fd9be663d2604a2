"""Rule thresholds. Defaults are docs/rules.md's; a clinic may override any of them
except the safety rule's "never suppressed", which is not a setting at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class RuleConfig:
    # A1: PHQ-9 item 9 at or above this value is a safety alert.
    self_harm_min: int = 1
    # A2: severe band lower bound (Kroenke 2001).
    severe_total: int = 20
    # A3: minimal clinically important difference between consecutive totals (Lowe 2004).
    worsening_delta: int = 5
    # A4: reliable change above the nadir for a responder (IAPT).
    losing_response_delta: int = 6
    # Responder / "meets response": remission at or below this total ...
    remission_max: int = 4
    # ... or a >= 50 % reduction when the baseline is at least this.
    response_baseline_min: int = 10
    # Relapse criterion: total at or above this (and above half the baseline, if any).
    relapse_min_total: int = 10
    # A6: a confirming assessment this long after the probable relapse (inclusive both ends).
    relapse_confirm_min: timedelta = timedelta(days=5)
    relapse_confirm_max: timedelta = timedelta(days=15)
    # A7: an expiry this soon after the last P1/P2 alert actually raised (inclusive).
    missed_high_risk_window: timedelta = timedelta(days=14)
    # A8: follow-up is active while the last infusion is at most this old (inclusive).
    follow_up: timedelta = timedelta(days=365)
    # A9: consecutive expired check-ins that make a patient disengaged.
    disengaged_streak: int = 2
    # Lifecycle: after resolution, the same (patient, kind) stays quiet this long.
    suppression: timedelta = timedelta(days=7)
