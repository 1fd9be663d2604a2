"""The Kaplan-Meier estimate, its band and the median's interval equal lifelines' on random
samples (ties, censoring at event times, curves that reach 0 or never reach 0.5), and a
small sample worked by hand."""

from __future__ import annotations

import math
import random

import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from afterglow.core.outcomes.survival import Observation, kaplan_meier


def _finite(value: float) -> float | None:
    return None if math.isinf(value) else float(value)


@pytest.mark.parametrize("seed", range(40))
def test_curve_band_and_median_equal_lifelines(seed: int) -> None:
    rng = random.Random(seed)
    sample = [
        Observation(float(rng.randint(0, 30)), rng.random() < rng.choice((0.3, 0.6, 1.0)))
        for _ in range(rng.randint(1, 80))
    ]
    mine = kaplan_meier(sample)
    fitted = KaplanMeierFitter().fit(
        [o.duration for o in sample], [o.event for o in sample], alpha=0.05
    )
    curve = fitted.survival_function_.iloc[:, 0]
    band = fitted.confidence_interval_
    assert [p.time for p in mine.points] == list(curve.index)
    assert [p.survival for p in mine.points] == pytest.approx(list(curve), abs=1e-12)
    assert [p.lower for p in mine.points] == pytest.approx(list(band.iloc[:, 0]), abs=1e-9)
    assert [p.upper for p in mine.points] == pytest.approx(list(band.iloc[:, 1]), abs=1e-9)
    interval = median_survival_times(band)
    assert mine.median == _finite(fitted.median_survival_time_)
    assert (mine.median_lower, mine.median_upper) == (
        _finite(interval.iloc[0, 0]),
        _finite(interval.iloc[0, 1]),
    )


def test_a_small_sample_worked_by_hand() -> None:
    # Relapses at 3, 5 and 8 days; censored at 5 (still at risk at 5) and 10.
    sample = [Observation(3, True), Observation(5, True), Observation(5, False),
              Observation(8, True), Observation(10, False)]  # fmt: skip
    estimate = kaplan_meier(sample)
    survival = {p.time: p.survival for p in estimate.points}
    assert survival[3] == pytest.approx(4 / 5)
    assert survival[5] == pytest.approx(4 / 5 * 3 / 4)
    assert survival[8] == pytest.approx(4 / 5 * 3 / 4 * 1 / 2)
    assert estimate.median == 8  # 0.6 at day 5, 0.3 at day 8
    assert [(p.at_risk, p.events, p.censored) for p in estimate.points] == [
        (5, 0, 0), (5, 1, 0), (4, 1, 1), (2, 1, 0), (1, 0, 1),
    ]  # fmt: skip
    assert estimate.median_lower is not None
    assert estimate.median_lower <= 8
    assert estimate.median_upper is None  # the band's upper curve stays above 0.5


def test_nobody_relapsing_leaves_the_median_unreached() -> None:
    estimate = kaplan_meier([Observation(d, False) for d in (4.0, 9.0, 30.0)])
    assert [p.survival for p in estimate.points] == [1.0, 1.0, 1.0, 1.0]
    assert (estimate.median, estimate.median_lower, estimate.median_upper) == (None, None, None)
