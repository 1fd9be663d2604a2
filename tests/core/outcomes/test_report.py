"""A clinic's outcomes on a fictional cohort with known trajectories equal the tests' own
reading of docs/rules.md ("Clinic outcomes"), written here from the trajectories (days
since the first infusion), and the time to relapse equals lifelines' Kaplan-Meier fit."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta

import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from afterglow.core.outcomes.report import OutcomesReport, outcomes
from afterglow.core.rules.config import RuleConfig
from tests.support.outcomes_cohort import (
    NOW,
    PERIOD,
    Trajectory,
    alert_rows,
    checkin_rows,
    cohort,
    histories,
)


def _report(trajectories: list[Trajectory]) -> OutcomesReport:
    return outcomes(
        "clinic-a",
        PERIOD,
        NOW,
        histories(trajectories),
        checkin_rows(trajectories),
        alert_rows(trajectories),
        RuleConfig(),
    )


def _counted(trajectories: list[Trajectory]) -> list[Trajectory]:
    return [t for t in trajectories if PERIOD.start <= t.start < PERIOD.end]


def _baseline(t: Trajectory) -> int | None:
    # The series counted is the patient's first unless an earlier one exists; a later
    # series starts from the score taken before it.
    return t.enrollment_baseline if t.enrollment_baseline is not None else t.pre_treatment


def _responds(total: int, baseline: int | None) -> bool:
    return total <= 4 or (baseline is not None and baseline >= 10 and total * 2 <= baseline)


@pytest.mark.parametrize("seed", [7, 11, 23])
def test_response_and_remission_rates_at_weeks_4_8_12(seed: int) -> None:
    trajectories = cohort(seed)
    report = _report(trajectories)
    counted = _counted(trajectories)
    assert (report.series, report.patients) == (len(counted), len(counted))
    for outcome in report.weeks:
        week = outcome.week
        ended = [t for t in counted if t.start + timedelta(days=7 * week + 7) <= NOW]
        scored = []
        for t in ended:
            near = [
                (abs(d - 7 * week), d, total) for d, total in t.scores if abs(d - 7 * week) <= 7
            ]
            if near:
                scored.append((t, min(near)[2]))
        depressed = [(t, total) for t, total in scored if (_baseline(t) or 0) >= 10]
        assert outcome.window_closed == len(ended)
        assert outcome.assessed == len(scored)
        assert (outcome.remission.count, outcome.remission.of) == (
            sum(1 for _, total in scored if total <= 4),
            len(scored),
        )
        assert (outcome.response.count, outcome.response.of) == (
            sum(1 for t, total in depressed if 2 * total <= (_baseline(t) or 0)),
            len(depressed),
        )
    assert report.weeks[2].assessed > 20
    assert report.weeks[2].response.count > 0


@pytest.mark.parametrize("seed", [7, 11, 23])
def test_time_to_relapse_equals_lifelines(seed: int) -> None:
    trajectories = cohort(seed)
    durations, relapsed = [], []
    for t in _counted(trajectories):
        baseline = _baseline(t)
        first = next((d for d, total in t.scores if _responds(total, baseline)), None)
        if first is None:
            continue
        after = [(d, total) for d, total in t.scores if d > first]
        relapse = next(
            (d for d, total in after
             if total >= 10 and (baseline is None or 2 * total > baseline)),
            None,
        )  # fmt: skip
        end = relapse if relapse is not None else (after[-1][0] if after else first)
        durations.append(end - first)
        relapsed.append(relapse is not None)
    fitted = KaplanMeierFitter().fit(durations, relapsed)
    estimate = _report(trajectories).relapse

    assert (estimate.subjects, estimate.events) == (len(durations), sum(relapsed))
    curve = fitted.survival_function_.iloc[:, 0]
    assert [p.time for p in estimate.points] == pytest.approx(list(curve.index), abs=1e-9)
    assert [p.survival for p in estimate.points] == pytest.approx(list(curve), abs=1e-12)
    band = fitted.confidence_interval_
    assert [p.lower for p in estimate.points] == pytest.approx(list(band.iloc[:, 0]), abs=1e-9)
    assert [p.upper for p in estimate.points] == pytest.approx(list(band.iloc[:, 1]), abs=1e-9)
    interval = median_survival_times(band)
    expected = [fitted.median_survival_time_, interval.iloc[0, 0], interval.iloc[0, 1]]
    got = [estimate.median, estimate.median_lower, estimate.median_upper]
    assert got == pytest.approx([None if math.isinf(v) else v for v in expected], abs=1e-9)
    assert estimate.median is not None
    assert sum(relapsed) > 10


def test_boosters_checkins_and_alert_burden() -> None:
    trajectories = cohort(7)
    report = _report(trajectories)
    counted = _counted(trajectories)
    boosters = {t.patient_id: sum(1 for d in t.infusion_days if d > 28) for t in counted}
    assert report.boosters.patients == len(counted)
    assert report.boosters.boosters == sum(boosters.values())
    assert report.boosters.distribution == dict(sorted(Counter(boosters.values()).items()))
    assert report.boosters.per_patient == pytest.approx(sum(boosters.values()) / len(counted))

    sent = [c for c in checkin_rows(trajectories) if c.sent_at and PERIOD.holds(c.sent_at)]
    answered = [c for c in sent if c.completed_at is not None]
    assert (report.checkins.count, report.checkins.of) == (len(answered), len(sent))
    assert 0 < len(answered) < len(sent)

    raised = Counter(
        (clinician or "(no clinician: medical director)", at.strftime("%Y-%m"))
        for t in trajectories
        for clinician, at in t.alerts
        if PERIOD.start <= at < PERIOD.end
    )
    assert {(b.clinician, b.month): b.alerts for b in report.alert_burden} == raised
    assert {b.month for b in report.alert_burden} <= {f"2026-0{m}" for m in range(1, 7)}


def test_a_clinics_own_thresholds_change_who_responds() -> None:
    trajectories = cohort(7)
    default = _report(trajectories).weeks[2]
    strict = outcomes(
        "clinic-a", PERIOD, NOW, histories(trajectories), [], [], RuleConfig(remission_max=2)
    ).weeks[2]
    assert strict.remission.count < default.remission.count
    assert strict.remission.of == default.remission.of
