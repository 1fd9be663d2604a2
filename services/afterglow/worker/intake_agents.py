"""Agents for the clinic's inputs: patient registry, clinicians and infusion events."""

from __future__ import annotations

from typing import Any

from afterglow.intake.infusions import record_infusion
from afterglow.intake.records import parse_clinician, parse_infusion, parse_patient
from afterglow.operator_warnings.records import WarningKind
from afterglow.registry.clinics import ClinicDirectory
from afterglow.topics import CLINICIAN_REFERENCES, CLINICIANS, INFUSIONS_COMPLETED, PATIENTS
from afterglow.validation import InvalidEvent
from afterglow.worker.context import WorkerContext
from afterglow.worker.operator_warnings import clear_warning, raise_warning
from afterglow.worker.scheduler import Scheduler
from afterglow.worker.sms_routing import SmsRouter


def register_intake(
    context: WorkerContext, scheduler: Scheduler, router: SmsRouter, clinics: ClinicDirectory
) -> None:
    patients = context.patients
    infusions = context.infusions
    clinicians = context.clinicians
    # A deployment that lists its clinics accepts records of those clinics only: a record of
    # any other clinic would be texted and paged with the defaults' name and director
    # (docs/operators.md, "Dead letters"). One that lists none runs every clinic on the
    # defaults.
    listed = frozenset(clinics.clinic_ids())

    def require_known_clinic(clinic_id: str) -> None:
        if listed and clinic_id not in listed:
            raise InvalidEvent(
                f"unknown clinic {clinic_id!r}: add it to the clinic settings "
                f"({context.settings.clinics_file.name}) first"
            )

    async def handle_patient(event: Any) -> str:
        if event.value is None:
            # A tombstone on the compacted topic: the clinic removed the patient.
            registration = patients.get(event.key)
            if registration is not None:
                clinic_id = registration["clinic_id"]
                scheduler.on_removed(event.message.partition, event.key, clinic_id)
                await router.publish_registration(registration, None)
            patients.pop(event.key, None)
            return "removed"
        record = parse_patient(context.catalog, event.key, event.value)
        require_known_clinic(record["clinic_id"])
        previous = patients.get(event.key)
        await router.publish_registration(previous, record)
        await _publish_enrollment(event.message.partition, previous, record)
        await _check_references(previous, record)
        patients[event.key] = record
        scheduler.on_registration(event.message.partition, event.key, record)
        return "accepted"

    async def _check_references(previous: dict[str, Any] | None, record: dict[str, Any]) -> None:
        """The clinician's record is on the clinician's partition: ask there whether it
        exists (docs/operators.md, "Operator warnings"). Infusions held for this patient
        while it was not registered are planned now: their warning is cleared."""
        await context.publish(
            CLINICIAN_REFERENCES,
            {
                "clinician_id": record["clinician_id"],
                "clinic_id": record["clinic_id"],
                "patient_id": record["patient_id"],
                "at": context.clock.now().isoformat(),
            },
            record["clinician_id"].encode(),
        )
        if previous is not None:
            return
        held = infusions.get(record["patient_id"].encode()) or {"infusions": []}
        for clinic_id in sorted({item["clinic_id"] for item in held["infusions"]}):
            await clear_warning(
                context, WarningKind.UNREGISTERED_PATIENT, clinic_id, record["patient_id"]
            )

    async def handle_clinician(event: Any) -> str:
        if event.value is None:
            await router.publish_clinician(clinicians.get(event.key), None)
            clinicians.pop(event.key, None)
            return "removed"
        record = parse_clinician(context.catalog, event.key, event.value)
        require_known_clinic(record["clinic_id"])
        await router.publish_clinician(clinicians.get(event.key), record)
        clinicians[event.key] = record
        await clear_warning(
            context, WarningKind.UNKNOWN_CLINICIAN, record["clinic_id"], record["clinician_id"]
        )
        return "accepted"

    async def handle_clinician_reference(event: Any) -> str:
        # On the clinician's partition, after every clinician record before it (same lock).
        data = context.decode(CLINICIAN_REFERENCES, event)
        if clinicians.get(event.key) is not None:
            return "known"
        await raise_warning(
            context,
            WarningKind.UNKNOWN_CLINICIAN,
            data["clinic_id"],
            data["clinician_id"],
            at=data["at"],
            source_topic=PATIENTS,
        )
        return "unknown_clinician"

    async def handle_infusion(event: Any) -> str:
        # Ticks may run ahead of the clock (a replayed history, a sped-up demo).
        now = max(context.clock.now(), scheduler.now_for(event.message.partition))
        infusion = parse_infusion(context.catalog, event.key, event.value, now)
        require_known_clinic(infusion.clinic_id)
        registration = patients.get(event.key)
        if registration is not None and registration["clinic_id"] != infusion.clinic_id:
            raise InvalidEvent(
                f"infusion of clinic {infusion.clinic_id!r} for a patient of clinic "
                f"{registration['clinic_id']!r}"
            )
        history, is_new = record_infusion(infusions.get(event.key), infusion)
        if not is_new:
            return "duplicate"
        await context.publish_clinical(
            {
                "event_id": f"infusion:{infusion.event_id}",
                "type": "infusion_completed",
                "patient_id": infusion.patient_id,
                "clinic_id": infusion.clinic_id,
                "at": infusion.completed_at.isoformat(),
            }
        )
        infusions[event.key] = history
        scheduler.on_infusion(event.message.partition, event.key, infusion)
        if registration is None:
            # Held until the registration gives a time zone (docs/operators.md, "Operator
            # warnings"); the registration clears the warning.
            await raise_warning(
                context,
                WarningKind.UNREGISTERED_PATIENT,
                infusion.clinic_id,
                infusion.patient_id,
                at=now.isoformat(),
                source_topic=INFUSIONS_COMPLETED,
            )
        return "accepted"

    async def _publish_enrollment(
        partition: int, previous: dict[str, Any] | None, record: dict[str, Any]
    ) -> None:
        # The rules need only the first registration and a changed baseline.
        baseline = record.get("baseline_phq9")
        if previous is not None and previous.get("baseline_phq9") == baseline:
            return
        await context.publish_clinical(
            {
                "event_id": f"enrolled:{record['patient_id']}:{baseline}",
                "type": "patient_enrolled",
                "patient_id": record["patient_id"],
                "clinic_id": record["clinic_id"],
                "baseline_phq9": baseline,
                "at": scheduler.now_for(partition).isoformat(),
            }
        )

    context.agent_for(PATIENTS, "intake-patients", handle_patient)
    context.agent_for(CLINICIANS, "intake-clinicians", handle_clinician)
    context.agent_for(INFUSIONS_COMPLETED, "intake-infusions", handle_infusion)
    context.agent_for(
        CLINICIAN_REFERENCES, "intake-clinician-references", handle_clinician_reference
    )
