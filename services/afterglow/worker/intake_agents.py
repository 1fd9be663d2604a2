"""Agents for the clinic's inputs: patient registry and infusion events.

Each record is handled inside its own try block: an exception that escaped an agent would
make Faust ack and skip the record silently, so every failure goes to `deadletter` instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import faust

from afterglow.intake.infusions import record_infusion
from afterglow.intake.records import parse_infusion, parse_patient
from afterglow.validation import InvalidEvent

if TYPE_CHECKING:
    from afterglow.worker.app import WorkerContext


def register_intake(context: WorkerContext) -> None:
    app = context.app
    settings = context.settings
    patients = app.Table(
        "patients",
        default=None,
        schema=faust.Schema(key_serializer="raw", value_serializer="json"),
        help="patient_id -> latest valid registration",
    )
    infusions = app.Table(
        "infusions",
        default=None,
        schema=faust.Schema(key_serializer="raw", value_serializer="json"),
        help="patient_id -> infusion history, ordered, unique by event_id",
    )
    patients_topic = app.topic(settings.topic("clinic.patients"))
    infusions_topic = app.topic(settings.topic("clinic.infusions.completed"))
    metrics = context.metrics

    @app.agent(patients_topic, name="intake-patients")
    async def intake_patients(stream: Any) -> None:
        async for event in stream.events():
            topic = event.message.topic
            try:
                if event.value is None:
                    # A tombstone on the compacted topic: the clinic removed the patient.
                    patients.pop(event.key, None)
                    metrics.records.labels(topic, "removed").inc()
                    continue
                record = parse_patient(context.catalog, event.key, event.value)
                patients[event.key] = record
                metrics.records.labels(topic, "accepted").inc()
            except InvalidEvent as error:
                await context.deadletter(event, str(error))
            except Exception as error:
                await context.deadletter(event, f"internal error: {type(error).__name__}")

    @app.agent(infusions_topic, name="intake-infusions")
    async def intake_infusions(stream: Any) -> None:
        async for event in stream.events():
            topic = event.message.topic
            try:
                infusion = parse_infusion(context.catalog, event.key, event.value)
                history, is_new = record_infusion(infusions.get(event.key), infusion)
                if not is_new:
                    metrics.records.labels(topic, "duplicate").inc()
                    continue
                infusions[event.key] = history
                metrics.records.labels(topic, "accepted").inc()
            except InvalidEvent as error:
                await context.deadletter(event, str(error))
            except Exception as error:
                await context.deadletter(event, f"internal error: {type(error).__name__}")
