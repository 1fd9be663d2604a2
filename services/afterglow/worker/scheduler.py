"""The scheduler shell: feeds registry, infusion, consent and tick events to the pure
planner, keeps plans and the due index in tables, and publishes check-in signals.

All table writes happen inside stream iteration (Faust's rule). The partition of the
event being processed decides the changelog partition, and every input here is keyed by
patient or sent to one partition explicitly, so plans, index and ticks stay co-located.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from afterglow.core.schedule.plan import PatientSchedule
from afterglow.core.schedule.planner import (
    CheckinSignal,
    PlannerResult,
    on_checkin_completed,
    on_due,
    on_infusion,
    on_opt_in,
    on_opt_out,
    on_probable_relapse,
    on_registration,
    on_removed,
)
from afterglow.intake.records import InfusionRecord
from afterglow.registry.clinics import ClinicDirectory, ClinicSettings
from afterglow.topics import CHECKINS
from afterglow.worker.context import WorkerContext
from afterglow.worker.due_index import DueIndex

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, context: WorkerContext, clinics: ClinicDirectory) -> None:
        self.context = context
        self.clinics = clinics
        self.schedules = context.table("schedules", "patient_id -> PatientSchedule")
        self.clocks = context.table("scheduler-clock", "partition -> last tick now")
        self.index = DueIndex(
            context.table("due", "partition|hour|shard -> entries"),
            context.table(
                "due-buckets",
                "partition -> days with entries; partition|day -> hour buckets -> shards",
            ),
        )

    # -- inputs -------------------------------------------------------------------------

    def now_for(self, partition: int) -> datetime:
        """The scheduler's time on this partition: the latest tick, else the clock."""
        stored = self.clocks.get(str(partition).encode())
        if stored:
            return datetime.fromisoformat(stored["now"])
        return self.context.clock.now()

    def on_registration(self, partition: int, key: bytes, record: dict[str, Any]) -> None:
        schedule = self._load(key)
        clinic = self.clinics.get(record["clinic_id"])
        result = on_registration(
            schedule,
            timezone=record["timezone"],
            sms_consent=record["sms_consent"],
            baseline_known=record.get("baseline_phq9") is not None,
            now=self.now_for(partition),
            config=clinic.schedule,
        )
        self._save(partition, key, schedule, result)

    def on_infusion(self, partition: int, key: bytes, infusion: InfusionRecord) -> None:
        schedule = self._load(key)
        result = on_infusion(
            schedule,
            infusion.event_id,
            infusion.completed_at,
            self.now_for(partition),
            self._clinic(key).schedule,
        )
        self._save(partition, key, schedule, result)

    def on_consent(self, partition: int, key: bytes, action: str, at: datetime) -> None:
        schedule = self._load(key)
        change = on_opt_out if action == "opt_out" else on_opt_in
        result = change(schedule, at, self.now_for(partition), self._clinic(key).schedule)
        self._save(partition, key, schedule, result)

    def on_removed(self, partition: int, key: bytes, clinic_id: str) -> None:
        """A tombstone on `clinic.patients`: cancel everything planned for the patient."""
        stored = self.schedules.get(key)
        if stored is None:
            return
        schedule = PatientSchedule.from_dict(stored)
        config = self.clinics.get(clinic_id).schedule
        self._save(partition, key, schedule, on_removed(schedule, self.now_for(partition), config))

    def on_probable_relapse(self, partition: int, key: bytes, probable_at: datetime) -> None:
        """The rules entered probable relapse: plan the confirmatory check-in (docs/rules.md)."""
        schedule = self._load(key)
        result = on_probable_relapse(
            schedule, probable_at, self.now_for(partition), self._clinic(key).schedule
        )
        self._save(partition, key, schedule, result)

    def on_checkin_completed(self, partition: int, key: bytes, occurrence_id: str) -> None:
        """The patient answered: no reminder, no expiry for this check-in."""
        schedule = self._load(key)
        if on_checkin_completed(schedule, occurrence_id, self.now_for(partition)):
            self._save(partition, key, schedule, PlannerResult())

    async def on_tick(self, partition: int, now: datetime) -> int:
        """Handle every entry due on this partition; returns how many were due."""
        clock_key = str(partition).encode()
        stored = self.clocks.get(clock_key)
        if stored and now <= datetime.fromisoformat(stored["now"]):
            return 0  # a duplicate or late tick: time never goes backwards
        self.clocks[clock_key] = {"now": now.isoformat()}
        due = self.index.due(partition, now)
        for entry in due:
            key = entry.patient_id.encode()
            schedule = self._load(key)
            result = on_due(schedule, entry, now, self._clinic(key).schedule)
            self._save(partition, key, schedule, result)
            for signal in result.signals:
                await self._publish(key, signal)
        # Entries leave the index when the tick commits, after Kafka has their signals: a
        # crash before that replays them (same event ids) instead of losing them.
        self.index.remove(partition, due)
        self.context.metrics.due_entries.inc(len(due))
        return len(due)

    # -- helpers ------------------------------------------------------------------------

    def _clinic(self, key: bytes) -> ClinicSettings:
        registration = self.context.patients.get(key)
        return self.clinics.get(registration["clinic_id"] if registration else "")

    def _load(self, key: bytes) -> PatientSchedule:
        stored = self.schedules.get(key)
        if stored is None:
            return PatientSchedule(key.decode())
        return PatientSchedule.from_dict(stored)

    def _save(
        self, partition: int, key: bytes, schedule: PatientSchedule, result: PlannerResult
    ) -> None:
        self.schedules[key] = schedule.to_dict()
        self.index.add(partition, result.index)

    async def _publish(self, key: bytes, signal: CheckinSignal) -> None:
        registration = self.context.patients.get(key) or {}
        record = {
            "event_id": signal.entry_id,
            "type": signal.type.value,
            "patient_id": signal.patient_id,
            "clinic_id": registration.get("clinic_id", ""),
            "occurrence_id": signal.occurrence_id,
            "kind": signal.kind.value,
            "planned_at": signal.planned_at.isoformat(),
            "timezone": registration.get("timezone"),
            "language": registration.get("language"),
            "number": signal.number,
            "at": signal.at.isoformat(),
        }
        self.context.metrics.signals.labels(signal.type.value).inc()
        await self.context.publish(CHECKINS, record, key)
