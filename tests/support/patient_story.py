"""A patient's history as the topics carry it (registration, infusions, check-ins, answers,
expiries, alerts), written into a read model by the real projection."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from afterglow.readmodel import database
from afterglow.readmodel.projection import Position, project
from afterglow.topics import ALERTS, CHECKINS, CLINICAL_EVENTS, INFUSIONS_COMPLETED, PATIENTS
from tests.support.records import patient

START = datetime(2026, 9, 1, 15, 0, tzinfo=UTC)


def day(n: float, hours: float = 0) -> datetime:
    return START + timedelta(days=n, hours=hours)


def items_for(total: int, item9: int = 0) -> list[int]:
    rest, items = total - item9, []
    for _ in range(8):
        items.append(min(3, rest))
        rest -= items[-1]
    return [*items, item9]


@dataclass
class Story:
    patient_id: str
    clinic_id: str = "clinic-a"
    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def registered(self, **fields: Any) -> Story:
        record = patient(self.patient_id, clinic_id=self.clinic_id, **fields)
        self.records.append((PATIENTS, record))
        return self

    def infusion(self, n: float) -> Story:
        event_id = f"{self.patient_id}:inf{n}"
        at = day(n).isoformat()
        self.records.append(
            (INFUSIONS_COMPLETED, {"event_id": event_id, "patient_id": self.patient_id,
                                   "clinic_id": self.clinic_id, "completed_at": at})
        )  # fmt: skip
        self._event(f"{event_id}:ce", "infusion_completed", day(n))
        return self

    def _event(self, event_id: str, kind: str, at: datetime, **fields: Any) -> None:
        record = {"event_id": event_id, "type": kind, "patient_id": self.patient_id,
                  "at": at.isoformat(), "clinic_id": self.clinic_id, **fields}  # fmt: skip
        self.records.append((CLINICAL_EVENTS, record))

    def _checkin(self, occurrence: str, kind: str, at: datetime, sent: datetime) -> None:
        self.records.append(
            (CHECKINS, {"event_id": f"{self.patient_id}:{occurrence}:{kind}", "type": kind,
                        "patient_id": self.patient_id, "clinic_id": self.clinic_id,
                        "occurrence_id": occurrence, "kind": "followup",
                        "planned_at": sent.isoformat(), "at": at.isoformat()})
        )  # fmt: skip

    def sent(self, n: float) -> Story:
        """A check-in sent on day n, still open."""
        self._checkin(f"occ-{n}", "checkin_due", day(n), day(n))
        return self

    def answered(self, n: float, total: int, item9: int = 0) -> Story:
        """A check-in sent on day n and answered two hours later."""
        occurrence = f"occ-{n}"
        self._checkin(occurrence, "checkin_due", day(n), day(n))
        items = items_for(total, item9)
        self._event(f"{self.patient_id}:as{n}", "assessment_completed",
                    day(n) + timedelta(hours=2), occurrence_id=occurrence, items=items,
                    total=total, severity="mild")  # fmt: skip
        return self

    def missed(self, n: float) -> Story:
        """A check-in sent on day n that expired after 72 hours."""
        occurrence = f"occ-{n}"
        expired = day(n) + timedelta(hours=72)
        self._checkin(occurrence, "checkin_due", day(n), day(n))
        self._checkin(occurrence, "checkin_expired", expired, day(n))
        self._event(f"{self.patient_id}:x{n}", "checkin_expired", expired,
                    occurrence_id=occurrence)  # fmt: skip
        return self

    def alert(self, priority: str, status: str = "open") -> Story:
        at = day(1).isoformat()
        kind = {"P1": "safety", "P2": "severe", "P3": "disengaged"}[priority]
        self.records.append(
            (ALERTS, {"alert_id": f"{self.patient_id}:{priority}:{status}",
                      "patient_id": self.patient_id, "clinic_id": self.clinic_id,
                      "kind": kind, "priority": priority, "at": at, "reason": "test",
                      "status": status, "raised_at": at, "changed_at": at, "escalations": 0})
        )  # fmt: skip
        return self


def write(engine: Engine, *stories: Story) -> None:
    upserts = [
        upsert
        for story in stories
        for n, (topic, record) in enumerate(story.records)
        for upsert in project(topic, record["patient_id"].encode(), record, Position(topic, 0, n))
    ]
    database.write_batch(engine, upserts, {})
