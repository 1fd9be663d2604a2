"""Alert records for the alert-desk tests: tz-aware times relative to a fixed raise time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from afterglow.core.alerting import AlertRecord

RAISED = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
OFFSETS = (
    UTC,
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=-8)),
    timezone(timedelta(hours=5, minutes=30)),
)


def after(minutes: float = 0, hours: float = 0, seconds: float = 0) -> datetime:
    """A moment relative to RAISED."""
    return RAISED + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def alert(priority: str = "P1", kind: str = "safety", alert_id: str = "a-1") -> AlertRecord:
    return AlertRecord(
        alert_id=alert_id,
        patient_id="pt-1",
        clinic_id="clinic-1",
        kind=kind,
        priority=priority,
        at=RAISED - timedelta(seconds=3),
        reason="item 9 answered 1",
        raised_at=RAISED,
    )
