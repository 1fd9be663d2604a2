"""One clinician alert as the alert desk keeps it (docs/rules.md), and its JSON form
for Faust tables.

The rule engine decides *that* an alert exists (raised, attached, resolved); this record is
what happens to it afterwards: who was paged, who took it, how it ended. Datetimes are
timezone-aware and stored as ISO-8601 strings with their offset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class AlertStatus(StrEnum):
    OPEN = "open"  # raised, nobody has taken it yet: escalation runs
    ACKNOWLEDGED = "acknowledged"  # a clinician owns it: escalation stopped
    RESOLVED = "resolved"  # closed with an outcome


class Role(StrEnum):
    """Who is paged: the clinic's on-call clinician first, then the escalation chain."""

    PRIMARY = "primary"
    BACKUP = "backup"
    DIRECTOR = "director"


@dataclass(slots=True)
class AlertRecord:
    alert_id: str
    patient_id: str
    clinic_id: str
    kind: str
    priority: str  # "P1" | "P2" | "P3"
    at: datetime  # time of the event that triggered the alert
    reason: str
    raised_at: datetime  # when the stream raised it; the escalation clock starts here
    status: AlertStatus = AlertStatus.OPEN
    ack_code: str | None = None  # the 4-digit code the paged clinicians reply with
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    outcome: str | None = None  # an Outcome value once resolved
    escalations_sent: int = 0  # escalation steps already fired (or skipped as a backlog)
    updates: int = 0  # rule matches attached while the alert was open
    digested: bool = False  # a P3 alert already counted in a daily digest
    # Pages asked of the notifier and not yet confirmed sent: notification id -> when asked.
    # Re-asked until confirmed (the notifier and the sender make a repeat a no-op).
    unconfirmed_pages: dict[str, datetime] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "patient_id": self.patient_id,
            "clinic_id": self.clinic_id,
            "kind": self.kind,
            "priority": self.priority,
            "at": self.at.isoformat(),
            "reason": self.reason,
            "raised_at": self.raised_at.isoformat(),
            "status": self.status.value,
            "ack_code": self.ack_code,
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": _iso(self.acknowledged_at),
            "resolved_by": self.resolved_by,
            "resolved_at": _iso(self.resolved_at),
            "outcome": self.outcome,
            "escalations_sent": self.escalations_sent,
            "updates": self.updates,
            "digested": self.digested,
            "unconfirmed_pages": {k: v.isoformat() for k, v in self.unconfirmed_pages.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlertRecord:
        return cls(
            alert_id=data["alert_id"],
            patient_id=data["patient_id"],
            clinic_id=data["clinic_id"],
            kind=data["kind"],
            priority=data["priority"],
            at=datetime.fromisoformat(data["at"]),
            reason=data["reason"],
            raised_at=datetime.fromisoformat(data["raised_at"]),
            status=AlertStatus(data.get("status", AlertStatus.OPEN.value)),
            ack_code=data.get("ack_code"),
            acknowledged_by=data.get("acknowledged_by"),
            acknowledged_at=_parse(data.get("acknowledged_at")),
            resolved_by=data.get("resolved_by"),
            resolved_at=_parse(data.get("resolved_at")),
            outcome=data.get("outcome"),
            escalations_sent=int(data.get("escalations_sent", 0)),
            updates=int(data.get("updates", 0)),
            digested=bool(data.get("digested", False)),
            unconfirmed_pages={
                k: datetime.fromisoformat(v) for k, v in data.get("unconfirmed_pages", {}).items()
            },
        )


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
