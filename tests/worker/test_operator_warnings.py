"""Operator warnings without a broker (docs/operators.md, "Operator warnings"): a clinician
named by a registration without a record, and an infusion held for a patient not registered
yet, are raised on `afterglow.operator-warnings` and cleared by the record that was missing;
meanwhile pages and digests of that clinician's patients go to the clinic director."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from tests.support.records import clinician, infusion, patient
from tests.support.shell import Shell, build_shell

WARNINGS = "afterglow.operator-warnings"
DIRECTOR_PHONE = "+15555550111"  # clinic-a's medical director in deploy/clinics.toml
CLINICIAN_PHONE = "+15555550141"
PATIENT_PHONE = "+15555550131"
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # the shell's clock: 09:00 in Chicago
UNKNOWN = "unknown_clinician:clinic-a:clin-x"
UNREGISTERED = "unregistered_patient:clinic-a:p-1"


def current_warnings(shell: Shell) -> dict[str, dict[str, Any]]:
    """The compacted topic's view: the latest record per key, tombstones removing it."""
    latest: dict[str, dict[str, Any] | None] = {}
    for record in shell.records(WARNINGS):
        assert record.key is not None
        latest[record.key.decode()] = None if record.value is None else record.json()
    return {key: value for key, value in latest.items() if value is not None}


def raised_count(shell: Shell, kind: str) -> float:
    value = shell.context.metrics.registry.get_sample_value(
        "afterglow_operator_warnings_total", {"kind": kind}
    )
    return value or 0.0


def texts_to(shell: Shell, phone: str) -> list[dict[str, Any]]:
    lanes = ("afterglow.sms.outbound", "afterglow.sms.outbound-urgent")
    return [t for lane in lanes for t in shell.published(lane) if t["to"] == phone]


