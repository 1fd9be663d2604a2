"""An outcomes report as JSON-ready values: what `afterglow report outcomes` prints
(docs/clinics.md, "Clinic outcomes"). Counts stay counts; a rate is None when nobody was
counted, never 0."""

from __future__ import annotations

from typing import Any

from afterglow.core.outcomes.report import Fraction, OutcomesReport
from afterglow.core.outcomes.survival import SurvivalEstimate


def as_json(report: OutcomesReport) -> dict[str, Any]:
    return {
        "clinic_id": report.clinic_id,
        "from": report.period.first.isoformat(),
        "to": report.period.last.isoformat(),
        "as_of": report.now.isoformat(),
        "cohort": {"series": report.series, "patients": report.patients},
        "weeks": [
            {
                "week": w.week,
                "window_closed": w.window_closed,
                "assessed": w.assessed,
                "remission": _fraction(w.remission),
                "response": _fraction(w.response),
            }
            for w in report.weeks
        ],
        "time_to_relapse": _survival(report.relapse),
        "boosters": {
            "patients": report.boosters.patients,
            "boosters": report.boosters.boosters,
            "per_patient": report.boosters.per_patient,
            "distribution": {str(k): v for k, v in report.boosters.distribution.items()},
        },
        "checkins": {
            "sent": report.checkins.of,
            "completed": report.checkins.count,
            "completion_rate": report.checkins.rate,
        },
        "alert_burden": [
            {"clinician": b.clinician, "month": b.month, "alerts": b.alerts}
            for b in report.alert_burden
        ],
    }


def _fraction(fraction: Fraction) -> dict[str, Any]:
    return {"count": fraction.count, "of": fraction.of, "rate": fraction.rate}


def _survival(estimate: SurvivalEstimate) -> dict[str, Any]:
    return {
        "unit": "days",
        "responders": estimate.subjects,
        "relapses": estimate.events,
        "median": estimate.median,
        "median_ci_95": [estimate.median_lower, estimate.median_upper],
        "curve": [
            {
                "time": p.time,
                "at_risk": p.at_risk,
                "events": p.events,
                "censored": p.censored,
                "survival": p.survival,
                "lower_95": p.lower,
                "upper_95": p.upper,
            }
            for p in estimate.points
        ],
    }
