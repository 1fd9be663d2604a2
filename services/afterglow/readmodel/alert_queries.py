"""What the alert page asks the read model: one alert and its history, scoped in SQL to
the clinics the user may see (docs/developers.md, "Accounts and sessions"); and which
clinic the registry puts a clinician in, to link an account to them."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, inspect, select

from afterglow.readmodel.queries import InboxAlert, inbox_alert
from afterglow.readmodel.tables import alert_events, alerts, clinicians, patients, removed


@dataclass(frozen=True, slots=True)
class AlertDetail:
    alert: InboxAlert  # as the inbox lists it
    record: Mapping[str, Any]  # the whole `alerts` row (who resolved it, the outcome...)
    events: list[Mapping[str, Any]]  # its `alert_events` rows, oldest first


def alert_detail(db: Connection, alert_id: str, clinics: Collection[str]) -> AlertDetail | None:
    """The alert if it belongs to one of `clinics`; None otherwise (another clinic's alert
    looks exactly like one that does not exist)."""
    if not clinics:
        return None
    found = db.execute(
        select(alerts, patients.c.display_name)
        .outerjoin(patients, patients.c.patient_id == alerts.c.patient_id)
        .where(alerts.c.alert_id == alert_id, alerts.c.clinic_id.in_(sorted(clinics)))
    ).first()
    if found is None:
        return None
    history = db.execute(
        select(alert_events)
        .where(alert_events.c.alert_id == alert_id)
        .order_by(alert_events.c.at, alert_events.c.event_id)
    )
    alert = inbox_alert(found)
    return AlertDetail(alert, dict(found._mapping), [dict(row._mapping) for row in history])


def clinician_clinic(db: Connection, clinician_id: str) -> str | None:
    """The clinic of a clinician the registry lists (and has not removed); None when the
    read model does not know them (yet: it may not have been projected)."""
    if not inspect(db).has_table(clinicians.name):
        return None
    found = db.execute(
        select(clinicians.c.clinic_id).where(
            clinicians.c.clinician_id == clinician_id, ~removed(clinicians)
        )
    ).scalar()
    return None if found is None else str(found)
