"""The rows a clinic's outcomes are computed from (docs/rules.md, "Clinic outcomes"), read
in one transaction and handed to the pure `core.outcomes.report`. Scoped in SQL to the
clinics the caller may see, like every query of patient data (readmodel/queries.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Connection, exists, func, select

from afterglow.core.outcomes.report import (
    AlertRow,
    CheckinRow,
    OutcomesReport,
    Period,
    outcomes,
)
from afterglow.core.outcomes.series import PatientHistory, Score
from afterglow.core.rules.config import RuleConfig
from afterglow.readmodel.tables import alerts, assessments, checkins, infusions, patients

PHQ9 = "PHQ-9"  # assessments.instrument, as the projection writes it


def clinic_known(db: Connection, clinic_id: str) -> bool:
    """Whether the read model has a patient of the clinic (removed ones included)."""
    return db.execute(select(exists().where(patients.c.clinic_id == clinic_id))).scalar() is True


def clinic_outcomes(
    db: Connection,
    clinic_id: str,
    clinics: Collection[str],
    period: Period,
    now: datetime,
    config: RuleConfig,
) -> OutcomesReport | None:
    """None when `clinic_id` is not one of `clinics`. Patients the clinic removed from its
    registry still count: their treatment happened."""
    if clinic_id not in clinics:
        return None
    start, end = _text(period.start), _text(period.end)
    # Only a patient with an infusion inside the period can start a series there.
    treated = (
        select(patients.c.patient_id)
        .where(
            patients.c.clinic_id == clinic_id,
            patients.c.clinic_id.in_(sorted(clinics)),
            exists().where(
                infusions.c.patient_id == patients.c.patient_id,
                infusions.c.completed_at >= start,
                infusions.c.completed_at < end,
            ),
        )
        .scalar_subquery()
    )
    baselines = {
        row.patient_id: row.baseline_phq9
        for row in db.execute(
            select(patients.c.patient_id, patients.c.baseline_phq9).where(
                patients.c.patient_id.in_(treated)
            )
        )
    }
    times: dict[str, list[datetime]] = defaultdict(list)
    for patient_id, at in db.execute(
        select(infusions.c.patient_id, infusions.c.completed_at).where(
            infusions.c.patient_id.in_(treated)
        )
    ):
        times[patient_id].append(datetime.fromisoformat(at))
    scores: dict[str, list[Score]] = defaultdict(list)
    for patient_id, at, total in db.execute(
        select(assessments.c.patient_id, assessments.c.at, assessments.c.total).where(
            assessments.c.patient_id.in_(treated),
            assessments.c.instrument == PHQ9,
            assessments.c.total.is_not(None),
        )
    ):
        scores[patient_id].append(Score(datetime.fromisoformat(at), total))
    histories = [
        PatientHistory(patient_id, baseline, times[patient_id], scores[patient_id])
        for patient_id, baseline in sorted(baselines.items())
    ]
    sent = db.execute(
        select(checkins.c.due_at, checkins.c.completed_at).where(
            checkins.c.clinic_id == clinic_id,
            checkins.c.due_at >= start,
            checkins.c.due_at < end,
        )
    )
    raised_at = func.coalesce(alerts.c.raised_at, alerts.c.at)
    raised = db.execute(
        select(alerts.c.clinician_id, raised_at).where(
            alerts.c.clinic_id == clinic_id, raised_at >= start, raised_at < end
        )
    )
    return outcomes(
        clinic_id,
        period,
        now,
        histories,
        [CheckinRow(_instant(due), _instant(done)) for due, done in sent],
        [AlertRow(clinician, datetime.fromisoformat(at)) for clinician, at in raised],
        config,
    )


def _text(at: datetime) -> str:
    """An instant as the projection stores it (readmodel/projection.py, `utc`)."""
    return at.isoformat(timespec="microseconds")


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
