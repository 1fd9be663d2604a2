"""Treatment series and what each one shows: boosters, the score at weeks 4, 8 and 12, the
first response and the first relapse after it (docs/rules.md, "Clinic outcomes").

Pure: plain values in, `now` as a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from afterglow.core.infusion_series import is_booster, series_groups
from afterglow.core.rules.config import RuleConfig
from afterglow.core.rules.engine import meets_relapse_criterion, meets_response

WEEKS = (4, 8, 12)
# A week's score is the assessment nearest to day 7 x week, at most 7 days either side:
# the check-in plan asks on days 28, 56 and 84 (docs/rules.md), and windows do not overlap.
WINDOW_HALF = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Score:
    at: datetime
    total: int


@dataclass(frozen=True, slots=True)
class PatientHistory:
    """One patient's facts: enrollment baseline, infusion times and PHQ-9 totals."""

    patient_id: str
    enrollment_baseline: int | None
    infusions: Sequence[datetime]
    scores: Sequence[Score]


@dataclass(frozen=True, slots=True)
class Series:
    patient_id: str
    number: int  # 1 for the patient's first series
    start: datetime  # its first infusion
    end: datetime | None  # the next series' first infusion; None: the patient's latest
    infusions: tuple[datetime, ...]
    baseline: int | None
    scores: tuple[Score, ...]  # strictly after `start`, before `end`, not after `now`

    @property
    def boosters(self) -> int:
        return sum(1 for at in self.infusions if is_booster(at, self.start))


def series_of(history: PatientHistory, now: datetime, config: RuleConfig) -> list[Series]:
    """The patient's series (docs/rules.md, "Infusion series") up to `now`."""
    starts = series_groups([at for at in history.infusions if at <= now], config.follow_up)
    scores = sorted(history.scores, key=lambda s: s.at)
    out: list[Series] = []
    for number, group in enumerate(starts, start=1):
        start = group[0]
        end = starts[number][0] if number < len(starts) else None
        out.append(
            Series(
                patient_id=history.patient_id,
                number=number,
                start=start,
                end=end,
                infusions=tuple(group),
                baseline=_baseline(history, start, scores, first=number == 1),
                scores=tuple(
                    s for s in scores if start < s.at <= now and (end is None or s.at < end)
                ),
            )
        )
    return out


def _baseline(
    history: PatientHistory, start: datetime, scores: Sequence[Score], *, first: bool
) -> int | None:
    """docs/rules.md, "Baseline", for the first series; a later series starts from the
    latest score at or before its first infusion (the enrollment described the patient
    before any treatment)."""
    if first and history.enrollment_baseline is not None:
        return history.enrollment_baseline
    before = [s for s in scores if s.at <= start]
    return before[-1].total if before else None


def is_remission(total: int, config: RuleConfig) -> bool:
    return total <= config.remission_max


def has_response_baseline(baseline: int | None, config: RuleConfig) -> bool:
    return baseline is not None and baseline >= config.response_baseline_min


def is_response(total: int, baseline: int | None, config: RuleConfig) -> bool:
    """A >= 50 % reduction from a baseline of at least `response_baseline_min`
    (docs/rules.md, "Halves": 2 x total <= baseline)."""
    return (
        baseline is not None and has_response_baseline(baseline, config) and 2 * total <= baseline
    )


def week_window_closed(series: Series, week: int, now: datetime) -> bool:
    return now >= series.start + timedelta(days=7 * week) + WINDOW_HALF


def week_score(series: Series, week: int) -> Score | None:
    """The assessment nearest to day 7 x week (the earlier of two equally near)."""
    target = series.start + timedelta(days=7 * week)
    near = [s for s in series.scores if abs(s.at - target) <= WINDOW_HALF]
    return min(near, key=lambda s: (abs(s.at - target), s.at), default=None)


@dataclass(frozen=True, slots=True)
class RelapseFollowUp:
    """Time origin: the first response; `days` to the first relapse or, without one, to
    the last assessment (censored)."""

    response_at: datetime
    days: float
    relapsed: bool


def relapse_follow_up(series: Series, config: RuleConfig) -> RelapseFollowUp | None:
    """None when the series has no response yet. Relapse is the first later assessment
    meeting the relapse criterion: the assessment that makes a responder a probable
    relapse (A5), confirmed or not."""
    first = next(
        (s for s in series.scores if meets_response(s.total, series.baseline, config)), None
    )
    if first is None:
        return None
    later = [s for s in series.scores if s.at > first.at]
    relapse = next(
        (s for s in later if meets_relapse_criterion(s.total, series.baseline, config)), None
    )
    until = relapse.at if relapse is not None else (later[-1].at if later else first.at)
    return RelapseFollowUp(
        first.at, (until - first.at).total_seconds() / 86400, relapse is not None
    )
