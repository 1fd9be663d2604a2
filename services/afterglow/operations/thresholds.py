"""Where each panel turns amber and red (docs/operators.md, "Health summary"). A value at
a threshold already has that colour."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Thresholds:
    # The worker is the safety net: a minute behind delays a crisis reply or a page.
    worker_behind_amber_s: float = 30.0
    worker_behind_red_s: float = 120.0
    # The projector only feeds the dashboards: staleness there is an inconvenience first.
    projector_behind_amber_s: float = 60.0
    projector_behind_red_s: float = 600.0
    # Ticks: the larger of these and that many tick intervals (worker/readiness.py uses
    # the amber one for /readyz).
    tick_amber_s: float = 30.0
    tick_amber_intervals: float = 10.0
    tick_red_s: float = 120.0
    tick_red_intervals: float = 40.0
    # Dead letters are never removed from their topic: only recent ones colour the panel.
    deadletters_red_per_hour: int = 100
    # SMS funnel: delivery ratios are judged only on enough texts to mean something.
    funnel_min_sent: int = 20
    delivered_amber_ratio: float = 0.9
    delivered_red_ratio: float = 0.5
    funnel_min_planned: int = 5  # check-ins due with no text sent at all: red
    # Alerts: an open alert whose step is this far past has not been escalated.
    escalation_grace_s: float = 120.0


DEFAULT_THRESHOLDS = Thresholds()
