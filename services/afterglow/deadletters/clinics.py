"""Which clinics a dead letter concerns: the clinic its payload names, and the clinic of the
patient it names as the read model knows them. Both count: a payload may name a clinic that
is not its patient's."""

from __future__ import annotations

from sqlalchemy import Connection, select

from afterglow.deadletters.letters import DeadLetter
from afterglow.readmodel.tables import patients


def concerned_clinics(db: Connection, letter: DeadLetter) -> frozenset[str]:
    clinics = set(letter.named_clinics())
    patient = letter.named_patient()
    if patient is not None:
        found = db.execute(
            select(patients.c.clinic_id).where(patients.c.patient_id == patient)
        ).scalar()
        if isinstance(found, str):
            clinics.add(found)
    return frozenset(clinics)
