"""The Kaplan-Meier curve of the outcomes page as SVG geometry, computed on the server so
that the page needs no script (docs/clinics.md, "Clinic outcomes"). The template draws
these paths; the same points are listed in a table next to it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from afterglow.core.outcomes.survival import CurvePoint, SurvivalEstimate

WIDTH, HEIGHT = 640, 320
# A clinic-wide curve has a point per distinct duration (thousands in a large clinic: an
# 900 kB page). Past this many, the page lists and draws it by day: a day is under a pixel.
MAX_POINTS = 400
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40


@dataclass(frozen=True, slots=True)
class Tick:
    label: str
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class CurveChart:
    width: int
    height: int
    survival: str  # SVG path data, a step function
    lower: str
    upper: str
    censored: tuple[tuple[float, float], ...]  # marks where subjects left without relapse
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    half: float  # y of S = 0.5, where the median is read
    points: tuple[CurvePoint, ...]  # what the paths draw and the table lists
    by_day: bool  # the points are whole days (see MAX_POINTS)


def shown_points(estimate: SurvivalEstimate) -> tuple[CurvePoint, ...]:
    """The curve's points, or, past MAX_POINTS, one per day: by the end of day d (the
    points with d - 1 < time <= d), who was at risk when it began, its relapses and
    censorings, and the estimate when it ended."""
    if len(estimate.points) <= MAX_POINTS:
        return tuple(estimate.points)
    days: dict[int, list[CurvePoint]] = {}
    for point in estimate.points:
        days.setdefault(math.ceil(point.time), []).append(point)
    return tuple(
        CurvePoint(
            time=float(day),
            at_risk=group[0].at_risk,
            events=sum(p.events for p in group),
            censored=sum(p.censored for p in group),
            survival=group[-1].survival,
            lower=group[-1].lower,
            upper=group[-1].upper,
        )
        for day, group in days.items()
    )


def curve_chart(estimate: SurvivalEstimate) -> CurveChart | None:
    """None when nobody responded: there is no curve to draw."""
    if estimate.subjects == 0:
        return None
    points = shown_points(estimate)
    last = max(points[-1].time, 1.0)

    def x(time: float) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * time / last, 1)

    def y(value: float) -> float:
        return round(TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - value), 1)

    def steps(value: Callable[[CurvePoint], float]) -> str:
        parts = [f"M{x(0.0)},{y(1.0)}"]
        for point in points:
            parts.append(f"H{x(point.time)}V{y(value(point))}")
        return "".join(parts)

    step = _tick_step(last)
    return CurveChart(
        width=WIDTH,
        height=HEIGHT,
        survival=steps(lambda p: p.survival),
        lower=steps(lambda p: p.lower),
        upper=steps(lambda p: p.upper),
        censored=tuple((x(p.time), y(p.survival)) for p in points if p.censored),
        x_ticks=tuple(
            Tick(f"{day:g}", x(day), HEIGHT - BOTTOM + 16)
            for day in (step * n for n in range(int(last // step) + 1))
        ),
        y_ticks=tuple(Tick(f"{v:.2f}", LEFT - 6, y(v)) for v in (0.0, 0.25, 0.5, 0.75, 1.0)),
        half=y(0.5),
        points=points,
        by_day=len(points) < len(estimate.points),
    )


def _tick_step(last: float) -> float:
    """Days between x-axis labels: about six labels, on a round number of days."""
    for step in (1, 2, 5, 7, 14, 28, 30, 60, 90, 180, 365):
        if last / step <= 8:
            return float(step)
    return 365.0 * (last // (365 * 8) + 1)