def clinical(event_id: str, kind: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return {"event_id": event_id, "type": kind, "patient_id": "p-1", "at": at.isoformat(), **fields}


def test_a_registration_naming_a_clinician_without_a_record_raises_a_warning_until_it_arrives(
    tmp_path: Path,
) -> None:
    shell = build_shell(tmp_path)

    async def scenario() -> dict[str, dict[str, Any]]:
        await shell.deliver("clinic.clinicians", clinician("clin-1", CLINICIAN_PHONE), "clin-1")
        await shell.deliver("clinic.patients", patient("p-0", phone="+15555550132"), "p-0")
        await shell.deliver(
            "clinic.patients", patient("p-1", phone=PATIENT_PHONE, clinician_id="clin-x"), "p-1"
        )
        await shell.pump()
        raised = current_warnings(shell)
        await shell.deliver("clinic.clinicians", clinician("clin-x", "+15555550142"), "clin-x")
        await shell.pump()
        return raised

    raised = asyncio.run(scenario())
    assert list(raised) == [UNKNOWN]  # clin-1 has a record: no warning for p-0
    warning = raised[UNKNOWN]
    assert warning["kind"] == "unknown_clinician"
    assert (warning["clinic_id"], warning["subject"]) == ("clinic-a", "clin-x")
    assert warning["source_topic"] == "clinic.patients"
    assert "+1555" not in orjson.dumps(warning).decode()  # ids only, no phone numbers
    assert raised_count(shell, "unknown_clinician") == 1
    assert current_warnings(shell) == {}  # the clinician's record cleared it


def test_pages_and_digests_of_a_clinician_without_a_record_go_to_the_director(
    tmp_path: Path,
) -> None:
    shell = build_shell(tmp_path)

    async def scenario() -> None:
        await shell.deliver(
            "clinic.patients", patient("p-1", phone=PATIENT_PHONE, clinician_id="clin-x"), "p-1"
        )
        await shell.pump()
        events = [
            clinical("sh-1", "self_harm_item_answered", NOW, value=2, occurrence_id="c-1"),
            clinical(
                "as-1",
                "assessment_completed",
                NOW,
                items=[3, 3, 3, 3, 3, 3, 2, 2, 0],
                occurrence_id="c-2",
            ),
            clinical("ex-1", "checkin_expired", NOW, occurrence_id="c-3"),
            clinical("ex-2", "checkin_expired", NOW, occurrence_id="c-4"),
        ]
        for event in events:
            await shell.deliver("afterglow.clinical-events", event, "p-1")
            await shell.pump()
        # 09:00 in New York, the clinic's digest time, is past: the next tick sends it.
        await shell.tick(NOW + timedelta(minutes=1))
        await shell.pump()

    asyncio.run(scenario())
    opened = [a for a in shell.published("alerts") if a["status"] == "open"]
    count = {p: sum(a["priority"] == p for a in opened) for p in ("P1", "P2", "P3")}
    assert count["P1"] == 1, opened
    assert count["P2"] >= 1, opened  # severe, and a missed check-in after it
    assert count["P3"] == 1, opened
    to_director = texts_to(shell, DIRECTOR_PHONE)
    urgent = [t["body"] for t in to_director if t["urgent"]]
    pages = [t["body"] for t in to_director if t["send_key"].startswith("page:")]
    digests = [t["body"] for t in to_director if t["send_key"].startswith("digest:")]
    assert len(urgent) == 1  # the P1 page, on the urgent lane
    assert "P1" in urgent[0]
    assert sum("P2" in body for body in pages) == count["P2"]  # every P2 paged
    assert len(digests) == 1  # the P3 too, in the director's digest
    assert "1 patient missed check-ins" in digests[0]
    assert len(to_director) == 1 + count["P2"] + 1
    assert list(current_warnings(shell)) == [UNKNOWN]


def test_a_digest_item_queued_for_a_clinician_removed_since_goes_to_the_director(
    tmp_path: Path,
) -> None:
    shell = build_shell(tmp_path)
    item = {
        "notification_id": "digest_item:a-1",
        "type": "digest_item",
        "recipient": "clin-1",
        "alert_id": "a-1",
        "patient_id": "p-1",
        "clinic_id": "clinic-a",
        "priority": "P3",
        "kind": "disengaged",
        "at": (NOW - timedelta(hours=3)).isoformat(),
    }

    async def scenario() -> None:
        await shell.deliver("clinic.clinicians", clinician("clin-1", CLINICIAN_PHONE), "clin-1")
        await shell.deliver("afterglow.alert-notifications", item, "clin-1")
        await shell.deliver("clinic.clinicians", None, "clin-1")  # removed before the digest
        await shell.pump()
        await shell.tick(NOW)  # clin-1's digest time: nobody to text, the director takes it
        await shell.pump()
        await shell.tick(NOW + timedelta(days=1))
        await shell.pump()

    asyncio.run(scenario())
    assert texts_to(shell, CLINICIAN_PHONE) == []
    [digest] = texts_to(shell, DIRECTOR_PHONE)
    assert "1 patient missed check-ins" in digest["body"]
    digested = [a for a in shell.published("afterglow.audit") if a["action"] == "digested"]
    assert [(a["alert_id"], a["recipient"]) for a in digested] == [("a-1", "director:clinic-a")]
    assert list(current_warnings(shell)) == ["unknown_clinician:clinic-a:clin-1"]


def test_an_infusion_before_its_registration_is_warned_about_then_planned_and_cleared(
    tmp_path: Path,
) -> None:
    shell = build_shell(tmp_path)

    async def scenario() -> tuple[dict[str, dict[str, Any]], int]:
        await shell.deliver("clinic.clinicians", clinician("clin-1", CLINICIAN_PHONE), "clin-1")
        await shell.deliver(
            "clinic.infusions.completed", infusion("e-1", "p-1", NOW.isoformat()), "p-1"
        )
        await shell.pump()
        raised = current_warnings(shell)
        await shell.tick(NOW + timedelta(days=1))  # nothing is planned without a time zone
        planned_before = len(shell.published("afterglow.checkins"))
        await shell.deliver("clinic.patients", patient("p-1", phone=PATIENT_PHONE), "p-1")
        await shell.pump()
        await shell.tick(NOW + timedelta(days=7, hours=1))  # day 7, 10:00 in Chicago
        await shell.pump()
        return raised, planned_before

    raised, planned_before = asyncio.run(scenario())
    assert list(raised) == [UNREGISTERED]
    assert raised[UNREGISTERED]["source_topic"] == "clinic.infusions.completed"
    assert raised_count(shell, "unregistered_patient") == 1
    assert planned_before == 0
    due = [c for c in shell.published("afterglow.checkins") if c["type"] == "checkin_due"]
    assert [c["patient_id"] for c in due] == ["p-1"]
    assert texts_to(shell, PATIENT_PHONE)  # the check-in was texted
    assert current_warnings(shell) == {}
