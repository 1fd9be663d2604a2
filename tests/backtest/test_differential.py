"""The backtest against the independent oracle (tests/reference_rules.py) on synthetic
cohorts: every alert, in order, with the input's `at` text."""

from __future__ import annotations

import functools
import io
import json
from collections import Counter
from typing import Any

import pytest

from afterglow.cli.backtest_cmd import run_backtest
from afterglow.synthetic.cohort import CohortShape, generate_history
from tests.backtest.cli import alert_tuples, history_text, run_afterglow
from tests.reference_rules import reference_alerts

SHAPES = {
    "default": (CohortShape(patients=60), 1),
    "no enrollment baselines": (CohortShape(patients=60, baseline_given_rate=0.0), 2),
    "all enrollment baselines": (CohortShape(patients=60, baseline_given_rate=1.0), 3),
    "busy clinicians, quiet patients": (
        CohortShape(patients=80, resolve_rate=0.9, answer_rate=0.5),
        4,
    ),
    "high risk": (
        CohortShape(patients=60, self_harm_rate=0.25, opt_out_rate=0.4, response_rate=0.9),
        5,
    ),
    "non-responders": (CohortShape(patients=50, response_rate=0.1, resolve_rate=0.6), 6),
}


@functools.cache
def cohort(name: str) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """A named cohort's history and the oracle's alerts (computed once per session)."""
    shape, seed = SHAPES[name]
    events = generate_history(shape, seed)
    return events, reference_alerts(events)


def backtest_alerts(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    code = run_backtest(io.StringIO(history_text(events)), out, err, False, False)
    assert code == 0, err.getvalue()
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.mark.parametrize("name", list(SHAPES))
def test_backtest_equals_the_oracle(name: str) -> None:
    events, expected = cohort(name)
    assert expected, "the cohort should raise some alerts"
    assert alert_tuples(backtest_alerts(events)) == alert_tuples(expected)


def test_the_cohorts_exercise_every_alert_kind() -> None:
    kinds: Counter[str] = Counter()
    for name in SHAPES:
        kinds.update(alert["kind"] for alert in cohort(name)[1])
    assert set(kinds) == {
        "safety",
        "severe",
        "worsening",
        "losing_response",
        "probable_relapse",
        "relapse",
        "missed_high_risk",
        "monitoring_stopped",
        "disengaged",
    }


def test_lifecycle_stress_with_frequent_resolutions_and_expiries() -> None:
    events = generate_history(CohortShape(patients=120, resolve_rate=0.9, answer_rate=0.5), 11)
    expected = reference_alerts(events)
    kinds = Counter(alert["kind"] for alert in expected)
    assert kinds["missed_high_risk"] >= 20
    assert kinds["disengaged"] >= 20
    assert alert_tuples(backtest_alerts(events)) == alert_tuples(expected)


def test_large_history_through_the_real_command(tmp_path) -> None:
    events = generate_history(CohortShape(patients=220), 2026)
    assert len(events) >= 10_000
    path = tmp_path / "large.jsonl"
    path.write_text(history_text(events), encoding="utf-8")
    result = run_afterglow(["backtest", str(path), "--summary"])
    assert result.returncode == 0, result.stderr
    expected = reference_alerts(events)
    assert alert_tuples(result.alerts()) == alert_tuples(expected)
    summary = result.summary()
    assert summary["events"] == len(events)
    assert summary["alerts"] == len(expected)
    counts = Counter(alert["kind"] for alert in expected)
    assert {k: v["count"] for k, v in summary["by_kind"].items() if v["count"]} == dict(counts)


def test_backtest_is_deterministic() -> None:
    events = generate_history(CohortShape(patients=40), 9)
    first = backtest_alerts(events)
    assert first == backtest_alerts(events)  # alert ids and reasons included
