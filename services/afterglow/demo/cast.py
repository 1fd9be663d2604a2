"""The fictional demo clinic: who is in it (deterministic for a seed).

Two clinics of deploy/clinics.toml, 40 patients, two clinicians per clinic who back each
other up, and the clinics' medical directors. Every number is a fictional 555-01xx one,
clear of the simulator's special numbers (sms/simulator.py) and of the clinics' own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from afterglow.demo.personas import Persona

CLINICS = ("clinic-a", "clinic-b")
PATIENTS_PER_CLINIC = 20
# One of each persona the demo must show, in clinic-a (Spanish in clinic-b, Clinica Sol);
# the other patients are drawn from the ordinary trajectories.
FEATURED: dict[str, Persona] = {
    "demo-a01": Persona.CRISIS,
    "demo-a02": Persona.RELAPSING,
    "demo-a03": Persona.GOES_SILENT,
    "demo-a04": Persona.TEXTS_STOP,
    "demo-a05": Persona.MALFORMED,
    "demo-a06": Persona.NON_RESPONDER,
    "demo-a07": Persona.SLOW_RESPONDER,
    "demo-b01": Persona.SPANISH,
}
_ORDINARY = (
    Persona.EARLY_RESPONDER,
    Persona.EARLY_RESPONDER,
    Persona.SLOW_RESPONDER,
    Persona.RELAPSING,
    Persona.NON_RESPONDER,
)
_ZONES = {
    "clinic-a": ("America/New_York", "America/Chicago"),
    "clinic-b": ("America/Los_Angeles", "America/Denver"),
}
# The featured patients' first infusion is the day before the demo starts, so the README's
# timeline ("week 2: the crisis reply") holds for every seed.
FEATURED_INFUSED_DAYS_AGO = 1


@dataclass(frozen=True, slots=True)
class DemoClinician:
    clinician_id: str
    clinic_id: str
    phone: str
    backup_id: str

    def record(self) -> dict[str, Any]:
        return {
            "clinician_id": self.clinician_id,
            "clinic_id": self.clinic_id,
            "name": f"Dr. {self.clinician_id} (fictional)",
            "phone": self.phone,
            "backup_clinician_id": self.backup_id,
        }


@dataclass(frozen=True, slots=True)
class DemoPatient:
    patient_id: str
    clinic_id: str
    phone: str
    timezone: str
    language: str
    clinician_id: str
    persona: Persona
    baseline: int
    infused_days_ago: int

    def record(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "clinic_id": self.clinic_id,
            "phone": self.phone,
            "timezone": self.timezone,
            "language": self.language,
            "clinician_id": self.clinician_id,
            "sms_consent": True,
            "baseline_phq9": self.baseline,
        }

    def first_infusion(self, origin: datetime) -> datetime:
        """In the clinic's afternoon (15:00 UTC), before the demo's start."""
        return origin - timedelta(days=self.infused_days_ago) + timedelta(hours=15)


CLINICIANS = (
    DemoClinician("demo-a1", "clinic-a", "+15555550112", "demo-a2"),
    DemoClinician("demo-a2", "clinic-a", "+15555550113", "demo-a1"),
    DemoClinician("demo-b1", "clinic-b", "+15555550122", "demo-b2"),
    DemoClinician("demo-b2", "clinic-b", "+15555550123", "demo-b1"),
)
# The medical directors of deploy/clinics.toml: paged when a backup does not answer either.
DIRECTOR_PHONES = ("+15555550111", "+15555550121")
# The crisis patient's primary leaves the first P1 page unanswered (demo/clinicians.py).
UNANSWERED_PATIENT = "demo-a01"


def demo_patients(seed: int) -> list[DemoPatient]:
    rng = random.Random(f"cast:{seed}")
    patients: list[DemoPatient] = []
    for clinic_index, clinic_id in enumerate(CLINICS):
        letter = clinic_id[-1]
        for number in range(1, PATIENTS_PER_CLINIC + 1):
            patient_id = f"demo-{letter}{number:02d}"
            featured = FEATURED.get(patient_id)
            persona = featured or rng.choice(_ORDINARY)
            # Baselines 17-19: a response needs <= 8-9, and no first answer is "severe".
            baseline = rng.randint(17, 19)
            zone = rng.choice(_ZONES[clinic_id])
            days_ago = FEATURED_INFUSED_DAYS_AGO if featured else rng.randint(1, 6)
            patients.append(
                DemoPatient(
                    patient_id=patient_id,
                    clinic_id=clinic_id,
                    phone=f"+1555555{130 + clinic_index * PATIENTS_PER_CLINIC + number - 1:04d}",
                    timezone=zone,
                    language="es" if persona is Persona.SPANISH else "en",
                    clinician_id=CLINICIANS[clinic_index * 2 + number % 2].clinician_id,
                    persona=persona,
                    baseline=baseline,
                    infused_days_ago=days_ago,
                )
            )
    return patients
