"""The one builder of audit records (`afterglow.audit`, schemas/afterglow.audit.json).

Every entry says what happened (`action`), to which patient, who did it (`actor`) and when
(`at`, the time of the event that caused it, never the wall clock of whoever wrote it), and
carries a deterministic `event_id`, so a replay writes the same id again and readers keep
the first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

SYSTEM = "system"
CARRIER = "carrier"


def audit_record(
    *,
    event_id: str,
    patient_id: str,
    action: str,
    actor: str,
    at: datetime | str,
    clinic_id: str | None = None,
    **details: Any,
) -> dict[str, Any]:
    """An audit record; `details` with a None value are left out."""
    record: dict[str, Any] = {
        "event_id": event_id,
        "patient_id": patient_id,
        "action": action,
        "actor": actor,
        "at": at if isinstance(at, str) else at.isoformat(),
    }
    if clinic_id is not None:
        record["clinic_id"] = clinic_id
    record.update((name, value) for name, value in details.items() if value is not None)
    return record
