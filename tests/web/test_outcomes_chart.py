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


def test_a_clinic_wide_curve_is_listed_and_drawn_by_day() -> None:
    # 3 relapses and a censoring within each of 200 days: 800 distinct durations.
    observations = [
        Observation(day + fraction, fraction != 0.8)
        for day in range(200)
        for fraction in (0.2, 0.4, 0.6, 0.8)
    ]
    estimate = kaplan_meier(observations)
    chart = curve_chart(estimate)
    assert chart is not None
    assert chart.by_day
    assert [p.time for p in chart.points] == [float(day) for day in range(201)]
    exact = {p.time: p for p in estimate.points}
    day_5 = chart.points[6]  # the points with 5 < time <= 6
    assert (day_5.at_risk, day_5.events, day_5.censored) == (exact[5.2].at_risk, 3, 1)
    assert day_5.survival == exact[5.8].survival
    assert len(re.findall(r"H([\d.]+)V([\d.]+)", chart.survival)) == len(chart.points)
    assert len(chart.censored) == 200
