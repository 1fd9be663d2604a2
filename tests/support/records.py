"""Fictional clinic records for tests (555-01xx numbers only)."""

from __future__ import annotations

from typing import Any


def patient(patient_id: str, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "patient_id": patient_id,
        "clinic_id": "clinic-a",
        "phone": "+15555550101",
        "timezone": "America/Chicago",
        "language": "en",
        "clinician_id": "clin-1",
        "sms_consent": True,
        "baseline_phq9": 18,
    }
    record.update(overrides)
    return record


def infusion(event_id: str, patient_id: str, completed_at: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "patient_id": patient_id,
        "clinic_id": "clinic-a",
        "completed_at": completed_at,
    }


def as_clinical_event(number: int, event: dict[str, Any]) -> dict[str, Any]:
    """A backtest history line as the monitor's input: an event id, and the outcome every
    resolution from the alert desk carries (the backtest's format has none)."""
    record = {**event, "event_id": f"h-{number}"}
    if event["type"] == "alert_resolved":
        record["outcome"] = "not_clinically_significant"
    return record


def clinician(clinician_id: str, phone: str, backup: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "clinician_id": clinician_id,
        "clinic_id": "clinic-a",
        "name": f"Dr. {clinician_id} (fictional)",
        "phone": phone,
    }
    if backup is not None:
        record["backup_clinician_id"] = backup
    return record
