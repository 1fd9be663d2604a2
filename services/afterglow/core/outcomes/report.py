"""A clinic's outcomes over a period, from plain rows (docs/rules.md, "Clinic outcomes").

Pure: the read model's rows come in as values and `now` as a parameter, so the web page
and `afterglow report outcomes` show the same numbers for the same rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from afterglow.core.outcomes.series import (
    WEEKS,
    PatientHistory,
    Series,
    has_response_baseline,
    is_remission,
    is_response,
    relapse_follow_up,
    series_of,
    week_score,
    week_window_closed,
)
from afterglow.core.outcomes.survival import Observation, SurvivalEstimate, kaplan_meier
from afterglow.core.rules.config import RuleConfig

UNASSIGNED = "(no clinician: medical director)"
# Without dates: the year up to and including today (UTC).
DEFAULT_DAYS = 365


@dataclass(frozen=True, slots=True)
class Period:
    """Calendar days in UTC, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"the period ends ({self.last}) before it starts ({self.first})")

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)

    def holds(self, at: datetime) -> bool:
        return self.start <= at < self.end


def period_or_default(first: date | None, last: date | None, now: datetime) -> Period:
    last = last or now.astimezone(UTC).date()
    return Period(first or last - timedelta(days=DEFAULT_DAYS - 1), last)


@dataclass(frozen=True, slots=True)
class CheckinRow:
    sent_at: datetime | None  # None: planned, never started
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class AlertRow:
    clinician_id: str | None
    raised_at: datetime


@dataclass(frozen=True, slots=True)
class Fraction:
    count: int
    of: int

    @property
    def rate(self) -> float | None:
        return self.count / self.of if self.of else None


@dataclass(frozen=True, slots=True)
class WeekOutcome:
    week: int
    window_closed: int  # series of the cohort whose window had ended by `now`
    assessed: int  # ... with an assessment in the window
    remission: Fraction  # of `assessed`
    response: Fraction  # of the assessed with a baseline of at least 10


@dataclass(frozen=True, slots=True)
class Boosters:
    patients: int
    boosters: int
    distribution: dict[int, int]  # boosters -> patients

    @property
    def per_patient(self) -> float | None:
        return self.boosters / self.patients if self.patients else None


@dataclass(frozen=True, slots=True)
class AlertBurden:
    clinician: str
    month: str  # YYYY-MM (UTC)
    alerts: int


@dataclass(frozen=True, slots=True)
class OutcomesReport:
    clinic_id: str
    period: Period
    now: datetime
    series: int
    patients: int
    weeks: tuple[WeekOutcome, ...]
    relapse: SurvivalEstimate
    boosters: Boosters
    checkins: Fraction
    alert_burden: tuple[AlertBurden, ...]


def outcomes(
    clinic_id: str,
    period: Period,
    now: datetime,
    histories: Sequence[PatientHistory],
    checkins: Sequence[CheckinRow],
    alerts: Sequence[AlertRow],
    config: RuleConfig,
) -> OutcomesReport:
    """`config`: the clinic's rule thresholds, so that "response" means what the clinic's
    alerts mean by it."""
    cohort = [s for h in histories for s in series_of(h, now, config) if period.holds(s.start)]
    follow_ups = [f for s in cohort if (f := relapse_follow_up(s, config)) is not None]
    sent = [c for c in checkins if c.sent_at is not None and period.holds(c.sent_at)]
    return OutcomesReport(
        clinic_id=clinic_id,
        period=period,
        now=now,
        series=len(cohort),
        patients=len({s.patient_id for s in cohort}),
        weeks=tuple(_week(cohort, week, now, config) for week in WEEKS),
        relapse=kaplan_meier(Observation(f.days, f.relapsed) for f in follow_ups),
        boosters=_boosters(cohort),
        checkins=Fraction(sum(1 for c in sent if c.completed_at is not None), len(sent)),
        alert_burden=_burden(a for a in alerts if period.holds(a.raised_at)),
    )


def _week(cohort: Sequence[Series], week: int, now: datetime, config: RuleConfig) -> WeekOutcome:
    closed = [s for s in cohort if week_window_closed(s, week, now)]
    scored = [(s, score) for s in closed if (score := week_score(s, week)) is not None]
    with_baseline = [(s, sc) for s, sc in scored if has_response_baseline(s.baseline, config)]
    return WeekOutcome(
        week=week,
        window_closed=len(closed),
        assessed=len(scored),
        remission=Fraction(
            sum(1 for _, sc in scored if is_remission(sc.total, config)), len(scored)
        ),
        response=Fraction(
            sum(1 for s, sc in with_baseline if is_response(sc.total, s.baseline, config)),
            len(with_baseline),
        ),
    )


def _boosters(cohort: Sequence[Series]) -> Boosters:
    per_patient: Counter[str] = Counter()
    for s in cohort:
        per_patient[s.patient_id] += s.boosters
    return Boosters(
        patients=len(per_patient),
        boosters=sum(per_patient.values()),
        distribution=dict(sorted(Counter(per_patient.values()).items())),
    )


def _burden(alerts: Iterable[AlertRow]) -> tuple[AlertBurden, ...]:
    counts = Counter(
        (a.clinician_id or UNASSIGNED, a.raised_at.astimezone(UTC).strftime("%Y-%m"))
        for a in alerts
    )
    return tuple(
        AlertBurden(clinician, month, n) for (clinician, month), n in sorted(counts.items())
    )
