"""Series, boosters, the week's score and the relapse follow-up at their boundaries
(docs/rules.md, "Clinic outcomes")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from afterglow.core.outcomes.series import (
    PatientHistory,
    Score,
    relapse_follow_up,
    series_of,
    week_score,
    week_window_closed,
)
from afterglow.core.rules.config import RuleConfig

T0 = datetime(2026, 2, 2, 15, tzinfo=UTC)
NOW = datetime(2029, 1, 1, tzinfo=UTC)
RULES = RuleConfig()


def _day(days: float) -> datetime:
    return T0 + timedelta(days=days)


def _history(
    infusion_days: list[float], scores: list[tuple[float, int]], baseline: int | None = 20
) -> PatientHistory:
    return PatientHistory(
        "pt-1", baseline, [_day(d) for d in infusion_days], [Score(_day(d), t) for d, t in scores]
    )


def test_an_infusion_after_follow_up_ended_starts_a_new_series_from_its_own_baseline() -> None:
    history = _history([0, 3, 60, 426, 427, 793], [(-1, 22), (30, 4), (424, 16), (430, 6)])
    first, second, third = series_of(history, NOW, RULES)
    assert (first.start, first.infusions[-1]) == (_day(0), _day(60))
    assert (second.start, second.number, len(second.infusions)) == (_day(426), 2, 2)
    assert third.start == _day(793)  # 366 days after day 427
    assert first.baseline == 20  # the enrollment's
    assert second.baseline == 16  # the score before it, not the enrollment's
    assert [s.at for s in first.scores] == [_day(30), _day(424)]  # not the pre-treatment one
    assert [s.at for s in second.scores] == [_day(430)]


def test_boosters_are_the_infusions_more_than_28_days_into_a_series() -> None:
    (series,) = series_of(_history([0, 2, 28, 28.01, 90], []), NOW, RULES)
    assert series.boosters == 2


def test_a_score_at_the_infusion_itself_is_pre_treatment() -> None:
    (series,) = series_of(_history([0], [(0, 9), (7, 8)], baseline=None), NOW, RULES)
    assert series.baseline == 9
    assert [s.total for s in series.scores] == [8]


def test_the_weeks_score_is_the_nearest_within_7_days_and_the_earlier_of_two() -> None:
    (series,) = series_of(
        _history([0], [(20.9, 1), (26, 2), (30, 3), (63, 5), (84, 7)]), NOW, RULES
    )
    assert week_score(series, 4) == Score(_day(26), 2)  # 2 days before beats 2 after
    assert week_score(series, 8) == Score(_day(63), 5)  # 7 days after: still in
    assert week_score(series, 12) == Score(_day(84), 7)
    (gap,) = series_of(_history([0], [(20.9, 1), (35.1, 2)]), NOW, RULES)
    assert week_score(gap, 4) is None
    assert not week_window_closed(series, 12, _day(90.9))
    assert week_window_closed(series, 12, _day(91))


def test_relapse_is_timed_from_the_first_response_and_censored_at_the_last_score() -> None:
    # Baseline 20: 10 is a response, 11 meets the relapse criterion.
    (relapsing,) = series_of(_history([0], [(7, 15), (14, 10), (28, 9), (42, 11)]), NOW, RULES)
    follow_up = relapse_follow_up(relapsing, RULES)
    assert follow_up is not None
    assert (follow_up.response_at, follow_up.days, follow_up.relapsed) == (_day(14), 28, True)
    (well,) = series_of(_history([0], [(7, 10), (14, 8), (60, 3)]), NOW, RULES)
    follow_up = relapse_follow_up(well, RULES)
    assert follow_up is not None
    assert (follow_up.days, follow_up.relapsed) == (53, False)
    (never,) = series_of(_history([0], [(7, 15), (14, 11)]), NOW, RULES)
    assert relapse_follow_up(never, RULES) is None
