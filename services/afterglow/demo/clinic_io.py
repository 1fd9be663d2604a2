"""The demo clinic's own Kafka traffic, as a clinic's systems would produce it: the
registry, infusions (boosters included), and the alerts it watches to decide a booster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from kafka import KafkaConsumer, KafkaProducer

from afterglow.config import Settings
from afterglow.demo.cast import CLINICIANS, DemoPatient
from afterglow.topics import ALERTS, INFUSIONS_COMPLETED, PATIENTS
from afterglow.topics import CLINICIANS as CLINICIANS_TOPIC


@dataclass
class SeenAlert:
    kind: str
    patient_id: str
    priority: str
    raised_at: datetime
    escalations: int


class ClinicIO:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._producer = KafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers, acks="all"
        )
        self._alerts = KafkaConsumer(
            settings.topic(ALERTS),
            bootstrap_servers=settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        self.alerts: dict[str, SeenAlert] = {}

    def register(self, patients: list[DemoPatient]) -> None:
        """The clinicians and patients, as the clinic's system puts them in the registry."""
        for clinician in CLINICIANS:
            self._send(CLINICIANS_TOPIC, clinician.clinician_id, clinician.record())
        for patient in patients:
            self._send(PATIENTS, patient.patient_id, patient.record())
        self._producer.flush(timeout=30)

    def infusion(self, patient: DemoPatient, event_id: str, at: datetime) -> None:
        record = {
            "event_id": event_id,
            "patient_id": patient.patient_id,
            "clinic_id": patient.clinic_id,
            "completed_at": at.isoformat(),
        }
        self._send(INFUSIONS_COMPLETED, patient.patient_id, record)
        self._producer.flush(timeout=30)

    def read_alerts(self) -> None:
        """Every alert so far (the topic holds each change; the latest wins)."""
        for batch in self._alerts.poll(timeout_ms=0, max_records=2000).values():
            for message in batch:
                data = orjson.loads(message.value)
                self.alerts[data["alert_id"]] = SeenAlert(
                    kind=data["kind"],
                    patient_id=data["patient_id"],
                    priority=data["priority"],
                    raised_at=datetime.fromisoformat(data["raised_at"]),
                    escalations=int(data.get("escalations_sent", 0)),
                )

    def close(self) -> None:
        self._alerts.close()
        self._producer.close()

    def _send(self, topic: str, key: str, record: dict[str, Any]) -> None:
        self._producer.send(
            self._settings.topic(topic), key=key.encode(), value=orjson.dumps(record)
        )
