"""The patient list: a clinic's patients, riskiest first, searchable, one page at a time
(docs/operators.md, "The patient list").

Everything that orders the list is an aggregate SQL computes per patient from indexed
rows (the open alert of highest priority, overdue check-ins, the latest score), so the
order covers every patient in scope while Python sees one page. The status, which needs
each patient's whole history folded through the rule engine, is computed for the shown
page only (readmodel/patient_history.py).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Connection, ScalarSelect, func, or_, select

from afterglow.core.schedule.forecast import OVERDUE_AFTER
from afterglow.readmodel.queries import OPEN_STATUSES
from afterglow.readmodel.tables import alerts, assessments, checkins, patients, removed

PAGE_SIZE = 50
MAX_QUERY = 100
_ESCAPE = "\\"


@dataclass(frozen=True, slots=True)
class ListQuery:
    clinic_id: str | None = None
    text: str = ""  # part of a name or a patient id
    page: int = 1


@dataclass(frozen=True, slots=True)
class ListedPatient:
    patient_id: str
    clinic_id: str
    display_name: str | None
    baseline_phq9: int | None
    last_total: int | None
    last_at: datetime | None
    open_priority: str | None  # of the patient's most urgent open or acknowledged alert
    overdue: int


@dataclass(frozen=True, slots=True)
class PatientPage:
    patients: list[ListedPatient]
    total: int  # patients matching, on every page
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def like_pattern(text: str) -> str:
    """`text` anywhere, its own `%`, `_` and `\\` taken literally."""
    escaped = (
        text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    )
    return f"%{escaped}%"


def _in_scope(clinics: Collection[str], wanted: ListQuery) -> list[ColumnElement[bool]]:
    where = [patients.c.clinic_id.in_(sorted(clinics)), ~removed(patients)]
    if wanted.clinic_id:
        where.append(patients.c.clinic_id == wanted.clinic_id)
    text = wanted.text.strip()[:MAX_QUERY]
    if text:
        pattern = like_pattern(text)
        where.append(
            or_(
                patients.c.display_name.ilike(pattern, escape=_ESCAPE),
                patients.c.patient_id.ilike(pattern, escape=_ESCAPE),
            )
        )
    return where


def patient_list(
    db: Connection, clinics: Collection[str], wanted: ListQuery, now: datetime
) -> PatientPage:
    """One page of the patients of `clinics` matching `wanted`: open P1 alerts first, then
    P2, P3; within each, the most overdue check-ins, then the highest latest score."""
    if not clinics:
        return PatientPage([], 0, 1)
    where = _in_scope(clinics, wanted)
    total = db.execute(select(func.count()).select_from(patients).where(*where)).scalar_one()
    pid = patients.c.patient_id
    latest = (
        select(assessments.c.total, assessments.c.at)
        .where(assessments.c.patient_id == pid)
        # The index (patient_id, at) read backwards; no tie-break, which would need a sort.
        .order_by(assessments.c.at.desc())
        .limit(1)
    )
    last_total = latest.with_only_columns(assessments.c.total).scalar_subquery()
    last_at = latest.with_only_columns(assessments.c.at).scalar_subquery()
    priority = (
        select(func.min(alerts.c.priority))
        .where(alerts.c.patient_id == pid, alerts.c.status.in_(OPEN_STATUSES))
        .scalar_subquery()
    )
    overdue = _overdue_count(now).label("overdue")
    last_total_col, last_at_col = last_total.label("last_total"), last_at.label("last_at")
    priority_col = priority.label("priority")
    page = max(1, wanted.page)
    # Ordering by the labels makes the database compute each aggregate once per patient.
    rows = db.execute(
        select(
            pid,
            patients.c.clinic_id,
            patients.c.display_name,
            patients.c.baseline_phq9,
            last_total_col,
            last_at_col,
            priority_col,
            overdue,
        )
        .where(*where)
        .order_by(
            priority_col.asc().nulls_last(),
            overdue.desc(),
            last_total_col.desc().nulls_last(),
            patients.c.display_name.asc().nulls_last(),  # the same on both databases
            pid,
        )
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return PatientPage(
        [
            ListedPatient(
                patient_id=row.patient_id,
                clinic_id=row.clinic_id,
                display_name=row.display_name,
                baseline_phq9=row.baseline_phq9,
                last_total=row.last_total,
                last_at=None if row.last_at is None else datetime.fromisoformat(row.last_at),
                open_priority=row.priority,
                overdue=row.overdue,
            )
            for row in rows
        ],
        total,
        page,
    )


def _overdue_count(now: datetime) -> ScalarSelect[int]:
    """core/schedule/forecast.overdue in SQL: sent, unanswered, sent more than
    OVERDUE_AFTER before `now`, and after the patient's latest answer; both parts are
    seeks in the index (patient_id, completed_at, due_at)."""
    answered = checkins.alias("answered")
    last_answer = (
        select(func.max(answered.c.completed_at))
        .where(answered.c.patient_id == patients.c.patient_id)
        .correlate(patients)
        .scalar_subquery()
    )
    cutoff = (now - OVERDUE_AFTER).astimezone(UTC).isoformat(timespec="microseconds")
    return (
        select(func.count())
        .where(
            checkins.c.patient_id == patients.c.patient_id,
            checkins.c.completed_at.is_(None),
            # "" sorts before every time: no answer yet counts every sent check-in.
            checkins.c.due_at > func.coalesce(last_answer, ""),
            checkins.c.due_at < cutoff,
        )
        .scalar_subquery()
    )
