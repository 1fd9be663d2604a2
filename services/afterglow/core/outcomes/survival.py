"""The Kaplan-Meier product-limit estimate of a survival curve, its pointwise confidence
band and the median with its confidence interval (docs/rules.md, "Clinic outcomes").

Pure and small on purpose: production does not carry a statistics library. The method is
the one `lifelines.KaplanMeierFitter` uses by default, and a test compares the two:

- S(t) = product over event times t_i <= t of (1 - d_i / n_i), with n_i the subjects still
  at risk at t_i (durations >= t_i: a subject censored at t_i is at risk at t_i) and d_i
  the events at t_i. It is summed as exp(sum of log(n_i - d_i) - log(n_i)), as lifelines
  sums it, so that a curve landing on 0.5 up to rounding is read the same way by both.
- Pointwise band: the "exponential Greenwood" (log(-log)) interval,
  S(t) ** exp(+-z * sqrt(V(t)) / log S(t)) with V(t) = sum d_i / (n_i (n_i - d_i)), which
  stays inside [0, 1]. Where S(t) = 1 the band is [1, 1].
- Median: the first time on the curve where S(t) <= 0.5; none when the curve never gets
  there. Its interval is the median of the band's lower and upper curves (the lower curve
  reaches 0.5 first), Brookmeyer and Crowley's construction as lifelines computes it with
  `median_survival_times(kmf.confidence_interval_)`.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

# Two-sided 95 %: the normal quantile at 0.975.
Z_95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Observation:
    """A subject's time from origin (days) and whether it ended in the event (else
    censored: followed that long without it)."""

    duration: float
    event: bool


@dataclass(frozen=True, slots=True)
class CurvePoint:
    time: float
    at_risk: int
    events: int
    censored: int
    survival: float
    lower: float
    upper: float


@dataclass(frozen=True, slots=True)
class SurvivalEstimate:
    """The curve at time 0 and at every distinct observed duration."""

    points: tuple[CurvePoint, ...]
    subjects: int
    events: int
    median: float | None  # None: the curve never reaches 0.5
    median_lower: float | None
    median_upper: float | None  # None: not reached by the band's upper curve (unbounded)


def kaplan_meier(observations: Iterable[Observation], z: float = Z_95) -> SurvivalEstimate:
    subjects = sorted(observations, key=lambda o: o.duration)
    times = sorted({0.0, *(o.duration for o in subjects)})
    points: list[CurvePoint] = []
    log_survival, variance_sum = 0.0, 0.0
    remaining = len(subjects)
    index = 0
    for time in times:
        events = censored = 0
        while index < len(subjects) and subjects[index].duration == time:
            if subjects[index].event:
                events += 1
            else:
                censored += 1
            index += 1
        at_risk = remaining
        if events:
            log_survival += (
                math.log(at_risk - events) - math.log(at_risk) if at_risk > events else -math.inf
            )
            # Everyone left at risk has the event (S drops to 0): lifelines adds nothing.
            if at_risk > events:
                variance_sum += events / (at_risk * (at_risk - events))
        survival = math.exp(log_survival)
        lower, upper = _band(survival, variance_sum, z)
        points.append(CurvePoint(time, at_risk, events, censored, survival, lower, upper))
        remaining -= events + censored
    return SurvivalEstimate(
        points=tuple(points),
        subjects=len(subjects),
        events=sum(1 for o in subjects if o.event),
        median=_median(points, lambda p: p.survival),
        median_lower=_median(points, lambda p: p.lower),
        median_upper=_median(points, lambda p: p.upper),
    )


def _band(survival: float, variance_sum: float, z: float) -> tuple[float, float]:
    if survival >= 1.0:
        return 1.0, 1.0
    if survival <= 0.0:
        return 0.0, 0.0  # log S is -inf: the interval collapses to the estimate
    log_s = math.log(survival)
    spread = z * math.sqrt(variance_sum) / log_s  # negative: log S < 0
    upper = math.exp(-math.exp(math.log(-log_s) + spread))
    lower = math.exp(-math.exp(math.log(-log_s) - spread))
    return lower, upper


def _median(points: Sequence[CurvePoint], curve: Callable[[CurvePoint], float]) -> float | None:
    """The first point at or below 0.5, found by bisection over the times as lifelines does
    (`qth_survival_time`): the same as the first crossing, since a band's curve only ever
    rises by rounding."""
    if not points or curve(points[-1]) > 0.5:
        return None
    return points[bisect.bisect_left(points, -0.5, key=lambda p: -curve(p))].time
