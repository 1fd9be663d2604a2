"""A patient's infusion history, idempotent by `event_id` (docs/operators.md, "Topics")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from afterglow.intake.records import InfusionRecord


def record_infusion(
    history: dict[str, Any] | None, infusion: InfusionRecord
) -> tuple[dict[str, Any], bool]:
    """The history with `infusion` added, and whether it was new.

    Redeliveries (same event_id) change nothing. The list stays ordered by completion time
    because clinics sometimes send a late record for an earlier infusion.
    """
    infusions: list[dict[str, Any]] = list((history or {}).get("infusions", []))
    if any(item["event_id"] == infusion.event_id for item in infusions):
        return {"patient_id": infusion.patient_id, "infusions": infusions}, False
    infusions.append(
        {
            "event_id": infusion.event_id,
            "clinic_id": infusion.clinic_id,
            "completed_at": infusion.completed_at.isoformat(),
        }
    )
    infusions.sort(key=lambda item: datetime.fromisoformat(item["completed_at"]))
    return {"patient_id": infusion.patient_id, "infusions": infusions}, True
