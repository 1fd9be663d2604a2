"""Agents for the clinic's inputs: patient registry, clinicians and infusion events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from afterglow.intake.infusions import record_infusion
from afterglow.intake.records import parse_clinician, parse_infusion, parse_patient

if TYPE_CHECKING:
    from afterglow.worker.app import WorkerContext
    from afterglow.worker.scheduler import Scheduler
    from afterglow.worker.sms_routing import SmsRouter


def register_intake(context: WorkerContext, scheduler: Scheduler, router: SmsRouter) -> None:
    app = context.app
    settings = context.settings
    patients = context.patients
    infusions = context.infusions
    clinicians = app.Table(
        "clinicians",
        default=None,
        key_type=bytes,
        help="clinician_id -> latest valid record",
    )

    async def handle_patient(event: Any) -> str:
        if event.value is None:
            # A tombstone on the compacted topic: the clinic removed the patient.
            patients.pop(event.key, None)
            return "removed"
        record = parse_patient(context.catalog, event.key, event.value)
        previous = patients.get(event.key)
        patients[event.key] = record
        await router.publish_registration(previous, record)
        scheduler.on_registration(event.message.partition, event.key, record)
        return "accepted"

    async def handle_clinician(event: Any) -> str:
        if event.value is None:
            clinicians.pop(event.key, None)
            return "removed"
        clinicians[event.key] = parse_clinician(context.catalog, event.key, event.value)
        return "accepted"

    async def handle_infusion(event: Any) -> str:
        infusion = parse_infusion(context.catalog, event.key, event.value)
        history, is_new = record_infusion(infusions.get(event.key), infusion)
        if not is_new:
            return "duplicate"
        infusions[event.key] = history
        scheduler.on_infusion(event.message.partition, event.key, infusion)
        return "accepted"

    for topic, name, handle in (
        ("clinic.patients", "intake-patients", handle_patient),
        ("clinic.clinicians", "intake-clinicians", handle_clinician),
        ("clinic.infusions.completed", "intake-infusions", handle_infusion),
    ):
        context.agent_for(settings.topic(topic), name, handle)
