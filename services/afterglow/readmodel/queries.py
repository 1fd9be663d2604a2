"""What the dashboard pages ask the read model. Every query of patient data takes the
clinics the user may see (docs/developers.md, "Accounts and sessions") and filters on
them in SQL, never after."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, func, or_, select

from afterglow.readmodel.tables import (
    alert_events,
    alerts,
    assessment_items,
    assessments,
    checkins,
    infusions,
    patients,
    sms_messages,
)

OPEN_STATUSES = ("open", "acknowledged")
INBOX_LIMIT = 100  # alerts other than P1
MAX_P1 = 2000  # a bound on the page, far above any clinic's open safety alerts


@dataclass(frozen=True, slots=True)
class InboxAlert:
    alert_id: str
    patient_id: str
    patient_name: str | None
    clinic_id: str
    kind: str
    priority: str
    status: str
    reason: str
    raised_at: datetime
    escalations: int
    acknowledged_by: str | None


@dataclass(frozen=True, slots=True)
class Mine:
    """The inbox's "mine" (docs/operators.md, "Accounts"): alerts of the user's clinician
    (the registry's id on the alert) and alerts the user acknowledged, on the dashboard (as
    their e-mail) or by SMS (as `clinician:<id>`): whoever acknowledged one has taken it on."""

    email: str
    clinician_id: str | None


@dataclass(frozen=True, slots=True)
class InboxFilter:
    status: str | None = None  # "open" or "acknowledged"; None: both
    kind: str | None = None
    clinic_id: str | None = None
    mine: Mine | None = None  # None: every alert of the user's clinics


@dataclass(frozen=True, slots=True)
class InboxPage:
    alerts: list[InboxAlert]  # every open P1, then at most INBOX_LIMIT others
    total: int  # how many match the filters


def inbox(
    db: Connection, clinics: Collection[str], wanted: InboxFilter = InboxFilter()
) -> InboxPage:
    """Open and acknowledged alerts of `clinics`: P1 first, then the longest waiting. Every
    P1 is listed, then only the first INBOX_LIMIT others: the page is fetched again every
    second, and a clinic with thousands open narrows the list with the filters
    (docs/operators.md, "Alerts on the dashboard")."""
    if not clinics:
        return InboxPage([], 0)
    statuses = [wanted.status] if wanted.status in OPEN_STATUSES else list(OPEN_STATUSES)
    matching: list[ColumnElement[bool]] = [
        alerts.c.clinic_id.in_(sorted(clinics)),
        alerts.c.status.in_(statuses),
    ]
    if wanted.kind:
        matching.append(alerts.c.kind == wanted.kind)
    if wanted.clinic_id:
        matching.append(alerts.c.clinic_id == wanted.clinic_id)
    if wanted.mine is not None:
        matching.append(_mine(wanted.mine))
    open_first = case((alerts.c.status == "open", 0), else_=1)
    query = (
        select(alerts, patients.c.display_name)
        .outerjoin(patients, patients.c.patient_id == alerts.c.patient_id)
        .where(*matching)
        .order_by(alerts.c.priority, open_first, alerts.c.raised_at, alerts.c.alert_id)
    )
    # Every P1 is listed, however many are open: a safety alert must never be out of
    # sight. The limit applies to the others.
    urgent = db.execute(query.where(alerts.c.priority == "P1").limit(MAX_P1)).all()
    others = db.execute(query.where(alerts.c.priority != "P1").limit(INBOX_LIMIT)).all()
    listed = [inbox_alert(row) for row in (*urgent, *others)]
    if len(others) < INBOX_LIMIT and len(urgent) < MAX_P1:
        return InboxPage(listed, len(listed))
    total = db.execute(select(func.count()).select_from(alerts).where(*matching)).scalar_one()
    return InboxPage(listed, int(total))


def inbox_alert(row: Any) -> InboxAlert:
    """An alert as the inbox shows it, from a row of `alerts` joined with the patient's
    `display_name`."""
    return InboxAlert(
        alert_id=row.alert_id,
        patient_id=row.patient_id,
        patient_name=row.display_name,
        clinic_id=row.clinic_id,
        kind=row.kind,
        priority=row.priority,
        status=row.status,
        reason=row.reason,
        raised_at=datetime.fromisoformat(row.raised_at or row.at),
        escalations=row.escalations or 0,
        acknowledged_by=row.acknowledged_by,
    )


def _mine(mine: Mine) -> ColumnElement[bool]:
    if mine.clinician_id is None:
        return alerts.c.acknowledged_by == mine.email
    return or_(
        alerts.c.clinician_id == mine.clinician_id,
        alerts.c.acknowledged_by.in_([mine.email, f"clinician:{mine.clinician_id}"]),
    )


def alert_clinic(db: Connection, alert_id: str) -> tuple[str, str] | None:
    """The clinic and patient of an alert, to check a user's scope before acting on it."""
    row = db.execute(
        select(alerts.c.clinic_id, alerts.c.patient_id).where(alerts.c.alert_id == alert_id)
    ).first()
    return None if row is None else (row.clinic_id, row.patient_id)


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """Everything the patient page shows, read in one transaction."""

    patient: Mapping[str, Any]
    assessments: list[Mapping[str, Any]]  # with `item9`, oldest first
    infusions: list[Mapping[str, Any]]
    checkins: list[Mapping[str, Any]]
    alerts: list[Mapping[str, Any]]
    alert_events: list[Mapping[str, Any]]
    messages: list[Mapping[str, Any]]  # the most recent MAX_MESSAGES, oldest first


MAX_MESSAGES = 200


def patient_record(
    db: Connection, patient_id: str, clinics: Collection[str]
) -> PatientRecord | None:
    """The patient's record if the patient belongs to one of `clinics`; None otherwise (a
    patient of another clinic looks exactly like one that does not exist)."""
    found = db.execute(select(patients).where(patients.c.patient_id == patient_id)).first()
    if found is None or found.clinic_id not in clinics:
        return None
    item9 = (
        select(assessment_items.c.answer)
        .where(assessment_items.c.event_id == assessments.c.event_id, assessment_items.c.item == 9)
        .scalar_subquery()
    )
    scores = db.execute(
        select(assessments, item9.label("item9"))
        .where(assessments.c.patient_id == patient_id)
        .order_by(assessments.c.at, assessments.c.event_id)
    )
    recent = (
        select(sms_messages)
        .where(sms_messages.c.patient_id == patient_id)
        .order_by(sms_messages.c.at.desc(), sms_messages.c.message_key.desc())
        .limit(MAX_MESSAGES)
    )
    return PatientRecord(
        patient=dict(found._mapping),
        assessments=[dict(r._mapping) for r in scores],
        infusions=_rows(
            db,
            select(infusions)
            .where(infusions.c.patient_id == patient_id)
            .order_by(infusions.c.completed_at),
        ),
        checkins=_rows(
            db,
            select(checkins)
            .where(checkins.c.patient_id == patient_id)
            .order_by(checkins.c.due_at, checkins.c.planned_at),
        ),
        alerts=_rows(
            db, select(alerts).where(alerts.c.patient_id == patient_id).order_by(alerts.c.at.desc())
        ),
        alert_events=_rows(
            db,
            select(alert_events)
            .where(alert_events.c.patient_id == patient_id)
            .order_by(alert_events.c.at, alert_events.c.event_id),
        ),
        messages=list(reversed(_rows(db, recent))),
    )


def _rows(db: Connection, query: Any) -> list[Mapping[str, Any]]:
    return [dict(row._mapping) for row in db.execute(query)]
