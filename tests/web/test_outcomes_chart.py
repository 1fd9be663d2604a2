"""The outcomes page's Kaplan-Meier chart draws the points its table lists: one step per
point, down to the survival at that time, and a tick for each censoring."""

from __future__ import annotations

import re

from afterglow.core.outcomes.survival import Observation, kaplan_meier
from afterglow.web.outcomes_chart import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, curve_chart


def test_each_step_of_the_path_is_a_point_of_the_curve() -> None:
    estimate = kaplan_meier(
        [Observation(3, True), Observation(5, True), Observation(5, False),
         Observation(8, True), Observation(10, False)]
    )  # fmt: skip
    chart = curve_chart(estimate)
    assert chart is not None
    steps = re.findall(r"H([\d.]+)V([\d.]+)", chart.survival)
    assert len(steps) == len(estimate.points)
    for (x, y), point in zip(steps, estimate.points, strict=True):
        assert float(x) == round(LEFT + (WIDTH - LEFT - RIGHT) * point.time / 10, 1)
        assert float(y) == round(TOP + (HEIGHT - TOP - BOTTOM) * (1 - point.survival), 1)
    assert [x for x, _ in chart.censored] == [float(steps[2][0]), float(steps[4][0])]
    assert chart.y_ticks[2].label == "0.50"
    assert chart.half == round(TOP + (HEIGHT - TOP - BOTTOM) * 0.5, 1)


def test_without_a_responder_there_is_no_chart() -> None:
    assert curve_chart(kaplan_meier([])) is None
