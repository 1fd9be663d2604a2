"""A fictional clinic whose outcomes are known: ~60 patients with seeded random trajectories
(responders who relapse, responders who stay well, non-responders), boosters, missed
check-ins, a few patients starting before the period or starting a second series inside
it, and alerts routed to three clinicians. Each trajectory keeps its scores as days since
the series' first infusion, the shape the tests' own computation reads; `histories`,
`checkin_rows`, `alert_rows` and `records` give the same facts to the code under test."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from afterglow.core.outcomes.report import AlertRow, CheckinRow, Period
from afterglow.core.outcomes.series import PatientHistory, Score
from afterglow.topics import ALERTS, CHECKINS, CLINICAL_EVENTS, INFUSIONS_COMPLETED, PATIENTS
from tests.support.records import infusion, patient

PERIOD = Period(date(2026, 1, 1), date(2026, 6, 30))
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # every week-12 window has ended
CHECKIN_DAYS = (7, 14, 21, 28, 42, 56, 70, 84, 114, 144, 174, 204, 234, 264, 294)
CLINICIANS = ("clin-0", "clin-1", "clin-2", None)


@dataclass
class Trajectory:
    patient_id: str
    start: datetime  # first infusion of the series the period may count
    enrollment_baseline: int | None
    pre_treatment: int | None  # a score 2 days before `start`
    earlier_series: datetime | None  # a series that ended over a year before `start`
    infusion_days: list[float]  # after `start`, 0 first
    scores: list[tuple[float, int]]  # (days after `start`, total), oldest first
    unanswered_days: list[float] = field(default_factory=list)  # check-ins sent, not answered
    alerts: list[tuple[str | None, datetime]] = field(default_factory=list)


def cohort(seed: int = 7, patients: int = 60) -> list[Trajectory]:
    rng = random.Random(seed)
    return [_trajectory(rng, n) for n in range(patients)]


def _trajectory(rng: random.Random, n: int) -> Trajectory:
    if n % 12 == 5:  # started before the period: not counted
        start = datetime(2025, 10, 1, 15, tzinfo=UTC) + timedelta(days=rng.randint(0, 60))
    else:
        start = datetime(2026, 1, 1, 15, tzinfo=UTC) + timedelta(days=rng.randint(0, 179))
    start += timedelta(hours=rng.randint(-6, 8))
    baseline = rng.randint(6, 26)
    by_enrollment = n % 4 != 1
    earlier = start - timedelta(days=400 + rng.randint(0, 60)) if n % 10 == 3 else None
    boosters = rng.choice((0, 0, 1, 1, 2, 3))
    infusion_days = [0.0, 2.0, 4.0, 7.0, 9.0, 11.0][: rng.randint(3, 6)]
    infusion_days += [28.0 + 30.0 * k + rng.randint(1, 20) for k in range(boosters)]
    kind = rng.choice(("relapse", "relapse", "stays well", "no response"))
    nadir = rng.randint(1, max(1, baseline // 2)) if kind != "no response" else baseline
    relapse_day = rng.randint(35, 220)
    scores: list[tuple[float, int]] = []
    unanswered: list[float] = []
    for day in CHECKIN_DAYS:
        at = day + rng.randint(-30, 30) / 24  # answered within a day or so of the plan
        if start + timedelta(days=at) > NOW:
            break
        if rng.random() < 0.15:
            unanswered.append(float(day))
            continue
        if kind == "no response":
            total = max(0, min(24, baseline + rng.randint(-4, 2)))
        elif kind == "relapse" and day >= relapse_day:
            total = max(10, min(24, baseline + rng.randint(-2, 3)))
        else:
            fall = min(1.0, day / 28)
            total = round(baseline - (baseline - nadir) * fall) + rng.randint(-1, 1)
            total = max(0, min(24, total))
        scores.append((at, total))
    alerts = [
        (rng.choice(CLINICIANS), start + timedelta(days=rng.randint(0, 120), hours=rng.random()))
        for _ in range(rng.randint(0, 3))
    ]
    return Trajectory(
        patient_id=f"pt-{n:02d}",
        start=start,
        enrollment_baseline=baseline if by_enrollment and earlier is None else None,
        pre_treatment=baseline if not by_enrollment or earlier is not None else None,
        earlier_series=earlier,
        infusion_days=infusion_days,
        scores=scores,
        unanswered_days=unanswered,
        alerts=alerts,
    )


def _days(t: Trajectory, day: float) -> datetime:
    return t.start + timedelta(days=day)


def history(t: Trajectory) -> PatientHistory:
    infusions = [_days(t, d) for d in t.infusion_days]
    scores = [Score(_days(t, d), total) for d, total in t.scores]
    if t.earlier_series is not None:
        infusions.append(t.earlier_series)
        # The earlier series' own scores: better than the baseline of the series counted.
        scores.append(Score(t.earlier_series + timedelta(days=30), 3))
    if t.pre_treatment is not None:
        scores.append(Score(_days(t, -2), t.pre_treatment))
    baseline = 15 if t.earlier_series is not None else t.enrollment_baseline
    return PatientHistory(t.patient_id, baseline, infusions, scores)


def histories(trajectories: list[Trajectory]) -> list[PatientHistory]:
    return [history(t) for t in trajectories]


def checkin_rows(trajectories: list[Trajectory]) -> list[CheckinRow]:
    """Every score answered a check-in sent 2 hours earlier."""
    rows = []
    for t in trajectories:
        rows += [CheckinRow(s.at - timedelta(hours=2), s.at) for s in history(t).scores]
        rows += [CheckinRow(_days(t, d), None) for d in t.unanswered_days]
    return rows


def alert_rows(trajectories: list[Trajectory]) -> list[AlertRow]:
    return [AlertRow(clinician, at) for t in trajectories for clinician, at in t.alerts]


def records(trajectories: list[Trajectory]) -> dict[str, list[dict[str, Any]]]:
    """The same facts as the clinic and the worker publish them, per catalog topic."""
    out: dict[str, list[dict[str, Any]]] = {
        PATIENTS: [], INFUSIONS_COMPLETED: [], CHECKINS: [], CLINICAL_EVENTS: [], ALERTS: [],
    }  # fmt: skip
    for t in trajectories:
        h = history(t)
        registration = patient(t.patient_id, display_name=f"Fictional {t.patient_id}")
        if h.enrollment_baseline is None:
            del registration["baseline_phq9"]
        else:
            registration["baseline_phq9"] = h.enrollment_baseline
        out[PATIENTS].append(registration)
        out[INFUSIONS_COMPLETED] += [
            infusion(f"{t.patient_id}/inf-{n}", t.patient_id, at.isoformat())
            for n, at in enumerate(h.infusions)
        ]
        for n, score in enumerate(h.scores):
            occurrence = f"occ-{n}"
            out[CHECKINS].append(_due(t.patient_id, occurrence, score.at - timedelta(hours=2)))
            out[CLINICAL_EVENTS].append(_assessment(t.patient_id, occurrence, score))
        for n, day in enumerate(t.unanswered_days):
            out[CHECKINS].append(_due(t.patient_id, f"missed-{n}", _days(t, day)))
        out[ALERTS] += [
            _alert(f"{t.patient_id}/al-{n}", t.patient_id, clinician, at)
            for n, (clinician, at) in enumerate(t.alerts)
        ]
    return out


def _due(patient_id: str, occurrence_id: str, at: datetime) -> dict[str, Any]:
    return {
        "event_id": f"{patient_id}/{occurrence_id}:due",
        "type": "checkin_due",
        "patient_id": patient_id,
        "clinic_id": "clinic-a",
        "occurrence_id": occurrence_id,
        "kind": "followup",
        "planned_at": at.isoformat(),
        "at": at.isoformat(),
    }


def _assessment(patient_id: str, occurrence_id: str, score: Score) -> dict[str, Any]:
    items = [min(3, max(0, score.total - 3 * k)) for k in range(8)] + [0]  # totals <= 24
    return {
        "event_id": f"{patient_id}/{occurrence_id}:assessment",
        "type": "assessment_completed",
        "patient_id": patient_id,
        "occurrence_id": occurrence_id,
        "at": score.at.isoformat(),
        "items": items,
        "total": score.total,
        "severity": "moderate",
    }


def _alert(alert_id: str, patient_id: str, clinician: str | None, at: datetime) -> dict[str, Any]:
    return {
        "alert_id": alert_id,
        "patient_id": patient_id,
        "clinic_id": "clinic-a",
        "kind": "worsening",
        "priority": "P2",
        "at": at.isoformat(),
        "reason": "total rose by 5 or more",
        "status": "open",
        "clinician_id": clinician,
        "raised_at": at.isoformat(),
        "changed_at": at.isoformat(),
        "escalations": 0,
    }
