"""What the dashboard pages ask the read model. Every query of patient data takes the
clinics the user may see (docs/developers.md, "Accounts and sessions") and filters on
them in SQL, never after."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, case, select

from afterglow.readmodel.tables import alerts, patients

OPEN_STATUSES = ("open", "acknowledged")
INBOX_LIMIT = 500


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
class InboxFilter:
    status: str | None = None  # "open" or "acknowledged"; None: both
    kind: str | None = None
    clinic_id: str | None = None


def inbox(
    db: Connection, clinics: Collection[str], wanted: InboxFilter = InboxFilter()
) -> list[InboxAlert]:
    """Open and acknowledged alerts of `clinics`: P1 first, then the longest waiting."""
    if not clinics:
        return []
    statuses = [wanted.status] if wanted.status in OPEN_STATUSES else list(OPEN_STATUSES)
    query = (
        select(alerts, patients.c.display_name)
        .outerjoin(patients, patients.c.patient_id == alerts.c.patient_id)
        .where(alerts.c.clinic_id.in_(sorted(clinics)), alerts.c.status.in_(statuses))
    )
    if wanted.kind:
        query = query.where(alerts.c.kind == wanted.kind)
    if wanted.clinic_id:
        query = query.where(alerts.c.clinic_id == wanted.clinic_id)
    open_first = case((alerts.c.status == "open", 0), else_=1)
    query = query.order_by(
        alerts.c.priority, open_first, alerts.c.raised_at, alerts.c.alert_id
    ).limit(INBOX_LIMIT)
    return [
        InboxAlert(
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
        for row in db.execute(query)
    ]


def alert_clinic(db: Connection, alert_id: str) -> tuple[str, str] | None:
    """The clinic and patient of an alert, to check a user's scope before acting on it."""
    row = db.execute(
        select(alerts.c.clinic_id, alerts.c.patient_id).where(alerts.c.alert_id == alert_id)
    ).first()
    return None if row is None else (row.clinic_id, row.patient_id)
