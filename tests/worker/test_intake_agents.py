"""Intake refuses records that point at a clinic it does not know, and an infusion reported
by another clinic than the patient's."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from tests.support.records import clinician, infusion, patient
from tests.support.shell import build_shell

INFUSED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC).isoformat()


def test_records_of_an_unknown_clinic_are_dead_lettered_with_the_reason(tmp_path: Path) -> None:
    shell = build_shell(tmp_path)  # deploy/clinics.toml lists clinic-a and clinic-b

    async def scenario() -> None:
        await shell.deliver("clinic.patients", patient("p-z", clinic_id="clinic-z"), "p-z")
        await shell.deliver(
            "clinic.clinicians",
            {**clinician("clin-z", "+15555550183"), "clinic_id": "clinic-z"},
            "clin-z",
        )
        await shell.deliver(
            "clinic.infusions.completed",
            {**infusion("e-z", "p-z", INFUSED), "clinic_id": "clinic-z"},
            "p-z",
        )
        await shell.deliver("clinic.patients", patient("p-a", phone="+15555550184"), "p-a")

    asyncio.run(scenario())
    errors = [(d["source_topic"], d["error"]) for d in shell.published("deadletter")]
    assert errors == [
        (topic, "unknown clinic 'clinic-z': add it to the clinic settings (clinics.toml) first")
        for topic in ("clinic.patients", "clinic.clinicians", "clinic.infusions.completed")
    ]
    assert shell.table("patients").get(b"p-z") is None
    assert shell.table("patients").get(b"p-a") is not None
    assert shell.table("infusions").get(b"p-z") is None


def test_an_infusion_from_another_clinic_than_the_patients_is_dead_lettered(
    tmp_path: Path,
) -> None:
    shell = build_shell(tmp_path)

    async def scenario() -> None:
        await shell.deliver("clinic.patients", patient("p-a", phone="+15555550185"), "p-a")
        other = {**infusion("e-b", "p-a", INFUSED), "clinic_id": "clinic-b"}
        await shell.deliver("clinic.infusions.completed", other, "p-a")
        await shell.deliver("clinic.infusions.completed", infusion("e-a", "p-a", INFUSED), "p-a")

    asyncio.run(scenario())
    [letter] = shell.published("deadletter")
    assert letter["error"] == "infusion of clinic 'clinic-b' for a patient of clinic 'clinic-a'"
    history = shell.table("infusions")[b"p-a"]
    assert [i["event_id"] for i in history["infusions"]] == ["e-a"]
