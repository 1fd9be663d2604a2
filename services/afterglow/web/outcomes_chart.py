"""The Kaplan-Meier curve of the outcomes page as SVG geometry, computed on the server so
that the page needs no script (docs/clinics.md, "Clinic outcomes"). The template draws
these paths; the same points are listed in a table next to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from afterglow.core.outcomes.survival import CurvePoint, SurvivalEstimate

WIDTH, HEIGHT = 640, 320
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


def curve_chart(estimate: SurvivalEstimate) -> CurveChart | None:
    """None when nobody responded: there is no curve to draw."""
    if estimate.subjects == 0:
        return None
    last = max(estimate.points[-1].time, 1.0)

    def x(time: float) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * time / last, 1)

    def y(value: float) -> float:
        return round(TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - value), 1)

    def steps(value: Callable[[CurvePoint], float]) -> str:
        parts = [f"M{x(0.0)},{y(1.0)}"]
        for point in estimate.points:
            parts.append(f"H{x(point.time)}V{y(value(point))}")
        return "".join(parts)

    step = _tick_step(last)
    return CurveChart(
        width=WIDTH,
        height=HEIGHT,
        survival=steps(lambda p: p.survival),
        lower=steps(lambda p: p.lower),
        upper=steps(lambda p: p.upper),
        censored=tuple((x(p.time), y(p.survival)) for p in estimate.points if p.censored),
        x_ticks=tuple(
            Tick(f"{day:g}", x(day), HEIGHT - BOTTOM + 16)
            for day in (step * n for n in range(int(last // step) + 1))
        ),
        y_ticks=tuple(Tick(f"{v:.2f}", LEFT - 6, y(v)) for v in (0.0, 0.25, 0.5, 0.75, 1.0)),
        half=y(0.5),
    )


def _tick_step(last: float) -> float:
    """Days between x-axis labels: about six labels, on a round number of days."""
    for step in (1, 2, 5, 7, 14, 28, 30, 60, 90, 180, 365):
        if last / step <= 8:
            return float(step)
    return 365.0 * (last // (365 * 8) + 1)
