"""Alert SLOs from read-model rows: overdue escalations by the clinic's policy, pages not
delivered, escalations in 24 hours, median time to acknowledge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from afterglow.operations.facts import AckTime, OverdueAlerts, UndeliveredPages
from afterglow.operations.funnel_facts import text
from afterglow.operations.slo_facts import read_slos
from afterglow.readmodel.tables import (
    alert_events,
    alerts,
    clinicians,
    sms_deliveries,
    sms_messages,
)
from afterglow.registry.clinics import load_clinics
from tests.support.clinics import write_clinics

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def ago(minutes: float) -> str:
    return text(NOW - timedelta(minutes=minutes))


def alert(alert_id: str, priority: str, status: str, raised_min: float, **extra: Any):
    return {
        "alert_id": alert_id,
        "patient_id": "pt-1",
        "clinic_id": "clinic-a",
        "kind": "safety",
        "priority": priority,
        "status": status,
        "reason": "item 9 answered 1",
        "at": ago(raised_min),
        "raised_at": ago(raised_min),
        "escalations": 0,
        "acknowledged_at": None,
        "version": "1",
        **extra,
    }


def page(key: str, minutes: float, urgent: bool, recipient: str = "clin-0") -> dict[str, Any]:
    return {
        "direction": "outbound",
        "message_key": key,
        "recipient": recipient,
        "phone": "+15555550101",
        "category": "clinician",
        "body": "P1 alert",
        "urgent": urgent,
        "at": ago(minutes),
    }


def event(event_id: str, action: str, minutes: float, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "alert_id": "a-1",
        "patient_id": "pt-1",
        "clinic_id": "clinic-a",
        "action": action,
        "actor": "system",
        "at": ago(minutes),
        "priority": "P1",
        "detail": None,
        **extra,
    }


def test_slos_follow_the_clinic_policy_and_the_deliveries(
    sqlite_readmodel: Engine, tmp_path: Path
) -> None:
    # clinic-a's P1 alerts page the backup 5 minutes after they are raised.
    clinics = load_clinics(
        write_clinics(
            tmp_path / "clinics.toml",
            "[clinics.clinic-a]\n"
            "escalation = { p1_backup_minutes = 5, p1_director_minutes = 10 }\n",
        )
    )
    with sqlite_readmodel.begin() as db:
        db.execute(clinicians.insert(), [{"clinician_id": "clin-0", "clinic_id": "clinic-a"}])
        db.execute(
            alerts.insert(),
            [
                alert("a-1", "P1", "open", raised_min=8),  # backup due 3 min ago
                alert("a-2", "P1", "open", raised_min=12, escalations=1),  # director 2 min ago
                alert("a-3", "P1", "open", raised_min=4),  # not yet due
                alert("a-4", "P1", "acknowledged", 60, acknowledged_at=ago(54)),
                alert("a-5", "P1", "acknowledged", 60, acknowledged_at=ago(58)),
                alert("a-6", "P2", "resolved", 60, acknowledged_at=ago(30)),
            ],
        )
        db.execute(
            sms_messages.insert(),
            [
                page("p-1", 30, urgent=True),  # refused by the carrier
                page("p-2", 2, urgent=True),  # not accepted yet: still in time
                page("p-3", 20, urgent=False, recipient="director:clinic-a"),  # never accepted
                page("p-4", 20, urgent=True),  # delivered
            ],
        )
        db.execute(
            sms_deliveries.insert(),
            [
                {
                    "message_sid": "SM1",
                    "send_key": "p-1",
                    "status": "undelivered",
                    "reported_at": ago(29),
                    "version": "05:undelivered",
                },
                {
                    "message_sid": "SM4",
                    "send_key": "p-4",
                    "status": "delivered",
                    "reported_at": ago(19),
                    "version": "05:delivered",
                },
            ],
        )
        db.execute(
            alert_events.insert(),
            [
                event("e-1", "escalated", 60),
                event("e-2", "escalated", 3 * 24 * 60),
                event("e-3", "notified", 10, priority="P2", detail="no phone on file; not sent"),
            ],
        )
    with sqlite_readmodel.connect() as db:
        facts = read_slos(db, clinics, NOW)

    assert facts.overdue == (OverdueAlerts("clinic-a", "P1", 2, 180.0),)
    assert facts.undelivered_pages == (
        UndeliveredPages("clinic-a", False, 2),
        UndeliveredPages("clinic-a", True, 1),
    )
    assert facts.escalations_24h == 1
    assert facts.ack_times_7d == (AckTime("P1", 2, 240.0), AckTime("P2", 1, 1800.0))
